"""Reads in: FASTQ parsing with file/record-naming errors, and merging of overlapping read pairs."""

from editcheck.reads.fastq import iter_paired, iter_single
from editcheck.reads.merge import MergeSettings, merge_pair, reverse_complement

__all__ = ["MergeSettings", "iter_paired", "iter_single", "merge_pair", "reverse_complement"]

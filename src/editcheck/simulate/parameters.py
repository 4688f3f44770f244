"""Checks of the entry points' numeric parameters: one clear ``ParameterError`` before anything is drawn."""

from __future__ import annotations

from typing import Any

from editcheck.errors import ParameterError


def check_read_parameters(n_reads: Any, read_length: Any, error_rate: Any, alleles_per_class: Any) -> None:
    """Refuse a read count, read length, error rate or pool size that is not a number in range."""
    if isinstance(n_reads, bool) or not isinstance(n_reads, int) or n_reads < 0:
        raise ParameterError(f"n_reads must be a non-negative integer, got {n_reads!r}")
    if isinstance(read_length, bool) or not isinstance(read_length, int) or read_length < 1:
        raise ParameterError(f"read_length must be a positive integer, got {read_length!r}")
    if not (isinstance(error_rate, (int, float)) and 0.0 <= error_rate <= 0.25):
        raise ParameterError(f"error_rate must be between 0 and 0.25, got {error_rate!r}")
    if isinstance(alleles_per_class, bool) or not isinstance(alleles_per_class, int) or alleles_per_class < 1:
        raise ParameterError(f"alleles_per_class must be a positive integer, got {alleles_per_class!r}")


def check_umi_parameters(umi_length: Any, reads_per_molecule: Any) -> None:
    """Refuse a UMI length or duplicate rate that is not a number in range (or a rate without UMIs)."""
    if isinstance(umi_length, bool) or not isinstance(umi_length, int) or umi_length < 0:
        raise ParameterError(f"umi_length must be a non-negative integer, got {umi_length!r}")
    if (
        isinstance(reads_per_molecule, bool)
        or not isinstance(reads_per_molecule, (int, float))
        or not 0 <= reads_per_molecule <= 1e6
    ):
        raise ParameterError(f"reads_per_molecule must be between 0 and 1e6, got {reads_per_molecule!r}")
    if reads_per_molecule > 0 and umi_length == 0:
        raise ParameterError("reads_per_molecule needs umi_length > 0")

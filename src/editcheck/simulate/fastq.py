"""Writing simulated reads: templates per allele, FASTQ records, (gzip) files written atomically.

Single-end reads are the allele's first ``read_length`` bases; paired R1 is the same and R2 the
reverse complement of the allele's last ``read_length`` bases.  Reads are written in chunks of
``_CHUNK_READS``, so any number of reads fits in memory; gzip output carries no name or timestamp.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import numpy as np

from editcheck.errors import ParameterError
from editcheck.outputs import atomic_output
from editcheck.simulate.alleles import Allele
from editcheck.simulate.primitives import reverse_complement
from editcheck.simulate.sequencer import Sequencer

_fast_gzip: ModuleType | None
try:  # ISA-L gzip is several times faster than zlib; it ships with xopen (a dnaio dependency).
    from isal import igzip as _fast_gzip
except ImportError:  # pragma: no cover - depends on the platform
    _fast_gzip = None

_CHUNK_READS = 32768

#: ``names(begin, chunk)``: the '@name' (no newline) of each read of a chunk starting at read ``begin``.
ReadNames = Callable[[int, np.ndarray], list[bytes]]


def output_paths(out_r1: str | Path, out_r2: str | Path | None) -> list[Path]:
    """The output files: R1 alone, or R1 and R2 (which must differ)."""
    if out_r2 is None:
        return [Path(out_r1)]
    if Path(out_r1).resolve() == Path(out_r2).resolve():
        raise ParameterError("out_r1 and out_r2 must be different files")
    return [Path(out_r1), Path(out_r2)]


def read_templates(alleles: list[Allele], read_length: int, paired: bool) -> list[list[str]]:
    """Per output file, the read template of every allele (R2 is reverse-complemented)."""
    if paired:
        return [
            [a.sequence[:read_length] for a in alleles],
            [reverse_complement(a.sequence[-read_length:]) for a in alleles],
        ]
    return [[a.sequence[:read_length] for a in alleles]]


def _fastq_bytes(names: list[bytes], sequence: np.ndarray, quality: np.ndarray, lengths: np.ndarray) -> bytes:
    """Assemble FASTQ records; ``names`` include the leading '@' and trailing newline."""
    header = np.frombuffer(b"".join(names), dtype=np.uint8)
    header_lengths = np.fromiter((len(name) for name in names), dtype=np.int64, count=len(names))
    record_lengths = header_lengths + 2 * lengths + 4
    starts = np.zeros(len(names), dtype=np.int64)
    np.cumsum(record_lengths[:-1], out=starts[1:])
    out = np.empty(int(record_lengths.sum()), dtype=np.uint8)

    header_offsets = np.zeros(len(names), dtype=np.int64)
    np.cumsum(header_lengths[:-1], out=header_offsets[1:])
    out[np.repeat(starts - header_offsets, header_lengths) + np.arange(header.size)] = header

    base_offsets = np.zeros(len(names), dtype=np.int64)
    np.cumsum(lengths[:-1], out=base_offsets[1:])
    sequence_start = starts + header_lengths
    positions = np.repeat(sequence_start - base_offsets, lengths) + np.arange(sequence.size)
    out[positions] = sequence
    out[positions + np.repeat(lengths + 3, lengths)] = quality
    separator = sequence_start + lengths
    out[separator] = ord("\n")
    out[separator + 1] = ord("+")
    out[separator + 2] = ord("\n")
    out[starts + record_lengths - 1] = ord("\n")
    return out.tobytes()


@contextmanager
def _open_fastq(path: Path) -> Iterator[IO[bytes]]:
    """Atomic output; gzip (ISA-L level 1 if available, else zlib level 2) with no name or timestamp when .gz."""
    with atomic_output(path, "wb") as raw:
        if path.name.endswith(".gz"):
            if _fast_gzip is not None:
                handle: Any = _fast_gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0)
            else:  # pragma: no cover - depends on the platform
                handle = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=2, mtime=0)
            with handle:
                yield handle
        else:
            yield raw


def write_reads(
    paths: list[Path],
    templates: list[list[str]],
    assignment: np.ndarray,
    names: ReadNames,
    read_length: int,
    error_rate: float,
    rng: np.random.Generator,
    low_quality_rate: float = 0.0,
) -> tuple[int, int]:
    """Write read ``i`` from template ``assignment[i]`` of each file, chunk by chunk, named by ``names``.

    Returns (sequencing errors, bases) over all files.
    """
    paired = len(paths) == 2
    suffixes = [b" 1:N:0\n", b" 2:N:0\n"] if paired else [b"\n"]
    sequencers = [Sequencer(t, read_length, error_rate, rng, low_quality_rate) for t in templates]
    with ExitStack() as stack:
        handles = [stack.enter_context(_open_fastq(path)) for path in paths]
        for begin in range(0, assignment.size, _CHUNK_READS):
            chunk = assignment[begin : begin + _CHUNK_READS]
            stems = names(begin, chunk)
            for sequencer, handle, suffix in zip(sequencers, handles, suffixes, strict=True):
                headers = [stem + suffix for stem in stems]
                handle.write(_fastq_bytes(headers, *sequencer.chunk(chunk)))
    return sum(s.errors for s in sequencers), sum(s.bases for s in sequencers)

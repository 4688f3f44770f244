"""What base-quality masking changes, read by read (prints figures; not a test).

Collapsing on the raw sequence and looking at qualities "only where the call depends on them" would be exact
only if a read's masked sequence gave the raw sequence's alignment with N in place of the masked bases.  This
script measures how often that holds: for every distinct (raw sequence, masked sequence) of a single-end FASTQ
with low-quality bases, it aligns and classifies both (as ``quantify`` does) and counts the reads whose

- alignment differs (indels, reference, covered span: an N is a mismatch to WFA, so masked bases move indels,
  shorten the covered span at an N-rich read end, or sink the identity below the threshold),
- alignment is the same but the call differs (outcome, or substitutions / events: the masking's purpose),
- alignment and call are the same (the allele row and the position profile still differ by their N letters).

Usage (the CRISPResso2 FANC case of the shared data, as the golden outputs run it):

    python benchmarks/quality_masking.py --r1 FANC.Cas9.fastq -a AMPLICON -g GUIDE --window 92-93
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from editcheck.design import build_design
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.workers import AmpliconWorker
from editcheck.io.fasta import iter_fasta
from editcheck.reads.collapse import _masker
from editcheck.reads.fastq import iter_single_tuples


def _sequence(text: str) -> str:
    return next(iter(iter_fasta(text)))[1] if Path(text).is_file() else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--r1", type=Path, required=True)
    parser.add_argument("-a", "--amplicon", required=True, help="Sequence or FASTA file.")
    parser.add_argument("-g", "--guide", action="append", default=[])
    parser.add_argument("-e", "--expected-hdr-amplicon", help="Sequence or FASTA file.")
    parser.add_argument("-w", "--window")
    parser.add_argument("--base-editor")
    parser.add_argument("--min-base-quality", type=int, default=20)
    parser.add_argument("--reads", type=int, default=200_000, help="Reads looked at (from the start).")
    args = parser.parse_args()
    design = build_design(
        _sequence(args.amplicon), args.guide, window=args.window, base_editor=args.base_editor,
        expected_hdr_amplicon=None if args.expected_hdr_amplicon is None else _sequence(args.expected_hdr_amplicon),
    )  # fmt: skip
    worker = AmpliconWorker(design, AnalysisSettings())
    mask = _masker(args.min_base_quality)
    pairs: Counter[tuple[str, str]] = Counter()
    for index, (_name, sequence, qualities) in enumerate(iter_single_tuples(args.r1)):
        if index == args.reads:
            break
        pairs[sequence, mask(sequence, qualities)] += 1
    kinds: Counter[str] = Counter()
    for (raw, masked), reads in pairs.items():
        if raw == masked:
            continue
        (raw_aligned, raw_call), (masked_aligned, masked_call) = worker(raw), worker(masked)
        if raw_aligned is None or masked_aligned is None:
            kinds["aligned in one form only" if raw_aligned is not masked_aligned else "aligned in neither form"] += (
                reads
            )
            continue
        where = ("reference", "start", "end", "insertions", "deletions")
        if any(getattr(raw_aligned, field) != getattr(masked_aligned, field) for field in where):
            same = "same outcome" if raw_call.outcome == masked_call.outcome else "outcome differs"
            kinds[f"alignment differs ({same})"] += reads
        elif raw_call == masked_call:
            kinds["same alignment and call (N letters only)"] += reads
        elif raw_call.outcome != masked_call.outcome:
            kinds[f"same alignment, outcome {raw_call.outcome} -> {masked_call.outcome}"] += reads
        else:
            fields = "+".join(f for f in raw_call._fields if getattr(raw_call, f) != getattr(masked_call, f))
            kinds[f"same alignment and outcome, differs in {fields}"] += reads
    figures = {
        "reads": sum(pairs.values()), "raw_unique": len({raw for raw, _ in pairs}),
        "masked_unique": len({masked for _, masked in pairs}),
        "reads_with_masked_bases": sum(reads for (raw, masked), reads in pairs.items() if raw != masked),
    }  # fmt: skip
    print(json.dumps(figures))
    for kind, reads in kinds.most_common():
        print(f"{reads:>9,}  {kind}")


if __name__ == "__main__":
    main()

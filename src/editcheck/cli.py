"""Command-line interface: parses options, calls the library, turns known errors into one-line messages.

Over 500 lines because it declares every command's options (their help text is the user documentation);
each command body only calls the library, so splitting it would scatter the one place errors are translated.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from editcheck import __version__, _blas  # noqa: F401  (_blas: before numpy is loaded)
from editcheck.errors import EditcheckError, ParameterError
from editcheck.folders import check_file_name, output_folder, spill_folder
from editcheck.interruption import install as install_interruption
from editcheck.interruption import interrupted
from editcheck.naming import available_cores
from editcheck.reads.collapse import DEFAULT_MIN_BASE_QUALITY
from editcheck.reads.read_length import MAX_READ_LENGTH
from editcheck.reads.segments import SEGMENT_READS

if TYPE_CHECKING:
    from editcheck.pipeline import AnalysisSettings
    from editcheck.reads.alignments import GenomeSite
    from editcheck.reads.umi import UmiSettings
    from editcheck.results.vcf import GenomePlacement

logger = logging.getLogger("editcheck")
OUT_HELP = (
    "Output folder, written all or nothing; an earlier editcheck result there is replaced as a whole, any other "
    "non-empty folder is refused."
)
F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(function: F) -> F:
    """Translate the library's exception family (and missing files) into one line and exit code 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return function(*args, **kwargs)
        except (EditcheckError, OSError) as error:
            if debug:
                raise
            if isinstance(error, EditcheckError):
                message = str(error)
            elif isinstance(error, FileNotFoundError) and error.filename is not None:
                message = f"{error.filename}: file not found"
            elif error.filename is not None:
                message = f"{error.filename}: {error.strerror or error}"
            else:
                message = str(error.strerror or error)
            raise click.ClickException(message) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="editcheck")
@click.option("--debug", is_flag=True, help="Log debug messages and show tracebacks.")
def main(debug: bool) -> None:
    """editcheck: evidence that a gene edit hit its target, from amplicon sequencing reads."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO, format="editcheck: %(message)s", stream=sys.stderr
    )
    install_interruption()  # SIGTERM (kill, a scheduler's time limit) stops a run as Ctrl-C does


_LEFT_TO_EXIT: list[object] | None = None
"""What the commands leave to the end of the process (a run's result), when :func:`run` ends it at once; None when
they are called otherwise (the tests' runner, a library user), and then nothing is kept."""


def run() -> None:
    """The ``editcheck`` command (and ``python -m editcheck``): :func:`main`, then the process ends at once with its
    exit status (``os._exit``), once its outputs are written and closed, its other threads done, its standard
    streams flushed and its ``atexit`` functions run (logging's, multiprocessing's): a run's millions of objects
    (its unique reads, its alleles: left here by :func:`_leave_to_exit`) are not freed one by one, nor the
    interpreter torn down, which took 0.36 s after a 10M-read run's outputs were written and 0.10 s after a 1M
    one's."""
    global _LEFT_TO_EXIT
    _LEFT_TO_EXIT = []
    try:
        main()
        status = 0
    except SystemExit as ended:  # (click's main always ends so)
        status = _exit_status(ended.code)
    if status == 0 and interrupted():  # an interruption whose exception Python dropped (editcheck.interruption)
        print("Aborted!", file=sys.stderr)
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: a failure, as at Python's own exit
            status = status or 120
    atexit._run_exitfuncs()
    os._exit(status)


def _exit_status(code: object) -> int:
    """The process's exit status for ``SystemExit(code)``, as Python's own exit gives it (a message: said, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _leave_to_exit(value: object) -> None:
    """Keep ``value`` until the process ends, when :func:`run` ends it at once; else nothing."""
    if _LEFT_TO_EXIT is not None:
        _LEFT_TO_EXIT.append(value)


def _options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Apply a group of click options in the order listed."""

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


_fastq_help = "Reads (FASTQ or FASTQ.gz); R1 when paired."
_read_options = _options(
    click.option(
        "--r1", "--fastq-r1", "r1", required=True, type=click.Path(dir_okay=False, path_type=Path), help=_fastq_help
    ),
    click.option(
        "--r2",
        "--fastq-r2",
        "r2",
        type=click.Path(dir_okay=False, path_type=Path),
        help="R2 reads of a paired-end run; overlapping pairs are merged.",
    ),
)

_max_read_length_option = click.option(
    "--max-read-length",
    default=MAX_READ_LENGTH,
    show_default=True,
    type=click.IntRange(1),
    help="Refuse the input if a read is longer than this many bases (a damaged or wrong file; amplicon reads are at most a few kb).",
)

_analysis_option_group = _options(
    click.option(
        "--count-substitutions",
        is_flag=True,
        help="Every substitution in the window makes a read modified, as CRISPResso2 counts (for comparisons; with --min-base-quality 0 to match it fully). Default: substitutions are reported; only a base editor's conversions and HDR/prime-edit bases decide.",
    ),
    click.option(
        "--ignore-substitutions",
        is_flag=True,
        help="No substitution makes a read modified, not even a base editor's conversions.",
    ),
    click.option("--ignore-insertions", is_flag=True, help="Insertions never make a read modified."),
    click.option("--ignore-deletions", is_flag=True, help="Deletions never make a read modified."),
    click.option(
        "--min-identity",
        default=60.0,
        show_default=True,
        type=click.FloatRange(0, 100),
        help="Minimum percent identity over the covered span for a read to count as aligned.",
    ),
    click.option(
        "--large-deletion-min",
        default=50,
        show_default=True,
        type=click.IntRange(1),
        help="Deletions at least this long (overlapping the window) are large deletions, kept whatever the identity.",
    ),
    click.option(
        "--min-anchor",
        default=25,
        show_default=True,
        type=click.IntRange(1),
        help="Aligned bases needed each side of a large deletion (fewer: primer dimer).",
    ),
    click.option(
        "--min-overlap",
        default=10,
        show_default=True,
        type=click.IntRange(5, 1000),
        help="Minimum overlap to merge a read pair.",
    ),
    click.option(
        "--max-mismatch-rate",
        default=0.1,
        show_default=True,
        type=click.FloatRange(0, 0.5, max_open=True),
        help="Maximum mismatch rate in the overlap of a merged pair.",
    ),
    click.option(
        "--min-mean-quality",
        default=0.0,
        show_default=True,
        type=click.FloatRange(0, 60),
        help="Drop reads (pairs) with a lower mean Phred quality.",
    ),
    click.option(
        "--min-base-quality",
        default=DEFAULT_MIN_BASE_QUALITY,
        show_default=True,
        type=click.IntRange(0, 60),
        help="Mask bases below this Phred quality to N: a low-quality base is never a substitution (0 = off).",
    ),
    _max_read_length_option,
    click.option(
        "--segment-reads",
        default=SEGMENT_READS,
        show_default=True,
        type=click.IntRange(1),
        help="FASTQ input (single-end or paired) of more than about 1.5x this many reads (pairs) is analysed this many at a time, in the memory of one segment, with the same results (up to two segments are kept meanwhile as plain FASTQ in the output's staging folder).",
    ),
    click.option(
        "--sample",
        default=None,
        help="Sample name in outputs [R1 file name less extensions and _R1/_1/_S1_L001_R1_001].",
    ),
    click.option(
        "-t",
        "--threads",
        default=available_cores,
        show_default="cores available to the process",
        type=click.IntRange(1, 256),
        help="Worker processes for alignment.",
    ),
    click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP),
)


def _analysis_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the read-processing and classification options; the command receives them as one ``settings``
    (:class:`~editcheck.pipeline.AnalysisSettings`) beside ``sample``, ``threads`` and ``out``."""

    @functools.wraps(command)
    def with_settings(
        *, count_substitutions: bool, ignore_substitutions: bool, ignore_insertions: bool, ignore_deletions: bool,
        min_identity: float, large_deletion_min: int, min_anchor: int, min_overlap: int, max_mismatch_rate: float,
        min_mean_quality: float, min_base_quality: int, **others: Any,
    ) -> Any:  # fmt: skip
        settings = _settings(
            count_substitutions=count_substitutions, ignore_substitutions=ignore_substitutions,
            ignore_insertions=ignore_insertions, ignore_deletions=ignore_deletions, min_identity=min_identity,
            large_deletion_min=large_deletion_min, min_anchor=min_anchor, min_overlap=min_overlap,
            max_mismatch_rate=max_mismatch_rate, min_mean_quality=min_mean_quality, min_base_quality=min_base_quality,
        )  # fmt: skip
        return command(settings=settings, **others)

    return _analysis_option_group(with_settings)


@_reports_errors
def _settings(
    *, count_substitutions: bool, ignore_substitutions: bool, ignore_insertions: bool, ignore_deletions: bool,
    min_identity: float, large_deletion_min: int, min_anchor: int, min_overlap: int, max_mismatch_rate: float,
    min_mean_quality: float, min_base_quality: int,
) -> AnalysisSettings:  # fmt: skip
    """The analysis settings of the options (a contradiction, e.g. counting and ignoring substitutions, is an error)."""
    from editcheck.classification.outcomes import ClassificationSettings
    from editcheck.pipeline import AnalysisSettings
    from editcheck.reads.collapse import QualitySettings
    from editcheck.reads.merge import MergeSettings

    return AnalysisSettings(
        classification=ClassificationSettings(
            ignore_substitutions, ignore_insertions, ignore_deletions, large_deletion_min=large_deletion_min,
            min_anchor=min_anchor, min_identity=min_identity, count_substitutions=count_substitutions,
        ),
        quality=QualitySettings(min_mean_quality, min_base_quality),
        merge=MergeSettings(min_overlap, max_mismatch_rate),
    )  # fmt: skip


def _check_inputs(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and not path.exists():
            raise FileNotFoundError(2, "file not found", str(path))


def _umi_settings(umi_source: str | None, umi_length: int) -> UmiSettings | None:
    from editcheck.reads.umi import UmiSettings

    return UmiSettings(umi_source, umi_length) if umi_source else None


def _reads_input(r1: Path | None, r2: Path | None, bam: Path | None, site: str | None) -> tuple[Path, Path | None]:
    """The reads of `quantify`: FASTQ (``--r1``/``--r2``), or a genome-aligned BAM/CRAM (``--bam``) read at
    ``--site``; a BAM/CRAM given as ``--r1`` with ``--site`` still works this release, with a warning."""
    if bam is not None:
        if r1 is not None or r2 is not None:
            raise ParameterError(
                "--bam is the whole input (both mates are read from it): give --bam or --r1/--r2, not both"
            )
        if site is None:
            raise ParameterError("--bam needs --site chr:start-end, the genome site whose reads are quantified")
        return bam, None
    if site is not None:
        if r1 is None:
            raise ParameterError("--site needs --bam, the genome-aligned BAM/CRAM read at the site")
        if r2 is not None:
            raise ParameterError(
                "--site reads one BAM/CRAM (both mates are read from it): give it as --bam, without --r2"
            )
        click.echo("editcheck: warning: a BAM/CRAM given as --r1 with --site is deprecated and will stop working "
                   "in the next release: give it as --bam", err=True)  # fmt: skip
        return r1, None
    if r1 is None:
        raise ParameterError("give the reads: --r1 (and --r2) FASTQ, or --bam with --site")
    return r1, r2


def _input_options(function: Any) -> Any:
    """--input-copies / --input-ng: the template input behind one sample's reads."""
    function = click.option(
        "--input-ng",
        default=None,
        type=click.FloatRange(0, min_open=True),
        help="As --input-copies, in ng of human genomic DNA (~330 copies per ng).",
    )(function)
    return click.option(
        "--input-copies",
        default=None,
        type=click.FloatRange(0, min_open=True),
        help="Template copies of the amplicon behind the reads: the edited % and target engagement intervals use the effective depth 1/(1/reads + 1/copies).",
    )(function)


def _input_copies(input_copies: float | None, input_ng: float | None) -> float | None:
    """Template copies from --input-copies or --input-ng (one of them), or None."""
    if input_copies is not None and input_ng is not None:
        raise click.UsageError("give --input-copies or --input-ng, not both")
    if input_ng is None:
        return input_copies
    from editcheck.offtarget.panel import COPIES_PER_NG  # imports scipy: only when it is needed

    return float(input_ng * COPIES_PER_NG)


_DESIGN_OPTIONS = (
    "amplicon", "amplicon_name", "guides", "cut_offset", "window", "window_flank", "exclude_ends", "donor",
    "expected_hdr_amplicon", "base_editor", "editing_window", "target_position", "target_protospacer_position",
    "pegrna_spacers", "pegrna_extensions", "nicking_guides", "pegrna_scaffold", "coding_sequences", "exons",
)  # fmt: skip
"""The `quantify` options a --design-sheet row replaces."""


@main.command()
@click.option(
    "--r1", "--fastq-r1", "r1", default=None, type=click.Path(dir_okay=False, path_type=Path), help=_fastq_help
)
@click.option(
    "--r2",
    "--fastq-r2",
    "r2",
    type=click.Path(dir_okay=False, path_type=Path),
    help="R2 reads of a paired-end run; overlapping pairs are merged.",
)
@click.option(
    "--bam",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Genome-aligned reads (BAM or CRAM, indexed) instead of FASTQ: the reads overlapping --site are quantified.",
)
@click.option(
    "-a",
    "--amplicon",
    default=None,
    help="Amplicon sequence, or a FASTA file holding it (with --bam: taken from --reference at --site).",
)
@click.option(
    "--amplicon-name", default=None, help="Name of the amplicon in outputs [FASTA record name or 'Reference']."
)
@click.option(
    "-g",
    "--guide",
    "guides",
    multiple=True,
    help="Guide (protospacer, no PAM; a 23-nt guide ending in NGG is taken as guide + PAM, with a note) on either strand; repeat for several guides.",
)
@click.option(
    "--cut-offset",
    default=3,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Cut position, in nt 5' of the PAM (SpCas9: 3).",
)
@click.option(
    "-w",
    "--window",
    default=None,
    help="Quantification window as 1-based inclusive ranges, e.g. 90-96 or 90-96,120-125.",
)
@click.option(
    "--window-flank",
    default=3,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Without --window: bases either side of each cut counted.",
)
@click.option(
    "--exclude-ends",
    default=15,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Without guide or window: bases at each amplicon end left out.",
)
@click.option(
    "-d",
    "--donor",
    default=None,
    help="HDR donor template (sequence or FASTA), placed into the amplicon by its homology arms.",
)
@click.option(
    "-e", "--expected-hdr-amplicon", default=None, help="Full amplicon expected after perfect HDR (sequence or FASTA)."
)
@click.option("--base-editor", default=None, help="Base editor: ABE (A>G), CBE (C>T), or a conversion such as C>G.")
@click.option(
    "--editing-window", default=None, help="Base-editing window in protospacer positions (1 = PAM-distal end) [4-8]."
)
@click.option(
    "--target-position",
    default=None,
    type=click.IntRange(1),
    help="The base the therapy must convert, 1-based on the amplicon.",
)
@click.option(
    "--target-protospacer-position",
    default=None,
    type=click.IntRange(1),
    help="The base the therapy must convert, 1-based in the protospacer.",
)
@click.option(
    "--pegrna-spacer",
    "pegrna_spacers",
    multiple=True,
    help="pegRNA spacer; repeat with --pegrna-extension for twin prime editing.",
)
@click.option(
    "--pegrna-extension",
    "pegrna_extensions",
    multiple=True,
    help="pegRNA 3' extension (RTT + PBS), 5'->3' as on the pegRNA.",
)
@click.option("--nicking-guide", "nicking_guides", multiple=True, help="Nicking sgRNA spacer (PE3); repeatable.")
@click.option(
    "--pegrna-scaffold", default=None, help="pegRNA scaffold sequence, to detect scaffold-derived insertions."
)
@click.option(
    "--coding-sequence",
    "coding_sequences",
    multiple=True,
    help="Exon sequence inside the amplicon (repeatable): frameshift / in-frame calls.",
)
@click.option("--exons", default=None, help="Exons as 1-based amplicon ranges, e.g. 40-180.")
@click.option("--site", default=None, help="Genome site chr:start-end (1-based) of the --bam reads to quantify.")
@click.option(
    "--reference",
    "reference_fasta",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Genome FASTA: the amplicon at --site, and the reference of a CRAM.",
)
@click.option(
    "--umi",
    "umi_source",
    type=click.Choice(["header", "prefix"]),
    default=None,
    help="Collapse reads by UMI: from the read header or the read's first bases.",
)
@click.option(
    "--umi-length",
    default=0,
    show_default=True,
    type=click.IntRange(0, 64),
    help="UMI length (needed with --umi prefix).",
)
@click.option("--write-reads", is_flag=True, help="Also write reads.tsv.gz: every read's outcome and events.")
@click.option(
    "--write-vcf",
    is_flag=True,
    help="Also write edits.vcf.gz (+ .tbi): every event with its reads and allele fraction, left-normalised; on the amplicon (amplicon.fa beside it) or, with --bam, in genome coordinates.",
)
@click.option(
    "--write-bam",
    is_flag=True,
    help="Also write reads.bam (+ .bai): one record per unique read as editcheck aligned it, its reads in XC, class in XO, events in XE; on the amplicon (amplicon.fa beside it) or, with --bam, in genome coordinates.",
)
@click.option(
    "--vcf-min-reads",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="With --write-vcf: events seen in fewer reads are left out.",
)
@click.option(
    "--design-sheet",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A study's designs sheet (TSV): the design is its --design row, instead of -a, -g and the other design options.",
)
@click.option(
    "--design", "design_id", default=None, help="The design_id of the --design-sheet row to quantify against."
)
@click.option(
    "--metadata",
    "metadata",
    multiple=True,
    metavar="KEY=VALUE",
    help="Metadata written as given into summary.json and as a column of summary.tsv (e.g. subject=P1); repeatable, kept in order.",
)
@_input_options
@_analysis_options
@_reports_errors
def quantify(
    *, r1: Path | None, r2: Path | None, bam: Path | None, amplicon: str | None, amplicon_name: str | None,
    guides: tuple[str, ...], cut_offset: int, window: str | None, window_flank: int, exclude_ends: int,
    donor: str | None, expected_hdr_amplicon: str | None, base_editor: str | None, editing_window: str | None,
    target_position: int | None, target_protospacer_position: int | None, pegrna_spacers: tuple[str, ...],
    pegrna_extensions: tuple[str, ...], nicking_guides: tuple[str, ...], pegrna_scaffold: str | None,
    coding_sequences: tuple[str, ...], exons: str | None, site: str | None, reference_fasta: Path | None,
    umi_source: str | None, umi_length: int, write_reads: bool, write_vcf: bool, write_bam: bool,
    vcf_min_reads: int, design_sheet: Path | None, design_id: str | None, metadata: tuple[str, ...], input_copies: float | None,
    input_ng: float | None, settings: AnalysisSettings, max_read_length: int, segment_reads: int, sample: str | None,
    threads: int, out: Path,
) -> None:  # fmt: skip
    """Quantify editing at one amplicon: outcome classes with 95% CIs, alleles, per-position profiles.

    Writes summary.tsv, summary.json, alleles.tsv, positions.tsv and indel_sizes.tsv (and
    base_editing.tsv with a base editor, edits.vcf.gz with --write-vcf, reads.bam with --write-bam) into OUT. The design is given by -a,
    -g and the design options, or by one row of a study's designs sheet (--design-sheet with --design).
    """
    from editcheck.design import build_design, parse_base_editor, parse_protospacer_range
    from editcheck.pipeline import quantify as run_quantify
    from editcheck.progress import terminal_progress
    from editcheck.reads.alignments import GenomeSite, site_amplicon
    from editcheck.results.read_calls import ReadCallSpool
    from editcheck.results.sample import headline, quality_warnings, write_sample_tables
    from editcheck.sequence_input import names_a_file, read_sequence_argument
    from editcheck.study import design_from_sheet, parse_metadata

    metadata_pairs = parse_metadata(metadata)
    sheet_design = None
    if design_sheet is not None or design_id is not None:
        if design_sheet is None or design_id is None:
            raise click.UsageError("--design-sheet and --design go together: the sheet and the design_id of its row")
        context = click.get_current_context()
        given = [max(parameter.opts, key=len) for parameter in context.command.params if parameter.name in _DESIGN_OPTIONS
                 and context.get_parameter_source(parameter.name) is click.core.ParameterSource.COMMANDLINE]  # fmt: skip
        if given:
            raise click.UsageError(f"the design comes from --design-sheet; leave out {', '.join(given)}")
        _check_inputs(design_sheet)
        sheet_design = design_from_sheet(design_sheet, design_id)
        reference_fasta = reference_fasta or sheet_design.reference
    reads, r2 = _reads_input(r1, r2, bam, site)
    if write_reads and umi_source:
        raise click.UsageError("--write-reads is not available with --umi: with UMIs molecules are called, not reads")
    _check_inputs(reads, r2, reference_fasta)
    genome_site = GenomeSite.parse(site) if site else None
    copies = _input_copies(input_copies, input_ng)
    record_name = None
    if sheet_design is not None:
        amplicon_sequence = ""
    elif amplicon:
        amplicon_sequence, record_name = read_sequence_argument(amplicon, "amplicon")
    elif genome_site is not None and reference_fasta is not None:
        amplicon_sequence, record_name = site_amplicon(reference_fasta, genome_site), str(genome_site)
    else:
        raise click.UsageError("give the amplicon (-a), or a --bam --site with the genome --reference")
    if len(pegrna_spacers) != len(pegrna_extensions):
        raise click.UsageError("give one --pegrna-extension for every --pegrna-spacer")
    editor, conversion = parse_base_editor(base_editor) if base_editor else (None, None)
    design = sheet_design.design if sheet_design is not None else build_design(
        amplicon_sequence, guides, name=amplicon_name or record_name or "Reference", cut_offset=cut_offset,
        window=window, window_flank=window_flank, exclude_ends=exclude_ends,
        donor=read_sequence_argument(donor, "donor")[0] if donor else None,
        expected_hdr_amplicon=read_sequence_argument(expected_hdr_amplicon, "HDR amplicon")[0]
        if expected_hdr_amplicon else None,
        base_editor=editor, conversion=conversion,
        editing_window=parse_protospacer_range(editing_window) if editing_window else None,
        target=target_position, target_in_protospacer=target_protospacer_position,
        pegrnas=list(zip(pegrna_spacers, pegrna_extensions)), nicking_guides=nicking_guides, scaffold=pegrna_scaffold,
        coding_sequences=coding_sequences, exons=exons,
    )  # fmt: skip
    for note in design.notes:
        click.echo(f"editcheck: note: {note}", err=True)
    umi = _umi_settings(umi_source, umi_length)
    sources = [reads, r2, reference_fasta, amplicon, donor, expected_hdr_amplicon, design_sheet]
    inputs = [source for source in sources if source is not None and names_a_file(source)]
    with output_folder(out, inputs) as staging, spill_folder(staging) as spill:
        progress = terminal_progress("pairs" if r2 else "reads")
        spool = ReadCallSpool(staging / ".reads.spool.gz") if write_reads else None
        try:
            result = run_quantify(
                reads, r2, design=design, settings=settings, sample=sample, threads=threads, site=genome_site,
                reference_fasta=reference_fasta, umi=umi, progress=progress, read_sink=spool, keep_alignments=write_bam,
                max_read_length=max_read_length, spill=spill, segment_reads=segment_reads,
            )  # fmt: skip
        finally:
            if progress is not None:
                progress.close()
        result.input_copies = copies
        write_sample_tables(result, staging, spool.rows() if spool is not None else None, metadata_pairs)
        genome = _genome_placement(reads, genome_site, reference_fasta) if write_vcf or write_bam else None
        if write_vcf:
            from editcheck.results.vcf import write_vcf as write_vcf_file

            write_vcf_file(result, staging, min_reads=vcf_min_reads, genome=genome)
        if write_bam:
            from editcheck.results.bam import write_bam as write_bam_file

            write_bam_file(result, staging, genome=genome, command=_command_line(click.get_current_context()))
    for warning in quality_warnings(result):
        click.echo(f"editcheck: warning: {result.sample}: {warning}", err=True)
    logger.info("%s: %d reads, %d classified, %s -> %s", result.sample, result.reads.reads_in,
                result.tally.classified, headline(result), out)  # fmt: skip
    _leave_to_exit(result)


def _genome_placement(reads: Path, site: GenomeSite | None, reference_fasta: Path | None) -> GenomePlacement | None:
    """Where the VCF and BAM of `quantify` are placed: the genome for --bam --site input, else the amplicon (None)."""
    from editcheck.reads.alignments import contig_length, site_amplicon
    from editcheck.results.vcf import GenomePlacement

    if site is None:
        return None
    length = contig_length(reads, site.contig, reference_fasta=reference_fasta)
    sequence = site_amplicon(reference_fasta, site) if reference_fasta is not None else None
    return GenomePlacement(site.contig, site.start, length, sequence)


def _command_line(context: click.Context) -> str:
    """The command as given (options from the command line only), files by their name without directories:
    the @PG line of the BAM, the same on every machine."""
    words = ["editcheck", context.info_name or "quantify"]
    for parameter in context.command.params:
        if (
            parameter.name is None
            or context.get_parameter_source(parameter.name) is not click.core.ParameterSource.COMMANDLINE
        ):
            continue
        value = context.params.get(parameter.name)
        option = max(parameter.opts, key=len)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, bool):
                words += [option] if item else []
                continue
            text = Path(item).name if isinstance(item, Path) or "/" in str(item) else str(item)
            words += [option, text]
    return " ".join(words)


@main.command("quantify-pool")
@_read_options
@click.option(
    "--amplicons",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Amplicon sheet (TSV): name, amplicon, and optionally guide, donor, expected_hdr_amplicon, base_editor, target_position, window.",
)
@click.option(
    "--umi",
    "umi_source",
    type=click.Choice(["header", "prefix"]),
    default=None,
    help="Collapse each amplicon's reads by UMI (from the read header or the read's first bases) and count molecules.",
)
@click.option(
    "--umi-length",
    default=0,
    show_default=True,
    type=click.IntRange(0, 64),
    help="UMI length (needed with --umi prefix).",
)
@click.option(
    "--write-bam",
    is_flag=True,
    help="Also write reads.bam (+ .bai, amplicon.fa) into each amplicon's folder: one record per unique read assigned to that amplicon as editcheck aligned it, its reads in XC, class in XO, events in XE.",
)
@_input_options
@_analysis_options
@_reports_errors
def quantify_pool(
    *, r1: Path, r2: Path | None, amplicons: Path, umi_source: str | None, umi_length: int, write_bam: bool,
    input_copies: float | None, input_ng: float | None, settings: AnalysisSettings, max_read_length: int,
    segment_reads: int, sample: str | None, threads: int, out: Path,
) -> None:  # fmt: skip
    """Assign the reads of a pooled run to their amplicons and quantify each one.

    Writes one folder of tables per amplicon, pool_summary.tsv and assignment.json into OUT. Reads that no
    amplicon explains (not aligned, no k-mer of any amplicon) are counted as unassigned, reads too long to
    align as too_long, in assignment.json; with a single amplicon every read is counted in its tables, as
    `editcheck quantify` counts it. With --write-bam, one BAM per amplicon, in its folder, with the amplicon
    as contig (reads assigned to no amplicon are in none).
    """
    from editcheck.pooled import quantify_pool as run_pool
    from editcheck.pooled import read_amplicon_sheet
    from editcheck.results.pool import write_pool_tables

    _check_inputs(r1, r2)
    copies = _input_copies(input_copies, input_ng)
    designs = read_amplicon_sheet(amplicons)
    umi = _umi_settings(umi_source, umi_length)
    with output_folder(out, [r1, r2, amplicons]) as staging, spill_folder(staging) as spill:
        result = run_pool(r1, r2, designs, settings=settings, sample=sample, threads=threads, umi=umi,
                          keep_alignments=write_bam, max_read_length=max_read_length, spill=spill,
                          segment_reads=segment_reads)  # fmt: skip
        for pooled_sample in result.samples:
            pooled_sample.input_copies = copies
        write_pool_tables(result, staging)
        if write_bam:
            from editcheck.results.pool import write_pool_bams

            write_pool_bams(result, staging, _command_line(click.get_current_context()))
    logger.info(
        "%d reads: %d assigned to %d amplicons, %d ambiguous, %d unassigned, %d too long -> %s",
        result.reads.reads_in, sum(result.assigned.values()), len(designs), result.ambiguous, result.unassigned,
        result.too_long, out,
    )  # fmt: skip
    _leave_to_exit(result)


@main.command()
@click.option(
    "--genome",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Genome FASTA or FASTA.gz (many contigs).",
)
@click.option("-g", "--guide", required=True, help="Guide (protospacer without PAM; IUPAC allowed).")
@click.option(
    "--pam", default="NGG", show_default=True, help="PAM as an IUPAC pattern (NGG, NAG, NG, NRN, NNGRRT, TTTV...)."
)
@click.option("--pam-5prime", is_flag=True, help="The PAM lies 5' of the protospacer (Cas12a-style).")
@click.option(
    "-m",
    "--mismatches",
    default=4,
    show_default=True,
    type=click.IntRange(0, 8),
    help="Maximum mismatches to the guide.",
)
@click.option(
    "--dna-bulge",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2),
    help="Maximum DNA bulge (extra genomic bases).",
)
@click.option(
    "--rna-bulge",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2),
    help="Maximum RNA bulge (guide bases missing from the DNA).",
)
@click.option(
    "--flank",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2000),
    help="Write each site's reference amplicon: the site plus this many bases each side (a site sheet for `editcheck offtarget`).",
)
@click.option(
    "--cut-offset",
    default=3,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Cut offset written into the site sheet.",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=OUT_HELP.replace(
        "Output folder", "Output folder (candidates.tsv, candidates.bed, and site_sheet.tsv with --flank)", 1
    ),
)
@_reports_errors
def nominate(genome: Path, guide: str, pam: str, pam_5prime: bool, mismatches: int, dna_bulge: int, rna_bulge: int,
             flank: int, cut_offset: int, out: Path) -> None:  # fmt: skip
    """Nominate candidate off-target sites: scan a genome for the guide with mismatches, bulges and a PAM."""
    from editcheck.offtarget.nominate import SearchSpec, write_sites
    from editcheck.offtarget.nominate import nominate as run_nominate

    _check_inputs(genome)
    spec = SearchSpec(guide, pam=pam, pam_5prime=pam_5prime, max_mismatches=mismatches, max_dna_bulge=dna_bulge,
                      max_rna_bulge=rna_bulge)  # fmt: skip
    with output_folder(out, [genome]) as staging:
        sites = run_nominate(genome, spec, flank=flank)
        write_sites(sites, staging / "candidates.tsv", staging / "candidates.bed",
                    staging / "site_sheet.tsv" if flank else None, genome, flank, cut_offset=cut_offset)  # fmt: skip
    logger.info("%d candidate sites (<= %d mismatches, PAM %s) -> %s", len(sites), mismatches, pam, out)


@main.command()
@click.option(
    "--sites",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Site sheet (TSV): site_id, amplicon, protospacer, and optionally cut_offset, editor, on_target, window.",
)
@click.option(
    "--samples",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sample sheet (TSV): sample, condition (treated/control), replicate, r1, r2.",
)
@click.option(
    "--q-threshold",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Benjamini-Hochberg q below which a site can be EDITED.",
)
@click.option(
    "--min-effect",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 100),
    help="Minimum excess editing (percentage points) for EDITED.",
)
@click.option(
    "--min-site-reads",
    default=1000,
    show_default=True,
    type=click.IntRange(0),
    help="Fewer reads in treated or control: INCONCLUSIVE.",
)
@click.option(
    "--max-background",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 100, min_open=True),
    help="Control editing (percent) above which a site is INCONCLUSIVE.",
)
@click.option(
    "--power",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Power at which the per-site limit of detection (of the whole decision rule) is stated.",
)
@click.option(
    "--test",
    "test",
    default="random-effects",
    show_default=True,
    type=click.Choice(["random-effects", "exact"]),
    help="random-effects: replicates as the unit, between-replicate variance from the panel; exact: every read an independent draw (Fisher / exact CMH by declared pair).",
)
@click.option(
    "--input-copies",
    default=None,
    type=click.FloatRange(0, min_open=True),
    help="Template copies of each site per sample (caps the effective depth) for samples whose sheet gives no input_copies/input_ng.",
)
@click.option(
    "--umi",
    "umi_source",
    type=click.Choice(["header", "prefix"]),
    default=None,
    help="Samples carry UMIs (in the read header or the read's first bases): molecules, not reads, drive the statistics.",
)
@click.option(
    "--umi-length",
    default=0,
    show_default=True,
    type=click.IntRange(0, 64),
    help="UMI length (needed with --umi prefix).",
)
@click.option(
    "--input-ng",
    default=None,
    type=click.FloatRange(0, min_open=True),
    help="As --input-copies, in ng of human genomic DNA (~330 copies per ng).",
)
@click.option(
    "--reference",
    "reference_fasta",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Genome FASTA for BAM/CRAM samples (site loci, CRAM reference).",
)
@click.option(
    "--fdr-with",
    "fdr_with",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Another panel's offtarget_calls.json (or its result folder); repeatable: one Benjamini-Hochberg family spans their off-target sites and this panel's (study-wide FDR).",
)
@_options(
    *[
        option
        for option in [
            click.option(
                "--min-identity",
                default=60.0,
                show_default=True,
                type=click.FloatRange(0, 100),
                help="Minimum percent identity over the covered span.",
            ),
            click.option(
                "--min-base-quality",
                default=DEFAULT_MIN_BASE_QUALITY,
                show_default=True,
                type=click.IntRange(0, 60),
                help="Mask bases below this Phred quality to N (0 = off).",
            ),
            _max_read_length_option,
            click.option(
                "-t",
                "--threads",
                default=available_cores,
                show_default="cores available to the process",
                type=click.IntRange(1, 256),
                help="Worker processes for alignment.",
            ),
            click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP),
        ]
    ]
)
@_reports_errors
def offtarget(
    *, sites: Path, samples: Path, q_threshold: float, min_effect: float, min_site_reads: int, max_background: float,
    power: float, test: str, input_copies: float | None, umi_source: str | None, umi_length: int,
    input_ng: float | None, fdr_with: tuple[Path, ...], reference_fasta: Path | None, min_identity: float,
    min_base_quality: int, max_read_length: int, threads: int, out: Path,
) -> None:  # fmt: skip
    """Quantify candidate off-target sites in treated and control samples and call each site.

    Writes offtarget_calls.tsv/.json (excess editing with 95% CI, p, BH q, LOD, call), methods.txt and
    per-sample site tables under samples/ into OUT.
    """
    from editcheck.classification.outcomes import ClassificationSettings
    from editcheck.offtarget.panel import (
        panel_headline,
        read_other_panel,
        read_sample_sheet,
        read_site_sheet,
        run_panel,
    )
    from editcheck.offtarget.significance import CallSettings
    from editcheck.pipeline import AnalysisSettings
    from editcheck.reads.collapse import QualitySettings
    from editcheck.results.offtarget import write_panel_tables

    panel_sites = read_site_sheet(sites, reference_fasta)
    panel_samples = read_sample_sheet(samples)
    settings = AnalysisSettings(
        classification=ClassificationSettings(min_identity=min_identity),
        quality=QualitySettings(min_base_quality=min_base_quality),
    )
    call_settings = CallSettings(
        q_threshold=q_threshold, min_effect=min_effect / 100, min_reads=min_site_reads,
        max_background=max_background / 100, power=power, test=test,
    )  # fmt: skip
    copies = _input_copies(input_copies, input_ng)
    other_panels = [read_other_panel(path) for path in fdr_with]
    umi = _umi_settings(umi_source, umi_length)
    sources = [sites, samples, reference_fasta]
    sources += [path for sample in panel_samples for path in (sample.r1, sample.r2, sample.bam)]
    with output_folder(out, sources) as staging:
        result = run_panel(panel_sites, panel_samples, settings=settings, call_settings=call_settings, threads=threads,
                           reference_fasta=reference_fasta, input_copies=copies, umi=umi,
                           other_panels=other_panels, max_read_length=max_read_length)  # fmt: skip
        write_panel_tables(result, staging)
    logger.info("%s -> %s", panel_headline(result.calls), out)


@main.command()
@click.option(
    "--ontarget",
    "ontarget",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="An `editcheck quantify` output folder; repeat for every sample.",
)
@click.option(
    "--offtarget",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="An `editcheck offtarget` output folder; repeat for every panel of a study.",
)
@click.option(
    "--config",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Workflow configuration to record in the manifest.",
)
@click.option(
    "--samples",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sample sheet (TSV with sample and condition columns) giving each on-target sample's condition (one design).",
)
@click.option(
    "--study-designs",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The study's designs sheet (with --study-samples): one report for the study, a section per design.",
)
@click.option(
    "--study-samples",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The study's samples sheet: each sample's design, condition and metadata (subject, model, tissue, time point).",
)
@click.option(
    "--threshold-percent",
    default=None,
    type=float,
    help="Evidence rule: the treated estimate's lower 95% bound must exceed this percentage. Default: the upper bound of the design's control estimate.",
)
@click.option(
    "--pdf/--no-pdf", default=None, help="Print report.pdf with headless Chromium. Default: when one is installed."
)
@click.option("--title", default="editcheck evidence appendix", show_default=True, help="Report title.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP)
@_reports_errors
def report(ontarget: tuple[Path, ...], offtarget: tuple[Path, ...], config: Path | None, samples: Path | None,
           study_designs: Path | None, study_samples: Path | None, threshold_percent: float | None, pdf: bool | None,
           title: str, out: Path) -> None:  # fmt: skip
    """Write the evidence report of a study (or one design): report.html (self-contained), report.pdf, summary.tsv,
    the evidence tables and manifest.json."""
    from editcheck.evidence.table import CONTROL_RULE, FIXED_RULE, ThresholdRule
    from editcheck.offtarget.panel import read_conditions
    from editcheck.report.appendix import write_report
    from editcheck.study import read_study

    if not ontarget and not offtarget:
        raise click.UsageError("give at least one --ontarget folder or an --offtarget folder")
    if (study_designs is None) != (study_samples is None):
        raise click.UsageError("give both --study-designs and --study-samples, or neither")
    if samples is not None and study_samples is not None:
        raise click.UsageError("--samples and --study-samples both give the conditions: give one")
    # The report reads the sheets' metadata only: the reads files need not be at hand.
    study = read_study(study_designs, study_samples, check_files=False) if study_designs and study_samples else None
    conditions = read_conditions(samples) if samples else {}
    rule = (
        ThresholdRule(FIXED_RULE, threshold_percent) if threshold_percent is not None else ThresholdRule(CONTROL_RULE)
    )
    written = write_report(list(ontarget), list(offtarget), out, title=title, config=config, conditions=conditions,
                           study=study, rule=rule, pdf=pdf, command=["editcheck", *sys.argv[1:]])  # fmt: skip
    logger.info("wrote %s", ", ".join(str(path) for path in written))


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--sheet",
    "sheets",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A sample or site sheet behind the results, listed in the manifest with its SHA-256 (its contents are not packaged); repeatable.",
)
@click.option(
    "--with-bam-vcf",
    is_flag=True,
    help="Also package the VCF (edits.vcf.gz + .tbi, amplicon.fa) and BAM files of the results.",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=OUT_HELP.replace("Output folder", "Package folder (the archive OUT.tar.gz is written beside it)", 1),
)
@_reports_errors
def export(results: tuple[Path, ...], sheets: tuple[Path, ...], with_bam_vcf: bool, out: Path) -> None:
    """Package result folders (RESULTS: a report, quantify, quantify-pool, offtarget or evidence folders) for a
    reviewer, without the raw reads.

    Writes the folder OUT and OUT.tar.gz: the report, every table and JSON document (checked against the
    schemas), the schemas and column dictionary, manifest.json with the SHA-256 of every input, and README.md.
    """
    from editcheck.export import write_package

    written = write_package(list(results), out, sheets=list(sheets), with_bam_vcf=with_bam_vcf,
                            command=["editcheck", *sys.argv[1:]])  # fmt: skip
    logger.info("wrote %s", ", ".join(str(path) for path in written))


@main.command("merge-vcf")
@click.argument("vcfs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP)
@_reports_errors
def merge_vcf(vcfs: tuple[Path, ...], out: Path) -> None:
    """Merge per-sample VCFs of ONE design (VCFS: edits.vcf.gz files or `quantify --write-vcf` result folders)
    into OUT/edits.vcf.gz (+ .tbi; amplicon.fa beside it on the amplicon as contig), one sample column each.

    Records merge as `bcftools merge -m none` merges them (one line per POS, REF and ALT; each sample's AO, DP
    and AF in FORMAT, missing where the sample lacks the event); INFO sums READS over the samples and adds NS.
    Files of different designs (contigs, lengths, amplicon sequences) or a sample given twice are refused.
    """
    from editcheck.results.vcf_merge import merge_vcfs, vcf_path

    with output_folder(out, [vcf_path(path) for path in vcfs]) as staging:
        written = merge_vcfs(list(vcfs), staging)
    logger.info("merged %d VCF(s) into %s (%s)", len(vcfs), out, ", ".join(written))


@main.command()
@click.option(
    "-n",
    "--reads",
    "n_reads",
    default=10000,
    show_default=True,
    type=click.IntRange(1),
    help="Reads (or pairs) to simulate.",
)
@click.option("--paired", is_flag=True, help="Write R1 and R2 (2 x read length, overlapping).")
@click.option("--read-length", default=None, type=click.IntRange(20), help="Read length [250 single-end, 150 paired].")
@click.option(
    "--error-rate",
    default=0.002,
    show_default=True,
    type=click.FloatRange(0, 0.2),
    help="Mean sequencing substitution rate per base.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed for reads.")
@click.option("--design-seed", default=2024, show_default=True, type=int, help="Random seed for the amplicon design.")
@click.option("--no-donor", is_flag=True, help="Simulate without HDR reads.")
@click.option(
    "--base-editor",
    default=None,
    type=click.Choice(["ABE", "CBE"]),
    help="Base-editor reads (A>G or C>T on the guide strand) instead of nuclease/HDR reads.",
)
@click.option(
    "--target-position",
    default=None,
    type=click.IntRange(1, 20),
    help="Base editor: protospacer position of the target base (1 = PAM-distal) [5 ABE, 6 CBE].",
)
@click.option(
    "--editing-window", default="4-8", show_default=True, help="Base editor: editing window, protospacer positions."
)
@click.option(
    "--target-rate",
    default=0.42,
    show_default=True,
    type=float,
    help="Base editor: intended (target base) conversion rate of the reads without an indel.",
)
@click.option(
    "--bystander-rate",
    default=0.3,
    show_default=True,
    type=float,
    help="Base editor: conversion rate of every other editable base in the window.",
)
@click.option(
    "--indel-rate",
    default=0.04,
    show_default=True,
    type=float,
    help="Base or prime editor: share of reads with an indel at the nick.",
)
@click.option(
    "--prime-edit",
    default=None,
    type=click.Choice(["substitution", "insertion", "deletion"]),
    help="Prime-editor reads: the pegRNA writes a 1-bp transversion, a 3-bp insertion or a 3-bp deletion 3' of the nick.",
)
@click.option(
    "--prime-edit-rate",
    default=0.4,
    show_default=True,
    type=float,
    help="Prime editor: share of reads with the intended edit.",
)
@click.option(
    "--template-molecules",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Template molecules behind the reads (PCR duplicates of few molecules); 0 = every read its own molecule.",
)
@click.option(
    "--low-quality-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of all bases, correct ones too, given a quality below Q20 (errors always have one).",
)
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP)
@click.option("--prefix", default="sim", show_default=True, help="File name prefix.")
@_reports_errors
def simulate(*, out: Path, prefix: str, **options: Any) -> None:
    """Write simulated amplicon reads with known truth (FASTQ.gz, amplicon FASTA, truth JSON).

    The truth JSON's quantify_options are the `editcheck quantify` options that analyse the reads.
    """
    import shlex

    from editcheck.simulate.command import ReadRequest, simulate_reads

    check_file_name(prefix, "--prefix")
    request = ReadRequest(**options)
    with output_folder(out) as staging:
        truth = simulate_reads(request, staging, prefix)
    logger.info("wrote %d %s to %s; in that folder, analyse them with: editcheck quantify --r1 %s_R1.fastq.gz%s %s", request.n_reads,
                "pairs" if request.paired else "reads", out, prefix, f" --r2 {prefix}_R2.fastq.gz" if request.paired else "",
                shlex.join(truth["quantify_options"]))  # fmt: skip


@main.command("simulate-study")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Random seed of the designs, the biology and the reads."
)
@click.option(
    "--reads",
    "n_reads",
    default=2000,
    show_default=True,
    type=click.IntRange(200, 10**6),
    help="Reads per on-target sample (per site in the panel samples).",
)
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP)
@_reports_errors
def simulate_study(seed: int, n_reads: int, out: Path) -> None:
    """Write a small simulated study with its truth: designs.tsv, samples.tsv, sites.tsv, reads and truth.json.

    Two products (A: an adenine base editor with a target base; B: a nuclease), an animal model with three
    replicates, two patients' biopsies at three time points (one declining, one stable), mocks and pre-dose
    biopsies, and product A's 5-site off-target panel with one site truly edited at a low level. Noise as in
    real runs: between-replicate variation (logit-normal), PCR duplicates of few template molecules,
    sequencing errors. Run it with the workflow, from the folder holding DIR: a config.yaml saying
    `study: {designs: DIR/designs.tsv, samples: DIR/samples.tsv}` and `snakemake --snakefile
    <editcheck>/Snakefile --configfile config.yaml --cores 2`; or one sample with `editcheck quantify
    --design-sheet DIR/designs.tsv --design A --r1 DIR/ontarget/T1.fastq.gz -o T1`.
    """
    from editcheck.simulate.study import StudySpec
    from editcheck.simulate.study import simulate_study as write_study

    with output_folder(out) as staging:
        truth = write_study(staging, StudySpec(seed=seed, reads=n_reads))
    logger.info("wrote a study of %d samples (%d designs) to %s", len(truth["samples"]), len(truth["designs"]), out)


@main.command()
@click.option(
    "--grid",
    default="small",
    show_default=True,
    type=click.Choice(["smoke", "small", "full"]),
    help="small: about a minute on one core; full: about five times the trials; smoke: seconds, too few trials for conclusions.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed of the simulations.")
@click.option(
    "-o",
    "--out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the table to this TSV file.",
)
@_reports_errors
def validate(grid: str, seed: int, out: Path | None) -> None:
    """Print the analytical-validation table of editcheck's statistics on simulated truth.

    Replicate series and 40-site off-target panels are simulated with between-replicate variation,
    template-molecule bottlenecks and PCR jackpotting; the table gives the on-target pooled CI coverage,
    the false-call rate on null sites, and the EDITED rate at 1x and 2x the reported limit of detection.
    """
    from editcheck.outputs import atomic_output
    from editcheck.validation import format_table, validation_table

    table = format_table(validation_table(grid, seed))
    if out is not None:
        with atomic_output(out) as handle:
            handle.write(table)
    click.echo(table, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()

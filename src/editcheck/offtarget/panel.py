"""Site-panel quantification: candidate sites in treated and control samples, then per-site calls.

A *site sheet* (TSV) lists the sites: ``site_id``, ``amplicon``, ``protospacer`` (as found at the site,
without PAM), and optionally ``cut_offset``, ``editor`` (nuclease, ABE, CBE), ``on_target`` (yes/no),
``window``. A *sample sheet* (TSV) lists the samples: ``sample``, ``condition`` (treated/control),
optionally ``replicate`` (a label), ``pair`` (a pair/batch shared by a treated and a control sample: the
exact test stratifies by it), ``input_copies`` or ``input_ng`` (template amount: copies of the site, or ng
of human genomic DNA at ~330 haploid copies per ng, which cap the sample's effective depth), and ``r1``
(+ ``r2``) FASTQ paths; relative paths are read from the sheet's folder. Every sample's reads are assigned to the sites (as a pooled run) and quantified by the same
engine as a single amplicon; edited reads per site are then compared between conditions.
:mod:`editcheck.results.offtarget` writes and reads the panel's result folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editcheck.design import AmpliconDesign, build_design
from editcheck.engine import AnalysisSettings, BamSite, PoolResult, SampleResult, run
from editcheck.errors import DesignError, InputFormatError
from editcheck.folders import safe_names
from editcheck.offtarget.significance import (
    EDITED,
    INCONCLUSIVE,
    NOT_DETECTED,
    CallSettings,
    Dispersion,
    Replicate,
    SiteCall,
    call_panel,
)
from editcheck.pooled import check_distinct_amplicons, quantify_pool
from editcheck.reads.alignments import GenomeSite, site_amplicon
from editcheck.reads.collapse import CollapsedReads
from editcheck.reads.read_length import MAX_READ_LENGTH, check_max_read_length
from editcheck.reads.umi import UmiSettings
from editcheck.sheets import PANEL_SAMPLE_COLUMNS as SAMPLE_COLUMNS
from editcheck.sheets import PANEL_SITE_COLUMNS as SITE_COLUMNS
from editcheck.sheets import SITE_GENOME_COLUMNS as GENOME_COLUMNS
from editcheck.sheets import read_sheet

COPIES_PER_NG = 330.0
"""Haploid human genome copies in 1 ng of genomic DNA (3.3 pg per haploid genome)."""
CONDITIONS = ("treated", "control")
TRUE_WORDS = {"yes", "true", "1", "on", "on-target", "on_target"}
FALSE_WORDS = {"no", "false", "0", "off", "", "off-target", "off_target"}


@dataclass(frozen=True)
class PanelSite:
    """One candidate site and its design."""

    site_id: str
    design: AmpliconDesign
    on_target: bool
    editor: str
    locus: str | None = None
    """Genome site (chr:start-end, 1-based) for genome-aligned BAM/CRAM samples."""
    genome: tuple[tuple[str, str], ...] = ()
    """(column, value) of the :data:`GENOME_COLUMNS` the sheet gives (checked: whole numbers, strand + or -)."""


@dataclass(frozen=True)
class PanelSample:
    sample: str
    condition: str
    replicate: str
    r1: Path | None
    r2: Path | None
    bam: Path | None = None
    pair: str | None = None
    input_copies: float | None = None
    """Template copies of each site in the sample (from ``input_copies`` or ``input_ng``)."""


def replicate_order(label: str) -> tuple[int, float, str]:
    """Sort key of replicate labels: numbers as numbers ("2" before "10"), then text."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _input_copies(path: Path, row: dict[str, str], number: int) -> float | None:
    copies, ng = row.get("input_copies") or "", row.get("input_ng") or ""
    if copies and ng:
        raise InputFormatError(path, "give input_copies or input_ng, not both", number)
    text, scale, column = (copies, 1.0, "input_copies") if copies else (ng, COPIES_PER_NG, "input_ng")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise InputFormatError(path, f"{column} must be a positive number, not {text!r}", number)
    return value * scale


def read_site_sheet(
    path: str | Path, reference_fasta: str | Path | None = None, **design_options: Any
) -> list[PanelSite]:
    """Sites of the panel, each checked as a design (protospacer in the amplicon, window, editor).

    A site may give its genome ``locus`` instead of the amplicon; the amplicon is then read from
    ``reference_fasta``."""
    path = Path(path)
    sites: list[PanelSite] = []
    seen: set[str] = set()
    for number, row in enumerate(read_sheet(path, SITE_COLUMNS, ("site_id", "protospacer"), "sites"), 1):
        site_id = row["site_id"]
        locus = row.get("locus") or None
        amplicon = row.get("amplicon", "")
        if not amplicon:
            if locus is None or reference_fasta is None:
                raise InputFormatError(
                    path, f"site {site_id}: give the amplicon, or its locus and the genome --reference", number
                )
            amplicon = site_amplicon(reference_fasta, GenomeSite.parse(locus))
        if not site_id or site_id in seen:
            raise InputFormatError(path, f"site id {site_id!r} is empty or repeated", number)
        seen.add(site_id)
        flag = row.get("on_target", "").lower()
        if flag not in TRUE_WORDS | FALSE_WORDS:
            raise InputFormatError(path, f"on_target must be yes or no, not {row.get('on_target')!r}", number)
        editor = (row.get("editor") or "nuclease").upper()
        try:
            cut_offset = int(row["cut_offset"]) if row.get("cut_offset") else 3
            design = build_design(
                amplicon, [row["protospacer"]], name=site_id, cut_offset=cut_offset,
                window=row.get("window") or None, base_editor=None if editor == "NUCLEASE" else editor,
                **design_options,
            )  # fmt: skip
        except (DesignError, ValueError) as error:
            raise InputFormatError(path, f"site {site_id}: {error}", number) from None
        sites.append(PanelSite(site_id, design, flag in TRUE_WORDS, editor, locus, _genome(path, row, number)))
    safe_names([site.site_id for site in sites], "site", path)
    check_distinct_amplicons([site.design for site in sites], [site.site_id for site in sites], path, "site")
    return sites


def _genome(path: Path, row: dict[str, str], number: int) -> tuple[tuple[str, str], ...]:
    """The site's genome columns that are given, each checked."""
    given = tuple((column, row[column]) for column in GENOME_COLUMNS if row.get(column))
    for column, value in given:
        if column in ("start", "end", "mismatches", "bulge_size") and not value.isdigit():
            raise InputFormatError(
                path, f"site {row['site_id']}: {column} must be a whole number, not {value!r}", number
            )
        if column == "strand" and value not in ("+", "-"):
            raise InputFormatError(path, f"site {row['site_id']}: strand must be + or -, not {value!r}", number)
    return given


def read_sample_sheet(path: str | Path) -> list[PanelSample]:
    """Samples with their condition and reads; paths relative to the sheet's folder."""
    path = Path(path)
    samples: list[PanelSample] = []
    seen: set[str] = set()
    for number, row in enumerate(read_sheet(path, SAMPLE_COLUMNS, ("sample", "condition"), "samples"), 1):
        name, condition = row["sample"], row["condition"].lower()
        if not name or name in seen:
            raise InputFormatError(path, f"sample name {name!r} is empty or repeated", number)
        seen.add(name)
        if condition not in CONDITIONS:
            raise InputFormatError(path, f"condition must be treated or control, not {row['condition']!r}", number)
        r1 = (path.parent / row["r1"]) if row.get("r1") else None
        r2 = (path.parent / row["r2"]) if row.get("r2") else None
        bam = (path.parent / row["bam"]) if row.get("bam") else None
        if (r1 is None) == (bam is None):
            raise InputFormatError(
                path, "give either r1 (FASTQ) or bam (genome-aligned BAM/CRAM) for each sample", number
            )
        for reads in (r1, r2, bam):
            if reads is not None and not reads.exists():
                raise InputFormatError(path, f"reads file {reads} not found", number)
        samples.append(PanelSample(name, condition, row.get("replicate") or str(number), r1, r2, bam,
                                   row.get("pair") or None, _input_copies(path, row, number)))  # fmt: skip
    safe_names([sample.sample for sample in samples], "sample", path)
    conditions = {sample.condition for sample in samples}
    if conditions != set(CONDITIONS):
        raise InputFormatError(path, "the panel needs at least one treated and one control sample")
    return samples


def read_conditions(path: str | Path) -> dict[str, str]:
    """sample -> condition from a sample sheet (TSV with at least ``sample`` and ``condition``)."""
    return {
        row["sample"]: row["condition"] for row in read_sheet(path, SAMPLE_COLUMNS, ("sample", "condition"), "samples")
    }


def edited_reads(result: SampleResult) -> tuple[int, int]:
    """Edited reads and reads classified at one site: indels in the window, and for a base editor
    also reads carrying its conversion in the editing window (substitutions of other kinds are
    sequencing noise here and are not counted). With UMIs: edited and classified *molecules*."""
    tally = result.molecule_tally if result.molecule_tally is not None else result.tally
    if result.design.base_editor is not None:
        edited = sum(count for name, count in tally.base_edit_classes.items() if name != "unedited")
    else:
        edited = tally.with_indel
    return edited, tally.classified


@dataclass
class PanelResult:
    sites: list[PanelSite]
    samples: list[PanelSample]
    calls: list[SiteCall]
    settings: CallSettings
    per_sample: dict[str, Any] = field(default_factory=dict, repr=False)
    dispersion: Dispersion | None = None
    unit: str = ""
    """What the statistics counted (reads, reads capped by the input amount, molecules)."""
    other_panels: list[OtherPanel] = field(default_factory=list)
    """Other panels of the study in this panel's FDR family (``--fdr-with``)."""


@dataclass(frozen=True)
class OtherPanel:
    """Another panel's off-target p-values, from its offtarget_calls.json, for a study-wide FDR family."""

    path: str
    p_values: tuple[float, ...]


def read_other_panel(path: str | Path) -> OtherPanel:
    """The off-target sites' p-values of an ``editcheck offtarget`` result (its offtarget_calls.json, or the
    folder holding it); a file that is not one is an :class:`InputFormatError` naming it and the site."""
    import json

    path = Path(path)
    if path.is_dir():
        path = path / "offtarget_calls.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputFormatError(path, f"not a readable offtarget_calls.json ({type(error).__name__})") from error
    if (
        not isinstance(document, dict)
        or document.get("tool") != "editcheck"
        or not isinstance(document.get("sites"), list)
    ):
        raise InputFormatError(path, "not an editcheck offtarget_calls.json (no 'sites' list)")
    p_values = []
    for number, site in enumerate(document["sites"], 1):
        if not isinstance(site, dict) or not isinstance(site.get("on_target"), bool):
            raise InputFormatError(path, "site without an on_target flag", number)
        if site["on_target"]:
            continue
        value = site.get("p_value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise InputFormatError(
                path, f"site {site.get('site')!r}: p_value must be a number in [0, 1], not {value!r}", number
            )
        p_values.append(float(value))
    return OtherPanel(str(path), tuple(p_values))


def run_panel(
    sites: Sequence[PanelSite],
    samples: Sequence[PanelSample],
    *,
    settings: AnalysisSettings = AnalysisSettings(),
    call_settings: CallSettings = CallSettings(),
    threads: int = 1,
    reference_fasta: str | Path | None = None,
    input_copies: float | None = None,
    umi: UmiSettings | None = None,
    other_panels: Sequence[OtherPanel] = (),
    max_read_length: int = MAX_READ_LENGTH,
) -> PanelResult:
    """Quantify every site in every sample and call each site (in one FDR family with ``other_panels``).

    ``input_copies`` is the template amount of samples whose sheet row gives none. With ``umi`` every
    sample's reads are collapsed into molecules and molecule counts drive the statistics (an input
    amount is then not needed and not applied).  A read longer than ``max_read_length`` bases is an input error."""
    max_read_length = check_max_read_length(max_read_length)
    designs = [site.design for site in sites]
    counts: dict[str, dict[str, Replicate]] = {site.site_id: {} for site in sites}
    per_sample = {}
    for sample in samples:
        if sample.bam is not None:
            pool = _quantify_bam_sites(sample, sites, settings, threads, reference_fasta, umi, max_read_length)
        else:
            assert sample.r1 is not None
            pool = quantify_pool(sample.r1, sample.r2, designs, settings=settings, sample=sample.sample, threads=threads,
                                 umi=umi, max_read_length=max_read_length)  # fmt: skip
        per_sample[sample.sample] = pool
        for site, result in zip(sites, pool.samples):
            edited, classified = edited_reads(result)
            molecules = sample.input_copies if sample.input_copies is not None else input_copies
            molecules = None if umi is not None else molecules
            counts[site.site_id][sample.sample] = Replicate(sample.sample, edited, classified, molecules, sample.pair)
    treated = [sample for sample in samples if sample.condition == "treated"]
    control = [sample for sample in samples if sample.condition == "control"]
    order = lambda s: (replicate_order(s.replicate), s.sample)  # noqa: E731
    by_replicate = sorted(treated, key=order), sorted(control, key=order)
    calls, dispersion = call_panel(
        [
            (
                site.site_id,
                site.on_target,
                [counts[site.site_id][s.sample] for s in by_replicate[0]],
                [counts[site.site_id][s.sample] for s in by_replicate[1]],
            )
            for site in sites
        ],
        call_settings,
        [value for panel in other_panels for value in panel.p_values],
    )
    return PanelResult(list(sites), list(samples), calls, call_settings, per_sample, dispersion,
                       _unit(samples, input_copies, umi), list(other_panels))  # fmt: skip


def _unit(samples: Sequence[PanelSample], input_copies: float | None, umi: UmiSettings | None) -> str:
    """What the statistics counted, for methods.txt."""
    if umi is not None:
        return (f"molecules: reads collapsed by UMI ({umi.source}) into one consensus per molecule; edited and "
                "classified molecules drive every test, interval and limit of detection")  # fmt: skip
    capped = [s.sample for s in samples if s.input_copies is not None or input_copies is not None]
    if not capped:
        return ""
    text = "reads, with each sample's effective depth capped by its template input (1/(1/reads + 1/copies))"
    if len(capped) < len(samples):
        text += f" for {', '.join(capped)}; reads of the other samples assumed independent draws"
    return text


def _quantify_bam_sites(
    sample: PanelSample, sites: Sequence[PanelSite], settings: AnalysisSettings, threads: int,
    reference_fasta: str | Path | None, umi: UmiSettings | None = None, max_read_length: int = MAX_READ_LENGTH,
) -> PoolResult:  # fmt: skip
    """A genome-aligned sample: the reads covering each site's locus, quantified at that site."""
    assert sample.bam is not None
    threads = max(1, min(threads, os.cpu_count() or 1))
    results = []
    for site in sites:
        if site.locus is None:
            raise InputFormatError(sample.bam, f"site {site.site_id} has no locus, needed for BAM/CRAM samples")
        source = BamSite(sample.bam, GenomeSite.parse(site.locus), reference_fasta, max_read_length=max_read_length)
        names = [f"{sample.sample}:{site.site_id}"]
        results.append(run(source, [site.design], names, settings=settings, threads=threads, umi=umi).samples[0])
    assigned = {site.site_id: result.reads.reads_in for site, result in zip(sites, results)}
    reads = CollapsedReads(reads_in=sum(assigned.values()))
    return PoolResult(results, reads, assigned, 0, 0)


def panel_headline(calls: Sequence[SiteCall]) -> str:
    """The panel in one line: calls counted over off-target sites only, each on-target site on its own."""
    off_target = [call for call in calls if not call.on_target]
    counts = ", ".join(
        f"{sum(1 for call in off_target if call.call == name)} {name}" for name in (EDITED, NOT_DETECTED, INCONCLUSIVE)
    )
    text = f"{len(off_target)} off-target site{'' if len(off_target) == 1 else 's'}: {counts}"
    for call in calls:
        if call.on_target:
            low, high = call.excess_ci95
            text += f"; on-target {call.site}: {call.call} (excess {call.excess_percent:.2f} pp, 95% CI {low:.2f}-{high:.2f})"
    return text

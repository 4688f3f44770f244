"""The study evidence (issue #12 items 3-5): replicate-pooled groups, durability per subject and design, the
evidence and platform tables with their pass/fail rule, the writers, and an end-to-end run on real
``quantify`` and ``offtarget`` folders of simulated reads."""

from __future__ import annotations

import json
import math

import pytest

from editcheck.errors import InputFormatError, ParameterError
from editcheck.evidence.groups import BORROWED_NOTE, ONE_REPLICATE_NOTE, group_estimates
from editcheck.evidence.load import panel_summary, sample_estimates
from editcheck.evidence.output import EVIDENCE_COLUMNS, PLATFORM_COLUMNS, write_evidence_outputs
from editcheck.evidence.records import TARGET_ENGAGEMENT, PanelSummary, SampleEstimate, SampleMetadata
from editcheck.evidence.series import durability_series
from editcheck.evidence.table import (
    DESIGN_CONTROLS,
    FAIL,
    NOT_EVALUABLE,
    NOT_SHOWN,
    PASS,
    SAME_TISSUE,
    TARGET_EDITED,
    ThresholdRule,
    evidence_table,
    platform_table,
)
from editcheck.statistics.durability import DAYS_PER_MONTH, ReplicateCounts


def sample(name, design="A", condition="treated", edited=4000, total=10_000, subject="P1", tissue="liver",
           days=None, label="", replicate="1", model="clinical biopsy", engagement=True, effective=None):  # fmt: skip
    counts = ReplicateCounts(edited, total, effective)
    metadata = SampleMetadata(design, condition, replicate, subject, model, tissue, days, label)
    return SampleEstimate(
        name, metadata, ReplicateCounts(edited + 50, total, effective), counts if engagement else None
    )


def t_interval(rates, t_quantile):
    logits = [math.log((r * 10_000 + 0.5) / (10_000 - r * 10_000 + 0.5)) for r in rates]
    mean = sum(logits) / len(logits)
    sd = math.sqrt(sum((y - mean) ** 2 for y in logits) / (len(logits) - 1))
    expit = lambda x: 100 / (1 + math.exp(-x))  # noqa: E731
    return (
        expit(mean),
        expit(mean - t_quantile * sd / math.sqrt(len(logits))),
        expit(mean + t_quantile * sd / math.sqrt(len(logits))),
    )


def test_groups_pool_biological_replicates_as_the_unit():
    samples = [sample("T1", edited=4000, replicate="1"), sample("T2", edited=4500, replicate="2"),
               sample("T3", edited=3500, replicate="3"), sample("B1", tissue="blood", edited=1000)]  # fmt: skip
    groups = group_estimates(samples)
    assert [(g.tissue, g.samples) for g in groups] == [("blood", ("B1",)), ("liver", ("T1", "T2", "T3"))]
    liver = groups[1]
    assert liver.measure == TARGET_ENGAGEMENT
    percent, low, high = t_interval([0.40, 0.45, 0.35], 4.302653)
    assert (liver.headline.percent, liver.headline.low, liver.headline.high) == pytest.approx(
        (percent, low, high), abs=1e-6
    )
    assert liver.edited.percent > liver.headline.percent  # edited counts 50 more reads per sample
    assert liver.note == "" and groups[0].note == ONE_REPLICATE_NOTE
    # Wilson of 1,000 of 10,000 reads for the single blood replicate.
    assert (groups[0].headline.low, groups[0].headline.high) == pytest.approx((9.42, 10.61), abs=0.01)


def test_single_replicate_group_borrows_its_series_between_replicate_variance():
    """P1's month-1 biopsy has three replicates (40/45/35%), its month-3 biopsy one (45%): the month-3 interval
    adds the month-1 replicates' scatter to its own read sampling (t with their 2 degrees of freedom), and says
    so; P2's lone biopsy has nothing to borrow from and keeps its read-sampling interval and note."""
    month = 30.4375
    samples = [sample(f"T{r}", edited=e, days=month, label="1 mo", replicate=str(r))
               for r, e in ((1, 4000), (2, 4500), (3, 3500))]  # fmt: skip
    samples += [
        sample("M3", edited=4500, days=3 * month, label="3 mo"),
        sample("Q1", subject="P2", days=month, label="1 mo"),
    ]
    groups = {(g.subject, g.time_label): g for g in group_estimates(samples)}
    single = groups[("P1", "3 mo")]
    logits = [math.log(r / (1 - r)) for r in (0.40, 0.45, 0.35)]
    within = sum((y - sum(logits) / 3) ** 2 for y in logits) / 2
    half = 4.302653 * math.sqrt(within - 1 / (10_000 * 0.4 * 0.6) + 1 / (10_000 * 0.45 * 0.55))
    expected = [100 / (1 + math.exp(-(math.log(0.45 / 0.55) + sign * half))) for sign in (-1, 1)]
    assert (single.headline.low, single.headline.high) == pytest.approx(expected, abs=0.02)
    assert single.headline.high - single.headline.low > 20  # read sampling alone: 2 pp wide
    assert single.note == BORROWED_NOTE
    lone = groups[("P2", "1 mo")]
    assert lone.note == ONE_REPLICATE_NOTE and lone.headline.high - lone.headline.low < 2.5


def test_two_replicate_group_pools_its_series_between_replicate_variance():
    """P1's month-1 biopsy has three replicates (40/45/35%), its month-3 biopsy two (45/50%): the month-3
    interval uses the variance pooled over both time points (3 degrees of freedom, less the replicates' mean
    binomial variance, plus month 3's own) instead of its own t(1), and says so; P2's two replicates, alone in
    their series, keep their own t(1) interval."""
    month = 30.4375
    samples = [sample(f"T{r}", edited=e, days=month, label="1 mo", replicate=str(r))
               for r, e in ((1, 4000), (2, 4500), (3, 3500))]  # fmt: skip
    samples += [sample(f"M{r}", edited=e, days=3 * month, label="3 mo", replicate=str(r))
                for r, e in ((1, 4500), (2, 5000))]  # fmt: skip
    samples += [sample(f"Q{r}", subject="P2", edited=e, days=month, label="1 mo", replicate=str(r))
                for r, e in ((1, 4500), (2, 5000))]  # fmt: skip
    groups = {(g.subject, g.time_label): g for g in group_estimates(samples)}
    logit = lambda e: math.log((e + 0.5) / (10_000 - e + 0.5))  # noqa: E731
    one, three = [logit(e) for e in (4000, 4500, 3500)], [logit(e) for e in (4500, 5000)]
    squares = sum((y - sum(one) / 3) ** 2 for y in one) + sum((y - sum(three) / 2) ** 2 for y in three)
    p_one, p_three = 12000.5 / 30001, 9500.5 / 20001
    v_one, v_three = 1 / (10_000 * p_one * (1 - p_one)), 1 / (10_000 * p_three * (1 - p_three))
    half = 3.182446 * math.sqrt((squares / 3 - (3 * v_one + 2 * v_three) / 5 + v_three) / 2)
    centre = sum(three) / 2
    pooled = groups[("P1", "3 mo")]
    expected = [100 / (1 + math.exp(-(centre + sign * half))) for sign in (-1, 1)]
    assert (pooled.headline.low, pooled.headline.high) == pytest.approx(expected, abs=0.01)
    assert (
        pooled.note.startswith("few replicates: between-replicate variance pooled")
        and groups[("P1", "1 mo")].note == ""
    )
    alone = groups[("P2", "1 mo")]
    assert (alone.headline.percent, alone.headline.low, alone.headline.high) == pytest.approx(
        t_interval([0.45, 0.50], 12.706205), abs=1e-6
    )
    assert alone.note == ""


def test_duplicate_replicate_in_a_group_is_an_error():
    with pytest.raises(ParameterError, match="'T1' and 'T2' are both replicate '1' of design 'A'"):
        group_estimates([sample("T1"), sample("T2")])


def evidence_samples():
    return [
        # Liver: three treated replicates near 40%, two liver controls near 0.1%.
        sample("T1", edited=4000, replicate="1"), sample("T2", edited=4200, replicate="2"),
        sample("T3", edited=3800, replicate="3"),
        sample("C1", condition="untreated", edited=10, subject="", replicate="1"),
        sample("C2", condition="control", edited=12, subject="", replicate="2"),
        # Blood: a treated sample at 0.15% against the liver controls' 0.1% (no blood control).
        sample("B1", tissue="blood", edited=15, replicate="1"),
        # Kidney: two treated replicates, one edited and one not: the lower bound is low.
        sample("K1", tissue="kidney", edited=300, replicate="1"), sample("K2", tissue="kidney", edited=2, replicate="2"),
        # Design B has no control.
        sample("X1", design="B", edited=2000, subject="P2"),
    ]  # fmt: skip


def test_evidence_rule_lower_bound_against_the_control_upper_bound():
    samples = evidence_samples()
    rows = {(r.group.design_id, r.group.tissue): r for r in evidence_table(group_estimates(samples), samples)}
    liver = rows[("A", "liver")]
    assert liver.result == PASS and liver.control_source == SAME_TISSUE
    assert liver.threshold_percent == pytest.approx(liver.control.high)
    assert liver.control.replicates == 2 and 0.11 < liver.control.high < 0.5  # t(1) on two replicates
    blood = rows[("A", "blood")]
    assert blood.control_source == DESIGN_CONTROLS
    # 15/10,000: Wilson low 0.091% < the pooled controls' upper bound.
    assert blood.result == FAIL and blood.group.headline.low < blood.threshold_percent
    assert rows[("A", "kidney")].result == FAIL
    assert rows[("B", "liver")].result == NOT_EVALUABLE and rows[("B", "liver")].control is None
    assert liver.source == "clinical biopsy, liver, -"


def test_evidence_rule_with_a_fixed_percentage():
    samples = evidence_samples()
    rows = {(r.group.design_id, r.group.tissue): r
            for r in evidence_table(group_estimates(samples), samples, rule=ThresholdRule("fixed", 20.0))}  # fmt: skip
    assert rows[("A", "liver")].result == PASS and rows[("A", "liver")].threshold_percent == 20.0
    assert rows[("B", "liver")].result == FAIL  # 20% in one sample: Wilson low 19.2% < 20%
    assert rows[("A", "blood")].result == FAIL
    assert rows[("A", "liver")].control is not None  # the control is still shown
    with pytest.raises(ParameterError, match="fixed threshold needs a percentage"):
        ThresholdRule("fixed", 100.0)
    with pytest.raises(ParameterError, match="must be 'control' or 'fixed'"):
        ThresholdRule("lenient")


def test_platform_table_one_row_per_product_and_subject():
    samples = evidence_samples()
    rows = evidence_table(group_estimates(samples), samples)
    panels = [PanelSummary("A", "P1", None, "", ("s1", "s2", "s3"), 1, 2, 0, 0.12, ("s2",)),
              PanelSummary("A", "", None, "", ("s3", "s4"), 0, 1, 1, 0.3, ())]  # fmt: skip
    table = platform_table(rows, panels)
    assert [(r.design_id, r.subject, r.verdict) for r in table] == [
        ("A", "P1", TARGET_EDITED),
        ("B", "P2", NOT_EVALUABLE),
    ]
    first = table[0]
    assert (first.evidence_rows, first.passing_rows) == (3, 1)
    assert first.best.group.tissue == "liver"
    assert (first.sites_tested, first.panels, first.inconclusive_calls, first.worst_lod_percent) == (4, 2, 1, 0.3)
    assert first.edited_sites == (("s2", "any"),)
    low_only = [row for row in rows if row.group.tissue == "kidney"]
    assert platform_table(low_only)[0].verdict == NOT_SHOWN


def series_samples():
    """Subject P1 under design A: liver biopsies at 1, 3, 6 and 12 months falling from 42% to 30%."""
    levels = {1: 0.42, 3: 0.40, 6: 0.36, 12: 0.30}
    samples = []
    for month, level in levels.items():
        for replicate, offset in enumerate((-0.01, 0.0, 0.01)[: 1 + month % 3 if month != 12 else 3]):
            samples.append(sample(f"P1_m{month}_r{replicate}", edited=round((level + offset) * 10_000),
                                  days=month * DAYS_PER_MONTH, label=f"{month} mo", replicate=str(replicate)))  # fmt: skip
    samples.append(sample("P2_m1", subject="P2", days=30.0, label="30 d"))  # one time point: no series
    samples.append(sample("C1", condition="control", edited=10, subject="", days=30.0, label="30 d"))
    return samples


def test_durability_series_per_subject_and_design_flags_edited_offtarget_sites():
    panels = [PanelSummary("A", "P1", 6 * DAYS_PER_MONTH, "6 mo", ("s1", "s2"), 0, 2, 0, 0.1, ()),
              PanelSummary("A", "P1", 12 * DAYS_PER_MONTH, "12 mo", ("s1", "s2"), 1, 1, 0, 0.1, ("s2",)),
              PanelSummary("B", "P1", 12 * DAYS_PER_MONTH, "12 mo", ("s9",), 1, 0, 0, None, ("s9",))]  # fmt: skip
    series = durability_series(series_samples(), panels)
    assert [(s.design_id, s.subject, s.tissue) for s in series] == [("A", "P1", "liver")]
    entry = series[0]
    assert entry.time_labels == ("1 mo", "3 mo", "6 mo", "12 mo")
    assert [p.replicates for p in entry.result.points] == [2, 1, 1, 3]
    assert entry.result.points[1].single_replicate
    # Four time points: the trend over the replicates and the first-to-last change, each judged at 97.5%; month
    # 1's two replicates take the variance pooled with month 12's (change CI -18.4 to -4.8 on their own t(1)).
    assert entry.result.verdict == (
        "decline detected (slope -1.0 pp/mo, 95% CI -1.2 to -0.9; change -11.5 pp, 95% CI -14.9 to -8.1)"
    )
    assert entry.result.trend.model == "replicates" and entry.result.trend.degrees_of_freedom == 5  # 7 replicates
    assert -1.2 < entry.result.trend.pp_per_month < -0.9  # 42% -> 30% in 11 months, about 1.1 pp/month
    assert entry.result.changes[-1].change == pytest.approx(30.0 - 41.5, abs=0.05)  # month 1: 41% and 42%
    assert entry.offtarget_edited == (("s2", "12 mo"),)
    assert entry.title == "A - P1 (clinical biopsy, liver)"


@pytest.fixture()
def evidence_tables():
    samples = series_samples() + evidence_samples()[3:]
    groups = group_estimates(samples)
    panels = [PanelSummary("A", "P1", 12 * DAYS_PER_MONTH, "12 mo", ("s1", "s2"), 1, 1, 0, 0.1234, ("s2",))]
    series = durability_series(samples, panels)
    rows = evidence_table(groups, samples, panels)
    return groups, series, rows, platform_table(rows, panels, series)


def test_writers_are_deterministic_sorted_and_fixed_decimals(tmp_path, evidence_tables):
    write_evidence_outputs(tmp_path / "one", *evidence_tables)
    write_evidence_outputs(tmp_path / "two", *rebuilt_from_reversed_samples())
    names = ["groups.tsv", "durability.tsv", "trends.tsv", "evidence.tsv", "platform.tsv", "evidence.json"]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    evidence = [line.split("\t") for line in (tmp_path / "one" / "evidence.tsv").read_text().splitlines()]
    assert tuple(evidence[0]) == EVIDENCE_COLUMNS
    records = [dict(zip(evidence[0], line)) for line in evidence[1:]]
    twelve = next(r for r in records if r["time_point"] == "12 mo" and r["subject"] == "P1")
    assert twelve["percent"] == f"{float(twelve['percent']):.2f}" and twelve["result"] == PASS
    assert twelve["offtarget_edited_sites"] == "s2" and twelve["offtarget_worst_lod_percent"] == "0.123"
    assert twelve["evidence_source"] == "clinical biopsy, liver, 12 mo"
    trends = (tmp_path / "one" / "trends.tsv").read_text().splitlines()
    assert len(trends) == 2 and "decline detected" in trends[1] and "s2 (12 mo)" in trends[1]
    platform = (tmp_path / "one" / "platform.tsv").read_text().splitlines()
    assert tuple(platform[0].split("\t")) == PLATFORM_COLUMNS
    document = json.loads((tmp_path / "one" / "evidence.json").read_text())
    assert set(document) >= {"groups", "durability", "trends", "evidence", "platform", "rule"}
    assert document["evidence"][0]["design_id"] == "A"


def rebuilt_from_reversed_samples():
    # The writers keep the order they are given; the builders sort: rebuilding from the samples in
    # reverse order must give the same tables.
    samples = list(reversed(series_samples() + evidence_samples()[3:]))
    panels = [PanelSummary("A", "P1", 12 * DAYS_PER_MONTH, "12 mo", ("s1", "s2"), 1, 1, 0, 0.1234, ("s2",))]
    groups = group_estimates(samples)
    series = durability_series(samples, panels)
    rows = evidence_table(groups, samples, panels)
    return groups, series, rows, platform_table(rows, panels, series)


@pytest.mark.slow
def test_end_to_end_from_quantify_and_offtarget_folders(tmp_path):
    from editcheck import simulate
    from editcheck.design import build_design
    from editcheck.offtarget.panel import read_sample_sheet, read_site_sheet, run_panel
    from editcheck.pipeline import quantify
    from editcheck.results.offtarget import write_panel_outputs
    from editcheck.results.sample import write_sample_outputs

    design = simulate.random_design(seed=2024, with_donor=False)
    built = build_design(design.amplicon, [design.guide], base_editor="ABE", target_in_protospacer=5)
    truths, folders = {}, []
    for name, rate, seed in (("T1", 0.42, 3), ("T2", 0.38, 4), ("M1", 0.0, 5)):
        reads = tmp_path / f"{name}.fastq.gz"
        spec = simulate.BaseEditorSpec(target_rate=rate, bystander_rate=0.1 if rate else 0.0)
        truths[name] = simulate.simulate(design, 1200, reads, base_editor=spec, seed=seed)["base_editing"]
        result = quantify(reads, design=built, sample=name)
        result.input_copies = 200.0 if name == "T2" else None  # as `quantify --input-copies 200` records it
        write_sample_outputs(result, tmp_path / name)
        folders.append(tmp_path / name)
    metadata = {
        "T1": SampleMetadata("A", "treated", "1", "mouse1", "animal model", "liver", 28.0, "4 wk"),
        "T2": SampleMetadata("A", "treated", "2", "mouse1", "animal model", "liver", 28.0, "4 wk"),
        "M1": SampleMetadata("A", "untreated", "1", "", "animal model", "liver", 28.0, "4 wk"),
    }
    samples = sample_estimates(reversed(folders), metadata)
    assert [s.sample for s in samples] == ["M1", "T1", "T2"]
    for estimate in samples:
        assert estimate.target_engagement is not None
        assert abs(estimate.target_engagement.edited - truths[estimate.sample]["target_converted_reads"]) <= 3
        assert 1190 <= estimate.target_engagement.total <= 1200  # reads with the target base masked are not counted
    engagement = samples[2].target_engagement
    assert engagement.effective_total == pytest.approx(1 / (1 / engagement.total + 1 / 200), abs=1e-3)
    assert samples[2].edited.effective_total == pytest.approx(1 / (1 / samples[2].edited.total + 1 / 200), abs=1e-3)
    assert samples[1].target_engagement.effective_total is None
    groups = group_estimates(samples)
    treated = next(g for g in groups if g.condition == "treated")
    assert treated.headline.low <= 40.0 <= treated.headline.high and treated.headline.replicates == 2

    # An off-target panel of three sites, one edited at 3%.
    pool = simulate.random_pool(3, seed=41, near_identical_pairs=0)
    (tmp_path / "sites.tsv").write_text("site_id\tamplicon\tprotospacer\ton_target\n"
                                        + "".join(f"site{i}\t{d.amplicon}\t{d.guide}\tno\n" for i, d in enumerate(pool)))  # fmt: skip
    sheet = ["sample\tcondition\treplicate\tr1"]
    for index, site in enumerate(pool):
        for condition, seed in (("treated", 1), ("control", 2)):
            rate = 0.03 if (index == 0 and condition == "treated") else 0.0
            mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
            name = f"{condition[0].upper()}{index}"
            simulate.simulate(site, 1500, tmp_path / f"{name}.fastq.gz", mix=mix, seed=10 * index + seed)
            sheet.append(f"{name}\t{condition}\t{index + 1}\t{name}.fastq.gz")
    (tmp_path / "samples.tsv").write_text("\n".join(sheet) + "\n")
    panel_result = run_panel(read_site_sheet(tmp_path / "sites.tsv"), read_sample_sheet(tmp_path / "samples.tsv"))
    write_panel_outputs(panel_result, tmp_path / "panel")
    panel = panel_summary(tmp_path / "panel", "A", "mouse1", 28.0, "4 wk")
    assert (panel.sites_tested, panel.edited, panel.not_detected, panel.inconclusive) == (3, 1, 2, 0)
    assert panel.edited_sites == ("site0",) and 0 < panel.worst_lod_percent < 5

    rows = evidence_table(groups, samples, [panel])
    assert [(r.result, r.panel is panel, r.source) for r in rows] == [(PASS, True, "animal model, liver, 4 wk")]
    platform = platform_table(rows, [panel])
    write_evidence_outputs(tmp_path / "evidence", groups, [], rows, platform)
    assert "site0" in (tmp_path / "evidence" / "platform.tsv").read_text()

    with pytest.raises(InputFormatError, match="sample 'T2' is not in the study's sample sheet"):
        sample_estimates(folders, {key: value for key, value in metadata.items() if key != "T2"})
    with pytest.raises(ParameterError, match="condition 'dosed' is not one of"):
        sample_estimates(folders, {**metadata, "T1": SampleMetadata("A", "dosed")})
    other = simulate.random_design(seed=7, with_donor=False)
    simulate.simulate(other, 300, tmp_path / "O1.fastq.gz", seed=9)
    write_sample_outputs(quantify(tmp_path / "O1.fastq.gz", design=build_design(other.amplicon, [other.guide]), sample="O1"),
                         tmp_path / "O1")  # fmt: skip
    with pytest.raises(InputFormatError, match="design 'A': quantified against another amplicon"):
        sample_estimates([*folders, tmp_path / "O1"], {**metadata, "O1": SampleMetadata("A", "treated", "3", "mouse1")})


def _panel_sample(name: str, condition: str, subject: str, time_point: str):
    from editcheck.study.samples import OFF_TARGET_PANEL, StudySample
    from editcheck.study.time_points import parse_time_point

    when = parse_time_point(time_point) if time_point else None
    return StudySample(name, "A", condition, "1", OFF_TARGET_PANEL, None, None, None, None, None, None, None, subject,
                       "", "liver", when, "", (), 1)  # fmt: skip


def test_a_panel_of_one_subjects_samples_speaks_for_that_subject_only():
    """Panel samples carrying a subject: the panel's EDITED sites are flagged for that subject (and time point),
    not for every subject of the design; a panel over several subjects (or none) stays design-wide."""
    from editcheck.evidence.load import panel_scope

    samples = [_panel_sample("T1", "treated", "M1", "28 d"), _panel_sample("T2", "treated", "M1", "28 d"),
               _panel_sample("C1", "control", "", "28 d"), _panel_sample("U1", "treated", "P1", "1 mo"),
               _panel_sample("U2", "treated", "P1", "6 mo"), _panel_sample("X1", "treated", "", "")]  # fmt: skip
    assert panel_scope(["T1", "T2", "C1"], samples) == ("M1", 28.0, "28 d")
    assert panel_scope(["U1", "U2", "C1"], samples) == ("P1", None, "")  # one subject, two time points
    assert panel_scope(["T1", "U1", "C1"], samples) == ("", None, "")  # two subjects: the design's panel
    assert panel_scope(["X1", "C1"], samples) == ("", None, "")  # no subject
    # Flagged per subject: M1's panel marks M1's series, not P1's.
    panels = [PanelSummary("A", "M1", 28.0, "28 d", ("s1", "s2"), 1, 1, 0, 0.1, ("s2",))]
    series = durability_series(series_samples(), panels)
    assert series[0].subject == "P1" and series[0].offtarget_edited == ()
    design_wide = [PanelSummary("A", "", 28.0, "28 d", ("s1", "s2"), 1, 1, 0, 0.1, ("s2",))]
    assert durability_series(series_samples(), design_wide)[0].offtarget_edited == (("s2", "28 d"),)

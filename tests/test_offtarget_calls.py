"""Off-target statistics: calibration on simulated counts, and a simulated site panel end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from editcheck.offtarget.significance import EDITED, INCONCLUSIVE, NOT_DETECTED, CallSettings, Replicate, call_sites
from editcheck.statistics.detection import decision_rule_lod
from editcheck.statistics.tests import benjamini_hochberg, stratified_exact_test


def simulated_sites(rng, count, excess, background=0.001, depth=(5000, 20001), replicates=1):
    sites = []
    for index in range(count):
        treated, control = [], []
        for replicate in range(replicates):
            n_treated, n_control = int(rng.integers(*depth)), int(rng.integers(*depth))
            treated.append(Replicate(f"t{replicate}", int(rng.binomial(n_treated, background + excess)), n_treated))
            control.append(Replicate(f"c{replicate}", int(rng.binomial(n_control, background)), n_control))
        sites.append((f"site{index}", False, treated, control))
    return sites


def test_null_sites_rarely_called_edited():
    calls = call_sites(simulated_sites(np.random.default_rng(1), 200, 0.0))
    assert sum(call.call == EDITED for call in calls) <= 10  # at most 5%


def test_half_percent_excess_at_10k_reads_is_found():
    calls = call_sites(simulated_sites(np.random.default_rng(2), 200, 0.005, depth=(10000, 10001)))
    assert sum(call.call == EDITED for call in calls) >= 180  # at least 90%


def test_excess_interval_coverage():
    # The excess interval reported with each call (the model's MOVER interval; tau2 = 0 for binomial reads).
    from editcheck.statistics.overdispersion import excess_interval

    rng = np.random.default_rng(3)
    covered = 0
    for _, _, (treated,), (control,) in simulated_sites(rng, 1000, 0.005):
        _, low, high = excess_interval([treated.effective()], [control.effective()], 0.0)
        covered += low <= 0.005 <= high
    assert 930 <= covered <= 970


def test_on_target_at_40_percent():
    rng = np.random.default_rng(4)
    site = ("on", True, [Replicate("t", int(rng.binomial(10000, 0.40)), 10000)], [Replicate("c", 10, 10000)])
    call = call_sites([site])[0]
    assert call.call == EDITED
    assert call.treated_ci95[0] <= 40.0 <= call.treated_ci95[1]


def test_replicates_are_stratified_not_summed():
    # Replicate 1 has a high control background at low depth; replicate 2 shows the effect.
    strata = [(5, 1000, 5, 1000), (30, 10000, 5, 10000)]
    paired = stratified_exact_test(strata)
    summed = stratified_exact_test([(35, 11000, 10, 11000)])
    assert 0 < paired < 0.01 and 0 < summed < 0.01
    assert paired != pytest.approx(summed)
    # One stratum: Fisher's exact test (scipy's one-sided 'greater').
    from scipy.stats import fisher_exact

    assert stratified_exact_test([(12, 1000, 3, 1000)]) == pytest.approx(
        fisher_exact([[12, 988], [3, 997]], alternative="greater").pvalue
    )


def test_inconclusive_and_not_detected():
    settings = CallSettings()
    low_depth = ("shallow", False, [Replicate("t", 1, 500)], [Replicate("c", 0, 800)])
    noisy = ("noisy", False, [Replicate("t", 800, 10000)], [Replicate("c", 700, 10000)])
    clean = ("clean", False, [Replicate("t", 9, 10000)], [Replicate("c", 10, 10000)])
    calls = {call.site: call for call in call_sites([low_depth, noisy, clean], settings)}
    assert calls["shallow"].call == INCONCLUSIVE
    assert calls["noisy"].call == INCONCLUSIVE
    assert calls["clean"].call == NOT_DETECTED
    assert 0.05 < calls["clean"].lod_percent < 0.3


def test_detection_limit_shrinks_with_depth_and_grows_with_background():
    def lod(depth, background, tau2=0.0, alpha_site=0.05 / 40):
        return decision_rule_lod(
            [depth] * 3, [depth] * 3, background, tau2=tau2, alpha_site=alpha_site, min_effect=0.001
        )

    assert lod(100_000, 0.001) < lod(10_000, 0.001)
    assert lod(10_000, 0.005) > lod(10_000, 0.001)
    assert lod(10_000, 0.001, tau2=0.04) > lod(10_000, 0.001)  # between-replicate variation costs sensitivity
    assert lod(10_000, 0.001, alpha_site=0.05) < lod(10_000, 0.001)  # so does the panel's multiplicity
    assert lod(1_000_000, 0.0001) >= 0.001  # never below the minimum effect


def test_benjamini_hochberg_known_values():
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_panel_end_to_end(tmp_path):
    from editcheck import simulate
    from editcheck.offtarget.panel import read_sample_sheet, read_site_sheet, run_panel
    from editcheck.results.offtarget import write_panel_outputs

    designs = simulate.random_pool(5, seed=31, near_identical_pairs=0)
    # site0: on-target 40% indels; site1: off-target 2% indels; the rest: clean.
    editing = {0: 0.40, 1: 0.02}
    rows = ["site_id\tamplicon\tprotospacer\ton_target"]
    rows += [f"site{i}\t{d.amplicon}\t{d.guide}\t{'yes' if i == 0 else 'no'}" for i, d in enumerate(designs)]
    (tmp_path / "sites.tsv").write_text("\n".join(rows) + "\n")
    samples = ["sample\tcondition\treplicate\tr1"]
    for name, condition, replicate, seed in (
        ("T1", "treated", 1, 1),
        ("T2", "treated", 2, 2),
        ("C1", "control", 1, 3),
        ("C2", "control", 2, 4),
    ):
        parts = []
        for index, design in enumerate(designs):
            rate = editing.get(index, 0.0) if condition == "treated" else 0.0
            mix = simulate.OutcomeMix(
                unmodified=1 - rate, deletion=rate * 0.7, insertion=rate * 0.3, substitution=0.0, hdr=0.0
            )
            path = tmp_path / f"{name}_{index}.fastq.gz"
            simulate.simulate(design, 3000, path, mix=mix, seed=seed * 100 + index)
            parts.append(path.read_bytes())
        (tmp_path / f"{name}.fastq.gz").write_bytes(b"".join(parts))
        samples.append(f"{name}\t{condition}\t{replicate}\t{name}.fastq.gz")
    (tmp_path / "samples.tsv").write_text("\n".join(samples) + "\n")
    result = run_panel(read_site_sheet(tmp_path / "sites.tsv"), read_sample_sheet(tmp_path / "samples.tsv"),
                       call_settings=CallSettings(min_reads=1000))  # fmt: skip
    calls = {call.site: call for call in result.calls}
    assert calls["site0"].call == EDITED and calls["site0"].on_target
    assert calls["site0"].treated_ci95[0] <= 40.0 <= calls["site0"].treated_ci95[1]
    assert calls["site1"].call == EDITED
    assert calls["site1"].excess_ci95[0] <= 2.0 <= calls["site1"].excess_ci95[1]
    assert all(calls[f"site{i}"].call == NOT_DETECTED for i in (2, 3, 4))
    out = tmp_path / "out"
    write_panel_outputs(result, out)
    document = json.loads((out / "offtarget_calls.json").read_text())
    assert "Benjamini-Hochberg" in document["methods"]
    assert len((out / "offtarget_calls.tsv").read_text().splitlines()) == 6


def test_singleplex_panel_reports_the_replicates_holding_each_site(tmp_path):
    # Issue #10 item 7: one treated/control pair of singleplex files per site; each site must report
    # the one pair that carries its reads (not the whole sheet's 3 + 3), and every NOT DETECTED site
    # its upper bound.
    import csv

    from editcheck import simulate
    from editcheck.offtarget.panel import read_sample_sheet, read_site_sheet, run_panel
    from editcheck.results.offtarget import write_panel_outputs

    designs = simulate.random_pool(3, seed=41, near_identical_pairs=0)
    rows = ["site_id\tamplicon\tprotospacer\ton_target"]
    rows += [f"site{i}\t{d.amplicon}\t{d.guide}\tno" for i, d in enumerate(designs)]
    (tmp_path / "sites.tsv").write_text("\n".join(rows) + "\n")
    samples = ["sample\tcondition\treplicate\tr1"]
    for index, design in enumerate(designs):
        for condition, seed in (("treated", 1), ("control", 2)):
            rate = 0.03 if (index == 0 and condition == "treated") else 0.0
            mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
            name = f"{condition[0].upper()}{index}"
            simulate.simulate(design, 1500, tmp_path / f"{name}.fastq.gz", mix=mix, seed=10 * index + seed)
            samples.append(f"{name}\t{condition}\t{index + 1}\t{name}.fastq.gz")
    (tmp_path / "samples.tsv").write_text("\n".join(samples) + "\n")
    result = run_panel(read_site_sheet(tmp_path / "sites.tsv"), read_sample_sheet(tmp_path / "samples.tsv"))
    write_panel_outputs(result, tmp_path / "out")
    with open(tmp_path / "out" / "offtarget_calls.tsv", newline="") as handle:
        table = {row["site_id"]: row for row in csv.DictReader(handle, delimiter="\t")}
    assert [(table[s]["replicates_treated"], table[s]["replicates_control"]) for s in sorted(table)] == [("1", "1")] * 3
    assert table["site0"]["call"] == EDITED
    for site in ("site1", "site2"):
        assert table[site]["call"] == NOT_DETECTED
        assert 0 < float(table[site]["excess_upper95_percent"]) < 1.0
        assert float(table[site]["lod_percent"]) > float(table[site]["excess_upper95_percent"]) > 0

"""Off-target statistics: calibration on simulated counts, and a simulated site panel end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from editcheck.offtarget.significance import EDITED, INCONCLUSIVE, NOT_DETECTED, CallSettings, Replicate, call_sites
from editcheck.statistics.tests import benjamini_hochberg, detection_limit, stratified_exact_test


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
    # The excess interval reported with each call (Newcombe's hybrid score interval).
    from editcheck.statistics.tests import newcombe_interval

    rng = np.random.default_rng(3)
    covered = 0
    for _, _, (treated,), (control,) in simulated_sites(rng, 1000, 0.005):
        low, high = newcombe_interval(treated.edited, treated.reads, control.edited, control.reads)
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
    assert detection_limit(100_000, 100_000, 0.001) < detection_limit(10_000, 10_000, 0.001)
    assert detection_limit(10_000, 10_000, 0.005) > detection_limit(10_000, 10_000, 0.001)


def test_benjamini_hochberg_known_values():
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_panel_end_to_end(tmp_path):
    from editcheck import simulate
    from editcheck.offtarget.panel import read_sample_sheet, read_site_sheet, run_panel, write_panel_outputs

    designs = simulate.random_pool(5, seed=31, near_identical_pairs=0)
    # site0: on-target 40% indels; site1: off-target 2% indels; the rest: clean.
    editing = {0: 0.40, 1: 0.02}
    rows = ["site_id\tamplicon\tprotospacer\ton_target"]
    rows += [f"site{i}\t{d.amplicon}\t{d.guide}\t{'yes' if i == 0 else 'no'}" for i, d in enumerate(designs)]
    (tmp_path / "sites.tsv").write_text("\n".join(rows) + "\n")
    samples = ["sample\tcondition\treplicate\tr1"]
    for name, condition, replicate, seed in (("T1", "treated", 1, 1), ("T2", "treated", 2, 2), ("C1", "control", 1, 3), ("C2", "control", 2, 4)):
        parts = []
        for index, design in enumerate(designs):
            rate = editing.get(index, 0.0) if condition == "treated" else 0.0
            mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate * 0.7, insertion=rate * 0.3, substitution=0.0, hdr=0.0)
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

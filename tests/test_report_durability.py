"""The durability figure (issue #12 item 4): a true time axis, CI bars, the fitted trend, one panel per series,
byte-identical output."""

from __future__ import annotations

import pytest

from editcheck.errors import ParameterError
from editcheck.evidence.records import PanelSummary
from editcheck.evidence.series import durability_series
from editcheck.report.durability import durability_figure, durability_plot, write_durability_plot
from editcheck.statistics.durability import DAYS_PER_MONTH
from test_evidence import sample, series_samples


@pytest.fixture()
def series():
    samples = series_samples()
    # A second subject with two time points: its own panel, a change but no trend.
    samples += [sample("P3_d7", subject="P3", edited=2500, days=7.0, label="7 d"),
                sample("P3_d60", subject="P3", edited=2600, days=60.0, label="60 d")]  # fmt: skip
    panels = [PanelSummary("A", "P1", 12 * DAYS_PER_MONTH, "12 mo", ("s1",), 1, 0, 0, None, ("s1",))]
    return durability_series(samples, panels)


def test_time_axis_is_numeric_with_ci_bars_and_the_fitted_trend(series):
    figure = durability_figure(series)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "time (months)" and axes.get_ylabel() == "target engagement (%), 95% CI"
    lines = axes.get_lines()
    markers = [line for line in lines if line.get_marker() == "o" and len(line.get_xdata())]  # not the legend's
    assert [round(float(line.get_xdata()[0]), 3) for line in markers] == [1.0, 3.0, 6.0, 12.0]
    assert [line.get_markerfacecolor() for line in markers].count("white") == 2  # the single-replicate points
    bars = [line for line in lines if line.get_marker() in ("None", "") and len(line.get_xdata()) == 2]
    point = series[0].result.points[-1]
    assert [float(v) for v in bars[-1].get_ydata()] == pytest.approx([point.low, point.high])
    trend = next(line for line in lines if line.get_label() == "trend (log-odds)")
    x, y = trend.get_xdata(), trend.get_ydata()
    assert (x[0], x[-1]) == pytest.approx((1.0, 12.0))
    assert y[-1] == pytest.approx(series[0].result.trend.fitted_percent(12 * DAYS_PER_MONTH))
    texts = [text.get_text() for text in axes.texts]
    assert any(text.startswith("decline detected") for text in texts)
    assert any("off-target EDITED: s1 (12 mo)" in text for text in texts)
    assert axes.get_title() == "A - P1 (clinical biopsy, liver)"
    second = figure.axes[1]
    assert second.get_title() == "A - P3 (clinical biopsy, liver)"
    assert [round(float(line.get_xdata()[0]), 3) for line in second.get_lines() if line.get_marker() == "o"] == [
        0.23,
        1.971,
    ]
    assert any(text.endswith("too few time points for a trend)") for text in (t.get_text() for t in second.texts))


def test_svg_and_png_are_byte_identical_on_rerun(series, tmp_path):
    assert durability_plot(series) == durability_plot(series)
    assert "decline detected" in durability_plot(series) and "<svg" in durability_plot(series)
    for suffix in ("svg", "png"):
        write_durability_plot(tmp_path / f"a.{suffix}", series)
        write_durability_plot(tmp_path / f"b.{suffix}", series)
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


def test_no_series_or_unknown_format_is_one_clear_error(series, tmp_path):
    with pytest.raises(ParameterError, match="no durability series to plot"):
        durability_plot([])
    with pytest.raises(ParameterError, match=r"written as \.svg or \.png, not '\.pdf'"):
        write_durability_plot(tmp_path / "plot.pdf", series)
    assert not (tmp_path / "plot.pdf").exists()

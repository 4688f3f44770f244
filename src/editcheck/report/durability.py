"""Durability figure: one panel per subject and design (and model/tissue), time on a true numeric axis.

Each panel shows the level at every time point with its 95% CI (a hollow marker where one replicate holds
the estimate: its interval borrows the series' between-replicate variance when other time points have
replicates, else read sampling only), the fitted log-odds trend drawn as a curve over the observed time span,
and the verdict line. Output is byte-stable: SVG through :func:`editcheck.report.plots._svg` (fixed hash
salt, no date), PNG without the software/date metadata.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from editcheck.errors import ParameterError
from editcheck.evidence.series import DurabilitySeries
from editcheck.outputs import atomic_output
from editcheck.report.plots import _svg
from editcheck.statistics.durability import DAYS_PER_MONTH

MONTHS_FROM_DAYS = 90.0
"""Series spanning at least this many days are drawn in months, shorter ones in days."""
FIT_POINTS = 60


def _scale(series: Sequence[DurabilitySeries]) -> tuple[float, str]:
    span = max((point.days for entry in series for point in entry.result.points), default=0.0)
    return (DAYS_PER_MONTH, "months") if span >= MONTHS_FROM_DAYS else (1.0, "days")


def durability_figure(series: Sequence[DurabilitySeries], columns: int = 2) -> Figure:
    """The figure behind :func:`durability_plot` (one panel per series, ``columns`` per row)."""
    if not series:
        raise ParameterError("no durability series to plot (a series needs two or more time points)")
    columns = max(1, min(columns, len(series)))
    rows = math.ceil(len(series) / columns)
    divisor, unit = _scale(series)
    figure, panels = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.4 * rows), squeeze=False)
    for index, axes in enumerate(panels.flat):
        if index >= len(series):
            axes.set_visible(False)
            continue
        entry = series[index]
        points = [point for point in entry.result.points if point.has_data]
        for point in points:
            x = point.days / divisor
            axes.plot([x, x], [point.low, point.high], color="#333333", linewidth=1.2)
            axes.plot([x], [point.percent], "o", color="#d95f02", markersize=5,
                      markerfacecolor="white" if point.single_replicate else "#d95f02")  # fmt: skip
        trend = entry.result.trend
        if trend is not None and points:
            first, last = points[0].days, points[-1].days
            days = [first + (last - first) * step / (FIT_POINTS - 1) for step in range(FIT_POINTS)]
            axes.plot([day / divisor for day in days], [trend.fitted_percent(day) for day in days],
                      color="#1b9e77", linewidth=1.2, label="trend (log-odds)")  # fmt: skip
        if points:
            axes.set_xlim(left=min(0.0, points[0].days / divisor) - 0.02 * (points[-1].days / divisor or 1.0))
        if index == 0:
            axes.plot([], [], "o", color="#d95f02", markersize=5, label="replicates pooled")
            axes.plot([], [], "o", color="#d95f02", markersize=5, markerfacecolor="white",
                      label="one replicate")  # fmt: skip
            axes.legend(fontsize=7, frameon=False, loc="upper right")
        top = max((point.high for point in points), default=100.0)
        axes.set_ylim(0, min(100.0, top * 1.15 + 1.0))
        axes.set_xlabel(f"time ({unit})")
        axes.set_ylabel(f"{entry.measure} (%), 95% CI")
        axes.set_title("\n".join(textwrap.wrap(entry.title, 48)), fontsize=9)
        verdict = "\n".join(textwrap.wrap(entry.result.verdict, 56))
        axes.text(0.02, 0.02, verdict, transform=axes.transAxes, fontsize=7, va="bottom", ha="left", color="#333333")
        if entry.offtarget_edited:
            sites = ", ".join(f"{site} ({label})" for site, label in entry.offtarget_edited)
            axes.text(0.02, 0.98, "\n".join(textwrap.wrap(f"off-target EDITED: {sites}", 56)), transform=axes.transAxes,
                      fontsize=7, va="top", ha="left", color="#d7301f")  # fmt: skip
    figure.tight_layout()
    return figure


def durability_plot(series: Sequence[DurabilitySeries], columns: int = 2) -> str:
    """The durability figure as inline SVG text (byte-identical for the same series)."""
    return _svg(durability_figure(series, columns))


def write_durability_plot(path: str | Path, series: Sequence[DurabilitySeries], columns: int = 2) -> None:
    """Write the figure to ``path`` (``.svg`` or ``.png``, chosen by the suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        with atomic_output(path) as handle:
            handle.write(durability_plot(series, columns) + "\n")
    elif suffix == ".png":
        figure = durability_figure(series, columns)
        try:
            with atomic_output(path, "wb") as handle:
                figure.savefig(handle, format="png", dpi=150, metadata={"Software": None}, bbox_inches="tight")
        finally:
            plt.close(figure)
    else:
        raise ParameterError(f"{path}: the durability plot is written as .svg or .png, not {suffix or 'no suffix'!r}")

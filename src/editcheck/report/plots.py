"""Figures for the evidence appendix, rendered to inline SVG text (self-contained and byte-stable).

Every function takes plain numbers and returns an SVG string; matplotlib runs headless (Agg) with
a fixed hash salt and no date metadata, so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from html import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

matplotlib.rcParams.update(
    {
        "svg.hashsalt": "editcheck",
        "svg.fonttype": "none",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "text.parse_math": False,  # sample names and titles are user text: '$' is a dollar sign, not TeX
    }
)

OUTCOME_COLOURS = {
    "unmodified": "#bdbdbd", "modified": "#d95f02", "large_deletion": "#7570b3", "hdr": "#1b9e77",
    "imperfect_hdr": "#66a61e", "prime_edit": "#1b9e77", "prime_edit_with_changes": "#66a61e",
    "scaffold_insertion": "#e7298a", "ambiguous": "#a6761d", "window_not_covered": "#e6ab02",
    "primer_dimer": "#666666", "not_aligned": "#000000", "too_long": "#7a0177",
}  # fmt: skip


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inlined in HTML
    # Inline SVG in HTML needs neither the RDF metadata block nor namespace declarations; dropping
    # them leaves the page without a single URL.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)


def read_qc(samples: Sequence[str], fates: Mapping[str, Sequence[int]]) -> str:
    """Stacked bars: what happened to every read of every sample."""
    figure, axes = plt.subplots(figsize=(7, 0.45 * len(samples) + 1.2))
    left = [0] * len(samples)
    for fate, counts in fates.items():
        axes.barh(samples, counts, left=left, label=fate.replace("_", " "), color=OUTCOME_COLOURS.get(fate, "#cccccc"))
        left = [a + b for a, b in zip(left, counts)]
    axes.set_xlabel("reads")
    axes.invert_yaxis()
    axes.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    return _svg(figure)


def editing_by_sample(samples: Sequence[str], values: Sequence[tuple[float, float, float]], label: str) -> str:
    """Point estimate with 95% CI per sample (percent)."""
    figure, axes = plt.subplots(figsize=(7, 0.4 * len(samples) + 1.0))
    for row, (value, low, high) in enumerate(values):
        axes.plot([low, high], [row, row], color="#333333", linewidth=1.5)
        axes.plot([value], [row], "o", color="#d95f02")
    axes.set_yticks(range(len(samples)), labels=list(samples))
    axes.invert_yaxis()
    axes.set_xlabel(f"{label} (%), 95% CI")
    axes.set_xlim(left=0)
    return _svg(figure)


def forest_plot(
    sites: Sequence[str],
    excess: Sequence[tuple[float, float, float]],
    calls: Sequence[str],
    lods: Sequence[float],
    on_target: Sequence[bool] | None = None,
) -> str:
    """Off-target excess editing with 95% CI per site, coloured by call, with each site's LOD.

    On-target sites (``on_target``) get a panel of their own below, so that their large excess does not set
    the scale on which the off-target sites are read."""
    return _svg(forest_figure(sites, excess, calls, lods, on_target))


def forest_figure(
    sites: Sequence[str],
    excess: Sequence[tuple[float, float, float]],
    calls: Sequence[str],
    lods: Sequence[float],
    on_target: Sequence[bool] | None = None,
) -> Figure:
    """The figure behind :func:`forest_plot`: one axes for the off-target sites, one for on-target sites."""
    flags = list(on_target) if on_target is not None else [False] * len(sites)
    groups = [[i for i, flag in enumerate(flags) if not flag], [i for i, flag in enumerate(flags) if flag]]
    groups = [group for group in groups if group]
    figure, panels = plt.subplots(
        len(groups), 1, figsize=(7, 0.4 * len(sites) + 1.2 + 0.6 * (len(groups) - 1)), squeeze=False,
        gridspec_kw={"height_ratios": [len(group) + 0.5 for group in groups]},
    )  # fmt: skip
    for axes, group in zip(panels[:, 0], groups):
        _forest_panel(axes, [sites[i] for i in group], [excess[i] for i in group], [calls[i] for i in group],
                      [lods[i] for i in group])  # fmt: skip
        if len(groups) > 1:
            axes.set_title("on-target (own scale)" if flags[group[0]] else "off-target sites", fontsize=8, loc="left")
    panels[-1, 0].set_xlabel("excess editing, treated - control (percentage points, 95% CI; | = LOD)")
    panels[0, 0].legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


_CALL_COLOURS = {"EDITED": "#d7301f", "NOT_DETECTED": "#2b8cbe", "INCONCLUSIVE": "#969696"}


def _forest_panel(axes: Axes, sites: Sequence[str], excess: Sequence[tuple[float, float, float]],
                  calls: Sequence[str], lods: Sequence[float]) -> None:  # fmt: skip
    colours = _CALL_COLOURS
    for row, ((value, low, high), call, lod) in enumerate(zip(excess, calls, lods)):
        axes.plot([low, high], [row, row], color=colours.get(call, "#000000"), linewidth=1.5)
        axes.plot([value], [row], "o", color=colours.get(call, "#000000"))
        axes.plot([lod], [row], "|", color="#555555", markersize=9)
    axes.axvline(0, color="#999999", linewidth=0.8)
    axes.set_yticks(range(len(sites)), labels=list(sites))
    axes.set_ylim(len(sites) - 0.5, -0.5)
    axes.set_xscale("symlog", linthresh=0.1)
    for call, colour in colours.items():
        axes.plot([], [], "o", color=colour, label=call.replace("_", " ").lower())


def conversion_heatmap(samples: Sequence[str], positions: Sequence[int], values: Sequence[Sequence[float]],
                       label: str, marks: Mapping[int, str] | None = None) -> str:  # fmt: skip
    """Percent per amplicon position (columns) x sample (rows) as a heatmap with each cell's value written in
    it; ``marks`` labels columns (e.g. the target base) under the axis."""
    figure, axes = plt.subplots(figsize=(max(4.0, 0.42 * len(positions) + 2.4), 0.32 * len(samples) + 1.4))
    top = max((value for row in values for value in row), default=0.0)
    image = axes.imshow([list(row) for row in values], aspect="auto", cmap="Oranges", vmin=0.0, vmax=max(top, 1.0),
                        interpolation="nearest")  # fmt: skip
    for row, series in enumerate(values):
        for column, value in enumerate(series):
            axes.text(column, row, f"{value:.1f}", ha="center", va="center", fontsize=6,
                      color="white" if value > 0.6 * max(top, 1.0) else "black")  # fmt: skip
    axes.set_yticks(range(len(samples)), labels=list(samples), fontsize=7)
    ticks = [f"{position}\n{(marks or {}).get(position, '')}".rstrip() for position in positions]
    axes.set_xticks(range(len(positions)), labels=ticks, fontsize=7)
    axes.set_xlabel("amplicon position (1-based)")
    figure.colorbar(image, ax=axes, label=label, fraction=0.04, pad=0.02)
    return _svg(figure)


def indel_histogram(
    sample: str, deletions: Mapping[int, int], insertions: Mapping[int, int], total: int, extent: int, top: float
) -> str:
    """One sample's indel sizes as a small SVG bar chart written directly (no matplotlib: hundreds of samples
    stay fast): deletions left of 0, insertions right, as % of classified reads on a y axis up to ``top`` %,
    sizes from -``extent`` to +``extent`` so that every sample of a design shares the scale."""
    width, height, left, bottom, top_margin = 260, 112, 34, 24, 18
    plot_w, plot_h = width - left - 8, height - bottom - top_margin
    step = plot_w / (2 * extent + 1)
    scale = plot_h / top if top > 0 else 0.0

    def x(size: int) -> float:
        return left + (size + extent) * step

    parts = [f'<svg class="indels" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
             f"<title>{escape(sample)}: indel sizes</title>",
             f'<text x="{left}" y="12" font-size="10">{escape(sample)} ({total:,} reads)</text>',
             f'<line x1="{left}" y1="{top_margin + plot_h}" x2="{left + plot_w}" y2="{top_margin + plot_h}" stroke="#999"/>',
             f'<line x1="{x(0) + step / 2:.2f}" y1="{top_margin}" x2="{x(0) + step / 2:.2f}" y2="{top_margin + plot_h}" stroke="#ccc"/>']  # fmt: skip
    for sizes, sign, colour in ((deletions, -1, "#d95f02"), (insertions, 1, "#7570b3")):
        for size, reads in sorted(sizes.items()):
            percent = 100.0 * reads / total if total else 0.0
            bar = percent * scale
            parts.append(f'<rect x="{x(sign * size) + 0.1 * step:.2f}" y="{top_margin + plot_h - bar:.2f}" '
                         f'width="{0.8 * step:.2f}" height="{bar:.2f}" fill="{colour}"><title>{"deletion" if sign < 0 else "insertion"} '
                         f'{size} bp: {reads:,} reads, {percent:.2f}%</title></rect>')  # fmt: skip
    for size in (-extent, 0, extent):
        parts.append(
            f'<text x="{x(size) + step / 2:.2f}" y="{height - 10}" font-size="9" text-anchor="middle">{size}</text>'
        )
    parts.append(f'<text x="{left - 3}" y="{top_margin + 4}" font-size="9" text-anchor="end">{top:.1f}%</text>')
    parts.append(f'<text x="{left - 3}" y="{top_margin + plot_h}" font-size="9" text-anchor="end">0</text>')
    parts.append("</svg>")
    return "".join(parts)

"""Distinct line styles for many trackers, and the legend labels the official toolkits print.

Other toolkits run out of styles past about 10 trackers (pysot's `COLOR`/`LINE_STYLE` tuples index out of range);
here colours cycle through 20 well-separated hues and the line style changes each time the colours wrap, so 80
trackers still get distinct (colour, dash) pairs.
"""
from __future__ import annotations

from dataclasses import dataclass

# tab10 followed by ten further hues chosen to stay distinguishable from it (Dark2/Set1-like, darker for contrast).
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
    "#000080", "#a6761d", "#006d2c", "#e7298a", "#66a61e", "#e6ab02", "#800000", "#1b9e77", "#7570b3", "#000000",
)
LINE_STYLES = ("-", "--", "-.", ":")
DIAGNOSTIC_COLOR = "#9e9e9e"


@dataclass(frozen=True)
class TrackerStyle:
    color: str
    linestyle: str
    linewidth: float


def tracker_styles(names: list[str], diagnostic: set[str] | frozenset[str] = frozenset()) -> dict[str, TrackerStyle]:
    """Styles for ``names`` in the given (ranked) order: the best-ranked trackers get solid lines.

    Diagnostic trackers (static, oracle) are drawn grey and dotted so they never look like a competitor.
    """
    styles: dict[str, TrackerStyle] = {}
    i = 0
    for name in names:
        if name in diagnostic:
            styles[name] = TrackerStyle(DIAGNOSTIC_COLOR, ":", 1.2)
            continue
        color = PALETTE[i % len(PALETTE)]
        dash = LINE_STYLES[(i // len(PALETTE)) % len(LINE_STYLES)]
        styles[name] = TrackerStyle(color, dash, 2.0 if i < 3 else 1.4)
        i += 1
    return styles


def legend_label(name: str, score: float | None, *, imported: bool = False, diagnostic: bool = False,
                 digits: int = 3) -> str:
    """``NAME [0.653]`` as pysot-toolkit and the OTB/LaSOT MATLAB toolkits print it; flags imported/diagnostic."""
    label = name
    if imported:
        label += "*"
    if diagnostic:
        label += " (diag.)"
    if score is not None and score == score:
        label += f" [{score:.{digits}f}]"
    return label

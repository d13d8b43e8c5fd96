"""Matplotlib plots of an `Evaluation`, drawn as the official toolkits draw them.

Figures are built with `matplotlib.figure.Figure` and the Agg canvas directly (no pyplot, no global state), so they
are safe in worker processes and headless machines. Every function returns a `Figure`; `save_figure` writes SVG and
PNG, `figure_svg` / `figure_png_base64` give the HTML report's inline forms.

Conventions followed:
- success / precision / normalised-precision plots: one curve per tracker, legend ``NAME [score]`` ranked by the
  score (pysot-toolkit ``draw_success_precision``; OTB/LaSOT MATLAB ``plot_draw_save.m``), axes 0-1 / 0-50 px /
  0-0.5;
- OxUvA: TPR (y) against TNR (x) with iso-curves of MaxGM (oxuva ``tools/analyze.py`` ``_plot_level_sets``), drawn
  only for trackers whose TPR and TNR are defined (presence labels known);
- VOT long-term: tracking precision against recall, and F against the confidence threshold (VOT toolkit);
- AR@k: recall of the top-k proposals against k, log-scaled x (GlobalTrack paper, Figures 4-5).
"""
from __future__ import annotations

import base64
import io
import itertools
import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from globaltrack._io import atomic_write_bytes
from globaltrack.scoring.evaluation import Evaluation
from globaltrack.reports.style import LINE_STYLES, PALETTE, legend_label, tracker_styles
from globaltrack.scoring import measures
from globaltrack.scoring.leaderboard import primary_metric, ranked_trackers

# What each plot shows; the measures its legend prints (and ranks by, in their direction, through `measures.rank`)
# are named here and nowhere else in this module.
# curve key -> (score keys tried in order, x label, y label, title, x limits)
CURVES = {
    "success": (("auc", "ao"), "Overlap threshold", "Success rate", "Success plot", (0.0, 1.0)),
    "precision": (("precision",), "Location error threshold (pixels)", "Precision", "Precision plot", (0.0, 50.0)),
    "norm_precision": (("norm_precision",), "Normalized location error threshold", "Normalized precision",
                       "Normalized precision plot", (0.0, 0.5)),
}
LONG_TERM_CURVES = {   # VOT long-term, same layout (the title is the caller's)
    "pr": (("f_score",), "Tracking recall", "Tracking precision", "Tracking precision/recall", (0.0, 1.0)),
    "f_score": (("f_score",), "Confidence threshold", "F-measure", "F-measure over confidence thresholds", None),
}
PLANE_AXES = ("tpr", "tnr")     # OxUvA's TPR/TNR plane: its two axes ...
PLANE_MEASURE = "max_gm"        # ... and the measure its iso-curves draw and its trackers are ranked by
_salt = itertools.count()


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _legend(ax, n: int, **kw) -> None:
    """Outside the axes on the right; two columns past 18 entries so 35+ trackers stay readable."""
    if n == 0:
        return
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7 if n > 12 else 8,
              ncol=1 if n <= 18 else 2, frameon=False, borderaxespad=0.0, **kw)


def _legend_width(n: int) -> float:
    return 0.0 if n == 0 else (2.4 if n <= 18 else 4.6)


def _flags(evaluation: Evaluation) -> set[str]:
    return {n for n, t in evaluation.trackers.items() if t.diagnostic}


def curve_score(evaluation: Evaluation, tracker: str, curve: str) -> float | None:
    """The score a curve's legend prints: the benchmark's primary measure when it belongs to this curve (GOT-10k's
    success plot shows AO), else the first of the curve's keys the tracker has."""
    scores = evaluation.trackers[tracker].scores
    for k in _legend_keys(evaluation, curve):
        if k in scores:
            return float(scores[k])
    return None


def _legend_keys(evaluation: Evaluation, curve: str) -> tuple[str, ...]:
    keys = {**CURVES, **LONG_TERM_CURVES}[curve][0]
    primary = primary_metric(evaluation)
    if primary in keys:
        keys = (primary,) + tuple(k for k in keys if k != primary)
    return keys


def _ranked_by_legend(evaluation: Evaluation, names: list[str], curve: str) -> list[str]:
    """``names`` best first by the score their legend entry prints (`curve_score`), ranked by `measures.rank` under
    that measure's direction; a tracker without one goes last, ties in name order."""
    key = _legend_keys(evaluation, curve)[0]
    return measures.rank({n: {key: curve_score(evaluation, n, curve)} for n in names}, key)


def plot_curves(evaluation: Evaluation, curve: str = "success", *, title: str | None = None) -> Figure:
    """Success, precision or normalised-precision plot of every tracker that has the curve."""
    if curve not in CURVES:
        raise ValueError(f"unknown curve '{curve}' (known: {', '.join(CURVES)})")
    _, xlabel, ylabel, default_title, xlim = CURVES[curve]
    names = _ranked_by_legend(evaluation, [n for n in evaluation.trackers if curve in evaluation.trackers[n].curves],
                              curve)
    styles = tracker_styles(names, _flags(evaluation))
    fig = _new_figure(5.5 + _legend_width(len(names)), 4.5)
    ax = fig.add_subplot(1, 1, 1)
    for n in names:
        t = evaluation.trackers[n]
        x, y = (np.asarray(a, dtype=float) for a in t.curves[curve])
        st = styles[n]
        ax.plot(x, y, color=st.color, linestyle=st.linestyle, linewidth=st.linewidth,
                label=legend_label(n, curve_score(evaluation, n, curve), imported=t.imported,
                                   diagnostic=t.diagnostic))
    ax.set_xlim(*xlim)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, linestyle=":", linewidth=0.5)
    ax.set_title(title or f"{default_title} of OPE on {evaluation.benchmark}")
    _legend(ax, len(names))
    fig.tight_layout()
    return fig


def plot_pr(evaluation: Evaluation, *, title: str | None = None) -> Figure:
    """VOT long-term tracking precision against tracking recall, one curve per tracker over the confidence
    thresholds, the F-maximising point marked (the VOT toolkit's precision/recall plot)."""
    return _long_term_plot(evaluation, "pr", title)


def plot_f_threshold(evaluation: Evaluation, *, title: str | None = None) -> Figure:
    """VOT long-term F-measure against the confidence threshold (finite thresholds; the F maximum marked)."""
    return _long_term_plot(evaluation, "f_score", title)


def _long_term_plot(evaluation: Evaluation, curve: str, title: str | None) -> Figure:
    _, xlabel, ylabel, default_title, xlim = LONG_TERM_CURVES[curve]
    names = _ranked_by_legend(evaluation, [n for n in evaluation.trackers if curve in evaluation.trackers[n].curves],
                              curve)
    styles = tracker_styles(names, _flags(evaluation))
    fig = _new_figure(5.5 + _legend_width(len(names)), 4.5)
    ax = fig.add_subplot(1, 1, 1)
    for n in names:
        t = evaluation.trackers[n]
        x, y = (np.asarray(a, dtype=float) for a in t.curves[curve])
        keep = np.isfinite(x) & np.isfinite(y)
        st = styles[n]
        ax.plot(x[keep], y[keep], color=st.color, linestyle=st.linestyle, linewidth=st.linewidth,
                label=legend_label(n, curve_score(evaluation, n, curve), imported=t.imported,
                                   diagnostic=t.diagnostic))
        if curve == "pr" and "lt_recall" in t.scores:          # the operating point F is reported at
            ax.plot([t.scores["lt_recall"]], [t.scores["lt_precision"]], marker="o", color=st.color)
        elif curve == "f_score" and keep.any():
            i = int(np.nanargmax(np.where(keep, y, -np.inf)))
            ax.plot([x[i]], [y[i]], marker="o", color=st.color)
    if xlim:
        ax.set_xlim(*xlim)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, linestyle=":", linewidth=0.5)
    ax.set_title(title or f"{default_title} on {evaluation.benchmark}")
    _legend(ax, len(names))
    fig.tight_layout()
    return fig


def tpr_tnr_points(evaluation: Evaluation) -> tuple[list[str], list[str]]:
    """Trackers with a point in the TPR/TNR plane, and those scored on it without one (no presence labels: TPR/TNR
    undefined, e.g. the OxUvA test split). Trackers whose protocol scores no TPR/TNR at all are in neither list."""
    have, lack = [], []
    for n in ranked_trackers(evaluation, PLANE_MEASURE):
        s = evaluation.trackers[n].scores
        if not any(k in s for k in PLANE_AXES):
            continue
        ok = all(k in s and s[k] is not None and math.isfinite(float(s[k])) for k in PLANE_AXES)
        (have if ok else lack).append(n)
    return have, lack


def plot_success(evaluation: Evaluation, **kw) -> Figure:
    return plot_curves(evaluation, "success", **kw)


def plot_precision(evaluation: Evaluation, **kw) -> Figure:
    return plot_curves(evaluation, "precision", **kw)


def plot_norm_precision(evaluation: Evaluation, **kw) -> Figure:
    return plot_curves(evaluation, "norm_precision", **kw)


def plot_ar_at_k(results: dict[str, dict[int, float]], *, title: str = "Average recall of the top-k proposals"
                 ) -> Figure:
    """AR@k curves, e.g. ``{"RPN": {1: .3, 10: .5, 100: .7}, "QG-RPN": {...}, "QG-RCNN": {...}}``."""
    fig = _new_figure(5.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    markers = itertools.cycle("osD^vP*X")
    for i, (method, points) in enumerate(results.items()):
        ks = sorted(points)
        ax.plot(ks, [points[k] for k in ks], marker=next(markers), color=PALETTE[i % len(PALETTE)],
                linestyle=LINE_STYLES[(i // len(PALETTE)) % len(LINE_STYLES)], label=method)
    all_k = sorted({k for p in results.values() for k in p})
    if all_k and all_k[0] > 0:
        ax.set_xscale("log")
        ax.set_xticks(all_k)
        ax.set_xticklabels([str(k) for k in all_k])
    ax.set_xlabel("Number of proposals k")
    ax.set_ylabel("Average recall (IoU 0.5:0.95)")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, linestyle=":", linewidth=0.5)
    ax.set_title(title)
    if results:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def max_geometric_mean(tpr, tnr):
    """MaxGM = max over p in [0, 1] of sqrt(((1-p) TNR + p) ((1-p) TPR)) (oxuva ``max_geometric_mean_line``).

    f(p) = TPR (1-p) (TNR + p (1-TNR)) is concave; its stationary point is p* = (1 - 2 TNR) / (2 (1 - TNR)), inside
    [0, 1] only when TNR < 0.5; otherwise the maximum is at p = 0 (f(1) = 0).
    """
    tpr = np.asarray(tpr, dtype=float)
    tnr = np.asarray(tnr, dtype=float)
    at0 = tpr * tnr
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip((1.0 - 2.0 * tnr) / (2.0 * (1.0 - tnr)), 0.0, 1.0)
        inner = tpr * (1.0 - p) * (tnr + p * (1.0 - tnr))
    best = np.where(np.isfinite(inner), np.maximum(at0, inner), at0)
    return np.sqrt(np.maximum(best, 0.0))


def plot_tpr_tnr(evaluation: Evaluation | None = None, *, extra_points: dict[str, tuple[float, float]] | None = None,
                 title: str | None = None, levels=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> Figure:
    """OxUvA's TPR-TNR plane: each tracker a point (TNR, TPR), with dashed MaxGM iso-curves.

    ``extra_points`` places further trackers, e.g. the published ones of the GlobalTrack paper's Table 6, as
    ``{name: (tpr, tnr)}``; they are drawn hollow.
    """
    points: list[tuple[str, float, float, bool, bool]] = []   # name, tpr, tnr, ours, diagnostic
    if evaluation is not None:
        for n in tpr_tnr_points(evaluation)[0]:
            s = evaluation.trackers[n].scores
            tpr, tnr = (float(s[k]) for k in PLANE_AXES)
            points.append((n, tpr, tnr, not evaluation.trackers[n].imported,
                           evaluation.trackers[n].diagnostic))
    for n, (tpr, tnr) in (extra_points or {}).items():
        points.append((n, float(tpr), float(tnr), False, False))
    fig = _new_figure(5.5 + _legend_width(len(points)), 5.0)
    ax = fig.add_subplot(1, 1, 1)
    grid = np.linspace(0.0, 1.0, 201)
    tnr_g, tpr_g = np.meshgrid(grid, grid)
    cs = ax.contour(tnr_g, tpr_g, max_geometric_mean(tpr_g, tnr_g), levels=list(levels), colors="#b0b0b0",
                    linestyles="--", linewidths=0.8)
    ax.clabel(cs, fmt="%.1f", fontsize=7)
    markers = "osD^vP*Xhp<>"
    for i, (n, tpr, tnr, ours, diag) in enumerate(points):
        color = "#9e9e9e" if diag else PALETTE[i % len(PALETTE)]
        marker = markers[(i // len(PALETTE)) % len(markers)] if not diag else "x"
        label = f"{n} [{float(max_geometric_mean(tpr, tnr)):.3f}]"
        ax.plot([tnr], [tpr], linestyle="none", marker=marker, markersize=7, color=color,
                markerfacecolor=color if ours else "none", label=label)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("True negative rate (TNR)")
    ax.set_ylabel("True positive rate (TPR)")
    ax.set_aspect("equal")
    ax.set_title(title or "TPR vs TNR (IoU 0.5) with MaxGM level sets")
    _legend(ax, len(points))
    fig.tight_layout()
    return fig


def plot_attributes(evaluation: Evaluation, metric: str | None = None, *, max_trackers: int = 12,
                    title: str | None = None) -> Figure:
    """Grouped bars: one group per attribute (LaSOT's 14, OTB's 11), one bar per tracker.

    Only the ``max_trackers`` best-ranked trackers are drawn (bars of 35 trackers x 14 attributes are unreadable);
    the report's per-attribute table lists all of them.
    """
    metric = metric or primary_metric(evaluation) or "auc"
    names = [n for n in ranked_trackers(evaluation, metric) if evaluation.trackers[n].per_attribute]
    shown = names[:max_trackers]
    attrs: list[str] = []
    for n in shown:
        for a in evaluation.trackers[n].per_attribute:
            if a not in attrs:
                attrs.append(a)
    styles = tracker_styles(shown, _flags(evaluation))
    fig = _new_figure(max(6.0, 0.75 * len(attrs) + 2.0) + _legend_width(len(shown)), 4.5)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / max(1, len(shown))
    x = np.arange(len(attrs))
    for i, n in enumerate(shown):
        t = evaluation.trackers[n]
        vals = [t.per_attribute.get(a, {}).get(metric, np.nan) for a in attrs]
        ax.bar(x - 0.4 + width * (i + 0.5), vals, width=width, color=styles[n].color,
               hatch="//" if styles[n].linestyle != "-" else None, edgecolor="white", linewidth=0.3,
               label=legend_label(n, t.scores.get(metric), imported=t.imported, diagnostic=t.diagnostic))
    ax.set_xticks(x)
    ax.set_xticklabels(attrs, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel(measures.label(metric))
    ax.grid(True, axis="y", linestyle=":", linewidth=0.5)
    more = f" (best {len(shown)} of {len(names)})" if len(names) > len(shown) else ""
    ax.set_title(title or f"{measures.label(metric)} per attribute on {evaluation.benchmark}{more}")
    _legend(ax, len(shown))
    fig.tight_layout()
    return fig


def sequence_metric(evaluation: Evaluation) -> str:
    """The per-sequence measure tables and heat maps show: the primary measure when sequences have it (VOT-LT F,
    OxUvA MaxGM), else AUC."""
    primary = primary_metric(evaluation) or "auc"
    per_seq = [s for t in evaluation.trackers.values() for s in t.per_sequence.values()]
    for key in (primary, "auc"):
        if any(key in s for s in per_seq):
            return key
    return primary


def plot_heatmap(evaluation: Evaluation, metric: str | None = None, *, title: str | None = None) -> Figure:
    """Per-sequence score heat map: trackers (ranked) x sequences; blank cells are missing results."""
    metric = metric or sequence_metric(evaluation)
    names = [n for n in ranked_trackers(evaluation) if evaluation.trackers[n].per_sequence]
    seqs = list(evaluation.sequences) or sorted({s for n in names for s in evaluation.trackers[n].per_sequence})
    data = np.full((len(names), len(seqs)), np.nan)
    for i, n in enumerate(names):
        ps = evaluation.trackers[n].per_sequence
        for j, s in enumerate(seqs):
            v = ps.get(s, {}).get(metric)
            if v is not None:
                data[i, j] = float(v)
    width = min(16.0, max(6.0, 0.18 * len(seqs) + 3.0))
    height = min(14.0, max(3.0, 0.22 * len(names) + 1.8))
    fig = _new_figure(width, height)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", vmin=0.0, vmax=1.0, cmap="viridis",
                   interpolation="nearest")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7 if len(names) > 15 else 8)
    if len(seqs) <= 80:
        ax.set_xticks(range(len(seqs)))
        ax.set_xticklabels(seqs, rotation=90, fontsize=6)
    else:
        ax.set_xlabel(f"{len(seqs)} sequences (in benchmark order)")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01).set_label(measures.label(metric))
    ax.set_title(title or f"Per-sequence {measures.label(metric)} on {evaluation.benchmark}")
    fig.tight_layout()
    return fig


def plot_trace(ious: dict[str, np.ndarray], scores: dict[str, np.ndarray] | None = None, *,
               absent: np.ndarray | None = None, title: str = "Per-frame IoU") -> Figure:
    """Per-frame IoU (top) and confidence score (bottom) of one sequence; absent frames shaded."""
    scores = {k: v for k, v in (scores or {}).items() if v is not None and np.isfinite(v).any()}
    rows = 2 if scores else 1
    names = list(ious)
    styles = tracker_styles(names)
    fig = _new_figure(9.0 + _legend_width(len(names)), 2.6 * rows + 0.6)
    axes = [fig.add_subplot(rows, 1, r + 1) for r in range(rows)]
    spans = []
    if absent is not None and np.any(absent):
        a = np.asarray(absent, bool)
        edges = np.flatnonzero(np.diff(np.r_[0, a.astype(int), 0]))
        spans = list(zip(edges[::2], edges[1::2]))
    for ax in axes:
        for s, e in spans:
            ax.axvspan(s - 0.5, e - 0.5, color="#f4cccc", linewidth=0)
    for n in names:
        st = styles[n]
        axes[0].plot(np.arange(len(ious[n])), ious[n], color=st.color, linestyle=st.linestyle, linewidth=1.0,
                     label=n)
        if n in scores:
            axes[1].plot(np.arange(len(scores[n])), scores[n], color=st.color, linestyle=st.linestyle,
                         linewidth=1.0, label=n)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("IoU")
    axes[0].set_title(title + (" (shaded: target absent)" if spans else ""))
    if rows == 2:
        axes[1].set_ylabel("score")
    axes[-1].set_xlabel("frame")
    for ax in axes:
        ax.grid(True, linestyle=":", linewidth=0.5)
    _legend(axes[0], len(names))
    fig.tight_layout()
    return fig


# -- output ------------------------------------------------------------------------------------------------------
def figure_bytes(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "svg":
        # A unique hash salt gives every figure its own element ids, so several SVGs inlined in one HTML page
        # never share (and clash on) clip-path or glyph ids.
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": f"gt{next(_salt)}"}):
            fig.savefig(buf, format="svg", bbox_inches="tight")
    else:
        fig.savefig(buf, format=fmt, dpi=100 if fmt == "png" else None, bbox_inches="tight")
    return buf.getvalue()


def figure_svg(fig: Figure) -> str:
    """The ``<svg>`` element alone (no XML declaration or DOCTYPE), ready to inline in HTML."""
    text = figure_bytes(fig, "svg").decode("utf-8")
    return text[text.index("<svg"):]


def figure_png_base64(fig: Figure) -> str:
    return base64.b64encode(figure_bytes(fig, "png")).decode("ascii")


def save_figure(fig: Figure, stem: str | Path, formats=("svg", "png")) -> list[Path]:
    """Write ``<stem>.svg`` and ``<stem>.png`` (atomically); return the paths."""
    stem = Path(stem)
    if stem.suffix.lower() in (".svg", ".png", ".pdf"):
        stem = stem.with_suffix("")
    out = []
    for fmt in formats:
        p = stem.parent / f"{stem.name}.{fmt}"
        atomic_write_bytes(p, figure_bytes(fig, fmt))
        out.append(p)
    return out

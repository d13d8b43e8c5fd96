"""Leaderboards: one ranked table per benchmark across every tracker evaluated (ours and imported), as CSV,
Markdown and LaTeX. Labels, order, direction, format and the ranking itself come from `globaltrack.scoring.measures`.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from globaltrack._io import atomic_write_text
from globaltrack.scoring import measures
from globaltrack.scoring.evaluation import Evaluation


def metric_keys(evaluation: Evaluation) -> list[str]:
    """All score keys present for any tracker, in display order."""
    return measures.display_order({k for t in evaluation.trackers.values() for k in t.scores})


def protocol_primary(protocol: str | None) -> str | None:
    """The ranking measure a registered protocol names (None for an unknown one)."""
    if not protocol:
        return None
    from globaltrack.errors import UserError
    from globaltrack.metrics.protocols import get_protocol

    try:
        return get_protocol(protocol).primary_metric
    except UserError:
        return None


def primary_metric(evaluation: Evaluation) -> str | None:
    """The measure the evaluation's protocol ranks by: the protocol as used (an overridden ``tlp+iou_threshold=0.6``
    is not a registered name), else the registered protocol of that name."""
    named = (evaluation.protocol_fields or {}).get("primary_metric") or protocol_primary(evaluation.protocol)
    return measures.primary_measure(named, metric_keys(evaluation))


def ranked_trackers(evaluation: Evaluation, key: str | None = None) -> list[str]:
    """Tracker names, best first, by ``key`` (default: the primary measure) and its tie-breakers (`measures.rank`)."""
    return measures.rank({n: t.scores for n, t in evaluation.trackers.items()}, key or primary_metric(evaluation))


def _fmt(metric: str, v) -> str:
    return measures.measure(metric).format(v)


@dataclass
class Leaderboard:
    benchmark: str
    protocol: str
    metrics: list[str]
    rows: list[dict] = field(default_factory=list)   # rank, tracker, <metric>..., imported, diagnostic, ...
    primary: str | None = None

    def best(self, metric: str) -> float | None:
        scores = {i: {metric: r.get(metric)} for i, r in enumerate(self.rows) if not r["diagnostic"]}
        order = [i for i in measures.rank(scores, metric) if _finite(self.rows[i].get(metric))]
        return self.rows[order[0]][metric] if order else None


def build_leaderboard(evaluation: Evaluation, metrics: list[str] | None = None) -> Leaderboard:
    primary = primary_metric(evaluation)
    if metrics is None:   # the ranking measure first, then the display order
        metrics = metric_keys(evaluation)
        metrics = ([primary] if primary in metrics else []) + [m for m in metrics if m != primary]
    rows = []
    rank = 0
    for name in ranked_trackers(evaluation, primary):
        t = evaluation.trackers[name]
        if not t.diagnostic:  # diagnostic trackers (static, oracle) are listed but not ranked
            rank += 1
        row = {"rank": rank if not t.diagnostic else None, "tracker": name}
        for m in metrics:
            row[m] = t.scores.get(m)
        row.update(imported=bool(t.imported), diagnostic=bool(t.diagnostic), missing=len(t.missing),
                   failed=len(t.failed))
        rows.append(row)
    return Leaderboard(evaluation.benchmark, evaluation.protocol, list(metrics), rows, primary)


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def to_csv(board: Leaderboard) -> str:
    """Full-precision values on the 0-1 scale (as `Evaluation` holds them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "tracker"] + board.metrics + ["imported", "diagnostic", "missing", "failed"])
    for r in board.rows:
        w.writerow([r["rank"] if r["rank"] is not None else "", r["tracker"]]
                   + ["" if r[m] is None else repr(float(r[m])) for m in board.metrics]
                   + [int(r["imported"]), int(r["diagnostic"]), r["missing"], r["failed"]])
    return buf.getvalue()


def _flags(r: dict) -> str:
    return ("*" if r["imported"] else "") + (" (diagnostic)" if r["diagnostic"] else "")


def to_markdown(board: Leaderboard) -> str:
    """Scores on the 0-100 scale with one decimal (the papers' convention); best non-diagnostic value in bold."""
    head = ["#", "Tracker"] + [measures.label(m) for m in board.metrics]
    lines = [f"**{board.benchmark}** (protocol `{board.protocol}`, ranked by "
             f"{measures.label(board.primary) if board.primary else '-'})", "",
             "| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * len(board.metrics)) + "|"]
    best = {m: board.best(m) for m in board.metrics}
    for r in board.rows:
        cells = [str(r["rank"] or "-"), r["tracker"].replace("|", "\\|") + _flags(r)]
        for m in board.metrics:
            s = _fmt(m, r[m])
            cells.append(f"**{s}**" if best[m] is not None and r[m] == best[m] and not r["diagnostic"] else s)
        lines.append("| " + " | ".join(cells) + " |")
    if any(r["imported"] for r in board.rows):
        lines += ["", "\\* imported from published results."]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def to_latex(board: Leaderboard) -> str:
    """A booktabs table (``\\usepackage{booktabs}``), 0-100 scale, best value in bold."""
    cols = "rl" + "r" * len(board.metrics)
    best = {m: board.best(m) for m in board.metrics}
    out = [r"\begin{table}[t]", r"\centering",
           rf"\caption{{{latex_escape(board.benchmark)} (protocol {latex_escape(board.protocol)}).}}",
           rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
           " & ".join(["\\#", "Tracker"] + [latex_escape(measures.label(m)) for m in board.metrics]) + r" \\",
           r"\midrule"]
    for r in board.rows:
        cells = [str(r["rank"] or "--"), latex_escape(r["tracker"] + _flags(r))]
        for m in board.metrics:
            s = _fmt(m, r[m])
            cells.append(rf"\textbf{{{s}}}" if best[m] is not None and r[m] == best[m] and not r["diagnostic"]
                         else s)
        out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(out) + "\n"


def to_text(board: Leaderboard) -> str:
    """The console ranking."""
    names = [r["tracker"] + _flags(r) for r in board.rows] or ["-"]
    width = max(len("Tracker"), max(len(n) for n in names))
    head = f"{'#':>3}  {'Tracker':<{width}}  " + "  ".join(f"{measures.label(m):>8}" for m in board.metrics)
    lines = [f"{board.benchmark} (protocol {board.protocol}), ranked by "
             f"{measures.label(board.primary) if board.primary else '-'}", head, "-" * len(head)]
    for r, n in zip(board.rows, names):
        extra = []
        if r["missing"]:
            extra.append(f"{r['missing']} missing")
        if r["failed"]:
            extra.append(f"{r['failed']} failed")
        lines.append(f"{(r['rank'] or '-'):>3}  {n:<{width}}  "
                     + "  ".join(f"{_fmt(m, r[m]):>8}" for m in board.metrics)
                     + (f"  ({', '.join(extra)})" if extra else ""))
    return "\n".join(lines) + "\n"


def write_leaderboard(evaluation: Evaluation, out_dir: str | Path, stem: str | None = None) -> dict[str, Path]:
    """Write ``<stem>.csv``, ``<stem>.md`` and ``<stem>.tex`` (stem defaults to ``<benchmark>_leaderboard``)."""
    board = build_leaderboard(evaluation)
    out_dir = Path(out_dir)
    stem = stem or f"{evaluation.benchmark}_leaderboard"
    paths = {"csv": out_dir / f"{stem}.csv", "md": out_dir / f"{stem}.md", "tex": out_dir / f"{stem}.tex"}
    atomic_write_text(paths["csv"], to_csv(board))
    atomic_write_text(paths["md"], to_markdown(board))
    atomic_write_text(paths["tex"], to_latex(board))
    return paths

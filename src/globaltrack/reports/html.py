"""The self-contained HTML report: one file, inline CSS and JS, plots inlined as SVG (evidence figures as base64 PNG),
viewable offline.

Per benchmark: warnings (missing / failed sequences, protocol notes), a sortable leaderboard, the plots, the
per-attribute and per-sequence tables, speed (tracker fps next to the command's throughput, hardware) and provenance
(versions, tracker options, dates, protocol), read from the typed run manifest (`globaltrack.results.manifest`).
Imported published results sit beside our runs and are marked "imported"; diagnostic trackers (static, oracle) are
marked "diagnostic". A plot or manifest that cannot be produced becomes a visible warning in the page, never an
exception.

The page is a jinja2 template with autoescape (``templates/report.html.j2``); its CSS and JS are the files beside it.
This module only builds the view model: plain dicts of already formatted text.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any, Callable

from globaltrack._io import atomic_write_text
from globaltrack.errors import UserError
from globaltrack.results.manifest import RunManifest, read_run_manifest
from globaltrack.scoring import measures
from globaltrack.scoring.evaluation import Evaluation
from globaltrack.scoring.leaderboard import build_leaderboard, primary_metric, ranked_trackers

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Machine fields worth a reader's attention, in this order (harness/manifest.py ``machine_info``).
_HARDWARE_KEYS = ("gpus", "gpu", "cpu_model", "cpu", "cpu_cores", "cpu_cores_usable", "memory_gb", "hostname")


# -- cells ----------------------------------------------------------------------------------------------------------
def num_cell(v, scale: float = 100.0, digits: int = 1, best: bool = False, title: str = "") -> dict:
    """A number: display text, raw value for sorting (empty: no value, sorts last)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        f = math.nan
    if math.isnan(f):
        return {"text": "-", "v": "", "best": False, "title": title}
    return {"text": f"{f * scale:.{digits}f}", "v": repr(f), "best": best, "title": title}


def measure_cell(key: str, v, best: bool = False) -> dict:
    m = measures.measure(key)
    return num_cell(v, m.scale, m.digits, best)


def text_cell(text: Any, *, small: bool = False, imported: bool = False, diagnostic: bool = False) -> dict:
    return {"text": _obj(text), "v": None, "small": small, "imported": imported, "diagnostic": diagnostic}


def _obj(v: Any) -> str:
    """Manifest values (dicts, lists, scalars) as short readable text."""
    if v is None or v == "" or v == {} or v == []:
        return "-"
    if isinstance(v, dict):
        return "; ".join(f"{k}={_obj(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_obj(x) for x in v)
    return str(v)


def _hardware(machine: dict) -> Any:
    picked = {k: machine[k] for k in _HARDWARE_KEYS if machine.get(k) not in (None, "", [], {})}
    return picked or machine


def _table(cls: str, headers: list[tuple[str, bool]], rows: list[dict]) -> dict:
    return {"cls": cls, "headers": headers, "rows": rows}


# -- one benchmark ---------------------------------------------------------------------------------------------------
class _Benchmark:
    """Everything the report shows about one evaluation, gathered defensively."""

    def __init__(self, ev: Evaluation, results_root: Path):
        self.ev = ev
        self.warnings: list[str] = []
        self.runs: dict[str, RunManifest | None] = {}
        self.imported: dict[str, dict] = {}
        for name in ev.trackers:
            d = results_root / ev.benchmark / name
            try:
                self.runs[name] = read_run_manifest(d)
            except UserError as err:        # "<path>: unreadable run manifest (...)"
                self.warnings.append(str(err))
                self.runs[name] = None
            self.imported[name] = _read_json(d / "imported.json", self.warnings)

    def badges(self, name: str) -> dict:
        run = self.runs.get(name)
        return {"imported": bool(self.ev.trackers[name].imported or self.imported.get(name)),
                "diagnostic": bool(self.ev.trackers[name].diagnostic or (run is not None and run.diagnostic))}

    def name_cell(self, name: str) -> dict:
        return text_cell(name, **self.badges(name))

    # -- sections ------------------------------------------------------------------------------------------------
    def problems(self) -> tuple[list[dict], list[dict]]:
        ev, missing, failed = self.ev, [], []
        for name in ranked_trackers(ev):
            t = ev.trackers[name]
            run = self.runs.get(name)
            reasons = run.failures if run is not None else {}
            names = list(dict.fromkeys(list(t.failed) + list(reasons)))
            if t.missing:
                shown = ", ".join(t.missing[:12]) + (f" ... (+{len(t.missing) - 12})" if len(t.missing) > 12 else "")
                missing.append({"tracker": name, "count": len(t.missing), "total": len(ev.sequences) or "?",
                                "shown": shown})
            if names:
                items = [s + (f" ({reasons[s]})" if reasons.get(s) else "") for s in names[:12]]
                more = f" ... (+{len(names) - 12})" if len(names) > 12 else ""
                failed.append({"tracker": name, "count": len(names), "shown": ", ".join(items) + more})
        return missing, failed

    def leaderboard(self) -> dict | None:
        board = build_leaderboard(self.ev)
        if not board.rows:
            return None
        headers = [("#", True), ("Tracker", False)] + [(measures.label(m), True) for m in board.metrics] + \
                  [("missing", True), ("failed", True)]
        best = {m: board.best(m) for m in board.metrics}
        rows = []
        for r in board.rows:
            name = r["tracker"]
            badges = self.badges(name)
            cells = [num_cell(r["rank"], 1.0, 0) if r["rank"] is not None else num_cell(None), self.name_cell(name)]
            cells += [measure_cell(m, r[m], best=best[m] is not None and r[m] == best[m] and not badges["diagnostic"])
                      for m in board.metrics]
            cells += [num_cell(r["missing"], 1.0, 0), num_cell(r["failed"], 1.0, 0)]
            rows.append({"cls": " ".join(c for c in ("imported", "diagnostic") if badges[c]), "cells": cells})
        return {"primary": measures.label(board.primary) if board.primary else "-",
                "table": _table("leaderboard", headers, rows)}

    def plots(self) -> tuple[list[dict], list[str]]:
        from globaltrack.reports import plots

        ev = self.ev
        makers: list[tuple[str, Callable]] = []
        notes: list[str] = []
        has = lambda key: any(key in t.curves for t in ev.trackers.values())  # noqa: E731
        for curve in ("success", "precision", "norm_precision"):
            if has(curve):
                makers.append((curve, lambda c=curve: plots.plot_curves(ev, c)))
        have, lack = plots.tpr_tnr_points(ev)
        if have:
            makers.append(("tpr_tnr", lambda: plots.plot_tpr_tnr(ev)))
        if lack:          # scored on the plane (TPR/TNR measured) but no point: say so rather than drop them
            notes.append(f"TPR/TNR plane: {len(lack)} trackers have no point (presence unknown: no absence labels "
                         f"for these sequences): {', '.join(lack[:10])}" + (" ..." if len(lack) > 10 else ""))
        if has("pr"):
            makers.append(("pr", lambda: plots.plot_pr(ev)))
        if has("f_score"):
            makers.append(("f_threshold", lambda: plots.plot_f_threshold(ev)))
        if any(t.per_attribute for t in ev.trackers.values()):
            makers.append(("attributes", lambda: plots.plot_attributes(ev)))
        if any(t.per_sequence for t in ev.trackers.values()):
            makers.append(("heatmap", lambda: plots.plot_heatmap(ev)))
        out = []
        for kind, make in makers:
            try:
                out.append({"kind": kind, "svg": plots.figure_svg(make())})
            except Exception as err:  # noqa: BLE001 - a broken curve must not take the whole report down
                out.append({"kind": kind, "svg": None, "error": f"{type(err).__name__}: {err}"})
        return out, notes

    def attributes(self) -> dict | None:
        ev = self.ev
        metric = primary_metric(ev) or "auc"
        names = [n for n in ranked_trackers(ev) if ev.trackers[n].per_attribute]
        if not names:
            return None
        attrs: list[str] = []
        for n in names:
            attrs += [a for a in ev.trackers[n].per_attribute if a not in attrs]
        rows = [{"cells": [self.name_cell(n)] + [measure_cell(metric, ev.trackers[n].per_attribute.get(a, {})
                                                              .get(metric)) for a in attrs]} for n in names]
        return {"label": measures.label(metric),
                "table": _table("attributes", [("Tracker", False)] + [(a, True) for a in attrs], rows)}

    def sequences(self) -> dict | None:
        from globaltrack.reports.plots import sequence_metric

        ev = self.ev
        names = [n for n in ranked_trackers(ev) if ev.trackers[n].per_sequence]
        if not names:
            return None
        metric = sequence_metric(ev)
        seqs = list(ev.sequences) or sorted({s for n in names for s in ev.trackers[n].per_sequence})
        rows = []
        for s in seqs:
            cells = [text_cell(s)]
            for n in names:
                t = ev.trackers[n]
                if s in t.per_sequence:
                    cells.append(measure_cell(metric, t.per_sequence[s].get(metric)))
                else:
                    why = "failed" if s in t.failed else "missing"
                    cells.append({"text": why, "v": "", "title": why})
            rows.append({"cells": cells})
        return {"label": measures.label(metric), "open": len(seqs) <= 40, "n_sequences": len(seqs),
                "n_trackers": len(names),
                "table": _table("sequences", [("Sequence", False)] + [(n, True) for n in names], rows)}

    def speed(self) -> dict:
        rows = []
        for n in ranked_trackers(self.ev):
            run = self.runs.get(n)
            fps = None
            if run is not None:
                fps = run.tracker_fps if run.tracker_fps is not None else run.fps
            if fps is None:
                fps = self.ev.trackers[n].scores.get("fps")      # the protocol's own speed (got10k time files)
            rows.append({"cells": [
                self.name_cell(n), num_cell(fps, 1.0, 1),
                num_cell(run.throughput_fps if run else None, 1.0, 1),
                num_cell(run.tracker_seconds if run else None, 1.0, 1),
                num_cell(run.tracker_frames if run else None, 1.0, 0),
                text_cell(_hardware(run.machine) if run else None, small=True)]})
        return _table("speed", [("Tracker", False), ("tracker fps", True), ("command throughput (fps)", True),
                                ("tracker time (s)", True), ("frames timed", True), ("hardware", False)], rows)

    def provenance(self) -> dict:
        rows = []
        for n in ranked_trackers(self.ev):
            run, imp = self.runs.get(n), self.imported.get(n, {})
            source = _obj(imp) if imp else ("imported" if self.ev.trackers[n].imported else "our run")
            versions, options, start, end = {}, None, None, None
            if run is not None:
                versions = {k: v for k, v in (("globaltrack", run.package_version), ("commit", run.git_commit)) if v}
                versions.update(run.libraries)
                options = ({"tracker": run.tracker} if run.tracker != run.name else {}) | run.options
                start = run.started
                end = (run.finished or "-") + (f" ({run.status})" if run.status else "")
            rows.append({"cells": [self.name_cell(n), text_cell(source, small=True), text_cell(options, small=True),
                                   text_cell(versions, small=True), text_cell(start, small=True),
                                   text_cell(end, small=True)]})
        return _table("provenance", [("Tracker", False), ("source", False), ("options", False), ("versions", False),
                                     ("start", False), ("end", False)], rows)

    def view(self) -> dict:
        ev = self.ev
        out: dict[str, Any] = {"name": ev.benchmark, "protocol": ev.protocol, "n_sequences": len(ev.sequences),
                               "n_trackers": len(ev.trackers), "errors": [], "missing": [], "failed": [],
                               "leaderboard": None, "plots": [], "plot_notes": [], "attributes": None,
                               "sequences": None, "speed": _table("speed", [], []),
                               "provenance": _table("provenance", [], [])}
        sections = (("problems", lambda: dict(zip(("missing", "failed"), self.problems()))),
                    ("leaderboard", lambda: {"leaderboard": self.leaderboard()}),
                    ("plots", lambda: dict(zip(("plots", "plot_notes"), self.plots()))),
                    ("attributes", lambda: {"attributes": self.attributes()}),
                    ("sequences", lambda: {"sequences": self.sequences()}),
                    ("speed", lambda: {"speed": self.speed()}),
                    ("provenance", lambda: {"provenance": self.provenance()}))
        for title, build in sections:
            try:
                out.update(build())
            except Exception as err:  # noqa: BLE001 - keep the rest of the report
                out["errors"].append(f"{title} failed: {type(err).__name__}: {err}")
        out["warnings"] = list(self.warnings)
        out["notes"] = [(n, str(note)) for n in ev.trackers for note in ev.trackers[n].notes]
        return out


def _read_json(path: Path, warnings: list[str]) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {"value": data}
    except (OSError, ValueError) as err:
        warnings.append(f"{path}: unreadable ({err})")
        return {}


# -- evidence --------------------------------------------------------------------------------------------------------
def _evidence_view(evidence: dict) -> dict:
    tables = []
    for title, table in (evidence.get("tables") or {}).items():
        rows = list(table.items()) if isinstance(table, dict) else []
        cols: list[str] = []
        for _, r in rows:
            cols += [c for c in (r or {}) if c not in cols]
        body = []
        for name, r in rows:
            cells = [text_cell(str(name))]
            for c in cols:
                v = (r or {}).get(c)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    cell = num_cell(v, 1.0, 0)
                    if cell["v"]:
                        cell["text"] = f"{v:.6g}"
                    cells.append(cell)
                else:
                    cells.append(text_cell(v))
            body.append({"cells": cells})
        tables.append({"title": str(title), "table": _table("evidence", [("", False)] + [(str(c), True)
                                                                                       for c in cols], body)})
    figures = []
    for caption, path in (evidence.get("figures") or {}).items():
        p = Path(path)
        try:
            data = base64.b64encode(p.read_bytes()).decode("ascii")
        except OSError as err:
            figures.append({"caption": str(caption), "path": str(p), "error": str(err), "data": None})
            continue
        figures.append({"caption": str(caption), "data": data,
                        "mime": "image/svg+xml" if p.suffix.lower() == ".svg" else "image/png"})
    return {"notes": [str(n) for n in evidence.get("notes") or []], "tables": tables, "figures": figures}


# -- the page --------------------------------------------------------------------------------------------------------
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
                              trim_blocks=False, lstrip_blocks=False)


def render_report(evaluations: list[Evaluation], *, results_root: str | Path = "results",
                  title: str = "globaltrack report", evidence: dict | None = None) -> str:
    from globaltrack import __version__

    root = Path(results_root)
    env = _environment()
    page = {
        "title": title, "version": __version__, "results_root": str(root),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "benchmarks": [_Benchmark(ev, root).view() for ev in evaluations],
        "evidence": _evidence_view(evidence) if evidence else None,
        "css": (TEMPLATES / "report.css").read_text(), "js": (TEMPLATES / "report.js").read_text(),
    }
    return env.get_template("report.html.j2").render(**page) + "\n"


def write_report(evaluations: list[Evaluation], out_path, *, results_root="results", title="globaltrack report",
                 evidence=None) -> Path:
    """Write the report to ``out_path`` (atomically) and return its path."""
    if isinstance(evaluations, Evaluation):
        evaluations = [evaluations]
    out = Path(out_path)
    atomic_write_text(out, render_report(list(evaluations), results_root=results_root, title=title,
                                         evidence=evidence))
    return out

"""The self-contained HTML report: one file, inline CSS and JS, plots inlined as SVG (evidence figures as base64 PNG),
viewable offline.

Per benchmark: warnings (missing / failed sequences, protocol notes), a sortable leaderboard, the plots, the
per-attribute and per-sequence tables, speed (tracker fps, run throughput, hardware from the manifests) and provenance
(versions, tracker options, dates, protocol). Imported published results sit beside our runs and are marked
"imported"; diagnostic trackers (static, oracle) are marked "diagnostic". A plot or manifest that cannot be produced
becomes a visible warning in the page, never an exception.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from pathlib import Path
from typing import Any, Callable

from globaltrack._io import atomic_write_text
from globaltrack.scoring.evaluation import Evaluation
from globaltrack.scoring.leaderboard import build_leaderboard, metric_label, primary_metric, ranked_trackers

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;color:#1d1d1f;
background:#fafafa;line-height:1.4}
header{background:#1f3b57;color:#fff;padding:14px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}header code{background:#2d5075;color:#fff}
nav{padding:6px 28px;background:#e8eef4;font-size:14px}nav a{margin-right:14px;color:#1f3b57}
main{padding:8px 28px 40px}section.benchmark,section.evidence{background:#fff;border:1px solid #dde3ea;
border-radius:6px;padding:8px 20px 16px;margin:18px 0}
h2{color:#1f3b57;border-bottom:2px solid #e8eef4;padding-bottom:4px}h3{color:#33506e;margin-top:22px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}th,td{border:1px solid #d6dde5;padding:3px 8px}
th{background:#eef2f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:" \\2195";color:#9aa7b4}
table.sortable th.asc:after{content:" \\2191";color:#1f3b57}table.sortable th.desc:after{content:" \\2193";color:#1f3b57}
tr.diagnostic td{color:#777;font-style:italic}tr.imported td{background:#fbf8ee}td.best{font-weight:bold}
.badge{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;margin-left:5px;font-style:normal}
.badge.imported{background:#f3d98b;color:#5a4300}.badge.diagnostic{background:#ddd;color:#444}
.warn{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 12px;margin:6px 0;font-size:13px}
.err{background:#fdecea;border-left:4px solid #d9534f;padding:6px 12px;margin:6px 0;font-size:13px}
.plots{display:flex;flex-wrap:wrap;gap:14px}.plot{max-width:100%;overflow-x:auto}
.plot svg,.plot img{max-width:100%;height:auto}
details{margin:6px 0}summary{cursor:pointer;color:#1f3b57}
.small{font-size:12px;color:#555}code{background:#f1f1f1;padding:0 3px}
.scroll{max-height:520px;overflow:auto;display:inline-block;max-width:100%}
"""

# Click a header to sort; numbers sort by the raw value in data-v (empty = NaN, always last).
JS = """
(function(){
  function key(cell){var v=cell.getAttribute('data-v');if(v===null){return cell.textContent.trim().toLowerCase();}
    return v===''?null:parseFloat(v);}
  function sortBy(table,col,th){
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    var numeric=th.getAttribute('data-type')==='num';
    var dir=th.classList.contains(numeric?'desc':'asc')?(numeric?'asc':'desc'):(numeric?'desc':'asc');
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.classList.remove('asc','desc');});
    th.classList.add(dir);var sign=dir==='asc'?1:-1;
    rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
      if(x===null&&y===null){return 0;}if(x===null){return 1;}if(y===null){return -1;}
      return x<y?-sign:(x>y?sign:0);});
    rows.forEach(function(r){body.appendChild(r);});
  }
  var tables=document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables,function(t){
    Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
      th.addEventListener('click',function(){sortBy(t,i,th);});});});
})();
"""

esc = html.escape


def _num(v, scale: float = 100.0, digits: int = 1) -> tuple[str, str]:
    """(display text, data-v) for a score; NaN/None shows '-' and sorts last."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-", ""
    if math.isnan(f):
        return "-", ""
    return f"{f * scale:.{digits}f}", repr(f)


def _td_num(v, scale=100.0, digits=1, best=False) -> str:
    text, dv = _num(v, scale, digits)
    return f'<td class="num{" best" if best else ""}" data-v="{dv}">{text}</td>'


def _obj(v: Any) -> str:
    """Manifest values (dicts, lists, scalars) as short readable text."""
    if v is None or v == "" or v == {} or v == []:
        return "-"
    if isinstance(v, dict):
        return "; ".join(f"{k}={_obj(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_obj(x) for x in v)
    return str(v)


def _first(d: dict, *keys, default=None):
    for k in keys:
        if isinstance(d, dict) and d.get(k) not in (None, ""):
            return d[k]
    return default


# Machine fields worth a reader's attention, in this order (harness/manifest.py ``machine_info``).
_HARDWARE_KEYS = ("gpus", "gpu", "cpu_model", "cpu", "cpu_cores", "cpu_cores_usable", "memory_gb", "hostname")


def _hardware(machine: Any) -> Any:
    if not isinstance(machine, dict):
        return machine
    picked = {k: machine[k] for k in _HARDWARE_KEYS if machine.get(k) not in (None, "", [], {})}
    return picked or machine


def _badges(imported: bool, diagnostic: bool) -> str:
    return ((' <span class="badge imported">imported</span>' if imported else "")
            + (' <span class="badge diagnostic">diagnostic</span>' if diagnostic else ""))


def _read_json(path: Path, warnings: list[str]) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {"value": data}
    except (OSError, ValueError) as err:
        warnings.append(f"{path}: unreadable ({err})")
        return {}


class _Benchmark:
    """Everything the report shows about one evaluation, gathered defensively."""

    def __init__(self, ev: Evaluation, results_root: Path):
        self.ev = ev
        self.warnings: list[str] = []
        self.manifests: dict[str, dict] = {}
        self.imported: dict[str, dict] = {}
        for name in ev.trackers:
            d = results_root / ev.benchmark / name
            self.manifests[name] = _read_json(d / "manifest.json", self.warnings)
            self.imported[name] = _read_json(d / "imported.json", self.warnings)

    def is_imported(self, name: str) -> bool:
        return bool(self.ev.trackers[name].imported or self.imported.get(name))

    def is_diagnostic(self, name: str) -> bool:
        return bool(self.ev.trackers[name].diagnostic or self.manifests.get(name, {}).get("diagnostic"))


def _sortable(headers: list[tuple[str, bool]], rows: list[str], cls: str = "") -> str:
    ths = "".join(f'<th data-type="{"num" if num else "text"}">{esc(h)}</th>' for h, num in headers)
    return (f'<table class="sortable {cls}"><thead><tr>{ths}</tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _warnings_html(b: _Benchmark) -> str:
    ev = b.ev
    out = []
    for name in ranked_trackers(ev):
        t = ev.trackers[name]
        failures = b.manifests.get(name, {}).get("failures") or {}
        failed = list(dict.fromkeys(list(t.failed) + (list(failures) if isinstance(failures, dict) else [])))
        if t.missing:
            shown = ", ".join(t.missing[:12]) + (f" ... (+{len(t.missing) - 12})" if len(t.missing) > 12 else "")
            out.append(f'<div class="warn"><b>{esc(name)}</b>: {len(t.missing)} of {len(ev.sequences) or "?"} '
                       f'sequences have no result: {esc(shown)}</div>')
        if failed:
            items = []
            for s in failed[:12]:
                reason = failures.get(s) if isinstance(failures, dict) else None
                items.append(esc(s) + (f" ({esc(str(reason))})" if reason else ""))
            more = f" ... (+{len(failed) - 12})" if len(failed) > 12 else ""
            out.append(f'<div class="err"><b>{esc(name)}</b>: {len(failed)} sequences failed during the run: '
                       f'{", ".join(items)}{more}</div>')
    for w in b.warnings:
        out.append(f'<div class="warn">{esc(w)}</div>')
    notes = [(n, note) for n in ev.trackers for note in ev.trackers[n].notes]
    if notes:
        lis = "".join(f"<li><b>{esc(n)}</b>: {esc(note)}</li>" for n, note in notes[:500])
        out.append(f"<details><summary>{len(notes)} protocol notes (what the protocol did to the results)"
                   f"</summary><ul class=\"small\">{lis}</ul></details>")
    return "".join(out)


def _leaderboard_html(b: _Benchmark) -> str:
    board = build_leaderboard(b.ev)
    if not board.rows:
        return '<div class="warn">No tracker results for this benchmark.</div>'
    headers = [("#", True), ("Tracker", False)] + [(metric_label(m), True) for m in board.metrics] + \
              [("missing", True), ("failed", True)]
    best = {m: board.best(m) for m in board.metrics}
    rows = []
    for r in board.rows:
        name = r["tracker"]
        imp, diag = b.is_imported(name), b.is_diagnostic(name)
        cls = " ".join(c for c, on in (("imported", imp), ("diagnostic", diag)) if on)
        cells = [f'<td class="num" data-v="{r["rank"] if r["rank"] is not None else ""}">{r["rank"] or "-"}</td>',
                 f"<td>{esc(name)}{_badges(imp, diag)}</td>"]
        for m in board.metrics:
            scale = 1.0 if m == "fps" else 100.0
            cells.append(_td_num(r[m], scale, 1, best=best[m] is not None and r[m] == best[m] and not diag))
        cells.append(f'<td class="num" data-v="{r["missing"]}">{r["missing"]}</td>')
        cells.append(f'<td class="num" data-v="{r["failed"]}">{r["failed"]}</td>')
        rows.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    primary = metric_label(board.primary) if board.primary else "-"
    return (f'<p class="small">Ranked by {esc(primary)} (scores x100; click a column to sort). '
            f'Best non-diagnostic value in bold.</p>' + _sortable(headers, rows, "leaderboard"))


def _plots_html(b: _Benchmark) -> str:
    from globaltrack.reports import plots

    ev = b.ev
    makers: list[tuple[str, Callable]] = []
    has = lambda key: any(key in t.curves for t in ev.trackers.values())  # noqa: E731
    for curve in ("success", "precision", "norm_precision"):
        if has(curve):
            makers.append((curve, lambda c=curve: plots.plot_curves(ev, c)))
    if any("tpr" in t.scores and "tnr" in t.scores for t in ev.trackers.values()):
        makers.append(("tpr_tnr", lambda: plots.plot_tpr_tnr(ev)))
    if any(t.per_attribute for t in ev.trackers.values()):
        makers.append(("attributes", lambda: plots.plot_attributes(ev)))
    if any(t.per_sequence for t in ev.trackers.values()):
        makers.append(("heatmap", lambda: plots.plot_heatmap(ev)))
    out = []
    for kind, make in makers:
        try:
            out.append(f'<div class="plot" data-kind="{kind}">{plots.figure_svg(make())}</div>')
        except Exception as err:  # a broken curve must not take the whole report down
            out.append(f'<div class="err">Plot "{kind}" could not be drawn: {esc(type(err).__name__)}: '
                       f'{esc(str(err))}</div>')
    return '<div class="plots">' + "".join(out) + "</div>" if out else ""


def _attribute_html(b: _Benchmark) -> str:
    ev = b.ev
    metric = primary_metric(ev) or "auc"
    names = [n for n in ranked_trackers(ev) if ev.trackers[n].per_attribute]
    if not names:
        return ""
    attrs: list[str] = []
    for n in names:
        attrs += [a for a in ev.trackers[n].per_attribute if a not in attrs]
    rows = []
    for n in names:
        pa = ev.trackers[n].per_attribute
        rows.append(f"<tr><td>{esc(n)}{_badges(b.is_imported(n), b.is_diagnostic(n))}</td>"
                    + "".join(_td_num(pa.get(a, {}).get(metric)) for a in attrs) + "</tr>")
    return (f"<h3>Per attribute ({esc(metric_label(metric))} x100)</h3><div class=\"scroll\">"
            + _sortable([("Tracker", False)] + [(a, True) for a in attrs], rows, "attributes") + "</div>")


def _sequence_html(b: _Benchmark) -> str:
    ev = b.ev
    names = [n for n in ranked_trackers(ev) if ev.trackers[n].per_sequence]
    if not names:
        return ""
    metric = "auc" if any("auc" in s for n in names for s in ev.trackers[n].per_sequence.values()) \
        else (primary_metric(ev) or "auc")
    seqs = list(ev.sequences) or sorted({s for n in names for s in ev.trackers[n].per_sequence})
    rows = []
    for s in seqs:
        cells = []
        for n in names:
            t = ev.trackers[n]
            if s in t.per_sequence:
                cells.append(_td_num(t.per_sequence[s].get(metric)))
            else:
                why = "failed" if s in t.failed else "missing"
                cells.append(f'<td class="num" data-v="" title="{why}">{why}</td>')
        rows.append(f"<tr><td>{esc(s)}</td>" + "".join(cells) + "</tr>")
    table = _sortable([("Sequence", False)] + [(n, True) for n in names], rows, "sequences")
    return (f"<h3>Per sequence ({esc(metric_label(metric))} x100)</h3><details{' open' if len(seqs) <= 40 else ''}>"
            f"<summary>{len(seqs)} sequences x {len(names)} trackers</summary><div class=\"scroll\">{table}</div>"
            "</details>")


def _speed_html(b: _Benchmark) -> str:
    rows = []
    for n in ranked_trackers(b.ev):
        m = b.manifests.get(n, {})
        speed = m.get("speed") if isinstance(m.get("speed"), dict) else {}
        fps = _first(speed, "fps", default=_first(m, "fps"))
        thr = _first(speed, "throughput_fps", "throughput", default=_first(m, "throughput_fps"))
        if fps is None and "fps" in b.ev.trackers[n].scores:
            fps = b.ev.trackers[n].scores["fps"]
        hardware = _hardware(_first(m, "machine", "hardware", "host"))
        per_seq = _first(speed, "per_sequence", "sequences", default=_first(m, "per_sequence_fps", "sequence_fps"))
        nseq = len(per_seq) if isinstance(per_seq, dict) else None
        rows.append(f"<tr><td>{esc(n)}{_badges(b.is_imported(n), b.is_diagnostic(n))}</td>"
                    + _td_num(fps, 1.0, 1) + _td_num(thr, 1.0, 1)
                    + f'<td class="num" data-v="{nseq if nseq is not None else ""}">{nseq if nseq is not None else "-"}'
                      f"</td><td class=\"small\">{esc(_obj(hardware))}</td></tr>")
    return ("<h3>Speed</h3><p class=\"small\">Tracker fps: frames per second of <code>update</code> (mean of the "
            "per-sequence values, as the got10k toolkit reports it); throughput: frames processed per wall-clock "
            "second of the whole run (all workers).</p>"
            + _sortable([("Tracker", False), ("tracker fps", True), ("run throughput (fps)", True),
                         ("sequences timed", True), ("hardware", False)], rows, "speed"))


def _provenance_html(b: _Benchmark) -> str:
    rows = []
    for n in ranked_trackers(b.ev):
        m, imp = b.manifests.get(n, {}), b.imported.get(n, {})
        source = _obj(imp) if imp else ("imported" if b.ev.trackers[n].imported else "our run")
        options = _first(m, "options", "tracker_options")
        versions = {k: v for k, v in (("globaltrack", _first(m, "package_version")),
                                      ("commit", _first(m, "git_commit"))) if v}
        versions.update(_first(m, "versions", "libraries", default={}) or {})
        start = _first(m, "start", "started", "start_time")
        end = _first(m, "end", "finished", "end_time")
        status = m.get("status")
        rows.append(f"<tr><td>{esc(n)}{_badges(b.is_imported(n), b.is_diagnostic(n))}</td>"
                    f"<td class=\"small\">{esc(source)}</td><td class=\"small\">{esc(_obj(options))}</td>"
                    f"<td class=\"small\">{esc(_obj(versions))}</td><td class=\"small\">{esc(_obj(start))}</td>"
                    f"<td class=\"small\">{esc(_obj(end))}{esc(f' ({status})' if status else '')}</td></tr>")
    return (f"<h3>Provenance</h3><p class=\"small\">Protocol: <code>{esc(b.ev.protocol)}</code>.</p>"
            + _sortable([("Tracker", False), ("source", False), ("options", False), ("versions", False),
                         ("start", False), ("end", False)], rows, "provenance"))


def _benchmark_html(b: _Benchmark) -> str:
    ev = b.ev
    parts = [f'<section class="benchmark" id="bench-{esc(ev.benchmark)}"><h2>{esc(ev.benchmark)}</h2>',
             f'<p class="small">Protocol <code>{esc(ev.protocol)}</code>; {len(ev.sequences)} sequences; '
             f"{len(ev.trackers)} trackers.</p>"]
    for title, render in (("", _warnings_html), ("Leaderboard", _leaderboard_html), ("Plots", _plots_html),
                          ("", _attribute_html), ("", _sequence_html), ("", _speed_html), ("", _provenance_html)):
        try:
            body = render(b)
        except Exception as err:  # keep the rest of the report
            body = f'<div class="err">{esc(title or render.__name__)} failed: {esc(type(err).__name__)}: ' \
                   f'{esc(str(err))}</div>'
        if body:
            parts.append((f"<h3>{esc(title)}</h3>" if title else "") + body)
    parts.append("</section>")
    return "".join(parts)


def _evidence_html(evidence: dict) -> str:
    parts = ['<section class="evidence" id="evidence"><h2>Evidence</h2>']
    for note in evidence.get("notes") or []:
        parts.append(f"<p>{esc(str(note))}</p>")
    for title, table in (evidence.get("tables") or {}).items():
        rows = list(table.items()) if isinstance(table, dict) else []
        cols: list[str] = []
        for _, r in rows:
            cols += [c for c in (r or {}) if c not in cols]
        body = []
        for name, r in rows:
            cells = []
            for c in cols:
                v = (r or {}).get(c)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    text = "-" if (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"
                    cells.append(f'<td class="num" data-v="{"" if text == "-" else repr(float(v))}">{text}</td>')
                else:
                    cells.append(f"<td>{esc(_obj(v))}</td>")
            body.append(f"<tr><td>{esc(str(name))}</td>{''.join(cells)}</tr>")
        parts.append(f"<h3>{esc(str(title))}</h3>"
                     + _sortable([("", False)] + [(str(c), True) for c in cols], body, "evidence"))
    for caption, path in (evidence.get("figures") or {}).items():
        p = Path(path)
        try:
            data = base64.b64encode(p.read_bytes()).decode("ascii")
        except OSError as err:
            parts.append(f'<div class="warn">Figure "{esc(str(caption))}": {esc(str(p))} unreadable ({esc(str(err))})'
                         "</div>")
            continue
        mime = "image/svg+xml" if p.suffix.lower() == ".svg" else "image/png"
        parts.append(f'<figure class="plot"><img alt="{esc(str(caption))}" src="data:{mime};base64,{data}">'
                     f"<figcaption>{esc(str(caption))}</figcaption></figure>")
    parts.append("</section>")
    return "".join(parts)


def render_report(evaluations: list[Evaluation], *, results_root: str | Path = "results",
                  title: str = "globaltrack report", evidence: dict | None = None) -> str:
    from globaltrack import __version__

    root = Path(results_root)
    benches = [_Benchmark(ev, root) for ev in evaluations]
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#bench-{esc(b.ev.benchmark)}">{esc(b.ev.benchmark)}</a>' for b in benches)
    if evidence:
        nav += '<a href="#evidence">evidence</a>'
    body = "".join(_benchmark_html(b) for b in benches)
    if not benches:
        body = '<div class="warn">No evaluations to report.</div>'
    if evidence:
        body += _evidence_html(evidence)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>globaltrack {esc(__version__)}; generated {now}; "
            f"results from <code>{esc(str(root))}</code></p></header><nav>{nav}</nav><main>{body}</main>"
            f"<script>{JS}</script></body></html>\n")


def write_report(evaluations: list[Evaluation], out_path, *, results_root="results", title="globaltrack report",
                 evidence=None) -> Path:
    """Write the report to ``out_path`` (atomically) and return its path."""
    if isinstance(evaluations, Evaluation):
        evaluations = [evaluations]
    out = Path(out_path)
    atomic_write_text(out, render_report(list(evaluations), results_root=results_root, title=title,
                                         evidence=evidence))
    return out

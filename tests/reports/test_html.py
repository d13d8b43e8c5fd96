"""The HTML report: self-contained, marks imported/diagnostic trackers, warns about missing/failed sequences, and
renders in headless Chromium without script errors."""
import base64
import io
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from globaltrack.reports.html import write_report

from tests.reports.reports_fixtures import make_evaluation, write_manifests


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("report")
    results = tmp_path / "results"
    lasot = make_evaluation()
    oxuva = make_evaluation(8, 5, "oxuva", oxuva=True, seed=1)
    write_manifests(results, lasot)
    write_manifests(results, oxuva)
    (results / "lasot" / "tracker_05" / "manifest.json").write_text("{not json")      # must not crash the report
    png = tmp_path / "fig.png"
    Image.new("RGB", (60, 40), (200, 30, 30)).save(png)
    evidence = {"tables": {"AR@k on LaSOT": {"RPN": {"AR@1": 0.31, "AR@10": 0.52}, "QG-RPN": {"AR@1": 0.61}}},
                "notes": ["Trained on the synthetic set only."],
                "figures": {"A red square": str(png), "Gone": str(tmp_path / "missing.png")}}
    path = write_report([lasot, oxuva], tmp_path / "reports" / "report.html", results_root=results,
                        title="test report", evidence=evidence)
    return path, lasot


def test_report_is_self_contained_and_complete(report):
    path, lasot = report
    text = path.read_text()
    # no network: no external scripts, styles, images or links
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "<link" not in text and "@import" not in text
    assert text.count("<svg") >= 8          # 3 curves + attributes + heatmap (lasot), + tpr-tnr etc. (oxuva)
    assert 'id="bench-lasot"' in text and 'id="bench-oxuva"' in text
    assert text.count('class="badge imported"') >= 2 and text.count('class="badge diagnostic"') >= 2
    assert "<b>tracker_03</b>: 1 of 12 sequences have no result: seq-0" in text
    assert "1 sequences failed during the run: seq-1 (RuntimeError: boom)" in text
    assert "tracker_05/manifest.json: unreadable" in text
    assert "seq-2: 3 rows truncated" in text
    assert "55.5" in text and "test cpu" in text and "2026-01-01T00:00:00Z" in text   # speed + provenance
    assert "<code>lasot</code>" in text                                              # protocol used
    # evidence section as given
    assert "AR@k on LaSOT" in text and "Trained on the synthetic set only." in text and 'data-v="0.31"' in text
    m = re.search(r'alt="A red square" src="data:image/png;base64,([^"]+)"', text)
    assert m and Image.open(io.BytesIO(base64.b64decode(m.group(1)))).size == (60, 40)
    assert "Figure \"Gone\"" in text and "unreadable" in text
    # leaderboard: best first, values x100
    best = max((t for t in lasot.trackers.values() if not t.diagnostic), key=lambda t: t.scores["auc"])
    first_row = re.search(r'<table class="sortable leaderboard">.*?<tbody><tr[^>]*>(.*?)</tr>', text, re.S).group(1)
    assert best.tracker in first_row and f'{best.scores["auc"] * 100:.1f}' in first_row


def test_empty_and_broken_inputs_do_not_crash(tmp_path):
    ev = make_evaluation(5, 4)
    ev.trackers["tracker_00"].curves["success"] = (np.arange(3), np.arange(5))   # mismatched curve
    text = write_report([ev], tmp_path / "r.html", results_root=tmp_path / "none").read_text()
    assert 'Plot "success" could not be drawn' in text
    assert "No evaluations to report" in write_report([], tmp_path / "e.html").read_text()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("headless Chromium is not installed")


def _run_chromium(args, tmp_path):
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_check_catches_a_script_error(tmp_path):
    # The negative control for the check below: a page with an uncaught error is caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body>x<script>undefinedFunction();</script></body></html>")
    proc = _run_chromium(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000", "--dump-dom",
                          bad.as_uri()], tmp_path)
    assert any("Uncaught ReferenceError" in line for line in _console(proc.stderr))


# Injected into a copy of the report: records script errors, then sorts the leaderboard by its tracker column.
PROBE_HEAD = """<script>window.__errors=[];window.addEventListener('error',function(e){
window.__errors.push(String(e.message||e.type)+' @'+(e.filename||'')+':'+(e.lineno||''));},true);
console.error=function(){window.__errors.push('console.error: '+Array.prototype.join.call(arguments,' '));};
</script>"""
PROBE_TAIL = """<script>(function(){var r=document.createElement('div');r.id='probe';
try{var t=document.querySelector('table.leaderboard');var th=t.tHead.rows[0].cells[1];th.click();
r.setAttribute('data-first',t.tBodies[0].rows[0].cells[1].textContent.trim().split(' ')[0]);
r.setAttribute('data-class',th.className);}catch(e){window.__errors.push('probe: '+e);}
r.setAttribute('data-errors',window.__errors.join(' | '));r.setAttribute('data-svg',
document.querySelectorAll('svg').length);document.body.appendChild(r);})();</script>"""


def test_report_renders_in_headless_chromium(report, tmp_path):
    path, lasot = report
    shot = tmp_path / "shot.png"
    proc = _run_chromium(["--window-size=1400,2000", "--virtual-time-budget=5000", f"--screenshot={shot}",
                          "--enable-logging=stderr", "--v=0", path.as_uri()], tmp_path)
    assert shot.is_file(), proc.stderr[-2000:]
    assert _console(proc.stderr) == []        # nothing logged to the console (no uncaught errors)
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.var() > 100                 # not a blank page
    assert (pixels < 100).mean() > 0.01       # dark text and lines are drawn

    probed = tmp_path / "probed.html"
    text = path.read_text()
    probed.write_text(text.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_TAIL + "</body>"))
    proc = _run_chromium(["--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], tmp_path)
    m = re.search(r'<div id="probe"([^>]*)>', proc.stdout)
    assert m, proc.stderr[-2000:]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    assert attrs["data-errors"] == ""                       # the page logged no errors
    assert int(attrs["data-svg"]) >= 8                      # the inline plots are in the DOM
    assert attrs["data-class"] == "asc"                     # clicking a header sorts
    assert attrs["data-first"] == sorted(lasot.trackers)[0]


def test_values_are_escaped_and_speed_reads_the_typed_manifest(tmp_path):
    from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation

    ev = Evaluation("lasot", "lasot", sequences=["s"])
    ev.trackers["<img src=x onerror=alert(1)>"] = TrackerEvaluation("x", scores={"auc": 0.5},
                                                                    per_sequence={"s": {"auc": 0.5}})
    text = write_report([ev], tmp_path / "r.html", results_root=tmp_path).read_text()
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    ev2 = make_evaluation(4, 3)
    write_manifests(tmp_path / "res", ev2)
    text = write_report([ev2], tmp_path / "r2.html", results_root=tmp_path / "res").read_text()
    # tracker fps (the tracker's own time, 31 + i) beside the command's throughput (55.5)
    row = re.search(r'<table class="sortable speed">.*?<tr><td>tracker_00</td>(.*?)</tr>', text, re.S).group(1)
    assert '>31.0</td>' in row and '>55.5</td>' in row and ">3100</td>" in row and "test cpu" in row

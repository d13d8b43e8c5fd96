"""`globaltrack demo --quick` end to end (on the fast trackers), and its choice of trackers."""
import pytest

from globaltrack.harness.cli import main
from globaltrack.harness.commands.demo import demo_trackers
from globaltrack.trackers import register_tracker
from globaltrack.trackers.diagnostic import StaticTracker


def _needs_files(**options):
    from globaltrack.errors import UserError

    raise UserError("needs --opt model=PATH")


register_tracker("test-demo-needs-files")(_needs_files)
register_tracker("test-demo-unavailable", available=lambda: (False, "library xyz missing"))(lambda **o: StaticTracker())
register_tracker("test-demo-hidden", test_only=True)(lambda **o: StaticTracker())


def test_demo_skips_trackers_that_cannot_run_here_with_a_reason():
    said = []
    chosen = dict(demo_trackers(say=said.append))
    assert chosen["static"] == {"batch": "8"}  # static declares track_batch: it gets frames in batches
    assert chosen["oracle"] == {}
    assert "test-demo-needs-files" not in chosen and "test-demo-unavailable" not in chosen
    assert "test-demo-hidden" not in chosen and not any("test-demo-hidden" in s for s in said)
    assert "skip test-demo-unavailable: library xyz missing" in said
    assert "mil" not in chosen and any(s.startswith("skip mil: slow") for s in said)
    assert "mil" in dict(demo_trackers(say=said.append, include_slow=True))
    assert any(s.startswith("skip test-demo-needs-files: needs options or files") and "model=PATH" in s
               for s in said)


def test_quick_demo_writes_results_report_and_leaderboard(tmp_path, capsys):
    pytest.importorskip("globaltrack.scoring.evaluate")
    pytest.importorskip("globaltrack.reports.html")
    results, reports = tmp_path / "results", tmp_path / "reports"
    rc = main(["demo", "--quick", "--quiet", "-j", "1", "-t", "static,oracle,mosse", "--results", str(results),
               "--reports", str(reports)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert (reports / "demo.html").is_file() and f"report: {reports / 'demo.html'}" in out
    for t in ("static", "oracle", "mosse"):
        assert len(list((results / "synthetic" / t).glob("*.key"))) == 3
        assert t in out.split("report:")[0].rsplit("frames tracked in", 1)[1]  # leaderboard after the run
    html = (reports / "demo.html").read_text()
    assert "oracle" in html and "mosse" in html

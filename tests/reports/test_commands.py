"""End to end on the synthetic benchmark: leaderboard, report, plot, export and validate-submission commands."""
import csv
import json

import numpy as np
import pytest

from globaltrack.harness.cli import main
from globaltrack.results.store import ResultStore, SequenceResult

pytest.importorskip("globaltrack.scoring.evaluate")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from globaltrack.benchmarks import load_sequences
    from globaltrack.benchmarks.synthetic import generate

    tmp = tmp_path_factory.mktemp("cmd")
    root = generate(tmp / "synthetic", seed=3, sequences=3, frames=30, size=(64, 48))
    seqs = load_sequences("synthetic", root)
    store = ResultStore(tmp / "results")
    rng = np.random.default_rng(0)
    for name, noise in (("good", 0.5), ("poor", 6.0), ("published", 2.0)):
        for s in seqs:
            gt = s.ground_truth.copy()
            gt[~np.isfinite(gt)] = 1.0
            boxes = gt + rng.normal(0, noise, gt.shape)
            boxes[:, 2:] = np.maximum(boxes[:, 2:], 1.0)
            store.write("synthetic", name, s.name, SequenceResult(boxes, scores=rng.random(len(gt)),
                                                                 times=np.full(len(gt), 0.01)))
        if name != "published":
            store.write_manifest("synthetic", name, {"tracker": name, "speed": {"fps": 100.0,
                                                                                "throughput_fps": 250.0}})
    (store.tracker_dir("synthetic", "published") / "imported.json").write_text(json.dumps({"source": "paper"}))
    return tmp, root, store, seqs


def _common(tmp, root, store):
    return ["--benchmark", "synthetic", "--root", str(root), "--results", str(store.root),
            "--reports", str(tmp / "reports")]


def test_leaderboard_command(workspace, capsys):
    tmp, root, store, _ = workspace
    assert main(["leaderboard"] + _common(tmp, root, store)) == 0
    out = capsys.readouterr().out
    assert out.index("good") < out.index("poor")
    rows = list(csv.DictReader(open(tmp / "reports" / "synthetic_leaderboard.csv")))
    assert rows[0]["tracker"] == "good" and {r["tracker"] for r in rows} == {"good", "poor", "published"}
    assert next(r for r in rows if r["tracker"] == "published")["imported"] == "1"
    assert (tmp / "reports" / "synthetic_leaderboard.tex").is_file()


def test_report_command(workspace):
    tmp, root, store, _ = workspace
    assert main(["report"] + _common(tmp, root, store)) == 0
    text = (tmp / "reports" / "synthetic.html").read_text()
    assert 'class="badge imported"' in text and "<svg" in text and "250.0" in text


@pytest.mark.parametrize("kind", ["success", "heatmap", "trace"])
def test_plot_command(workspace, kind):
    tmp, root, store, seqs = workspace
    extra = ["--sequence", seqs[0].name] if kind == "trace" else []
    out = tmp / "plots" / kind
    assert main(["plot", "--kind", kind, "--out", str(out)] + _common(tmp, root, store) + extra) == 0
    assert (tmp / "plots" / f"{kind}.svg").stat().st_size > 1000
    assert (tmp / "plots" / f"{kind}.png").stat().st_size > 1000


def test_export_and_validate_commands(workspace, capsys):
    tmp, root, store, seqs = workspace
    out = tmp / "sub.zip"
    assert main(["export", "--benchmark", "synthetic", "--root", str(root), "--results", str(store.root),
                 "--tracker", "good", "--out", str(out)]) == 0
    assert main(["validate-submission", str(out), "--benchmark", "synthetic", "--root", str(root)]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")


def test_plot_ar_command(tmp_path):
    ar = tmp_path / "ar.json"
    ar.write_text(json.dumps({"RPN": {"1": 0.2, "10": 0.5}, "QG-RPN": {"1": 0.6, "10": 0.8}}))
    assert main(["plot", "--kind", "ar", "--ar", str(ar), "--out", str(tmp_path / "ar")]) == 0
    assert (tmp_path / "ar.svg").is_file() and (tmp_path / "ar.png").is_file()
    assert main(["plot", "--kind", "ar", "--out", str(tmp_path / "ar")]) == 2      # no data: a one-line error

"""Scoring needs annotations only: every scoring command on the released layouts without images (LaSOT built from the
official toolkit's annotations in ../shared, a TrackingNet tree with anno/ only), through --root and --annos;
partial exports need --partial; warnings are one plain line."""
from __future__ import annotations

import json

import numpy as np
import pytest

from globaltrack.harness.cli import main
from tests.conftest import shared_path

NAMES = ("airplane-1", "basketball-1", "bear-2")


@pytest.fixture
def lasot(tmp_path):
    """The released LaSOT layout (groundtruth.txt, full_occlusion.txt, out_of_view.txt, an empty img/) for three
    test sequences, with the official toolkit's annotations; results: the ground truth itself and a noisy copy."""
    annos = shared_path("data", "annotations", "lasot")
    root = tmp_path / "LaSOT"
    rng = np.random.default_rng(0)
    for name in NAMES:
        d = root / name.split("-")[0] / name
        (d / "img").mkdir(parents=True)
        (d / "groundtruth.txt").write_text((annos / f"{name}.txt").read_text())
        absent = (annos / "absent" / f"{name}.txt").read_text().split()
        (d / "full_occlusion.txt").write_text(",".join(absent) + "\n")
        (d / "out_of_view.txt").write_text(",".join("0" for _ in absent) + "\n")
        gt = np.loadtxt(annos / f"{name}.txt", delimiter=",")
        for tracker, noise in (("exact", 0.0), ("noisy", 4.0)):
            out = tmp_path / "results" / "lasot" / tracker
            out.mkdir(parents=True, exist_ok=True)
            np.savetxt(out / f"{name}.txt", gt + rng.normal(0, noise, gt.shape), fmt="%.2f", delimiter=",")
    return root, annos, tmp_path / "results"


def test_every_scoring_command_on_lasot_without_images(lasot, tmp_path, capsys):
    root, annos, results = lasot
    common = ["-b", "lasot", "--results", str(results)]
    assert main(["evaluate", *common, "--root", str(root), "--json", str(tmp_path / "a.json")]) == 0
    captured = capsys.readouterr()
    # the partial dataset is one plain warning line, not Python's file:line format
    warning = [line for line in captured.err.splitlines() if "277 of 280" in line]
    assert warning and warning[0].startswith("globaltrack evaluate: warning: lasot split 'test'")
    assert "UserWarning" not in captured.err and ".py:" not in captured.err
    by_root = json.loads((tmp_path / "a.json").read_text())
    # the toolkit's annos folder gives the same scores (same rows for these sequences)
    assert main(["evaluate", *common, "--annos", str(annos), "--sequences", ",".join(NAMES),
                 "--json", str(tmp_path / "b.json")]) == 0
    by_annos = json.loads((tmp_path / "b.json").read_text())
    for t in ("exact", "noisy"):
        assert by_root["trackers"][t]["auc"] == pytest.approx(by_annos["trackers"][t]["auc"], abs=1e-12)
    assert by_root["trackers"]["noisy"]["auc"] < by_root["trackers"]["exact"]["auc"]
    reports = tmp_path / "reports"
    for cmd in (["report"], ["leaderboard"], ["plot", "--kind", "success"], ["plot", "--kind", "trace",
                                                                           "--sequence", "bear-2"]):
        for where in (["--root", str(root)], ["--annos", str(annos), "--sequences", "airplane-1,bear-2"]):
            assert main([*cmd, *common, *where, "--reports", str(reports)]) == 0, (cmd, where)
    assert (reports / "lasot.html").is_file() and (reports / "lasot_success.svg").is_file()
    assert (reports / "lasot_leaderboard.csv").is_file()
    capsys.readouterr()
    # export: a partial set fails unless --partial, by --root and by --annos --sequences alike
    sub = tmp_path / "sub"
    assert main(["export", *common, "--root", str(root), "-t", "exact", "--out", str(sub)]) == 2
    assert "3 of 280" in capsys.readouterr().err
    assert main(["export", *common, "--annos", str(annos), "--sequences", "bear-2", "-t", "exact",
                 "--out", str(sub)]) == 2
    assert main(["export", *common, "--root", str(root), "-t", "exact", "--out", str(sub), "--partial"]) == 0
    assert sorted(p.name for p in sub.iterdir()) == [f"{n}.txt" for n in NAMES]
    assert main(["validate-submission", str(sub), "-b", "lasot", "--root", str(root)]) == 0
    assert main(["validate-submission", str(sub), "-b", "lasot", "--annos", str(annos),
                 "--sequences", ",".join(NAMES)]) == 0
    # a row missing from one file: the row count comes from the annotations when there are no images
    lines = (sub / "bear-2.txt").read_text().splitlines()
    (sub / "bear-2.txt").write_text("\n".join(lines[:-1]) + "\n")
    capsys.readouterr()
    assert main(["validate-submission", str(sub), "-b", "lasot", "--root", str(root)]) == 1
    assert f"{len(lines) - 1} rows, expected {len(lines)}" in capsys.readouterr().out


def test_running_a_tracker_still_needs_the_images(lasot):
    from globaltrack.benchmarks import load_sequences
    from globaltrack.errors import AnnotationError

    root, _, _ = lasot
    with pytest.raises(AnnotationError, match="no images"):
        load_sequences("lasot", root, names=["bear-2"])
    seq = load_sequences("lasot", root, names=["bear-2"], annotations_only=True)[0]
    assert seq.frames == [] and len(seq.ground_truth) > 100


def test_trackingnet_with_annotations_only(tmp_path, capsys):
    rng = np.random.default_rng(1)
    root, results = tmp_path / "TrackingNet", tmp_path / "results"
    for chunk in ("TRAIN_0", "TEST"):
        (root / chunk / "anno").mkdir(parents=True)
    (results / "trackingnet" / "mine").mkdir(parents=True)
    for k in range(3):
        gt = np.cumsum(rng.normal(0, 2, (20, 4)), 0) + [100, 100, 50, 40]
        np.savetxt(root / "TRAIN_0" / "anno" / f"v{k}.txt", gt, fmt="%.2f", delimiter=",")
        np.savetxt(root / "TEST" / "anno" / f"v{k}.txt", gt[:1], fmt="%.2f", delimiter=",")   # first box only
        np.savetxt(results / "trackingnet" / "mine" / f"v{k}.txt", gt + rng.normal(0, 2, gt.shape), fmt="%.2f",
                   delimiter=",")
    common = ["-b", "trackingnet", "--root", str(root), "--results", str(results)]
    assert main(["evaluate", *common, "--split", "TRAIN_0"]) == 0
    assert "trackingnet / protocol trackingnet (3 sequences)" in capsys.readouterr().out
    assert main(["report", *common, "--split", "TRAIN_0", "--reports", str(tmp_path / "rep")]) == 0
    out = tmp_path / "sub.zip"
    assert main(["export", *common, "-t", "mine", "--out", str(out)]) == 2          # 3 of the 511 TEST videos
    assert "3 of 511" in capsys.readouterr().err
    assert main(["export", *common, "-t", "mine", "--out", str(out), "--partial"]) == 0
    assert main(["validate-submission", str(out), "-b", "trackingnet", "--root", str(root)]) == 0
    assert main(["evaluate", *common, "--annos", str(root)]) == 2                      # no toolkit annos folder
    assert "takes no --annos" in capsys.readouterr().err


def test_import_counts_official_sequences_not_under_root(tmp_path, capsys):
    otb = shared_path("data", "sequences", "otb")
    src = shared_path("data", "raw_results", "otb100", "DaSiamRPN")
    assert main(["import", "-b", "otb2015", "--root", str(otb), "-t", "Da", "-f", "pysot",
                 "--results", str(tmp_path / "r"), str(src)]) == 0
    out = capsys.readouterr().out
    assert "not a sequence of" not in out
    assert "96 result files skipped: official sequences not under --root (e.g. Basketball" in out

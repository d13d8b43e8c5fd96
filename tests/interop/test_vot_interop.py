"""VOT toolkit interop: `globaltrack vot-setup` writes a workspace the real toolkit (vot-toolkit 0.9.0) loads, and
`vot test` / `vot evaluate` / `vot analysis` run our trackers through the TraX server on a local one-sequence stack
(the first 40 frames of VOT's `bag`)."""
import configparser
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, shared_path
from globaltrack.harness.cli import main
from globaltrack.sequence import read_image
from globaltrack.trackers import TRACKERS, create_tracker, tracker_availability

FRAMES = 40
needs_vot = pytest.mark.skipif(importlib.util.find_spec("vot") is None or importlib.util.find_spec("trax") is None,
                               reason="vot-toolkit / vot-trax not installed")


def nanotrack_dir():
    p = REPO.parent / "shared" / "data" / "weights" / "nanotrack_v2"
    return p if p.is_dir() else None


def setup(tmp_path, trackers="kcf", extra=(), frames=FRAMES):
    bag = shared_path("data", "sequences", "vot", "bag")
    ws = tmp_path / "ws"
    argv = ["vot-setup", "--workspace", str(ws), "--trackers", trackers, "--sequences", str(bag),
            "--frames", str(frames), *extra]
    assert main(argv) == 0
    return ws, bag


def vot(ws, *args, timeout=240):
    """Run the real toolkit CLI (same interpreter) in the workspace; it exits 0 even on logged errors, so callers
    check its messages."""
    proc = subprocess.run([sys.executable, "-m", "vot", *args], cwd=ws, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@needs_vot
def test_vot_setup_writes_a_workspace_the_toolkit_loads(tmp_path):
    ws, bag = setup(tmp_path, "kcf,static", extra=["--opt", "static:foo=1%x"])
    from vot.workspace import Workspace

    workspace = Workspace.load(str(ws))
    assert sorted(workspace.registry.identifiers()) == ["kcf", "static"]
    seq = workspace.dataset["bag"]
    assert len(seq) == FRAMES
    gt_lines = (bag / "groundtruth.txt").read_text().split()
    assert np.allclose(np.array(seq.groundtruth(FRAMES - 1).points()).ravel(),
                       [float(v) for v in gt_lines[FRAMES - 1].split(",")], atol=1e-4)
    assert Path(seq.frame(0).filename()).resolve() == (bag / "00000001.jpg").resolve()
    # options reach only the named tracker, '%' survives the toolkit's ConfigParser interpolation
    ini = configparser.ConfigParser()
    ini.read(ws / "trackers.ini")
    assert ini["static"]["protocol"] == "traxpython"
    assert "'--opt', 'foo=1%x'" in ini["static"]["command"] and "--opt" not in ini["kcf"]["command"]
    runtime = workspace.registry["kcf"].runtime()
    assert "globaltrack.interop.trax_server" in runtime._command
    # re-running adds trackers without losing the others
    assert main(["vot-setup", "--workspace", str(ws), "--trackers", "mil", "--sequences", str(bag),
                 "--frames", "10"]) == 0
    assert sorted(Workspace.load(str(ws)).registry.identifiers()) == ["kcf", "mil", "static"]


def test_vot_setup_rejects_bad_input(tmp_path, capsys):
    bag = shared_path("data", "sequences", "vot", "bag")
    assert main(["vot-setup", "-w", str(tmp_path / "a"), "-t", "no_such_tracker", "--sequences", str(bag)]) == 2
    assert main(["vot-setup", "-w", str(tmp_path / "a"), "-t", "kcf", "--sequences", str(bag),
                 "--opt", "mil:x=1"]) == 2
    assert main(["vot-setup", "-w", str(tmp_path / "a"), "-t", "kcf", "--sequences", str(tmp_path)]) == 2
    assert main(["vot-setup", "-w", str(tmp_path / "a"), "-t", "kcf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and "unknown tracker 'no_such_tracker'" in err[0] and "'mil' is not among" in err[1]
    assert "no VOT sequences" in err[2] and "needs sequences" in err[3]


def test_trax_server_construction_error_is_one_line(capsys):
    from globaltrack.interop.trax_server import main as trax_main

    assert trax_main(["nanotrack"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "backbone=" in err


@needs_vot
def test_vot_test_evaluate_analysis_with_kcf_and_nanotrack(tmp_path):
    nano = nanotrack_dir()
    trackers = "kcf,nanotrack" if nano else "kcf"
    extra = ["--opt", f"nanotrack:models={nano}"] if nano else []
    ws, bag = setup(tmp_path, trackers, extra)

    rc, out = vot(ws, "test", "kcf")
    assert rc == 0 and "Test concluded successfuly" in out, out[-2000:]

    names = trackers.split(",")
    rc, out = vot(ws, "evaluate", *names)
    assert rc == 0 and "Evaluation concluded successfuly" in out, out[-2000:]

    # the toolkit's stored trajectory is exactly what our tracker gives on the same frames, and confidence is
    # the tracker's score
    from vot.workspace import Workspace

    workspace = Workspace.load(str(ws))
    seq = workspace.dataset["bag"]
    exp = workspace.stack["longterm"]
    frames = sorted(bag.glob("*.jpg"))[:FRAMES]
    pts = np.array(seq.groundtruth(0).points())
    init = np.r_[pts.min(0), pts.max(0) - pts.min(0)]  # TraX hands a rectangle server the polygon's bounds
    for name in names:
        traj = exp.gather(workspace.registry[name], seq)[0]
        assert len(traj) == FRAMES
        opts = {"models": str(nano)} if name == "nanotrack" else {}
        t = create_tracker(name, **opts)
        t.init(read_image(frames[0]), init)
        for i in range(1, FRAMES):
            pred = t.update(read_image(frames[i]))
            r = traj.region(i)
            assert np.allclose([r.x, r.y, r.width, r.height], pred.box, atol=1e-3), (name, i)
            assert traj.properties(i)["confidence"] == pytest.approx(pred.score, rel=1e-5, abs=1e-6)

    rc, out = vot(ws, "analysis", *names, "--name", "check")
    assert rc == 0 and "Analysis successful" in out, out[-2000:]
    report = json.loads((ws / "analysis" / "check.json").read_text())
    assert set(report["trackers"]) == set(names)
    results = report["results"]["longterm"]
    analyses = [a["name"] for a in results["parameters"]["analyses"]]
    assert analyses == ["average_tpr", "pr_curve", "f_curve", "accuracy"]
    pr = results["results"][0]  # average_tpr: per tracker (precision, recall, F)
    assert len(pr) == len(names)
    for row in pr:
        assert len(row) == 3 and all(0.0 <= v <= 1.0 for v in row)
    accuracy = results["results"][3]
    assert len(accuracy) == len(names) and all(0.0 < row[0] <= 1.0 for row in accuracy)


def vot_test_globaltrack(tmp_path, extra):
    # vot-setup builds the tracker once, so bad weights fail there rather than in the toolkit's log
    ws, _ = setup(tmp_path, "globaltrack", extra=extra, frames=12)
    ini = configparser.ConfigParser()
    ini.read(ws / "trackers.ini")
    assert int(ini["globaltrack"]["timeout"]) >= 120  # model loading on a CPU needs more than the toolkit's 30 s
    # 12 frames of bag instead of the toolkit's 50-frame 640x480 dummy: same protocol path, less CPU time
    rc, out = vot(ws, "test", "globaltrack", "--sequence", "sequences/bag", timeout=500)
    assert rc == 0 and "Test concluded successfuly" in out, out[-2000:]
    assert "confidence=" in out  # the TraX replies carry GlobalTrack's score


@needs_vot
def test_vot_test_passes_for_globaltrack_when_its_weights_exist(tmp_path):
    if "globaltrack" not in TRACKERS.names():
        pytest.skip("tracker 'globaltrack' is not registered yet")
    ok, why = tracker_availability("globaltrack")
    if not ok:
        pytest.skip(f"GlobalTrack default weights not available ({why})")
    vot_test_globaltrack(tmp_path, ["--opt", "device=cpu"])


@needs_vot
def test_vot_test_passes_for_globaltrack_with_a_random_tiny_checkpoint(tmp_path):
    """The TraX integration of GlobalTrack, independent of trained weights (the scores are meaningless)."""
    pytest.importorskip("torch")
    try:
        from globaltrack.trackers.globaltrack.checkpoint import save_checkpoint
        from globaltrack.trackers.globaltrack.model import GlobalTrackModel
    except ImportError as err:
        pytest.skip(f"GlobalTrack model code not importable: {err}")
    import torch

    torch.manual_seed(0)
    weights = save_checkpoint(GlobalTrackModel("tiny"), tmp_path / "random_tiny.pth")
    vot_test_globaltrack(tmp_path, ["--opt", f"weights={weights}", "--opt", "config=tiny"])


@needs_vot
def test_vot_setup_exports_a_registered_benchmark_with_absent_frames(tmp_path):
    synthetic = pytest.importorskip("globaltrack.benchmarks.synthetic")
    from globaltrack.benchmarks import load_sequences
    from vot.region import Special
    from vot.workspace import Workspace

    root = synthetic.generate(tmp_path / "syn", seed=1, sequences=2, frames=100, size=(96, 72))
    seqs = {s.name: s for s in load_sequences("synthetic", root)}
    seq = max(seqs.values(), key=lambda s: int(s.absent.sum()))
    if not seq.absent.any() or seq.absent[0]:
        pytest.skip("the synthetic generator no longer gives a sequence with a later absence for this seed")
    ws = tmp_path / "ws"
    assert main(["vot-setup", "-w", str(ws), "-t", "static", "--benchmark", "synthetic", "--root", str(root),
                 "--sequence-names", seq.name]) == 0
    vseq = Workspace.load(str(ws)).dataset[seq.name]
    assert len(vseq) == len(seq.frames)
    for i in range(len(vseq)):
        region = vseq.groundtruth(i)
        if seq.absent[i]:
            assert isinstance(region, Special)  # VOT's "0": target not visible
        else:
            assert np.allclose([region.x, region.y, region.width, region.height], seq.ground_truth[i], atol=1e-3)


def test_sequences_without_a_first_box_are_skipped_with_a_note():
    from globaltrack.interop.vot import from_sequences
    from globaltrack.sequence import Sequence

    good = Sequence("good", frames=["a.jpg", "b.jpg"], ground_truth=[[1, 2, 3, 4], [0, 0, 0, 0]], absent=[0, 1])
    bad = Sequence("bad", frames=["a.jpg", "b.jpg"], ground_truth=[[0, 0, 0, 0], [1, 2, 3, 4]], absent=[1, 0])
    notes = []
    out = from_sequences([bad, good], notes)
    assert [s.name for s in out] == ["good"] and out[0].groundtruth == ["1.0000,2.0000,3.0000,4.0000", "0"]
    assert len(notes) == 1 and "'bad'" in notes[0]


@needs_vot
def test_integrated_stack_is_named_not_downloaded_and_a_stack_change_needs_force(tmp_path, capsys):
    from vot.stack import list_integrated_stacks

    assert "vot2022/longterm" in list_integrated_stacks()
    ws = tmp_path / "ws"
    assert main(["vot-setup", "-w", str(ws), "-t", "kcf", "--stack", "vot2022/longterm"]) == 0
    assert "stack: vot2022/longterm" in (ws / "config.yaml").read_text()
    assert (ws / "sequences").is_dir() and not any((ws / "sequences").iterdir())  # the toolkit downloads later
    assert main(["vot-setup", "-w", str(ws), "-t", "kcf", "--stack", "vot2020/shortterm"]) == 2
    assert main(["vot-setup", "-w", str(ws), "-t", "kcf", "--stack", "no/such_stack"]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "unknown VOT stack 'no/such_stack'" in err
    assert main(["vot-setup", "-w", str(ws), "-t", "kcf", "--stack", "vot2020/shortterm", "--force"]) == 0
    assert "stack: vot2020/shortterm" in (ws / "config.yaml").read_text()

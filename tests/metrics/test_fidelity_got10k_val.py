"""The got10k package's own ExperimentGOT10k.report (val subset) on a small GOT-10k-layout folder built here, against
our got10k-val protocol reading the same folder through the benchmark adapter: AO, SR, speed and the 101-point
success curve, overall (frame-pooled) and per sequence."""
from __future__ import annotations

import numpy as np
import pytest

from globaltrack.scoring.evaluate import evaluate
from globaltrack.results.store import ResultStore, SequenceResult

W, H = 320, 240


def _dataset(root, rng):
    val = root / "val"
    names = [f"GOT-10k_Val_{i:06d}" for i in range(1, 4)]
    val.mkdir(parents=True)
    (val / "list.txt").write_text("\n".join(names) + "\n")
    data = {}
    for k, name in enumerate(names):
        n = 25 + 5 * k
        d = val / name
        d.mkdir()
        for i in range(1, n + 1):
            (d / f"{i:08d}.jpg").touch()                       # counted by got10k, never decoded
        xy = rng.uniform(0, 250, (n, 2))
        wh = rng.uniform(10, 90, (n, 2))
        gt = np.round(np.column_stack([xy, wh]), 1)
        gt[3] = [300, 200, 60, 60]                             # runs past the image: both sides get clipped
        cover = rng.integers(0, 9, n)
        cover[:2] = 8
        absence = (cover == 0).astype(int)
        np.savetxt(d / "groundtruth.txt", gt, fmt="%.1f", delimiter=",")
        np.savetxt(d / "cover.label", cover, fmt="%d")
        np.savetxt(d / "absence.label", absence, fmt="%d")
        np.savetxt(d / "cut_by_image.label", np.zeros(n, int), fmt="%d")
        (d / "meta_info.ini").write_text(f"[METAINFO]\nobject_class: cat\nresolution: ({W}, {H})\n")
        pred = gt + rng.normal(0, 8, gt.shape)
        pred[5] = [-20, -20, 50, 50]                           # partly outside on the top-left
        pred[6] = [400, 300, 20, 20]                           # entirely outside
        times = np.concatenate([[0.5], rng.uniform(0.01, 0.05, n - 1)])
        data[name] = (np.round(pred, 3), times)
    return names, data


def test_got10k_val_equals_got10k_package(tmp_path, monkeypatch):
    pytest.importorskip("got10k")
    from got10k.experiments import ExperimentGOT10k

    from globaltrack.benchmarks import load_sequences

    names, data = _dataset(tmp_path / "GOT-10k", np.random.default_rng(7))
    rdir = tmp_path / "got10k_results" / "GOT-10k" / "T"
    for name, (pred, times) in data.items():
        (rdir / name).mkdir(parents=True)
        np.savetxt(rdir / name / f"{name}_001.txt", pred, fmt="%.3f", delimiter=",")
        np.savetxt(rdir / name / f"{name}_time.txt", times, fmt="%.8f")
    monkeypatch.setattr(ExperimentGOT10k, "plot_curves", lambda self, files, names: None)
    exp = ExperimentGOT10k(str(tmp_path / "GOT-10k"), subset="val", result_dir=str(tmp_path / "got10k_results"),
                           report_dir=str(tmp_path / "rep"))
    ref = exp.report(["T"])["T"]

    seqs = load_sequences("got10k", str(tmp_path / "GOT-10k"), "val")
    store = ResultStore(tmp_path / "ours")
    for name, (pred, times) in data.items():
        times_8 = np.array([float(f"{t:.8f}") for t in times])            # as the time file stores them
        store.write("got10k", "T", name, SequenceResult(np.round(pred, 3), times=times_8))
    ev = evaluate(seqs, store, "got10k", ["T"])                              # default protocol of the adapter
    ours = ev.trackers["T"]
    assert ev.protocol == "got10k-val"
    assert ours.scores["ao"] == pytest.approx(ref["overall"]["ao"], abs=1e-9)
    assert ours.scores["sr50"] == pytest.approx(ref["overall"]["sr"], abs=1e-9)
    assert ours.scores["fps"] == pytest.approx(ref["overall"]["speed_fps"], abs=1e-6)
    np.testing.assert_allclose(ours.curves["success"][1], ref["overall"]["succ_curve"], atol=1e-9, rtol=0)
    for name in names:
        assert ours.per_sequence[name]["ao"] == pytest.approx(ref["seq_wise"][name]["ao"], abs=1e-9)
        assert ours.per_sequence[name]["sr50"] == pytest.approx(ref["seq_wise"][name]["sr"], abs=1e-9)

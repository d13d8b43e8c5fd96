import json
import os
from pathlib import Path

import numpy as np
import pytest

from globaltrack import Prediction, Sequence
from globaltrack.benchmarks import load_sequences
from globaltrack.errors import UserError
from globaltrack.harness.runner import run_trackers
from globaltrack.results.store import ResultStore, parse_boxes
from globaltrack.trackers import register_tracker
from globaltrack.trackers.diagnostic import FaultyTracker, SleepyTracker, StaticTracker

# Test-only trackers (registry names are process-global, so prefixed; `test_only` keeps them out of the demo).
CALLS: dict[str, list] = {"batches": [], "order": []}


class _BatchRecorder(StaticTracker):
    """Moves its box by one pixel per frame; records the size of every `track_batch` call."""

    def init(self, image, box):
        super().init(image, box)
        self._i = 0

    def update(self, image):
        self._i += 1
        return Prediction(self._box + [self._i, 0, 0, 0], score=0.5)

    def track_batch(self, images):
        CALLS["batches"].append(len(images))
        return [self.update(im) for im in images]


class _OrderRecorder(StaticTracker):
    def set_sequence(self, sequence):
        CALLS["order"].append(sequence.name)


register_tracker("test-harness-batch", test_only=True)(lambda **o: _BatchRecorder())
register_tracker("test-harness-order", test_only=True)(lambda **o: _OrderRecorder())
register_tracker("test-harness-sleepy", test_only=True, diagnostic=True)(
    lambda delay="0", **o: SleepyTracker(delay=float(delay)))
register_tracker("test-harness-faulty", test_only=True)(
    lambda fail="raise", on="", at="1", **o: FaultyTracker(fail=fail, on=on, at=int(at)))


def _boxes(root, tracker, bench="synthetic"):
    d = root / bench / tracker
    return {p.name: p.read_text() for p in sorted(d.glob("*.txt"))}


def test_results_manifest_and_first_frame_convention(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path)
    summary = run_trackers([("static", {}), ("oracle", {"noise": "0.1"})], tiny_sequences, "synthetic", store,
                           quiet=True)
    assert summary.ok and summary.frames == 2 * sum(len(s) for s in tiny_sequences)
    for seq in tiny_sequences:
        got = store.read("synthetic", "oracle", seq.name)
        assert got.boxes.shape == (len(seq), 4)
        # frame 0 is the init box itself, its time the init time; every frame has a time
        assert np.array_equal(got.boxes[0], seq.ground_truth[0])
        assert np.all(np.isfinite(got.times)) and np.all(got.times >= 0)
        # full precision: the noisy oracle boxes are not rounded
        assert any(len(v) > 8 for v in store.box_path("synthetic", "oracle", seq.name).read_text().split(",")[4:8])
        assert np.array_equal(store.read_boxes("synthetic", "static", seq.name),
                              np.repeat(seq.ground_truth[:1], len(seq), axis=0))
    m = store.read_manifest("synthetic", "oracle")
    assert m["tracker"] == "oracle" and m["options"] == {"noise": "0.1"} and m["diagnostic"] is True
    assert m["status"] == "complete" and m["failures"] == {} and m["finished"] and m["started"]
    assert set(m["speed"]["per_sequence"]) == {s.name for s in tiny_sequences}
    assert m["speed"]["fps"] > 0 and m["speed"]["throughput_fps"] > 0
    assert m["machine"]["cpu_cores"] >= 1 and "cpu_model" in m["machine"] and "gpus" in m["machine"]
    assert m["libraries"]["numpy"] == np.__version__ and m["package_version"]
    assert "git_commit" in m


def test_oracle_gets_the_sequence_and_follows_ground_truth(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path)
    run_trackers([("oracle", {})], tiny_sequences, "synthetic", store, quiet=True)
    for seq in tiny_sequences:
        got = store.read("synthetic", "oracle", seq.name)
        visible = ~seq.absent
        assert np.array_equal(got.boxes[visible], seq.ground_truth[visible])
        assert not got.present[seq.absent].any()


def test_parallel_processes_give_the_same_results(tiny_sequences, tmp_path):
    one, two = ResultStore(tmp_path / "one"), ResultStore(tmp_path / "two")
    run_trackers([("oracle", {"noise": "0.2"})], tiny_sequences, "synthetic", one, jobs=1, quiet=True)
    s = run_trackers([("oracle", {"noise": "0.2"})], tiny_sequences, "synthetic", two, jobs=2, quiet=True)
    assert s.ok and _boxes(one.root, "oracle") == _boxes(two.root, "oracle")
    assert two.read_manifest("synthetic", "oracle")["run"]["jobs"] == 2


def test_dask_cluster_gives_the_same_results_as_a_local_run(tiny_sequences, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local, remote = ResultStore(tmp_path / "local"), ResultStore(tmp_path / "dask")
    trackers = [("oracle", {"noise": "0.3"}), ("static", {})]
    run_trackers(trackers, tiny_sequences, "synthetic", local, quiet=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1",
                                  protocol="tcp", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        summary = run_trackers(trackers, tiny_sequences, "synthetic", remote, backend="dask",
                               scheduler=cluster.scheduler_address, quiet=True)
        # a user error in a Dask worker reaches the caller as the same UserError
        with pytest.raises(UserError, match="tracker 'oracle' cannot be created with noise=lots"):
            run_trackers([("oracle", {"noise": "lots"})], tiny_sequences, "synthetic", ResultStore(tmp_path / "x"),
                         backend="dask", scheduler=cluster.scheduler_address, quiet=True)
    assert summary.ok and len(summary.done["oracle"]) == len(tiny_sequences)
    for t in ("oracle", "static"):
        assert _boxes(local.root, t) == _boxes(remote.root, t)
    assert remote.read_manifest("synthetic", "oracle")["run"]["backend"] == "dask"


def test_resume_skips_current_results_and_force_or_new_options_rerun(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path)
    first = run_trackers([("oracle", {"noise": "0.1"})], tiny_sequences, "synthetic", store, quiet=True)
    assert len(first.done["oracle"]) == 4
    again = run_trackers([("oracle", {"noise": "0.1"})], tiny_sequences, "synthetic", store, quiet=True)
    assert again.done["oracle"] == [] and len(again.skipped["oracle"]) == 4
    m = store.read_manifest("synthetic", "oracle")
    assert set(m["speed"]["per_sequence"]) == {s.name for s in tiny_sequences}  # earlier speeds carried over
    # the speed of reused results comes from their sidecars, even when the manifest lags behind (killed run)
    (store.tracker_dir("synthetic", "oracle") / "manifest.json").unlink()
    run_trackers([("oracle", {"noise": "0.1"})], tiny_sequences, "synthetic", store, quiet=True)
    assert store.read_manifest("synthetic", "oracle")["speed"]["per_sequence"] == m["speed"]["per_sequence"]
    forced = run_trackers([("oracle", {"noise": "0.1"})], tiny_sequences, "synthetic", store, force=True,
                          quiet=True)
    assert len(forced.done["oracle"]) == 4
    # other options would overwrite the run: refused (name the variant), unless --force replaces it
    with pytest.raises(UserError, match="would overwrite it"):
        run_trackers([("oracle", {"noise": "0.2"})], tiny_sequences[:2], "synthetic", store, quiet=True)
    named = run_trackers([("oracle", {"noise": "0.2", "name": "oracle-0.2"})], tiny_sequences[:2], "synthetic",
                         store, quiet=True)
    assert len(named.done["oracle-0.2"]) == 2 and store.read_key("synthetic", "oracle", tiny_sequences[0].name)
    assert store.read_manifest("synthetic", "oracle-0.2")["tracker"] == "oracle"
    assert store.read_provenance("synthetic", "oracle-0.2", tiny_sequences[0].name)["options"] == {"noise": "0.2"}
    changed = run_trackers([("oracle", {"noise": "0.2"})], tiny_sequences[:2], "synthetic", store, quiet=True,
                           force=True)
    assert len(changed.done["oracle"]) == 2
    # a result whose key file is missing (killed between the box file and the key) is recomputed
    store.key_path("synthetic", "oracle", tiny_sequences[0].name).unlink()
    later = run_trackers([("oracle", {"noise": "0.2"})], tiny_sequences[:2], "synthetic", store, quiet=True)
    assert later.done["oracle"] == [tiny_sequences[0].name]


def test_failure_isolation_a_raising_tracker_costs_one_sequence(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path)
    raise_on = tiny_sequences[0].name
    # a stale complete result of a sequence that now fails must not survive as if it were this run's
    run_trackers([("test-harness-faulty", {"on": ""})], tiny_sequences, "synthetic", ResultStore(tmp_path),
                 quiet=True)
    t_raise = ("test-harness-faulty", {"fail": "raise", "on": raise_on, "at": "5"})
    summary = run_trackers([t_raise], tiny_sequences, "synthetic", store, quiet=True, force=True)

    assert not summary.ok and summary.n_failed == 1 and "1 sequence failed" in str(summary)
    reason = store.read_manifest("synthetic", "test-harness-faulty")["failures"][raise_on]
    assert reason.startswith("frame index 5: RuntimeError: faulty tracker raised on purpose")
    tb = store.read_manifest("synthetic", "test-harness-faulty")["failure_tracebacks"][raise_on]
    assert "in update" in tb and "raise RuntimeError" in tb
    assert len(summary.done["test-harness-faulty"]) == 3
    assert raise_on not in store.sequences("synthetic", "test-harness-faulty")
    assert store.read_key("synthetic", "test-harness-faulty", raise_on) is None


@pytest.mark.parametrize("fail, bad_box", [("nan", [np.nan, 0, 10, 10]), ("negative", [0, 0, -5, 10])])
def test_a_nan_or_negative_box_is_stored_as_returned_and_counted(tiny_sequences, tmp_path, fail, bad_box):
    store = ResultStore(tmp_path)
    on = tiny_sequences[1].name
    summary = run_trackers([("test-harness-faulty", {"fail": fail, "on": on, "at": "7"})], tiny_sequences,
                           "synthetic", store, quiet=True)
    assert summary.ok and summary.n_failed == 0
    assert sorted(store.sequences("synthetic", "test-harness-faulty")) == sorted(s.name for s in tiny_sequences)
    boxes = store.read_boxes("synthetic", "test-harness-faulty", on)
    n = len(tiny_sequences[1])
    assert boxes.shape == (n, 4)
    np.testing.assert_array_equal(boxes[7:], np.repeat([bad_box], n - 7, axis=0))  # kept exactly as returned
    np.testing.assert_array_equal(boxes[:7], np.repeat(tiny_sequences[1].ground_truth[:1], 7, axis=0))
    m = store.read_manifest("synthetic", "test-harness-faulty")
    assert m["status"] == "complete" and m["failures"] == {}
    assert m["invalid_boxes"] == {on: {"count": n - 7, "first_frame": 7}} and m["sequences"]["invalid_boxes"] == n - 7
    assert f"returned {n - 7} NaN, infinite or negative-size boxes" in str(summary)
    # a resume keeps the count (read back from the stored boxes)
    again = run_trackers([("test-harness-faulty", {"fail": fail, "on": on, "at": "7"})], tiny_sequences,
                         "synthetic", store, quiet=True)
    assert again.done["test-harness-faulty"] == [] and again.invalid_boxes["test-harness-faulty"] == n - 7


def test_tracker_speed_is_its_own_time_and_survives_a_resume(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path)
    first = run_trackers([("test-harness-sleepy", {"delay": "0.002"}), ("static", {})], tiny_sequences[:2],
                         "synthetic", store, quiet=True)
    m = store.read_manifest("synthetic", "test-harness-sleepy")
    sp = m["speed"]
    frames = sum(len(s) for s in tiny_sequences[:2])
    assert sp["tracker_frames"] == frames and sp["tracker_seconds"] >= 0.002 * (frames - 2)
    assert sp["tracker_fps"] == pytest.approx(frames / sp["tracker_seconds"])
    assert sp["tracker_fps"] < 520  # 2 ms a frame at least: its own time, not the command's
    assert sp["hardware"].startswith("CPU: ") and first.tracker_fps["test-harness-sleepy"] == sp["tracker_fps"]
    # static, run alongside, is much faster by its own clock than the command's throughput says
    assert store.read_manifest("synthetic", "static")["speed"]["tracker_fps"] > 5 * sp["tracker_fps"]
    # a second command adds two sequences: the tracker's totals cover all four, not only the resumed part
    run_trackers([("test-harness-sleepy", {"delay": "0.002"})], tiny_sequences, "synthetic", store, quiet=True)
    sp2 = store.read_manifest("synthetic", "test-harness-sleepy")["speed"]
    assert sp2["tracker_frames"] == sum(len(s) for s in tiny_sequences)
    assert sp2["tracker_seconds"] > sp["tracker_seconds"]
    assert set(sp2["per_sequence_time"]) == {s.name for s in tiny_sequences}


def test_batched_tracking_matches_frame_by_frame(tiny_sequences, tmp_path):
    CALLS["batches"].clear()
    single, batched = ResultStore(tmp_path / "1"), ResultStore(tmp_path / "4")
    run_trackers([("test-harness-batch", {})], tiny_sequences[:1], "synthetic", single, quiet=True)
    assert CALLS["batches"] == []  # without option batch, update() frame by frame
    run_trackers([("test-harness-batch", {"batch": "4"})], tiny_sequences[:1], "synthetic", batched, quiet=True)
    n = len(tiny_sequences[0]) - 1  # frame 0 is init
    assert CALLS["batches"] == [4] * (n // 4) + ([n % 4] if n % 4 else [])
    assert _boxes(single.root, "test-harness-batch") == _boxes(batched.root, "test-harness-batch")


def test_longest_sequences_are_scheduled_first(tiny_sequences, tmp_path):
    CALLS["order"].clear()
    base = tiny_sequences[0]
    seqs = [Sequence(f"len{n}", frames=base.frames[:n], ground_truth=base.ground_truth[:n]) for n in (5, 20, 9, 30)]
    run_trackers([("test-harness-order", {})], seqs, "synthetic", ResultStore(tmp_path), quiet=True)
    assert CALLS["order"] == ["len30", "len20", "len9", "len5"]


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "deleted"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_bad_frame_costs_its_sequence_and_the_run_goes_on(tiny_copy, tmp_path, damage, jobs):
    seqs = load_sequences("synthetic", tiny_copy)
    store = ResultStore(tmp_path / "r")
    run_trackers([("oracle", {})], seqs, "synthetic", store, quiet=True)  # finished results before the damage
    before = {s.name: store.box_path("synthetic", "oracle", s.name).read_bytes() for s in seqs}
    bad = Path(seqs[1].frames[2])
    if damage == "empty":
        bad.write_bytes(b"")
    elif damage == "garbage":
        bad.write_bytes(b"garbage")
    elif damage == "truncated":
        bad.write_bytes(bad.read_bytes()[:200])
    else:
        bad.unlink()
    summary = run_trackers([("oracle", {}), ("static", {})], seqs, "synthetic", store, jobs=jobs, quiet=True,
                           force=True)
    assert not summary.ok and summary.n_failed == 2  # the damaged sequence, for each tracker
    for t in ("oracle", "static"):
        reason = summary.failures[t][seqs[1].name]
        assert reason.startswith(f"{bad}: ") and len(reason.splitlines()) == 1, reason
        assert sorted(summary.done[t]) == sorted(s.name for s in seqs if s is not seqs[1])
        assert store.read_manifest("synthetic", t)["failures"] == {seqs[1].name: reason}
    words = {"empty": "empty (0 bytes)", "garbage": "cannot decode frame", "truncated": "cannot decode frame",
             "deleted": "frame file is missing"}
    assert words[damage] in summary.failures["oracle"][seqs[1].name]
    for s in seqs:  # the other sequences' results are the same files as before
        if s is not seqs[1]:
            assert store.box_path("synthetic", "oracle", s.name).read_bytes() == before[s.name]


def test_a_malformed_annotation_costs_its_sequence_only(tiny_copy, tmp_path):
    store = ResultStore(tmp_path / "r")
    good = load_sequences("synthetic", tiny_copy)
    run_trackers([("static", {})], good, "synthetic", store, quiet=True)
    before = {s.name: store.box_path("synthetic", "static", s.name).read_bytes() for s in good}
    gt = Path(good[2].metadata["path"]) / "groundtruth.txt"
    lines = gt.read_text().splitlines()
    lines[4] = "1,2,x,4"
    gt.write_text("\n".join(lines) + "\n")
    # a selection that leaves the bad sequence out never reads it
    chosen = load_sequences("synthetic", tiny_copy, names=[good[0].name])
    assert [s.name for s in chosen] == [good[0].name]
    with pytest.raises(UserError, match=f"{gt}:5"):
        load_sequences("synthetic", tiny_copy)
    seqs = load_sequences("synthetic", tiny_copy, errors="collect")
    assert seqs[2].load_error.startswith(f"{gt}:5: ")
    summary = run_trackers([("static", {})], seqs, "synthetic", store, quiet=True, force=True)
    assert summary.failures["static"] == {good[2].name: seqs[2].load_error} and not summary.ok
    m = store.read_manifest("synthetic", "static")
    assert m["failures"] == {good[2].name: seqs[2].load_error} and m["status"] == "failed"
    assert sorted(summary.done["static"]) == sorted(s.name for s in good if s is not good[2])
    for s in good:  # finished results untouched, the bad sequence's earlier result included
        assert store.box_path("synthetic", "static", s.name).read_bytes() == before[s.name]


def test_a_first_box_that_cannot_initialise_costs_its_sequence(tiny_sequences, tmp_path):
    base = tiny_sequences[0]
    gt = base.ground_truth.copy()
    gt[0] = [np.nan, 1, 2, 3]
    seqs = [Sequence("nofirst", frames=base.frames, ground_truth=gt, metadata={"annotation": "/x/groundtruth.txt"}),
            tiny_sequences[1]]
    s = run_trackers([("static", {})], seqs, "synthetic", ResultStore(tmp_path), quiet=True)
    assert s.done["static"] == [tiny_sequences[1].name]
    assert s.failures["static"]["nofirst"].startswith("/x/groundtruth.txt:1: first ground-truth box")


def test_unknown_and_unavailable_trackers_and_bad_options_are_user_errors(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(UserError, match="unknown tracker 'nope'"):
        run_trackers([("nope", {})], tiny_sequences, "synthetic", store)
    register_tracker("test-harness-missing", test_only=True, available=lambda: (False, "needs weights.pth"))(
        lambda **o: StaticTracker())
    with pytest.raises(UserError, match="not available here: needs weights.pth"):
        run_trackers([("test-harness-missing", {})], tiny_sequences, "synthetic", store)
    # options can supply what the default set-up lacks (--opt weights=PATH): then the factory decides
    assert run_trackers([("test-harness-missing", {"weights": "w.pth"})], tiny_sequences, "synthetic", store,
                        quiet=True).ok
    with pytest.raises(UserError, match="tracker 'oracle' cannot be created with noise=abc"):
        run_trackers([("oracle", {"noise": "abc"})], tiny_sequences, "synthetic", store, quiet=True)
    with pytest.raises(UserError, match="listed twice"):
        run_trackers([("static", {}), ("static", {})], tiny_sequences, "synthetic", store)


def test_atomic_writes_leave_old_result_or_new_never_partial(tiny_sequences, tmp_path, monkeypatch):
    """A crash while writing (simulated at the rename) leaves the previous files intact and no key."""
    import globaltrack._io as io

    store = ResultStore(tmp_path)
    seq = tiny_sequences[:1]
    run_trackers([("oracle", {"noise": "0.1"})], seq, "synthetic", store, quiet=True)
    before = store.box_path("synthetic", "oracle", seq[0].name).read_text()
    real_replace = os.replace

    def crash(src, dst):
        if str(dst).endswith(".txt"):
            raise OSError("disk full (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        run_trackers([("oracle", {"noise": "0.2"})], seq, "synthetic", store, quiet=True, force=True)
    monkeypatch.undo()
    d = store.tracker_dir("synthetic", "oracle")
    assert store.box_path("synthetic", "oracle", seq[0].name).read_text() == before
    assert parse_boxes(before).shape == (len(seq[0]), 4)
    assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]
    json.loads((d / "manifest.json").read_text())  # the manifest is always whole
    # the old key still describes the old (complete) boxes, so a rerun with the new options recomputes
    again = run_trackers([("oracle", {"noise": "0.2"})], seq, "synthetic", store, quiet=True)
    assert again.done["oracle"] == [seq[0].name]


def test_backend_mistakes_are_user_errors_before_anything_is_written(tiny_sequences, tmp_path):
    store = ResultStore(tmp_path / "r")
    for kw, msg in (({"jobs": 0}, "--jobs must be a positive number"),
                    ({"backend": "dask"}, "needs --scheduler"),
                    ({"scheduler": "tcp://127.0.0.1:1"}, "only applies to --backend dask"),
                    ({"backend": "mpi"}, "unknown backend 'mpi'")):
        with pytest.raises(UserError, match=msg):
            run_trackers([("static", {})], tiny_sequences, "synthetic", store, **kw)
    assert not store.root.exists()


def test_progress_bar_counts_every_frame(tiny_sequences, tmp_path, monkeypatch):
    """On a terminal the bar reaches the total exactly, frame by frame in-process and per sequence otherwise."""
    from globaltrack.harness import progress as progress_mod

    seen = []

    class Bar:
        def __init__(self, total, **kw):
            self.total, self.n = total, 0

        def update(self, n):
            self.n += n
            seen.append(n)

        def set_postfix(self, *a, **k):
            pass

        def close(self):
            seen.append(("closed", self.n, self.total))

    class Tty:
        def isatty(self):
            return True

    import tqdm

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    import types

    monkeypatch.setattr(progress_mod, "sys", types.SimpleNamespace(stderr=Tty()))  # a terminal, for progress only
    total = sum(len(s) for s in tiny_sequences)
    for jobs in (1, 2):
        seen.clear()
        run_trackers([("static", {})], tiny_sequences, "synthetic", ResultStore(tmp_path / str(jobs)), jobs=jobs)
        assert seen[-1] == ("closed", total, total)
        if jobs == 1:
            assert seen.count(1) >= total - len(tiny_sequences)  # one update per frame
    seen.clear()
    run_trackers([("static", {})], tiny_sequences, "synthetic", ResultStore(tmp_path / "q"), quiet=True)
    assert seen == []

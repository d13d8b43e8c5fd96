"""evaluate(): store reading, content-keyed cache, missing/failed/imported/diagnostic flags, notes; the CLI."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from globaltrack.errors import UserError
from globaltrack.harness.cli import main
from globaltrack.scoring.evaluate import evaluate
from globaltrack.results.store import ResultStore, format_boxes
from globaltrack.sequence import Sequence

BOX = [10.0, 10.0, 10.0, 10.0]


def _write(store, bench, tracker, seq, boxes):
    p = store.box_path(bench, tracker, seq)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(format_boxes(np.asarray(boxes, float)))
    return p


def _seqs():
    return [Sequence("a", ground_truth=[BOX] * 4, attributes={"OCC": True}),
            Sequence("b", ground_truth=[BOX] * 4, absent=[0, 0, 1, 1], attributes={"OCC": False})]


def test_missing_file_is_an_error_unless_allowed(tmp_path):
    store = ResultStore(tmp_path)
    _write(store, "x", "T", "a", [BOX] * 4)
    with pytest.raises(UserError, match=r"b\.txt"):
        evaluate(_seqs(), store, "x", ["T"], protocol="lasot")
    ev = evaluate(_seqs(), store, "x", ["T"], protocol="lasot", allow_missing=True)
    t = ev.trackers["T"]
    assert t.missing == ["b"]
    assert any("all-zero prediction" in n for n in t.notes)
    # missing b = all-zero prediction: IoU 0 except frame 0 (GT): success(0) for b = 1/4; a = 1 -> mean 0.625
    assert t.curves["success"][1][0] == pytest.approx((1 + 0.25) / 2)
    # pytracking's skip_missing_seq excludes the sequence for every tracker
    _write(store, "x", "U", "a", [BOX] * 4)
    _write(store, "x", "U", "b", [BOX] * 4)
    ev = evaluate(_seqs(), store, "x", ["T", "U"], protocol="pytracking", allow_missing=True)
    assert ev.trackers["U"].per_sequence.keys() == {"a"}


def test_cache_is_keyed_by_content(tmp_path):
    store = ResultStore(tmp_path)
    _write(store, "x", "T", "a", [BOX] * 4)
    p = _write(store, "x", "T", "b", [BOX] * 4)
    first = evaluate(_seqs(), store, "x", ["T"], protocol="lasot").trackers["T"].scores
    assert list((tmp_path / ".cache").rglob("*.pkl"))
    again = evaluate(_seqs(), store, "x", ["T"], protocol="lasot").trackers["T"].scores
    assert again == first
    # same size, same mtime, different bytes: the stat shortcut would miss it, so force a new mtime
    st = os.stat(p)
    _write(store, "x", "T", "b", [BOX, BOX, [50.0, 50.0, 10.0, 10.0], BOX])
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    changed = evaluate(_seqs(), store, "x", ["T"], protocol="lasot").trackers["T"].scores
    assert changed == first   # re-read (new mtime), but frame 2 of b is absent: a failure whatever the box
    _write(store, "x", "T", "b", [BOX, [50.0, 50.0, 10.0, 10.0], BOX, BOX])
    changed = evaluate(_seqs(), store, "x", ["T"], protocol="lasot").trackers["T"].scores
    assert changed["auc"] < first["auc"]
    # a different protocol is a different cache entry
    assert evaluate(_seqs(), store, "x", ["T"], protocol="got10k").protocol == "got10k"


def test_flags_notes_attributes_and_duplicates(tmp_path):
    store = ResultStore(tmp_path)
    _write(store, "x", "T", "a", [BOX] * 5)                       # one row too many
    _write(store, "x", "T", "b", [BOX, [np.nan] * 4, BOX, BOX])   # NaN row
    d = store.tracker_dir("x", "T")
    (d / "manifest.json").write_text(json.dumps({"failures": {"c": "boom"}, "diagnostic": True}))
    (d / "imported.json").write_text("{}")
    seqs = _seqs() + [Sequence("a", ground_truth=[BOX] * 4)]
    ev = evaluate(seqs, store, "x", ["T"], protocol="lasot")
    t = ev.trackers["T"]
    assert t.failed == ["c"] and t.diagnostic and t.imported
    notes = "\n".join(t.notes)
    assert "duplicate sequence name 'a'" in notes
    assert "a: 1 extra result rows truncated" in notes
    assert "b: 1 result rows contain NaN" in notes and "b: 1 invalid result rows replaced" in notes
    assert "b: 2 absent frames counted as failures" in notes
    assert set(t.per_attribute) == {"OCC"} and t.per_attribute["OCC"]["sequences"] == 1.0
    assert t.per_attribute["OCC"]["auc"] == pytest.approx(t.per_sequence["a"]["auc"])
    js = ev.to_json()
    assert js["trackers"]["T"]["auc"] == t.scores["auc"] and js["details"]["T"]["notes"]


def test_cli_import_then_evaluate_otb_json(shared, tmp_path, capsys):
    annos = shared / "data" / "annotations" / "otb100" / "anno_TB100"
    src = shared / "data" / "raw_results" / "otb100" / "DaSiamRPN"
    res = tmp_path / "results"
    assert main(["import", "--benchmark", "otb", "--annos", str(annos), "--tracker", "DaSiamRPN", "--format",
                 "pysot", "--results", str(res), str(src)]) == 0
    meta = json.loads((res / "otb2015" / "DaSiamRPN" / "imported.json").read_text())   # registered name
    assert meta["format"] == "pysot" and meta["sequences"] == 100
    out = tmp_path / "ev.json"
    assert main(["evaluate", "--benchmark", "otb", "--annos", str(annos), "--results", str(res), "--protocol",
                 "pysot", "--json", str(out)]) == 0
    js = json.loads(out.read_text())
    assert js["benchmark"] == "otb2015" and js["protocol"] == "pysot"
    assert round(js["trackers"]["DaSiamRPN"]["auc"], 4) == 0.6578       # SOURCES.md reference
    assert set(js["trackers"]["DaSiamRPN"]) >= {"auc", "precision", "norm_precision", "sr50"}
    printed = capsys.readouterr().out
    assert "DaSiamRPN*" in printed and "0.6578" in printed
    # a missing file is a one-line user error naming it
    (res / "otb2015" / "DaSiamRPN" / "Biker.txt").unlink()
    assert main(["evaluate", "--benchmark", "otb", "--annos", str(annos), "--results", str(res)]) == 2
    assert "Biker.txt" in capsys.readouterr().err


def test_candidates_give_ar_at_k(tmp_path):
    store = ResultStore(tmp_path)
    seq = Sequence("a", ground_truth=[BOX] * 2)
    _write(store, "x", "T", "a", [BOX] * 2)
    # frame 0: best-scored candidate far, second exact; frame 1: one exact candidate
    boxes = np.array([[80, 80, 5, 5, 0.9], [10, 10, 10, 10, 0.1], [10, 10, 10, 10, 0.5]], float)
    np.savez(store.tracker_dir("x", "T") / "a.candidates.npz", boxes=boxes, counts=np.array([2, 1]))
    sc = evaluate([seq], store, "x", ["T"], protocol="lasot").trackers["T"].scores
    # k=1: frame 0 misses at every IoU, frame 1 hits -> 0.5; k=5: both hit -> 1.0
    assert sc["ar@1"] == 0.5 and sc["ar@5"] == 1.0 and sc["recall@1"] == 0.5


def test_vot_lt_through_the_store(tmp_path):
    from globaltrack.results.store import SequenceResult

    store = ResultStore(tmp_path)
    seq = Sequence("s", ground_truth=[BOX] * 4, metadata={"image_size": (100, 100)})
    # raster overlaps: frame 0 is the initialisation (0), then 1, 50/100 = 0.5, 0
    boxes = np.array([BOX, BOX, [10, 10, 10, 5], [50, 50, 10, 10]], float)
    store.write("v", "T", "s", SequenceResult(boxes, scores=np.array([1.0, 0.9, 0.6, 0.3])))
    sc = evaluate([seq], store, "v", ["T"], protocol="vot-lt").trackers["T"].scores
    # thresholds [inf, .9, .6, .3, 0, -inf]; best at .6: P = (1 + .5)/2 = .75, R = 1.5 / 4 = .375, F = .5
    assert sc == {"f_score": pytest.approx(0.5), "lt_precision": 0.75, "lt_recall": 0.375}


def test_first_frame_only_ground_truth_is_not_scored(tmp_path):
    store = ResultStore(tmp_path)
    _write(store, "x", "T", "t", [BOX] * 50)
    te = evaluate([Sequence("t", ground_truth=[BOX])], store, "x", ["T"], protocol="trackingnet").trackers["T"]
    assert np.isnan(te.scores["auc"]) and any("only the initial box" in n for n in te.notes)


def test_protocol_override_and_cli_set(tmp_path):
    from globaltrack.metrics.protocols import get_protocol, override

    p = override(get_protocol("oxuva"), {"bootstrap_trials": "20", "iou_threshold": "0.7"})
    assert p.bootstrap_trials == 20 and p.iou_threshold == 0.7 and p.name.startswith("oxuva+")
    with pytest.raises(UserError, match="unknown protocol field"):
        override(p, {"nope": "1"})
    with pytest.raises(UserError, match="expects a int"):
        override(p, {"bootstrap_trials": "many"})


def test_parallel_scoring_equals_serial_and_reports_errors(tmp_path):
    """jobs=2 (joblib workers) gives the serial scores and caches; an unchanged folder is answered from the cache
    in this process; a malformed file found in a worker still surfaces as one UserError naming it."""
    store = ResultStore(tmp_path)
    names = ["T0", "T1", "T2"]
    for i, t in enumerate(names):
        _write(store, "x", t, "a", [BOX, [10.0 + i, 10.0, 10.0, 10.0], BOX, BOX])
        _write(store, "x", t, "b", [BOX] * 4)
    serial = evaluate(_seqs(), store, "x", names, protocol="lasot")
    import shutil

    shutil.rmtree(tmp_path / ".cache")
    par = evaluate(_seqs(), store, "x", names, protocol="lasot", jobs=2)
    assert list(par.trackers) == names
    for t in names:
        assert par.trackers[t].scores == serial.trackers[t].scores
        assert par.trackers[t].per_sequence == serial.trackers[t].per_sequence
    assert len(list((tmp_path / ".cache").rglob("*.summary.pkl"))) == 3   # the workers wrote their caches
    assert evaluate(_seqs(), store, "x", names, protocol="lasot", jobs=2).trackers["T1"].scores == \
        serial.trackers["T1"].scores
    bad = store.box_path("x", "T2", "b")
    bad.write_text("1,2,3,4\n1,2,x,4\n1,2,3,4\n1,2,3,4\n")
    with pytest.raises(UserError, match=r"T2/b\.txt:2"):
        evaluate(_seqs(), store, "x", names, protocol="lasot", jobs=2)

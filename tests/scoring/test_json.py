"""`evaluate --json` is complete (per-sequence scores, curves with x and y, rule counts, protocol fields, versions,
measure descriptions, ranking) and matches evaluation.schema.json."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from globaltrack.harness.cli import main
from globaltrack.results.store import ResultStore, SequenceResult, format_boxes
from globaltrack.scoring.evaluate import evaluate
from globaltrack.sequence import Sequence

jsonschema = pytest.importorskip("jsonschema")
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "src" / "globaltrack" / "scoring" /
                     "evaluation.schema.json").read_text())
BOX = [10.0, 10.0, 10.0, 10.0]


def _write(store, bench, tracker, seq, boxes):
    p = store.box_path(bench, tracker, seq)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(format_boxes(np.asarray(boxes, float)))


def test_ope_json_is_complete_and_valid(tmp_path):
    store = ResultStore(tmp_path)
    seqs = [Sequence("a", ground_truth=[BOX] * 4, attributes={"OCC": True}),
            Sequence("b", ground_truth=[BOX] * 4, absent=[0, 0, 1, 1])]
    _write(store, "x", "T", "a", [BOX] * 6)                                  # 2 extra rows: truncated
    _write(store, "x", "T", "b", [BOX, BOX, [40.0, 40.0, 10.0, 10.0], BOX])
    _write(store, "x", "U", "a", [BOX] * 4)
    _write(store, "x", "U", "b", [BOX] * 4)
    ev = evaluate(seqs, store, "x", ["T", "U"], protocol="lasot")
    js = json.loads(json.dumps(ev.to_json()))          # what write_json writes (no NaN, plain types)
    jsonschema.validate(js, SCHEMA)
    t = js["details"]["T"]
    assert t["rules"] == {"extra_rows_truncated": 2, "absent_frames_failed": 2}
    assert t["sequence_rules"] == {"a": {"extra_rows_truncated": 2}, "b": {"absent_frames_failed": 2}}
    # per-sequence scores explain the total (LaSOT: mean over sequences of the per-sequence curves)
    assert np.mean([t["per_sequence"][s]["auc"] for s in "ab"]) == pytest.approx(js["trackers"]["T"]["auc"])
    success = t["curves"]["success"]
    assert len(success["x"]) == len(success["y"]) == 21 and success["x"][0] == 0.0
    assert np.mean(success["y"]) == pytest.approx(js["trackers"]["T"]["auc"])      # the AUC is the curve's mean
    assert js["protocol_fields"]["norm_center"] == "gt_wh" and js["protocol_fields"]["first_frame"] == "gt"
    assert js["versions"]["globaltrack"] and js["measures"]["auc"]["direction"] == "higher"
    # frame 2 of b is absent (a failure whatever the box): T and U tie, and a tie ranks by name
    assert js["trackers"]["T"] == js["trackers"]["U"]
    assert js["primary"] == "auc" and js["ranking"] == ["T", "U"]
    assert t["per_attribute"]["OCC"]["sequences"] == 1.0


def test_long_term_json_and_the_cli_file(tmp_path):
    store = ResultStore(tmp_path)
    seq = Sequence("s", ground_truth=[BOX] * 4, metadata={"image_size": (100, 100)})
    boxes = np.array([BOX, BOX, [10, 10, 10, 5], [50, 50, 10, 10]], float)
    store.write("v", "T", "s", SequenceResult(boxes, scores=np.array([1.0, 0.9, 0.6, 0.3])))
    ev = evaluate([seq], store, "v", ["T"], protocol="vot-lt")
    js = json.loads(json.dumps(ev.to_json()))
    jsonschema.validate(js, SCHEMA)
    t = js["details"]["T"]
    # one sequence: its P/R/F at the operating point are the tracker's (see test_vot_lt_through_the_store)
    assert t["per_sequence"]["s"]["f_score"] == pytest.approx(0.5)
    assert t["per_sequence"]["s"]["lt_precision"] == 0.75
    assert set(t["curves"]) == {"pr", "f_score"}
    assert t["curves"]["f_score"]["x"][0] is None            # the +inf threshold: JSON has no infinity


def test_cli_json_with_a_run_manifest(tmp_path, monkeypatch):
    from globaltrack.benchmarks.synthetic import generate

    monkeypatch.setenv("GLOBALTRACK_TEST_TRACKERS", "1")
    root = generate(tmp_path / "data", seed=1, sequences=2, frames=30, size=(64, 48))
    common = ["-b", "synthetic", "--root", str(root), "--results", str(tmp_path / "r")]
    assert main(["run", *common, "-t", "oracle:noise=0.1,name=o1", "-q"]) == 0
    out = tmp_path / "e.json"
    assert main(["evaluate", *common, "--json", str(out)]) == 0
    js = json.loads(out.read_text())
    jsonschema.validate(js, SCHEMA)
    run = js["details"]["o1"]["run"]
    assert run["name"] == "o1" and run["tracker"] == "oracle" and run["options"] == {"noise": "0.1"}
    assert js["details"]["o1"]["diagnostic"] is True

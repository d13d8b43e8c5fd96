"""One description per measure, one ranking (with the toolkits' tie-breakers) used by evaluate, leaderboard and the
JSON alike; typed protocol fields."""
from __future__ import annotations

import math

import pytest

from globaltrack.errors import UserError
from globaltrack.metrics.protocols import Protocol, allowed_values, get_protocol, override
from globaltrack.scoring import measures
from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation


def test_rank_uses_direction_tie_breakers_then_name():
    scores = {"b": {"max_gm": 0.5, "tpr": 0.6, "tnr": 0.1}, "a": {"max_gm": 0.5, "tpr": 0.6, "tnr": 0.2},
              "c": {"max_gm": 0.5, "tpr": 0.7, "tnr": 0.0}, "d": {"max_gm": math.nan}, "e": {}}
    # OxUvA analyze.py: MaxGM, then TPR, then TNR; NaN and missing last (by name)
    assert measures.rank(scores, "max_gm") == ["c", "a", "b", "d", "e"]
    # a tie on a measure without official tie-breakers ranks by name, whatever the input order
    assert measures.rank({"z": {"auc": 0.5}, "y": {"auc": 0.5}, "x": {"auc": 0.4}}, "auc") == ["y", "z", "x"]


def test_evaluate_table_and_leaderboard_rank_alike():
    from globaltrack.harness.commands.evaluate import format_table
    from globaltrack.scoring.leaderboard import build_leaderboard

    ev = Evaluation("oxuva", "oxuva")
    for name, (g, tpr, tnr) in {"B": (0.5, 0.6, 0.1), "A": (0.5, 0.6, 0.2), "C": (0.4, 0.9, 0.9)}.items():
        ev.trackers[name] = TrackerEvaluation(name, scores={"max_gm": g, "tpr": tpr, "tnr": tnr, "gm": g})
    board = [r["tracker"] for r in build_leaderboard(ev).rows]
    table = [line.split()[0] for line in format_table(ev).splitlines()[2:]]
    assert board == table == ev.ranking() == ["A", "B", "C"]


def test_measure_descriptions():
    assert measures.measure("fps").format(12.345) == "12.3" and measures.measure("auc").format(0.6955) == "69.5"
    assert measures.measure("auc").format(float("nan")) == "-"
    assert measures.label("ar@10") == "AR@10" and measures.measure("ar@10").direction == "higher"
    assert measures.display_order(["fps", "auc", "zzz", "max_gm"]) == ["max_gm", "auc", "fps", "zzz"]


def test_protocol_fields_are_checked_on_build_and_override():
    assert "exclude" in allowed_values("absent") and "gt_wh_diff" in allowed_values("norm_center")
    with pytest.raises(UserError, match=r"field 'first_frame' cannot be 'GT'; allowed: gt, as_is, drop"):
        override(get_protocol("lasot"), {"first_frame": "GT"})
    with pytest.raises(UserError, match=r"field 'absent' cannot be 'exlude'; allowed: fail, exclude, evaluate"):
        override(get_protocol("lasot"), {"absent": "exlude"})
    with pytest.raises(UserError, match="field 'precision_score'"):
        override(get_protocol("lasot"), {"precision_score": "at20"})
    with pytest.raises(UserError, match="field 'metrics' cannot be 'foo'"):
        override(get_protocol("lasot"), {"metrics": "auc,foo"})
    with pytest.raises(UserError, match="field 'iou_threshold'"):
        Protocol("x", iou_threshold=1.5)
    ok = override(get_protocol("oxuva"), {"iou_threshold": "0.7", "bootstrap_trials": "10"})
    assert ok.iou_threshold == 0.7 and ok.name == "oxuva+bootstrap_trials=10+iou_threshold=0.7"
    # every registered protocol passes the checks, and a bad one cannot be built
    from globaltrack.metrics.protocols import PROTOCOLS, check_fields

    assert len(PROTOCOLS.entries()) > 15
    for entry in PROTOCOLS.entries():
        check_fields(entry.factory())
    with pytest.raises(UserError, match="field 'absent'"):
        Protocol("bad", absent="exlude")


def test_an_overridden_protocol_ranks_by_its_own_primary_measure():
    """``--set`` renames the protocol (``tlp+iou_threshold=0.6``); the ranking must still follow its primary measure
    (TLP ranks by SR50, not by the AUC that the name lookup would fall back to)."""
    proto = override(get_protocol("tlp"), {"iou_threshold": "0.6"})
    ev = Evaluation("tlp", proto.name, protocol_fields=proto.to_json())
    ev.trackers["a"] = TrackerEvaluation("a", scores={"sr50": 0.9, "auc": 0.1, "precision": 0.5})
    ev.trackers["b"] = TrackerEvaluation("b", scores={"sr50": 0.1, "auc": 0.9, "precision": 0.5})
    assert ev.ranking() == ["a", "b"]

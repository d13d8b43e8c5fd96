"""Leaderboard ranking and table writers."""
import csv
import io
import math

import numpy as np

from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation
from globaltrack.scoring.leaderboard import (build_leaderboard, latex_escape, primary_metric, ranked_trackers,
                                             to_csv, to_latex, to_markdown, to_text, write_leaderboard)


def _ev():
    ev = Evaluation("lasot", "lasot", sequences=["a", "b"])
    for name, auc, p in [("mid_tracker", 0.5, 0.6), ("best", 0.7, 0.5), ("oracle", 1.0, 1.0),
                         ("published", 0.6, 0.9), ("broken", float("nan"), 0.1)]:
        ev.trackers[name] = TrackerEvaluation(name, scores={"auc": auc, "precision": p})
    ev.trackers["oracle"].diagnostic = True
    ev.trackers["published"].imported = True
    ev.trackers["mid_tracker"].missing = ["b"]
    return ev


def test_ranking_by_auc_with_diagnostic_unranked_and_nan_last():
    ev = _ev()
    assert primary_metric(ev) == "auc"
    board = build_leaderboard(ev)
    assert [r["tracker"] for r in board.rows] == ["oracle", "best", "published", "mid_tracker", "broken"]
    assert [r["rank"] for r in board.rows] == [None, 1, 2, 3, 4]
    assert board.best("auc") == 0.7          # the oracle does not count as best


def test_oxuva_ranks_by_maxgm_then_tpr_then_tnr():
    # oxuva analyze.py sorts by (MaxGM, TPR, TNR) at IoU 0.5
    ev = Evaluation("oxuva", "oxuva")
    for name, gm, tpr, tnr in [("a", 0.4, 0.3, 0.9), ("b", 0.4, 0.5, 0.2), ("c", 0.6, 0.1, 0.1)]:
        ev.trackers[name] = TrackerEvaluation(name, scores={"max_gm": gm, "tpr": tpr, "tnr": tnr, "auc": 0.9})
    assert primary_metric(ev) == "max_gm"
    assert ranked_trackers(ev) == ["c", "b", "a"]


def test_csv_keeps_full_precision_and_flags():
    ev = _ev()
    rows = list(csv.DictReader(io.StringIO(to_csv(build_leaderboard(ev)))))
    by = {r["tracker"]: r for r in rows}
    assert float(by["best"]["auc"]) == 0.7
    assert by["published"]["imported"] == "1" and by["oracle"]["diagnostic"] == "1"
    assert by["oracle"]["rank"] == "" and by["mid_tracker"]["missing"] == "1"
    assert by["broken"]["auc"] == "nan" or math.isnan(float(by["broken"]["auc"]))


def test_markdown_and_latex_tables():
    board = build_leaderboard(_ev())
    md = to_markdown(board)
    assert "| 1 | best | **70.0** | 50.0 |" in md
    assert "| 2 | published* | 60.0 | **90.0** |" in md
    assert "| - | oracle (diagnostic) | 100.0 | 100.0 |" in md
    tex = to_latex(board)
    assert r"mid\_tracker" in tex and r"\textbf{70.0}" in tex and tex.count(r"\\") == len(board.rows) + 1
    assert latex_escape("a_b&c%") == r"a\_b\&c\%"
    text = to_text(board)
    assert "(1 missing)" in text and text.splitlines()[0].startswith("lasot (protocol lasot), ranked by AUC")


def test_write_leaderboard_files(tmp_path):
    paths = write_leaderboard(_ev(), tmp_path)
    assert sorted(p.name for p in paths.values()) == ["lasot_leaderboard.csv", "lasot_leaderboard.md",
                                                      "lasot_leaderboard.tex"]
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert np.isclose(float(next(csv.DictReader(open(paths["csv"])))["auc"]), 1.0)   # oracle listed first

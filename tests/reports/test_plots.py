"""Plots: 35 trackers stay distinguishable, legends ranked by score, SVG + PNG written."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from globaltrack.reports import plots
from globaltrack.reports.style import tracker_styles

from tests.reports.reports_fixtures import ATTRIBUTES, make_evaluation


@pytest.mark.parametrize("curve,score", [("success", "auc"), ("precision", "precision"),
                                         ("norm_precision", "norm_precision")])
def test_curve_plot_35_trackers_ranked_legend_distinct_styles(curve, score, evaluation):
    fig = plots.plot_curves(evaluation, curve)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 35
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    shown = [float(lab.rsplit("[", 1)[1].rstrip("]")) for lab in labels]
    assert shown == sorted(shown, reverse=True)          # legend ranked by the score it prints
    best = max(evaluation.trackers.values(), key=lambda t: t.scores[score])
    assert labels[0].startswith(best.tracker) and f"[{best.scores[score]:.3f}]" in labels[0]
    styles = {(ln.get_color(), ln.get_linestyle()) for ln, lab in zip(lines, labels) if "(diag.)" not in lab}
    assert len(styles) == 34                              # every competitor distinct
    assert any("*" in lab.split(" [")[0] for lab in labels)   # the imported one is marked
    x, y = lines[0].get_data()
    assert len(x) == len(evaluation.trackers[best.tracker].curves[curve][0])


def test_styles_never_run_out():
    names = [f"t{i}" for i in range(90)]
    st = tracker_styles(names)
    assert len({(s.color, s.linestyle) for s in st.values()}) == 80   # 20 colours x 4 dashes, then they repeat
    assert tracker_styles(["a", "b"], {"b"})["b"].linestyle == ":"


def test_save_svg_and_png(evaluation, tmp_path):
    paths = plots.save_figure(plots.plot_success(evaluation), tmp_path / "lasot_success")
    assert [p.name for p in paths] == ["lasot_success.svg", "lasot_success.png"]
    assert ET.parse(paths[0]).getroot().tag.endswith("svg")
    with Image.open(paths[1]) as im:
        assert im.size[0] > 600 and np.asarray(im.convert("L")).std() > 10
    svg = plots.figure_svg(plots.plot_precision(evaluation))
    assert svg.startswith("<svg") and "<!DOCTYPE" not in svg


def test_ar_at_k_tpr_tnr_attributes_heatmap_trace():
    ar = {"RPN": {1: 0.2, 10: 0.4, 100: 0.6}, "QG-RPN": {1: 0.5, 10: 0.7, 100: 0.8},
          "QG-RCNN": {1: 0.6, 10: 0.75, 100: 0.8}}
    fig = plots.plot_ar_at_k(ar)
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == list(ar)
    assert fig.axes[0].get_xscale() == "log"

    ev = make_evaluation(12, 6, "oxuva", oxuva=True)
    fig = plots.plot_tpr_tnr(ev, extra_points={"TLD": (0.208044, 0.894855)})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 13 and "TLD [0.431]" in labels      # published MaxGM of TLD (spec §5.3)

    ev = make_evaluation()
    fig = plots.plot_attributes(ev, max_trackers=10)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ATTRIBUTES
    assert len(fig.axes[0].patches) == 10 * 14 and "best 10 of 35" in fig.axes[0].get_title()

    fig = plots.plot_heatmap(ev)
    data = fig.axes[0].get_images()[0].get_array()
    assert data.shape == (35, 12) and data.mask.sum() == 2    # the missing and the failed sequence are blank

    iou = {"a": np.linspace(0, 1, 50), "b": np.linspace(1, 0, 50)}
    fig = plots.plot_trace(iou, {"a": np.ones(50), "b": None}, absent=np.arange(50) > 40)
    assert len(fig.axes) == 2 and "absent" in fig.axes[0].get_title()


def test_max_geometric_mean_matches_oxuva_definition():
    # Published: TLD at IoU 0.5 has TPR 0.208044, TNR 0.894855, MaxGM 0.431473 (oxuva long-term-tracking-results).
    assert plots.max_geometric_mean(0.208044, 0.894855) == pytest.approx(0.431473, abs=1e-6)
    # The definition (max over p of sqrt(((1-p)TNR + p)((1-p)TPR))) by brute force, including TNR < 0.5.
    p = np.linspace(0, 1, 200001)
    for tpr, tnr in [(0.7, 0.1), (0.5, 0.3), (0.9, 0.0), (0.2, 0.6)]:
        brute = np.sqrt(((1 - p) * tnr + p) * ((1 - p) * tpr)).max()
        assert plots.max_geometric_mean(tpr, tnr) == pytest.approx(brute, abs=1e-9)


def test_got10k_success_legend_prints_ao():
    from globaltrack.scoring.evaluation import Evaluation, TrackerEvaluation

    # evaluate() resolves the got10k protocol on the GOT-10k benchmark to its variant "got10k-val" (primary: AO)
    ev = Evaluation("got10k", "got10k-val")
    x = np.linspace(0, 1, 101)
    for name, ao in (("a", 0.6), ("b", 0.7)):
        ev.trackers[name] = TrackerEvaluation(name, scores={"ao": ao, "auc": 0.1, "sr50": 0.5},
                                              curves={"success": (x, 1 - x)})
    labels = [t.get_text() for t in plots.plot_success(ev).axes[0].get_legend().get_texts()]
    assert labels == ["b [0.700]", "a [0.600]"]

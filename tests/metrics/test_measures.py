"""Box measures, grids and long-term measures against references we did not write: the got10k package's own
functions, torch's arange, the spec's verified VOT raster and OxUvA figures."""
from __future__ import annotations

import numpy as np
import pytest

from globaltrack.metrics import boxes as bx
from globaltrack.metrics import grids, longterm
from globaltrack.metrics.curves import curve_trapz
from globaltrack.metrics.ope import _segment_counts, score_sequence
from globaltrack.metrics.protocols import get_protocol
from globaltrack.metrics.recall import average_recall, ar_scores


def _random_boxes(n, seed):
    rng = np.random.default_rng(seed)
    b = np.column_stack([rng.uniform(-20, 200, n), rng.uniform(-20, 200, n), rng.uniform(-5, 80, n),
                         rng.uniform(-5, 80, n)])
    b[::17] = np.round(b[::17])
    return b


def test_iou_and_centre_error_equal_got10k_functions():
    metrics = pytest.importorskip("got10k.utils.metrics")
    a, b = _random_boxes(5000, 1), _random_boxes(5000, 2)
    ref = metrics.rect_iou(a.copy(), b.copy())
    ours = bx.iou(a, b, eps=np.finfo(float).eps, clip=True)
    np.testing.assert_array_equal(ours, ref)
    # image-bounded form (GOT-10k val)
    ref_b = metrics.rect_iou(np.abs(a.copy()), np.abs(b.copy()), bound=np.array([160.0, 120.0]))
    ours_b = bx.iou(bx.clip_to_image(np.abs(a), 160.0, 120.0), bx.clip_to_image(np.abs(b), 160.0, 120.0),
                    eps=np.finfo(float).eps, clip=True)
    np.testing.assert_array_equal(ours_b, ref_b)


def test_centre_error_precision_through_score_sequence_equals_got10k():
    """The precision curve score_sequence gives under the got10k protocol, against the got10k package's own
    center_error and _calc_curves on the same boxes (frame 0 is the ground truth there too)."""
    metrics = pytest.importorskip("got10k.utils.metrics")
    exp = pytest.importorskip("got10k.experiments.otb")
    gt, pred = _random_boxes(3000, 11), _random_boxes(3000, 12)
    pred[0] = gt[0]
    s = score_sequence(get_protocol("got10k"), "s", gt, np.zeros(len(gt), bool), pred, {}, None)
    e = exp.ExperimentOTB.__new__(exp.ExperimentOTB)
    e.nbins_iou, e.nbins_ce = 21, 51
    _, ref_p = e._calc_curves(metrics.rect_iou(pred.copy(), gt.copy()), metrics.center_error(pred, gt))
    np.testing.assert_array_equal(s.curve("precision"), ref_p)


def test_centre_error_precision_hand_computed():
    """Centres 5 px (a 3-4-5 offset) and 10 px (6-8-10) from the ground truth: precision at threshold t is 1/3
    for t < 5 (only the ground-truth frame 0), 2/3 for 5 <= t < 10, 1 from 10 px on (thresholds 0, 1, ..., 50)."""
    gt = np.array([[20.0, 30.0, 10.0, 12.0]] * 3)
    pred = gt + np.array([[0.0, 0.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [-6.0, 8.0, 0.0, 0.0]])
    s = score_sequence(get_protocol("got10k"), "s", gt, np.zeros(3, bool), pred, {}, None)
    t = np.arange(51)
    np.testing.assert_allclose(s.curve("precision"), np.where(t < 5, 1 / 3, np.where(t < 10, 2 / 3, 1.0)))


def test_got10k_curves_equal_its_calc_curves():
    exp = pytest.importorskip("got10k.experiments.otb")
    rng = np.random.default_rng(3)
    ious = np.concatenate([rng.uniform(0, 1, 500), np.arange(21) / 20])   # exact k/20 ties included
    ce = np.concatenate([rng.uniform(0, 60, 500), np.arange(21.0)])
    e = exp.ExperimentOTB.__new__(exp.ExperimentOTB)
    e.nbins_iou, e.nbins_ce = 21, 51
    ref_s, ref_p = e._calc_curves(ious, ce)
    # the counting score_sequences uses (one segment = one sequence), divided by the frame count
    seg = np.zeros(len(ious), dtype=np.int64)
    np.testing.assert_array_equal(_segment_counts(ious, seg, 1, grids.SUCCESS_21_NUMPY, ">")[0] / len(ious), ref_s)
    np.testing.assert_array_equal(_segment_counts(ce, seg, 1, grids.PRECISION_51, "<=")[0] / len(ce), ref_p)


def test_inclusive_iou_equals_continuous_within_rounding():
    a, b = _random_boxes(2000, 4), _random_boxes(2000, 5)
    np.testing.assert_allclose(bx.iou(a, b, inclusive=True), bx.iou(a, b), atol=1e-12)


def test_grids_are_the_toolkits_floats():
    exact = np.arange(21) / 20
    # spec 0.4: numpy above k/20 at 3, 6, 7, 12, 14, 17, 19; MATLAB colon below only at 13
    assert list(np.flatnonzero(grids.SUCCESS_21_NUMPY > exact)) == [3, 6, 7, 12, 14, 17, 19]
    assert list(np.flatnonzero(grids.SUCCESS_21_MATLAB < exact)) == [13]
    assert list(np.flatnonzero(grids.SUCCESS_21_MATLAB > exact)) == [3, 6, 7]
    assert list(np.flatnonzero(grids.SUCCESS_21_TORCH > exact)) == [3, 6, 7, 12, 13, 14, 15, 17, 19]
    assert list(np.flatnonzero(grids.NORM_PRECISION_51_GOT10K > np.arange(51) / 100)) == [35, 41, 47]
    assert grids.PRECISION_21_TRACKINGNET[8] == 20.0 and grids.NORM_PRECISION_21_TRACKINGNET[8] == 0.2


def test_torch_grid_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.arange(0.0, 1.05, 0.05, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(grids.SUCCESS_21_TORCH, t)


def test_trapz_matches_numpy():
    c = np.random.default_rng(0).uniform(0, 1, 21)
    assert curve_trapz(c) == pytest.approx(np.trapezoid(c, x=np.linspace(0, 1, 21)), abs=1e-15)


def test_raster_iou_spec_examples():
    # spec 7.3, verified there by running vot-toolkit 0.9.0
    g = np.array([[10, 10, 20, 20]], float)
    assert bx.raster_iou([[10.5, 10, 20, 20]], g)[0] == 1.0
    assert bx.raster_iou([[11.5, 10, 20, 20]], g)[0] == pytest.approx(0.8182, abs=1e-4)
    a, b = [[90, 10, 20, 20]], [[95, 10, 20, 20]]
    assert bx.raster_iou(a, b, bounds=(100, 100))[0] == 0.5
    assert bx.raster_iou(a, b)[0] == pytest.approx(0.6)
    # quirk: disjoint 1-pixel-wide boxes in the same column -> 1
    assert bx.raster_iou([[5, 0, 1, 3]], [[5, 10, 1, 3]])[0] == 1.0


def test_raster_iou_equals_vot_toolkit():
    pytest.importorskip("vot.region.raster")
    from vot.region import calculate_overlap
    from vot.region.shapes import Rectangle

    a = np.abs(_random_boxes(200, 6)) + 1
    b = a + np.random.default_rng(8).normal(0, 6, a.shape)       # overlapping pairs, some past the bounds
    b[::5] = np.abs(_random_boxes(40, 7)) + 1                     # and some unrelated ones
    b[::7, :2] = a[::7, :2] + 0.5                                 # half-pixel ties (rounding half to even)
    ours = bx.raster_iou(a, b, bounds=(150, 140))
    ref = []
    for r1, r2 in zip(a, b):
        ref.append(calculate_overlap(Rectangle(*r1), Rectangle(*r2), bounds=(150, 140)))
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_oxuva_metrics_reproduce_published_table():
    # spec 5.3: TLD at IoU 0.5 on the test set: TP 1588, FN 6045, TN 400, FP 47 ->
    # TPR 0.208044, TNR 0.894855, GM = MaxGM 0.431473 (long-term-tracking-results table.csv)
    m = longterm.oxuva_metrics(1588, 6045, 400, 47)
    assert f"{m['tpr']:.6g}" == "0.208044"
    assert f"{m['tnr']:.6g}" == "0.894855"
    assert f"{m['gm']:.6g}" == "0.431473" and f"{m['max_gm']:.6g}" == "0.431473"


def test_max_gm_interior_point():
    # TPR 0.9, TNR 0.1: f(p) = ((1-p) 0.1 + p)((1-p) 0.9) = 0.09 + 0.72 p - 0.81 p^2, max at p = 0.72/1.62 = 4/9:
    # f = 0.09 + 0.72*4/9 - 0.81*16/81 = 0.09 + 0.32 - 0.16 = 0.25 -> MaxGM 0.5 (GM = 0.3)
    m = longterm.oxuva_metrics(9, 1, 1, 9)
    assert m["gm"] == pytest.approx(0.3) and m["max_gm"] == pytest.approx(0.5)


def test_oxuva_outcomes_and_time_buckets():
    o = longterm.oxuva_outcomes([1, 1, 1, 0, 0], [1, 1, 0, 1, 0], [0.5, 0.49, 0.9, 0.0, 0.0], 0.5)
    assert [int(o[k].sum()) for k in ("TP", "FN", "TN", "FP")] == [1, 2, 1, 1]   # IoU >= 0.5 is a hit
    np.testing.assert_array_equal(longterm.time_bucket([1, 900, 901, 1800]), [1, 1, 2, 2])
    counts = {1: np.array([1, 0, 0, 0]), 2: np.array([0, 1, 0, 0])}
    np.testing.assert_array_equal(longterm.interval_totals(counts, 0, 900), [1, 0, 0, 0])
    with pytest.raises(ValueError):
        longterm.interval_totals(counts, 0, 1000)


def test_vot_lt_f_score_hand_case():
    # overlaps [frame 0 = 0, 1, 0.5, 0], confidences [0, .9, .6, .3], 4 visible frames:
    # tau .9: P 1, R 1/4, F .4; tau .6: P .75, R 1.5/4, F = 2*.75*.375/1.125 = .5; tau .3: P .5, R .375, F .4286
    P, R = longterm.pr_curve([0, 1, 0.5, 0], [0, 0.9, 0.6, 0.3], 4, [np.inf, 0.9, 0.6, 0.3, 0.0, -np.inf])
    F = longterm.f_score(P, R)
    assert F.max() == pytest.approx(0.5) and P[F.argmax()] == 0.75 and R[F.argmax()] == 0.375


def test_average_recall_hand_case():
    gt = np.array([[10, 10, 10, 10], [10, 10, 10, 10], [0, 0, 0, 0]], float)   # frame 2: absent, skipped
    cands = [
        np.array([[10, 10, 10, 10, 0.2], [30, 30, 5, 5, 0.9]]),   # top-1 by score misses; top-2 has IoU 1
        np.array([[10, 10, 10, 8, 0.5]]),                          # IoU 80/100 = 0.8
        np.array([[0, 0, 1, 1, 1.0]]),
    ]
    ar = average_recall(cands, gt, ks=(1, 2))
    # k=1: frame 0 recall 0 at every t; frame 1 IoU 0.8 >= t for t in 0.5..0.8 (7 of 10) -> (0 + 0.7) / 2 = 0.35
    # k=2: frame 0 IoU 1 (10/10) -> (1 + 0.7) / 2 = 0.85
    assert ar[1] == pytest.approx(0.35) and ar[2] == pytest.approx(0.85)
    r50 = ar_scores(cands, gt, ks=(1, 2))
    assert r50["recall@1"] == 0.5 and r50["recall@2"] == 1.0


@pytest.mark.parametrize("name", sorted(grids.GRIDS))
def test_grid_index_equals_searchsorted(name):
    from globaltrack.metrics.curves import grid_index

    g = grids.GRIDS[name]
    rng = np.random.default_rng(len(name))
    v = np.concatenate([rng.uniform(-0.1, 1.1, 3000) * g[-1], g, np.nextafter(g, -np.inf), np.nextafter(g, np.inf),
                        np.arange(0, 61) / 20, np.arange(0, 101) / 100, [-1.0, np.inf, -np.inf, np.nan]])
    for side in ("left", "right"):
        np.testing.assert_array_equal(grid_index(g, v, side), np.searchsorted(g, v, side))


def test_vot_lt_thresholds_and_curves_equal_vot_toolkit():
    lt = pytest.importorskip("vot.analysis.longterm")
    from vot.region import Special
    from vot.region.shapes import Rectangle

    rng = np.random.default_rng(11)
    for n in (50, 98, 99, 250, 1000):
        s = rng.uniform(0, 1, n)
        s[::13] = np.nan
        s[::7] = 0.5                                                  # ties
        np.testing.assert_array_equal(longterm.vot_thresholds(s), lt.determine_thresholds(list(s), 100))

    n, size = 120, (160, 120)
    gt = np.column_stack([rng.uniform(0, 120, n), rng.uniform(0, 90, n), rng.uniform(5, 40, n), rng.uniform(5, 40, n)])
    unknown = rng.uniform(size=n) < 0.1
    pred = gt + rng.normal(0, 6, gt.shape)
    conf = rng.uniform(0, 1, n)

    class Seq:                                    # the two things compute_tpr_curves asks of a sequence
        def __init__(self):
            self.size = size

        def groundtruth(self):
            return [Special(0) if u else Rectangle(*g) for g, u in zip(gt, unknown)]

    unknown[0] = False
    # the toolkit's trajectory: frame 0 is the special code 1 (initialisation), its confidence 0
    traj = [Special(1)] + [Rectangle(*p) for p in pred[1:]]
    conf_ref = np.concatenate([[0.0], conf[1:]])
    th = lt.determine_thresholds(list(conf_ref), 100)
    P_ref, R_ref = lt.compute_tpr_curves(traj, list(conf_ref), Seq(), th)

    from globaltrack.metrics.protocols import get_protocol
    from globaltrack.sequence import Sequence

    ours = longterm.votlt_sequence(get_protocol("vot-lt"),
                                   Sequence("s", ground_truth=np.where(unknown[:, None], np.nan, gt),
                                            metadata={"image_size": size}), pred, conf)
    np.testing.assert_array_equal(longterm.vot_thresholds(ours.arrays["confidence"]), th)
    P, R = longterm.pr_curve(ours.arrays["overlaps"], ours.arrays["confidence"], int(ours.sums["n_visible"]), th)
    np.testing.assert_allclose(P, P_ref, atol=1e-12)
    np.testing.assert_allclose(R, R_ref, atol=1e-12)

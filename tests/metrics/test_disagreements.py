"""spec/metrics.md section 10: one small hand-built case per disagreement, showing what each protocol returns.
Expected values are derived by hand from the spec's rules (arithmetic in the comments), never from our code."""
from __future__ import annotations

import numpy as np
import pytest

from globaltrack.errors import AnnotationError
from globaltrack.metrics import longterm
from globaltrack.metrics.ope import combine, score_sequence
from globaltrack.metrics.protocols import get_protocol
from globaltrack.results.formats import canonical_name

BOX = [10.0, 10.0, 10.0, 10.0]


def run(protocol, gt, pred, absent=None, metadata=None, times=None):
    p = get_protocol(protocol)
    gt = np.asarray(gt, float)
    absent = np.zeros(len(gt), bool) if absent is None else np.asarray(absent, bool)
    s = score_sequence(p, "s", gt, absent, np.asarray(pred, float), metadata or {}, times)
    scores, curves, _ = combine(p, [s])
    return s, scores, {k: v[1] for k, v in curves.items()}, {k: s.curve(k) for k in s.counts}


def test_1_absent_frames_in_the_denominator():
    gt, pred = [BOX] * 4, [BOX] * 4
    absent = [0, 0, 0, 1]
    # LaSOT MATLAB / pytracking / pysot: the absent frame stays in the denominator as a failure: 3/4 at theta 0.
    for p in ("lasot", "pytracking", "pysot"):
        assert run(p, gt, pred, absent)[3]["success"][0] == 0.75
    # got10k ExperimentLaSOT ignores the flag: the stored box is scored, 4/4.
    assert run("got10k-lasot", gt, pred, absent)[3]["success"][0] == 1.0
    # NaN GT row: OTB/UAV MATLAB keeps it (IoU -1: 3/4); got10k UAV123 removes it (3/3).
    gt_nan = [BOX, BOX, BOX, [np.nan] * 4]
    assert run("otb", gt_nan, pred)[3]["success"][0] == 0.75
    assert run("got10k-uav", gt_nan, pred)[3]["success"][0] == 1.0
    # pytracking with exclude_invalid_frames=True: the absent frame leaves the denominator: 3/3
    assert run("pytracking-exclude-invalid", gt, pred, absent)[3]["success"][0] == 1.0
    # neuron/GlobalTrack (tlp): a GT row with a value <= 0 is removed: 3/3.
    assert run("tlp", [BOX, BOX, BOX, [0, 0, 0, 0]], pred)[3]["success"][0] == 1.0


def test_2_centre_error_on_invalid_and_absent_frames():
    # Frame 2 has x < 0 (invalid under all4); its centre error is sqrt(11^2 + 5^2) ~ 12.1 px.
    gt = [BOX, BOX, [-1.0, 5.0, 10.0, 10.0], BOX]
    pred = [BOX] * 4
    assert run("otb", gt, pred)[3]["precision"][0] == 1.0           # MATLAB: -1 -> success at 0 px: 4/4
    assert run("pytracking", gt, pred)[3]["precision"][0] == 0.75   # pytracking: Inf -> failure: 3/4
    assert run("pytracking-uav", gt, pred)[3]["precision"][0] == 1.0  # dataset 'uav': -1 -> 4/4
    # pysot masks on the GT centre (3.5, 9.5) > 0, so the real 12.1 px error is used: fails at 0 px, passes at 20.
    c = run("pysot", gt, pred)[3]["precision"]
    assert c[0] == 0.75 and c[20] == 1.0
    # Invisible frames: pytracking's default rules make them NP successes, its 'lasot' rules failures.
    absent = [0, 0, 0, 1]
    pred_ok, gt_ok = [BOX] * 4, [BOX] * 4
    assert run("pytracking", gt_ok, pred_ok, absent)[3]["norm_precision"][0] == 1.0   # 4/4
    assert run("pytracking", gt_ok, pred_ok, absent)[3]["precision"][0] == 0.75       # CE Inf: 3/4
    assert run("pytracking-lasot", gt_ok, pred_ok, absent)[3]["norm_precision"][0] == 0.75
    assert run("lasot", gt_ok, pred_ok, absent)[3]["norm_precision"][0] == 0.75


def test_3_which_gt_counts_as_valid():
    gt = [BOX, [0.0, 10.0, 10.0, 10.0]]      # x = 0: invalid for "all four > 0", valid for "w, h > 0"
    pred = gt
    for p in ("otb", "pytracking", "pysot-toolkit"):
        assert run(p, gt, pred)[3]["success"][0] == 0.5              # 1/2
    for p in ("pysot", "ostrack", "got10k"):
        assert run(p, gt, pred)[3]["success"][0] == 1.0              # 2/2


def test_4_normalised_precision_score():
    # Frame 0 = GT; frame 1 shifted right by 28.6 px on a 100 x 100 GT: NCE = 0.286.
    gt = [[10.0, 10.0, 100.0, 100.0]] * 2
    pred = [gt[0], [38.6, 10.0, 100.0, 100.0]]
    # value at 0.20: 1/2 passes (pytracking, pysot, LaSOT MATLAB threshold mode)
    for p in ("pytracking", "pysot", "lasot"):
        assert run(p, gt, pred)[1]["norm_precision"] == 0.5
    # got10k master: mean of 51 points of linspace(0,0.5,51): 0.5 at k <= 28, 1 at k >= 29 (22 points)
    # -> (29 * 0.5 + 22 * 1) / 51 = 36.5 / 51
    assert run("got10k-lasot", gt, pred)[1]["norm_precision"] == pytest.approx(36.5 / 51, abs=1e-12)
    # LaSOT MATLAB in 'AUC' mode (TNL2K): mean over (0:50)/100: 0.5 for k <= 28, 1 for k >= 29 -> 36.5 / 51
    assert run("lasot-auc", gt, pred)[1]["norm_precision"] == pytest.approx(36.5 / 51, abs=1e-12)
    # TrackingNet: x rounds to 39 -> NCE 0.29; grid 0.025 k: 1 for k >= 12 (9 points), 0.5 for k <= 11 (12 points);
    # trapz on x in [0,1], h = 0.05: 0.05 * (12 * 0.5 + 9 * 1 - (0.5 + 1) / 2) = 0.7125
    assert run("trackingnet", gt, pred)[1]["norm_precision"] == pytest.approx(0.7125, abs=1e-12)


def test_4b_trackingnet_divides_the_centre_difference():
    # GT (4, 10, 10, 10), prediction 2 px to the right: centres x 8.5 and 10.5. The devkit computes
    # (10.5 - 8.5) / 10 = 0.2 exactly, which passes the 0.2 threshold (k = 8 of linspace(0, 0.5, 21)); dividing each
    # centre first gives 1.05 - 0.85 = 0.20000000000000007, which fails it.
    gt = [[4.0, 10.0, 10.0, 10.0]] * 2
    pred = [gt[0], [6.0, 10.0, 10.0, 10.0]]
    assert 10.5 / 10 - 8.5 / 10 > 0.2 and (10.5 - 8.5) / 10 == 0.2      # the two rules really disagree here
    curve = run("trackingnet", gt, pred)[3]["norm_precision"]
    assert curve[7] == 0.5 and curve[8] == 1.0
    # devkit: 0.5 for k < 8 (8 points), 1 for k >= 8 (13 points); trapz on [0, 1], h = 0.05:
    # 0.05 * (8 * 0.5 + 13 - (0.5 + 1) / 2) = 0.8125 (dividing first would give 0.05 * (9 * 0.5 + 12 - 0.75) = 0.7875)
    assert run("trackingnet", gt, pred)[1]["norm_precision"] == pytest.approx(0.8125, abs=1e-12)
    # LaSOT MATLAB / pytracking divide first (their own rule): the 0.2 threshold fails there, 1/2.
    assert run("lasot", gt, pred)[1]["norm_precision"] == 0.5


def test_5_precision_score_trapz_vs_20px():
    gt = [[10.0, 10.0, 20.0, 20.0]] * 2
    pred = [gt[0], [20.5, 10.0, 20.0, 20.0]]       # 10.5 px off
    assert run("lasot", gt, pred)[1]["precision"] == 1.0           # both <= 20 px
    # TrackingNet: 20.5 rounds (half to even) to 20 -> 10 px; grid 2.5 k: 1 for k >= 4 (17 points), 0.5 for k < 4
    # trapz: 0.05 * (4 * 0.5 + 17 - (0.5 + 1) / 2) = 0.9125
    assert run("trackingnet", gt, pred)[1]["precision"] == pytest.approx(0.9125, abs=1e-12)


def test_6_success_auc_of_the_ground_truth_against_itself():
    gt = [BOX] * 5
    assert run("pysot", gt, gt)[1]["auc"] == pytest.approx(20 / 21, abs=1e-15)     # ">" fails at 1.0
    assert run("otb", gt, gt)[1]["auc"] == pytest.approx(20 / 21, abs=1e-15)
    assert run("tlp", gt, gt)[1]["auc"] == pytest.approx(100 / 101, abs=1e-15)     # 101 points
    assert run("trackingnet", gt, gt)[1]["auc"] == pytest.approx(1.0, abs=1e-15)   # ">=", trapz
    md = {"image_size": (100, 100)}
    assert run("got10k-val", gt, gt, metadata=md)[1]["ao"] == pytest.approx(1.0, abs=1e-12)


def test_7_first_frame_rule():
    gt = [BOX, BOX]
    pred = [[15.0, 10.0, 10.0, 10.0], BOX]        # frame 0 IoU = 50 / 150 = 1/3
    assert run("otb", gt, pred)[1]["sr50"] == 1.0         # replaced by GT: 2/2 above 0.5
    assert run("got10k", gt, pred)[1]["sr50"] == 1.0
    assert run("pysot", gt, pred)[1]["sr50"] == 0.5       # used as is: 1/2
    s = run("got10k-val", gt, pred, metadata={"image_size": (100, 100)})[0]
    assert s.denominator == 1                             # dropped


def test_8_got10k_pools_frames():
    p = get_protocol("got10k-val")
    md = {"image_size": (200, 200)}
    a = score_sequence(p, "a", np.array([BOX] * 3), np.zeros(3, bool), np.array([BOX] * 3), md)
    far = [[150.0, 150.0, 10.0, 10.0]] * 5
    b = score_sequence(p, "b", np.array([BOX] * 5), np.zeros(5, bool), np.array(far), md)
    scores = combine(p, [a, b])[0]
    # frames 1.. only: a contributes IoU 1, 1 and b 0, 0, 0, 0 -> pooled AO = 2 / 6 (a sequence mean would be 0.5)
    assert scores["ao"] == pytest.approx(2 / 6, abs=1e-12)
    assert scores["sr50"] == pytest.approx(2 / 6, abs=1e-12)


def test_9_image_bound_clipping():
    gt = [[80.0, 10.0, 20.0, 20.0]] * 2
    pred = [gt[0], [80.0, 10.0, 40.0, 20.0]]     # runs 20 px past the right edge of a 100 px image
    # GOT-10k clips to [0, W]: the prediction becomes the GT -> IoU 1 on the only scored frame
    assert run("got10k-val", gt, pred, metadata={"image_size": (100, 100)})[1]["sr50"] == 1.0
    # ExperimentOTB does not clip: 400 / (800 + eps) < 0.5 fails -> 1/2 (frame 0 is the GT)
    assert run("got10k", gt, pred)[1]["sr50"] == 0.5


def test_10_coordinate_rounding():
    gt = [BOX, BOX]
    pred = [BOX, [10.4, 10.0, 10.0, 10.0]]       # IoU = 96 / 104 = 0.923 unrounded
    # got10k, theta = 0.95 (index 19): frame 0 passes, frame 1 fails -> 0.5
    assert run("got10k", gt, pred)[3]["success"][19] == 0.5
    # TrackingNet rounds 10.4 -> 10: IoU 1 >= 0.95 -> 1.0
    assert run("trackingnet", gt, pred)[3]["success"][19] == 1.0


def test_11_invalid_predictions():
    gt = [BOX] * 4
    pred_nan = [BOX, BOX, [np.nan] * 4, BOX]
    assert run("lasot", gt, pred_nan)[3]["success"][0] == 1.0       # MATLAB carries frame 1's box forward
    assert run("got10k", gt, pred_nan)[3]["success"][0] == 0.75     # NaN fails every test
    with pytest.raises(AnnotationError, match=":3:"):               # pytracking refuses NaN
        run("pytracking", gt, pred_nan)
    pred_zero = [BOX, BOX, [10.0, 10.0, 0.0, 10.0], BOX]
    assert run("pytracking", gt, pred_zero)[3]["success"][0] == 1.0  # w == 0 carried forward
    assert run("pysot", gt, pred_zero)[3]["success"][0] == 0.75       # scored as it is (IoU 0)


def test_12_length_mismatch():
    gt = [BOX] * 4
    short = [BOX] * 3
    with pytest.raises(AnnotationError, match="3 rows"):
        run("lasot", gt, short)                                    # MATLAB errors on a shorter result
    assert run("pytracking", gt, short)[3]["success"][0] == 0.75   # zero-padded: 3/4
    s = run("got10k", gt, short)                                   # got10k master truncates both: 3/3
    assert s[0].denominator == 3 and s[3]["success"][0] == 1.0
    assert run("trackingnet", gt, short)[3]["success"][0] == 0.75  # NaN rows fail: 3/4
    long = [BOX] * 6
    assert run("lasot", gt, long)[0].denominator == 4                # longer: truncated
    assert any("2 extra result rows truncated" in str(n) for n in run("lasot", gt, long)[0].notes)


def test_13_ope_start_frame_initomit():
    gt = [[10.0 + i, 10.0, 10.0, 10.0] for i in range(8)]
    md = {"init_omit": [[1, 5]]}                          # Tiger1: initOmit "1 5" -> OPE from frame 6
    s = run("otb", gt, gt, metadata=md)[0]
    assert s.denominator == 3                              # frames 6..8
    assert run("got10k", gt, gt, metadata=md)[0].denominator == 8   # got10k keeps all frames


def test_14_sequence_naming():
    assert canonical_name("Jogging.1") == canonical_name("Jogging_1") == canonical_name("jogging-1") \
        == canonical_name("Jogging-1")


def test_15_threshold_floats_and_ties():
    # IoU exactly 13/20: GT 20 x 10, prediction its left 13 x 10 -> 130 / 200 = 0.65
    gt = [[1.0, 1.0, 20.0, 10.0]] * 2
    pred = [gt[0], [1.0, 1.0, 13.0, 10.0]]
    assert run("otb", gt, pred)[3]["success"][13] == 1.0          # MATLAB 0:0.05:1 has 0.6499999999999999
    assert run("pysot", gt, pred)[3]["success"][13] == 0.5        # numpy 0.65: 0.65 > 0.65 is false
    assert run("pytracking", gt, pred)[3]["success"][13] == 0.5   # torch 0.6500000000000001
    assert run("trackingnet", gt, pred)[3]["success"][13] == 1.0  # ">="


def test_16_long_term_threshold_rules():
    scores = np.arange(99, dtype=float)
    # VOT: descending 98..0, delta = floor(99/98) = 1, indices round(linspace(1, 98, 98)) = 1..98 -> 97..0
    vot = longterm.vot_thresholds(scores)
    assert vot[0] == np.inf and vot[-1] == -np.inf
    np.testing.assert_array_equal(vot[1:-1], np.arange(97, -1, -1))
    # pysot: ascending, indices floor(linspace(0, 98, 98) + 0.5) = 0..48, 50..98 (j/97 crosses 0.5 at j = 49)
    ps = longterm.pysot_thresholds(scores)
    expected = np.concatenate([[np.inf], np.r_[0:49, 50:99][::-1], [-np.inf]])
    np.testing.assert_array_equal(ps, expected)


def test_17_speed_aggregation():
    gt = [BOX] * 3
    # per-frame fps: seq A 1/0.5, 1/0.1, 1/0.1 = 2, 10, 10; seq B 1, 2
    pa, pb = get_protocol("got10k"), get_protocol("got10k-val")
    md = {"image_size": (100, 100)}
    a = score_sequence(pa, "a", np.array(gt), np.zeros(3, bool), np.array(gt), {}, np.array([0.5, 0.1, 0.1]))
    b = score_sequence(pa, "b", np.array(gt[:2]), np.zeros(2, bool), np.array(gt[:2]), {}, np.array([1.0, 0.5]))
    # got10k OTB: mean over sequences of mean per-frame fps: (22/3 + 3/2) / 2
    assert combine(pa, [a, b])[0]["fps"] == pytest.approx((22 / 3 + 1.5) / 2, abs=1e-12)
    a = score_sequence(pb, "a", np.array(gt), np.zeros(3, bool), np.array(gt), md, np.array([0.5, 0.1, 0.1]))
    b = score_sequence(pb, "b", np.array(gt[:2]), np.zeros(2, bool), np.array(gt[:2]), md, np.array([1.0, 0.5]))
    # GOT-10k: pooled over frames: (2 + 10 + 10 + 1 + 2) / 5
    assert combine(pb, [a, b])[0]["fps"] == pytest.approx(5.0, abs=1e-12)


def test_18_pytracking_float32_curves():
    # 3 frames: frame 0 = GT (IoU 1), frames 1-2 miss (IoU 0): the curve is 1/3 at the 20 thresholds below 1, 0 at 1.
    gt = [BOX] * 3
    pred = [BOX, [50.0, 50.0, 10.0, 10.0], [50.0, 50.0, 10.0, 10.0]]
    s, scores, _, curves = run("pytracking", gt, pred)
    # pytracking divides in float32: float32(1) / float32(3) = 0.3333333432674408 (not 0.3333333333333333)
    assert curves["success"][0] == np.float32(1) / np.float32(3) and curves["success"].dtype == np.float32
    # AUC: float32 mean of 20 x float32(1/3) and one 0 -> within 1e-7 of 20/63, but not the float64 value
    assert scores["auc"] == pytest.approx(20 / 63, abs=1e-7) and scores["auc"] != 20 / 63
    assert run("lasot", gt, pred)[1]["auc"] == pytest.approx(20 / 63, abs=1e-15)   # float64 elsewhere


def test_16b_pytracking_pools_frames_for_f1():
    # pooled overlaps (first sequence's frame 0 set to GT: 1) and scores; 4 valid frames:
    #   frame:   a0  a1   b0   b1
    #   IoU:      1  .5    0    1        scores: .2 .9 .8 .7   (a0's score .2)
    # sorted by score: a1 (.5), b0 (0), b1 (1), a0 (1): S = .5, .5, 1.5, 2.5
    # k=1: P .5, R .125, F = 2*.5*.125/.625 = .2; k=3: P .5, R .375, F = .375/.875 = .4286;
    # k=4: P .625, R .625, F .625 -> max F .625
    from globaltrack.sequence import Sequence

    p = get_protocol("pytracking-lt")
    far = [50.0, 50.0, 10.0, 10.0]
    half = [10.0, 10.0, 10.0, 5.0]                       # +1-pixel IoU with BOX: 50 / 100
    a = longterm.pooled_sequence(p, Sequence("a", ground_truth=[BOX, BOX]), np.array([far, half]), [0.2, 0.9])
    b = longterm.pooled_sequence(p, Sequence("b", ground_truth=[BOX, BOX]), np.array([far, BOX]), [0.8, 0.7])
    scores = longterm.pooled_combine(p, [a, b])[0]
    assert scores == {"f_score": pytest.approx(0.625), "lt_precision": 0.625, "lt_recall": 0.625}


def test_rule_notes_are_not_strings_and_keep_their_counts_through_pickling():
    import pickle

    from globaltrack.metrics.ope import RuleNote

    s = run("lasot", [BOX] * 4, [BOX] * 6)[0]
    (note,) = [n for n in s.notes if isinstance(n, RuleNote)]
    assert not isinstance(note, str) and str(note) == "2 extra result rows truncated"
    assert pickle.loads(pickle.dumps(note)) == RuleNote("extra_rows_truncated", 2, str(note))   # the score cache
    assert type(note.count) is int                                                             # JSON writes it

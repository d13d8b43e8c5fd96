"""The GlobalTrack tracker: registration, options, init/update/track_batch/candidates semantics (spec 3)."""
import subprocess
import sys

import numpy as np
import pytest

from globaltrack.errors import UserError

torch = pytest.importorskip("torch")

from globaltrack.trackers import create_tracker  # noqa: E402
from globaltrack.trackers.globaltrack.checkpoint import save_checkpoint  # noqa: E402
from globaltrack.trackers.globaltrack.model import Detections, GlobalTrackModel  # noqa: E402


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.pth"
    save_checkpoint(GlobalTrackModel("tiny"), path)
    return path


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    out = []
    for k in range(4):
        f = base.copy()
        f[60 + 5 * k:100 + 5 * k, 80 + 7 * k:140 + 7 * k] = [250, 30, 30]
        out.append(f)
    return out


def test_importing_the_package_registers_without_importing_torch():
    code = ("import sys, globaltrack.trackers.globaltrack as g; from globaltrack.trackers import TRACKERS; "
            "assert {'globaltrack', 'globaltrack-qgrpn'} <= set(TRACKERS._entries); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_default_weights_is_a_clear_user_error(monkeypatch, tmp_path):
    import globaltrack.trackers.globaltrack as gt

    monkeypatch.setattr(gt, "default_weights_path", lambda: tmp_path / "missing.pth")
    with pytest.raises(UserError, match="globaltrack train --config lite0-real"):
        create_tracker("globaltrack")
    ok, why = gt._available()
    assert not ok and "weights" in why


def test_bad_options_are_user_errors(tiny_weights):
    with pytest.raises(UserError, match="unknown GlobalTrack option"):
        create_tracker("globaltrack", weights=str(tiny_weights), colour="red")
    with pytest.raises(UserError, match="dtype"):
        create_tracker("globaltrack", weights=str(tiny_weights), dtype="int8")
    with pytest.raises(UserError, match="not found"):
        create_tracker("globaltrack", weights="/nonexistent/w.pth")


@pytest.mark.parametrize("options", [{}, {"refine": "3", "refine_top": "2"}])
def test_update_and_track_batch_agree_and_are_deterministic(tiny_weights, frames, options):
    a = create_tracker("globaltrack", weights=str(tiny_weights), batch="2", **options)
    a.init(frames[0], [80, 60, 60, 40])
    singles = [a.update(f) for f in frames[1:]]
    b = create_tracker("globaltrack", weights=str(tiny_weights), batch="2", **options)
    b.init(frames[0], [80, 60, 60, 40])
    batched = b.track_batch(frames[1:])
    assert len(batched) == 3
    for p, q in zip(singles, batched):
        np.testing.assert_allclose(p.box, q.box, atol=1e-3)
        assert abs(p.score - q.score) < 1e-5
        h, w = frames[0].shape[:2]
        assert 0 <= p.box[0] and p.box[0] + p.box[2] <= w + 1e-3 and p.box[1] + p.box[3] <= h + 1e-3
    again = create_tracker("globaltrack", weights=str(tiny_weights), **options)
    again.init(frames[0], [80, 60, 60, 40])
    assert np.array_equal(again.update(frames[1]).box, singles[0].box)


@pytest.mark.parametrize("refine", [0, 2])  # the refinement passes go through the folded box head too
def test_the_tracker_scores_with_the_folded_query_and_gets_the_modules_results(frames, refine):
    import dataclasses

    from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker

    # non-zero modulator biases and predictor weights: with the initial ones (zero biases, std 0.001 deltas) the
    # scores are flat and a wrong fold would go unnoticed (it did: a dropped bias term passed)
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny").eval()
    for module in (model.rcnn_modulator.proj_x, model.rcnn_modulator.proj_z, model.rcnn_modulator.proj_out):
        torch.nn.init.normal_(module.weight, 0, 0.05)
        torch.nn.init.normal_(module.bias, 0, 0.5)
    for layer in (model.roi_heads.box_predictor.cls_score, model.roi_heads.box_predictor.bbox_pred):
        torch.nn.init.normal_(layer.weight, 0, 0.05)
    folded = GlobalTrackTracker(model=model, refine=refine)
    folded.init(frames[0], [80, 60, 60, 40])
    assert folded._query.rcnn_folded is not None
    modules = GlobalTrackTracker(model=model, refine=refine)
    modules.init(frames[0], [80, 60, 60, 40])
    modules._query = dataclasses.replace(modules._query, rcnn_folded=None)  # the unfolded QG-RCNN
    for frame in frames[1:]:
        (a_boxes, a_scores), (b_boxes, b_scores) = folded.candidates(frame, 20), modules.candidates(frame, 20)
        assert np.ptp(b_scores) > 0.02  # scores that tell candidates apart
        np.testing.assert_allclose(a_boxes, b_boxes, atol=1e-3)
        np.testing.assert_allclose(a_scores, b_scores, atol=1e-5)


def test_presence_threshold_and_candidates(tiny_weights, frames):
    t = create_tracker("globaltrack", weights=str(tiny_weights), threshold="0")
    t.init(frames[0], [80, 60, 60, 40])
    pred = t.update(frames[1])
    assert pred.present and 0 < pred.score <= 1
    boxes, scores = t.candidates(frames[1], 5)
    assert boxes.shape == (5, 4) and scores.shape == (5,)
    assert np.all(np.diff(scores) <= 0)
    np.testing.assert_allclose(boxes[0], pred.box, atol=1e-4)
    assert abs(scores[0] - pred.score) < 1e-6
    rpn_boxes, rpn_scores = t.candidates(frames[1], 7, source="rpn")
    assert rpn_boxes.shape == (7, 4) and np.all(np.diff(rpn_scores) <= 0)
    strict = create_tracker("globaltrack", weights=str(tiny_weights), threshold="1.5")
    strict.init(frames[0], [80, 60, 60, 40])
    assert not strict.update(frames[1]).present


def test_proposals_and_scale_options_are_per_tracker(tiny_weights, frames):
    """``proposals=N`` gives QG-RCNN at most N proposals (the RPN's top N), ``scale=WxH`` fits frames to that size;
    both live in the tracker, so another tracker sharing the cached model keeps the weights' own settings."""
    default = create_tracker("globaltrack", weights=str(tiny_weights))
    few = create_tracker("globaltrack", weights=str(tiny_weights), proposals="5", scale="160x120")
    assert few.model is default.model  # one model per weights file and process
    assert few.config.test_proposals.max_num == 5 and few.config.test_image_scale == (160, 120)
    assert default.config == default.model.config
    # the scale reaches the network input (300x200 frames fit to 160x120 -> 160x107, padded to 160x128)
    assert tuple(few._prepare([frames[0]])[1].shape[-2:]) == (128, 160)
    assert tuple(default._prepare([frames[0]])[1].shape[-2:]) == (224, 320)  # tiny: fit 320x240
    for t in (default, few):
        t.init(frames[0], [80, 60, 60, 40])
    rpn_boxes, _ = few.candidates(frames[1], 50, source="rpn")
    assert 0 < rpn_boxes.shape[0] <= 5
    assert default.candidates(frames[1], 50, source="rpn")[0].shape[0] > 5
    assert np.isfinite(few.update(frames[1]).box).all()
    for bad in ({"proposals": "0"}, {"proposals": "many"}, {"scale": "640"}, {"scale": "16x16"}):
        with pytest.raises(UserError, match=next(iter(bad))):
            create_tracker("globaltrack", weights=str(tiny_weights), **bad)


def test_qgrpn_tracker_reports_the_top_proposal(tiny_weights, frames):
    t = create_tracker("globaltrack-qgrpn", weights=str(tiny_weights))
    t.init(frames[0], [80, 60, 60, 40])
    pred = t.update(frames[1])
    boxes, scores = t.candidates(frames[1], 1, source="rpn")
    np.testing.assert_allclose(pred.box, boxes[0], atol=1e-4)
    assert abs(pred.score - scores[0]) < 1e-6


def test_no_detection_returns_the_last_box_with_score_zero(tiny_weights, frames):
    t = create_tracker("globaltrack", weights=str(tiny_weights))
    t.init(frames[0], [80, 60, 60, 40])
    empty = [Detections(torch.zeros((0, 4)), torch.zeros(0))]
    t.model.detect = lambda *a, **k: empty
    pred = t.update(frames[1])
    assert pred.score == 0.0 and not pred.present
    np.testing.assert_array_equal(pred.box, [80, 60, 60, 40])


def test_reduced_precision_runs_on_cpu(tiny_weights, frames):
    full = create_tracker("globaltrack", weights=str(tiny_weights))
    full.init(frames[0], [80, 60, 60, 40])
    with pytest.warns(UserWarning, match="dtype=bfloat16 on the CPU"):  # it runs, but far slower: say so
        half = create_tracker("globaltrack", weights=str(tiny_weights), dtype="bfloat16")
    half.init(frames[0], [80, 60, 60, 40])
    p, q = full.update(frames[1]), half.update(frames[1])
    assert np.all(np.isfinite(q.box)) and abs(p.score - q.score) < 0.05


def test_plain_rpn_weights_are_recognised_and_give_candidates(tmp_path, frames):
    torch.manual_seed(0)
    path = save_checkpoint(GlobalTrackModel("tiny", modulate=False), tmp_path / "plain.pth")
    t = create_tracker("globaltrack", weights=str(path))
    assert not t.config.modulate and not hasattr(t.model, "rpn_modulator")
    t.init(frames[0], [80, 60, 60, 40])
    boxes, scores = t.candidates(frames[1], 4, source="rpn")
    assert boxes.shape == (4, 4) and np.all(np.diff(scores) <= 0)
    assert np.all(np.isfinite(t.update(frames[1]).box))


def test_weights_know_their_config(tiny_weights, tmp_path):
    from globaltrack.trackers.globaltrack.checkpoint import load_weights

    with pytest.raises(UserError, match="for GlobalTrack config 'tiny', not 'r50_fpn'"):
        create_tracker("globaltrack", weights=str(tiny_weights), config="r50_fpn")
    # a bare state dict (no stored config) is recognised from its tensors
    bare = tmp_path / "bare.pth"
    torch.save(GlobalTrackModel("tiny").state_dict(), bare)
    sd, cfg, fmt = load_weights(bare)
    assert (cfg.name, cfg.modulate, fmt) == ("tiny", True, "ours")
    broken = dict(sd)
    broken["rpn.head.cls_logits.weight"] = torch.zeros(5, 64, 1, 1)
    torch.save(broken, bare)
    with pytest.raises(UserError, match=r"'rpn\.head\.cls_logits\.weight' has shape \[5, 64, 1, 1\]"):
        load_weights(bare)


def test_a_weights_file_is_loaded_once_per_process_and_again_when_rewritten(tmp_path, frames):
    """The runner builds a tracker per sequence; the model (no per-sequence state) is shared, the query is not."""
    path = tmp_path / "w.pth"
    torch.manual_seed(1)
    save_checkpoint(GlobalTrackModel("tiny"), path)
    a, b = create_tracker("globaltrack", weights=str(path)), create_tracker("globaltrack", weights=str(path))
    assert a.model is b.model
    a.init(frames[0], (40, 30, 50, 40))
    b.init(frames[0], (10, 10, 20, 20))
    assert a._query is not b._query
    torch.manual_seed(2)
    save_checkpoint(GlobalTrackModel("tiny"), path)  # another model at the same path
    import os

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    c = create_tracker("globaltrack", weights=str(path))
    assert c.model is not a.model
    pa = next(iter(a.model.state_dict().values()))
    pc = next(iter(c.model.state_dict().values()))
    assert not torch.equal(pa, pc)


def test_query_flip_averages_the_query_with_its_mirror_image(tiny_weights, frames, tmp_path):
    """``query_flip``: the query RoI feature is the mean of the target's and that of the target in the mirrored
    first frame (pooled as is, not flipped back); both modulators' kernels come from that mean. Off by default
    (the official query); a weights file's stored ``test_query_flip`` makes it that tracker's default."""
    frame, box = frames[0], [80, 60, 60, 40]
    plain = create_tracker("globaltrack", weights=str(tiny_weights))
    assert plain.config.test_query_flip is False
    plain.init(np.ascontiguousarray(frame[:, ::-1]), [frame.shape[1] - box[0] - box[2], box[1], box[2], box[3]])
    z_mirror = plain._query.z_roi
    plain.init(frame, box)
    z = (plain._query.z_roi + z_mirror) / 2
    assert float((plain._query.z_roi - z_mirror).abs().max()) > 1e-3  # the mirror really differs

    flip = create_tracker("globaltrack", weights=str(tiny_weights), query_flip="1")
    flip.init(frame, box)
    torch.testing.assert_close(flip._query.z_roi, z, rtol=1e-4, atol=1e-4)
    model = flip.model
    with torch.no_grad():
        torch.testing.assert_close(flip._query.rcnn_query, model.rcnn_modulator.query(z), rtol=1e-4, atol=1e-4)
        for got, want in zip(flip._query.rpn_kernels, model.rpn_modulator.kernels(z)):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    assert np.isfinite(flip.update(frames[1]).box).all()

    from globaltrack.training.real_evidence import store_config

    stored = tmp_path / "flip.pth"
    stored.write_bytes(tiny_weights.read_bytes())
    store_config(stored, test_query_flip=True)
    assert create_tracker("globaltrack", weights=str(stored)).config.test_query_flip is True
    assert create_tracker("globaltrack", weights=str(stored), query_flip="false").config.test_query_flip is False
    with pytest.raises(UserError, match="query_flip"):
        create_tracker("globaltrack", weights=str(tiny_weights), query_flip="mirror")


def test_a_zoomed_query_view_keeps_the_target_centred_and_scaled():
    from globaltrack.trackers.globaltrack.tracker import _zoom

    frame = np.zeros((200, 300, 3), dtype=np.uint8)
    frame[80:120, 100:160] = [250, 30, 30]  # the target: x 100..159, y 80..119
    box = np.array([100.0, 80.0, 60.0, 40.0])
    same, same_box = _zoom(frame, box, 1.0)
    assert same is frame and np.array_equal(same_box, box)
    for factor in (0.5, 1.25, 2.0):
        zoomed, zbox = _zoom(frame, box, factor)
        assert zoomed.shape == frame.shape
        np.testing.assert_allclose(zbox[:2] + zbox[2:] / 2, box[:2] + box[2:] / 2)  # centre kept
        np.testing.assert_allclose(zbox[2:], box[2:] * factor)
        x, y, w, h = zbox
        inner = zoomed[int(y + 0.2 * h):int(y + 0.8 * h), int(x + 0.2 * w):int(x + 0.8 * w)]
        assert (inner[..., 0] > 200).all()  # the target fills its box
    small, _ = _zoom(frame, box, 0.5)
    assert tuple(small[0, 0]) == (124, 116, 104)  # outside the frame: the mean colour (zero after normalising)


def test_query_zooms_average_the_query_over_zoomed_views(tiny_weights, frames, tmp_path):
    from globaltrack.trackers.globaltrack.tracker import _mirror, _zoom

    frame, box = frames[0], np.array([80.0, 60.0, 60.0, 40.0])
    plain = create_tracker("globaltrack", weights=str(tiny_weights))
    assert plain.config.test_query_zooms == (1.0,)

    def query_of(view):  # the official query of one view, through the tracker's public init
        plain.init(*view)
        return plain._query.z_roi

    views = [_zoom(frame, box, f) for f in (0.8, 1.0, 1.25)]
    z = sum(query_of(v) for v in views) / 3
    views += [_mirror(im, b) for im, b in views]
    z_both = sum(query_of(v) for v in views) / 6
    zoomed = create_tracker("globaltrack", weights=str(tiny_weights), query_zooms="0.8,1,1.25")
    zoomed.init(frame, box)
    torch.testing.assert_close(zoomed._query.z_roi, z, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        torch.testing.assert_close(zoomed._query.rcnn_query, zoomed.model.rcnn_modulator.query(z))
    both = create_tracker("globaltrack", weights=str(tiny_weights), query_zooms="0.8,1,1.25", query_flip="1")
    both.init(frame, box)
    torch.testing.assert_close(both._query.z_roi, z_both, rtol=1e-4, atol=1e-5)
    assert np.isfinite(both.update(frames[1]).box).all()
    for bad in ("", "big", "0.1,1", "1,9"):
        with pytest.raises(UserError, match="query_zooms"):
            create_tracker("globaltrack", weights=str(tiny_weights), query_zooms=bad)


def test_the_refine_options_touch_only_the_top_detections_and_are_per_tracker(tiny_weights, frames):
    plain = create_tracker("globaltrack", weights=str(tiny_weights))
    refined = create_tracker("globaltrack", weights=str(tiny_weights), refine="3", refine_top="2")
    assert (plain.config.test_refine_passes, refined.config.test_refine_passes) == (0, 3)
    assert (plain.config.test_refine_top, refined.config.test_refine_top) == (1, 2)
    assert refined.model is plain.model  # the shared model's config is not touched
    for t in (plain, refined):
        t.init(frames[0], [80, 60, 60, 40])
    (p_boxes, p_scores), (r_boxes, r_scores) = plain.candidates(frames[1], 5), refined.candidates(frames[1], 5)
    np.testing.assert_allclose(r_boxes[2:], p_boxes[2:])
    np.testing.assert_allclose(r_scores[2:], np.minimum(p_scores[2:], r_scores[1]))  # capped: still ranked
    pred = refined.update(frames[1])
    np.testing.assert_allclose(pred.box, r_boxes[0], atol=1e-4)
    assert abs(pred.score - r_scores[0]) < 1e-6  # the presence decision reads the re-ranked score
    for name, bad in (("refine", "-1"), ("refine", "11"), ("refine", "two"), ("refine", "1.5"),
                      ("refine_top", "0"), ("refine_top", "101")):
        with pytest.raises(UserError, match=name):
            create_tracker("globaltrack", weights=str(tiny_weights), **{name: bad})


def test_look_alikes_are_the_first_frames_confident_detections_away_from_the_target(tiny_weights, frames):
    from globaltrack.trackers.globaltrack import tracker as tracker_module

    t = create_tracker("globaltrack", weights=str(tiny_weights), distractors="0.5")
    assert t.config.test_distractor_weight == 0.5
    target = [80, 60, 60, 40]  # x, y, w, h: inclusive x2, y2 = 139, 99
    boxes = torch.tensor([[80., 60., 139., 99.],    # the target itself
                          [200., 20., 259., 59.],   # look-alike 1
                          [85., 62., 144., 101.],   # overlaps the target (IoU > 0.3): a part or a shifted copy
                          [10., 120., 69., 159.],   # look-alike 2
                          [150., 130., 209., 169.],  # look-alike 3
                          [20., 10., 79., 49.],     # a fourth: beyond DISTRACTOR_QUERIES
                          [230., 150., 289., 189.]])  # below the score threshold
    scores = torch.tensor([0.95, 0.9, 0.8, 0.7, 0.6, 0.55, 0.4])
    seen = []
    t._detect = lambda images, source: [Detections(boxes, scores)]
    original = t._query_feature
    t._query_feature = lambda image, box: (seen.append(np.asarray(box, float).tolist()), original(image, box))[1]
    t.init(frames[0], target)
    assert tracker_module.DISTRACTOR_QUERIES == 3
    assert seen[1:] == [[200, 20, 60, 40], [10, 120, 60, 40], [150, 130, 60, 40]]  # after the target's own query
    assert tuple(t._query.distractors.shape) == (3, *t._query.rcnn_query.shape[1:])
    # nothing confident away from the target: no look-alike queries, the plain ranking
    t._detect = lambda images, source: [Detections(boxes[:3], scores[:3] * torch.tensor([1, 0.5, 1]))]
    t.init(frames[0], target)
    assert t._query.distractors is None
    for bad in ("-0.1", "11", "strong"):
        with pytest.raises(UserError, match="distractors"):
            create_tracker("globaltrack", weights=str(tiny_weights), distractors=bad)


def test_look_alikes_reach_the_detector(tiny_weights, frames):
    # the tracker's candidates are its top 10 detections re-scored with the option's weight: with the same look-alike
    # queries, each box's drop in score is proportional to the weight (0.8 drops twice what 0.4 does, 0 nothing)
    import dataclasses

    looks = None
    made = {}
    for weight in ("0", "0.4", "0.8"):
        t = create_tracker("globaltrack", weights=str(tiny_weights), distractors=weight, threshold="0")
        t.init(frames[0], [80, 60, 60, 40])
        if looks is None:
            looks = t.model.rcnn_modulator.query(torch.randn(2, *t._query.z_roi.shape[1:]))
        t._query = dataclasses.replace(t._query, distractors=looks)
        boxes, scores = t.candidates(frames[1], 10)
        assert np.all(np.diff(scores) <= 1e-7)  # ranked
        made[weight] = {tuple(np.round(b, 3)): s for b, s in zip(boxes, scores)}
    assert set(made["0.4"]) == set(made["0"]) == set(made["0.8"])  # the same 10 boxes, re-ordered
    drop4 = np.array([made["0"][b] - made["0.4"][b] for b in made["0"]])
    drop8 = np.array([made["0"][b] - made["0.8"][b] for b in made["0"]])
    assert drop4.max() > 1e-3  # re-scored
    np.testing.assert_allclose(drop8, 2 * drop4, atol=1e-5)


def test_target_fit_is_fitted_on_the_first_frame_and_reaches_the_detector(tiny_weights, frames):
    # target_fit=L fits (dw, db) at init on the first frame's samples (features under the target query); the fitted
    # correction ranks the frame's positives above its negatives better than the plain head does; its candidates are
    # the plain ones re-scored sigmoid(logit + correction at the box); 0 fits nothing
    import dataclasses

    from globaltrack.trackers.globaltrack.preprocess import xywh_to_xyxy
    from globaltrack.trackers.globaltrack.target_fit import first_frame_samples

    target = [80, 60, 60, 40]
    off = create_tracker("globaltrack", weights=str(tiny_weights), threshold="0")
    assert off.config.test_target_fit == 0
    off.init(frames[0], target)
    assert off._query.fit is None
    t = create_tracker("globaltrack", weights=str(tiny_weights), target_fit="0.1", threshold="0")
    assert t.config.test_target_fit == 0.1
    t.init(frames[0], target)
    dw, db = t._query.fit
    assert dw.shape == (t.model.config.representation_size,) and db.shape == (1,)
    # the fit separates the first frame's samples better than the plain head
    prepared, tensor = t._prepare([frames[0]])
    scale = prepared[0].scale
    first = t._detect([frames[0]], "rcnn")[0]
    pos, neg = first_frame_samples(xywh_to_xyxy(np.array(target, float))[0] * scale, prepared[0].image_size,
                                   first.boxes * scale)
    boxes = torch.cat([pos, neg])
    with torch.no_grad():
        fc7 = t.model.roi_heads.head_features(t.model.extract_features(tensor),
                                              torch.cat([torch.zeros(len(boxes), 1), boxes], 1),
                                              t._query.rcnn_query, t.model.rcnn_modulator)
        logits, _ = t.model.roi_heads.box_predictor(fc7)
    plain = (logits[:, 1] - logits[:, 0]).numpy()
    fitted = plain + (fc7 @ dw + db).numpy()
    n = len(pos)
    margin = lambda z: z[:n].mean() - z[n:].mean()  # noqa: E731
    assert margin(fitted) > margin(plain)
    # the tracker's candidates: the plain top 10 re-scored by the fit (the same boxes)
    off.init(frames[0], target)
    p_boxes, p_scores = off.candidates(frames[1], 10)
    f_boxes, f_scores = t.candidates(frames[1], 10)
    assert {tuple(np.round(b, 3)) for b in p_boxes} == {tuple(np.round(b, 3)) for b in f_boxes}
    assert np.all(np.diff(f_scores) <= 1e-7)
    assert np.abs(np.sort(f_scores) - np.sort(p_scores)).max() > 1e-4  # re-scored
    # the fit picks the box; the presence score is QG-RCNN's best score before the fit (the plain top-1's)
    pred = t.update(frames[1])
    np.testing.assert_allclose(pred.box, f_boxes[0], atol=1e-4)
    assert abs(pred.score - p_scores[0]) < 1e-5 and pred.present == (pred.score >= t.threshold)
    # a zero fit gives the plain candidates
    t._query = dataclasses.replace(t._query, fit=(torch.zeros_like(dw), torch.zeros_like(db)))
    z_boxes, z_scores = t.candidates(frames[1], 10)
    np.testing.assert_allclose(z_boxes, p_boxes, atol=1e-4)
    np.testing.assert_allclose(z_scores, p_scores, atol=1e-5)
    # a target filling the frame, detected as itself only, leaves no negatives (random boxes of >= 0.7x its size
    # overlap it by >= 0.49): no fit
    h, w = frames[0].shape[:2]
    t._detect = lambda images, source: [Detections(torch.tensor([[0., 0., w - 1., h - 1.]]), torch.tensor([0.9]))]
    t.init(frames[0], [0, 0, w, h])
    assert t._query.fit is None
    for bad in ("-1", "1001", "nan", "strong"):
        with pytest.raises(UserError, match="target_fit"):
            create_tracker("globaltrack", weights=str(tiny_weights), target_fit=bad)

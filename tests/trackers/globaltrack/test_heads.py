"""The detector composed as torchvision's (issue 12 part 6): a query-guided RPN and RoI heads on torchvision's
Matcher, BalancedPositiveNegativeSampler and BoxCoder, with mmdet v1's conventions as shims.

The v1 assigner reference is a plain-Python transcription of ``MaxIoUAssigner.assign_wrt_overlaps`` as spec 2.5
describes it, written independently of the package code."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torchvision.models.detection._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher  # noqa: E402

from globaltrack.trackers.globaltrack.config import get_config  # noqa: E402
from globaltrack.trackers.globaltrack.heads import V1BoxCoder, V1Matcher, sample, sampling_labels  # noqa: E402
from globaltrack.trackers.globaltrack.model import GlobalTrackModel  # noqa: E402


def reference_max_iou_assigner(ious, pos_iou, neg_iou, min_pos_iou):
    """v1: -1 ignore, 0 negative, g+1 positive; gts' best candidates (ties included) positive if >= min_pos_iou."""
    g_n, n = len(ious), len(ious[0])
    assigned = [-1] * n
    for j in range(n):
        col = [ious[g][j] for g in range(g_n)]
        best = max(col)
        arg = col.index(best)
        if 0 <= best < neg_iou:
            assigned[j] = 0
        if best >= pos_iou:
            assigned[j] = arg + 1
    for g in range(g_n):
        gmax = max(ious[g])
        if gmax >= min_pos_iou:
            for j in range(n):
                if ious[g][j] == gmax:
                    assigned[j] = g + 1
    return assigned


@pytest.mark.parametrize("thresholds", [(0.7, 0.3, 0.3), (0.5, 0.5, 0.5)])
def test_matcher_equals_the_v1_assigner_including_ties_and_min_pos_iou(thresholds):
    rng = np.random.default_rng(2)
    for trial in range(20):
        g, n = int(rng.integers(1, 4)), int(rng.integers(1, 40))
        ious = np.round(rng.uniform(0, 0.9, (g, n)), 1)  # rounding makes ties common
        if trial % 3 == 0:
            ious *= 0.2  # every gt's best below min_pos_iou
        matches = V1Matcher(*thresholds)(torch.tensor(ious, dtype=torch.float32))
        assert sampling_labels(matches).tolist() == reference_max_iou_assigner(ious.tolist(), *thresholds)
    assert isinstance(V1Matcher(0.7, 0.3, 0.3), Matcher)
    assert V1Matcher(0.7, 0.3, 0.3)(torch.zeros(1, 0)).numel() == 0  # no candidates: nothing to match


def test_sampler_keeps_the_v1_budget():
    labels = torch.tensor([1] * 50 + [0] * 500 + [-1] * 30)
    pos, neg = sample(BalancedPositiveNegativeSampler(256, 0.5), labels)
    assert pos.numel() == 50 and neg.numel() == 206  # positives < half: negatives fill up to 256
    assert bool((labels[pos] == 1).all()) and bool((labels[neg] == 0).all())
    pos, neg = sample(BalancedPositiveNegativeSampler(10 ** 6, 0.25), labels)
    assert pos.tolist() == list(range(50)) and neg.tolist() == list(range(50, 550))  # under budget: all, in order


def test_box_coder_is_torchvision_s_with_v1_arithmetic():
    coder = V1BoxCoder((10.0, 10.0, 5.0, 5.0))
    assert isinstance(coder, BoxCoder) and coder.stds == (0.1, 0.1, 0.2, 0.2)
    rois = torch.tensor([[10.0, 20, 59, 99], [100, 50, 130, 60]])
    gts = torch.tensor([[12.0, 18, 70, 90], [95, 45, 140, 70]])
    # against mmdet v1's delta2bbox written out in plain Python (not the package's ops), +1 widths, clamp and clip
    from tests.trackers.globaltrack.test_globaltrack_conventions import reference_delta2bbox

    deltas = coder.encode_single(gts, rois)
    for k in range(2):  # encoding is what v1 decoding inverts
        np.testing.assert_allclose(reference_delta2bbox(rois[k].tolist(), deltas[k].tolist(), (0.1, 0.1, 0.2, 0.2),
                                                        (1000, 1000)), gts[k].numpy(), atol=1e-3)
    big = torch.tensor([[0.1, -0.2, 9.0, -9.0]]).repeat(2, 1)  # dw/dh clamped on both sides, as v1 does
    decoded = coder.decode_single(big, rois, (80, 120))
    for k in range(2):
        np.testing.assert_allclose(decoded[k].numpy(), reference_delta2bbox(rois[k].tolist(), big[k].tolist(),
                                                                            (0.1, 0.1, 0.2, 0.2), (80, 120)),
                                   atol=1e-4)


def test_the_model_is_composed_like_torchvision_s_faster_rcnn():
    model = GlobalTrackModel("tiny")
    assert isinstance(model.rpn.proposal_matcher, Matcher) and isinstance(model.roi_heads.proposal_matcher, Matcher)
    assert isinstance(model.rpn.fg_bg_sampler, BalancedPositiveNegativeSampler)
    assert isinstance(model.roi_heads.box_coder, BoxCoder) and model.roi_heads.box_coder.weights == (10, 10, 5, 5)
    assert model.anchor_generator is model.rpn.anchor_generator
    # a replaced config reaches the heads (tests and the bench shrink the proposal counts this way)
    model.config = get_config("tiny", rpn_batch=8, test_nms_thr=0.3)
    assert model.rpn.fg_bg_sampler.batch_size_per_image == 8 and model.roi_heads.cfg.test_nms_thr == 0.3


def _rois_seen_by_the_box_head(copies, monkeypatch):
    """The RoIs QG-RCNN's loss scores for one query of a two-instance pair (single-query loss, so every RoI is
    that query's) and their classification labels, with ``copies`` distractor copies; and the query's own box and
    the other instance's."""
    import random

    from globaltrack.trackers.globaltrack import heads

    labels_seen = []
    cross_entropy = heads.F.cross_entropy

    def spy_ce(logits, labels, **kw):
        labels_seen.append(labels.clone())
        return cross_entropy(logits, labels, **kw)

    torch.manual_seed(0)
    random.seed(0)
    model = GlobalTrackModel("tiny", rpn_batch=16, rcnn_batch=16, rcnn_distractor_copies=copies).train()
    seen = []
    forward = model.roi_heads.forward

    def spy(features, rois, query=None, modulator=None):
        seen.append(rois.detach().clone())
        return forward(features, rois, query, modulator)

    model.roi_heads.forward = spy
    boxes = torch.tensor([[10.0, 10.0, 90.0, 110.0], [200.0, 60.0, 290.0, 200.0]])
    images = torch.randn(1, 3, 256, 320)
    with monkeypatch.context() as patch:  # undone on return: a second call spies on the real function, not on this spy
        patch.setattr(heads.F, "cross_entropy", spy_ce)
        out = model(images, [boxes], images.clone(), [boxes], single_query=True)
    assert torch.isfinite(out["loss_cls"])
    random.seed(0)
    j = random.choice([0, 1])  # the instance forward_train drew as the query
    return seen[0][:, 1:], labels_seen[0], boxes[j], boxes[1 - j]


def test_distractor_negatives_put_the_other_instances_into_every_query_s_rcnn_loss(monkeypatch):
    """With rcnn_distractor_copies=2 the box head also scores, after the sampled RoIs, the other instance's exact box
    and two jittered copies (each below IoU 0.5 with the query's own box, above it with the other instance), labelled
    background; with 0 (the official sampling) nothing is added."""
    from globaltrack.trackers.globaltrack.ops import box_iou_v1

    rois, labels, own, other = _rois_seen_by_the_box_head(2, monkeypatch)
    rois_official, labels_official, _, _ = _rois_seen_by_the_box_head(0, monkeypatch)
    assert len(rois) == len(labels) == len(rois_official) + 3
    assert labels[-3:].tolist() == [0, 0, 0] and (labels[:-3] == labels_official).all()
    added = rois[-3:]
    assert (added[0] == other).all()
    assert (box_iou_v1(other[None], added)[0] > 0.5).all()
    assert (box_iou_v1(own[None], added)[0] < 0.5).all()


def test_an_other_instance_overlapping_the_query_s_own_box_is_not_made_a_negative():
    """A co-instance at IoU >= 0.5 with the query's box (two boxes of one object) would contradict the positive."""
    heads = GlobalTrackModel("tiny", rcnn_distractor_copies=2).roi_heads
    own = torch.tensor([[10.0, 10.0, 90.0, 110.0]])
    others = torch.tensor([[12.0, 12.0, 92.0, 112.0], [200.0, 60.0, 290.0, 200.0]])
    kept = heads.distractor_rois(own, others)
    assert len(kept) >= 1 and not (kept == others[0]).all(1).any() and (kept == others[1]).all(1).any()


@pytest.mark.parametrize("extra_rois", [0, 36])  # 4 RoIs: torchvision's RoIAlign; 40: the gathered form's layout
@pytest.mark.parametrize("widths", [{}, {"fpn_channels": 96, "representation_size": 512}])  # tiny, lite0_fpn's
def test_the_folded_query_gives_the_unfolded_qg_rcnn_logits(widths, extra_rois):
    # fc6(flatten(proj_out(proj_x(x) * proj_z(z)))) folded into one matrix per query (fold_query) against the
    # modules themselves, with random (not zero-initialised) biases so that every bias term is exercised
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny", **widths).eval()
    for module in (model.rcnn_modulator.proj_x, model.rcnn_modulator.proj_z, model.rcnn_modulator.proj_out):
        torch.nn.init.normal_(module.weight, 0, 0.05)
        torch.nn.init.normal_(module.bias, 0, 0.5)
    for layer in (model.roi_heads.box_predictor.cls_score, model.roi_heads.box_predictor.bbox_pred):
        torch.nn.init.normal_(layer.weight, 0, 0.1)
    channels = model.config.fpn_channels
    features = [torch.randn(2, channels, 160 // s, 192 // s) for s in model.config.roi_strides]
    rois = torch.tensor([[0, 3.0, 4, 60, 50], [1, 10, 12, 150, 140], [0, 0, 0, 30, 20], [1, 5, 5, 9, 9]])
    corners = torch.rand(extra_rois, 2) * 120
    rois = torch.cat([rois, torch.cat([torch.randint(0, 2, (extra_rois, 1)).float(), corners,
                                       corners + torch.rand(extra_rois, 2) * 90 + 1], 1)])
    z_roi = torch.randn(1, channels, 7, 7)
    with torch.no_grad():
        query = model.embed_query_roi(z_roi, fold=True)
        assert query.rcnn_folded.weight.shape == (model.config.representation_size, channels * 49)
        expected = model.rcnn_forward(features, rois, query.rcnn_query)
        folded = model.rcnn_forward(features, rois, query.rcnn_folded)
    for e, f in zip(expected, folded):
        assert e.abs().max() > 0.1  # logits that would show a wrong fold
        torch.testing.assert_close(f, e, rtol=1e-4, atol=1e-4)
    assert model.embed_query_roi(z_roi).rcnn_folded is None  # training and evaluation code get the modules' path
    with pytest.raises(ValueError, match="one query"):
        model.roi_heads.fold_query(torch.randn(2, channels, 7, 7), model.rcnn_modulator)

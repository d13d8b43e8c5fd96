"""GlobalTrackModel: structure (spec 1), preprocessing (spec 3), the training losses (spec 2.4-2.5)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack.config import get_config  # noqa: E402
from globaltrack.trackers.globaltrack.model import GlobalTrackModel, total_loss  # noqa: E402
from globaltrack.trackers.globaltrack.preprocess import preprocess_batch, xywh_to_xyxy, xyxy_to_xywh  # noqa: E402


def meta_model(config="r50_fpn", **kw):
    with torch.device("meta"):
        return GlobalTrackModel(config, **kw)


def test_r50_fpn_has_the_official_tensor_count_and_parameter_count():
    # spec 4: 374 tensors, 58,984,793 parameters
    model = meta_model()
    assert len(model.state_dict()) == 374
    assert sum(p.numel() for p in model.parameters()) == 58_984_793


def test_state_dict_keys_are_the_documented_ones():
    keys = set(meta_model().state_dict())
    for k in ["backbone.body.layer4.2.bn3.running_var", "backbone.fpn.inner_blocks.3.0.weight",
              "backbone.fpn.layer_blocks.0.0.bias", "rpn.head.conv.0.0.weight", "rpn.head.cls_logits.weight",
              "rpn.head.bbox_pred.bias", "roi_heads.box_head.fc6.weight", "roi_heads.box_predictor.bbox_pred.weight",
              "rpn_modulator.proj_modulator.4.weight", "rpn_modulator.proj_out.0.bias", "rcnn_modulator.proj_z.weight",
              "rcnn_modulator.proj_x.bias", "rcnn_modulator.proj_out.weight"]:
        assert k in keys, k
    plain = set(meta_model(modulate=False).state_dict())
    assert not any(k.startswith(("rpn_modulator", "rcnn_modulator")) for k in plain)
    assert len(keys - plain) == 26  # spec 4: the 26 modulator tensors


def test_r50_freezes_stem_and_layer1_and_keeps_bn_in_eval_mode():
    model = meta_model()
    body = model.backbone.body
    assert not any(p.requires_grad for p in body.conv1.parameters())
    assert not any(p.requires_grad for p in body.layer1.parameters())
    assert all(p.requires_grad for p in body.layer2.parameters())
    model.train()
    assert not body.layer3[0].bn1.training and not body.bn1.training
    assert model.rpn.head.training


def test_modulator_shapes_follow_the_official_code():
    model = meta_model()
    assert tuple(model.rpn_modulator.proj_modulator[0].weight.shape) == (256, 256, 7, 7)
    assert len(model.rpn_modulator.proj_modulator) == 5 and len(model.rpn_modulator.proj_out) == 5
    assert tuple(model.rcnn_modulator.proj_x.weight.shape) == (256, 256, 3, 3)
    assert tuple(model.rcnn_modulator.proj_out.weight.shape) == (256, 256, 1, 1)
    assert model.roi_heads.box_predictor.bbox_pred.out_features == 8


def test_preprocessing_matches_the_spec_example():
    # spec 3: a 1280x720 frame becomes 1333x750, padded to 1344x768; P2..P6 are 192x336 ... 12x21
    image = np.zeros((720, 1280, 3), np.uint8)
    batch = preprocess_batch([image], [np.array([100, 50, 40, 30])], scale=(1333, 800))
    assert batch.image_sizes == [(750, 1333)]
    assert tuple(batch.images.shape) == (1, 3, 768, 1344)
    s = batch.scales[0]
    np.testing.assert_allclose(batch.boxes[0].numpy(), [[100 * s, 50 * s, 139 * s, 79 * s]], rtol=1e-6)
    # zero (normalised) image: channel value -mean/std; padding is exactly 0
    np.testing.assert_allclose(float(batch.images[0, 0, 0, 0]), -123.675 / 58.395, rtol=1e-6)
    assert float(batch.images[0, :, 760:, :].abs().sum()) == 0.0
    model = GlobalTrackModel("tiny").eval()
    with torch.no_grad():
        feats = model.extract_features(batch.images)
    assert [tuple(f.shape[-2:]) for f in feats] == [(192, 336), (96, 168), (48, 84), (24, 42), (12, 21)]


def test_box_conversions_use_the_inclusive_convention():
    np.testing.assert_array_equal(xywh_to_xyxy([10, 20, 30, 40]), [[10, 20, 39, 59]])
    np.testing.assert_array_equal(xyxy_to_xywh([[10, 20, 39, 59]]), [[10, 20, 30, 40]])


def _pairs(n_instances=(2, 1)):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in n_instances]
    qboxes = [np.array([[20 + 60 * j, 30 + 40 * j, 50, 40] for j in range(n)]) for n in n_instances]
    sboxes = [b + np.array([5, 3, 0, 0]) for b in qboxes]
    q = preprocess_batch(images, qboxes, scale=(320, 240))
    s = preprocess_batch(images, sboxes, scale=(320, 240))
    return q, s


def test_forward_train_returns_finite_losses_and_trains_the_modulators():
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny").train()
    q, s = _pairs()
    losses = model.forward_train(q.images, q.boxes, s.images, s.boxes, search_sizes=s.image_sizes)
    assert set(losses) == {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox", "acc"}
    assert all(torch.isfinite(v) for v in losses.values())
    # fresh heads: RPN sigmoid ~0.5 and RCNN softmax ~0.5 give BCE/CE close to log 2
    assert abs(losses["loss_rpn_cls"].item() - np.log(2)) < 0.05
    assert abs(losses["loss_cls"].item() - np.log(2)) < 0.05
    total_loss(losses).backward()
    for name in ["rpn_modulator.proj_modulator.2.weight", "rpn_modulator.proj_out.0.weight",
                 "rcnn_modulator.proj_z.weight", "rcnn_modulator.proj_x.weight", "rpn.head.cls_logits.weight",
                 "roi_heads.box_predictor.cls_score.weight", "backbone.body.conv1.weight"]:
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and float(grad.abs().sum()) > 0, name


def test_cross_query_loss_uses_every_instance_and_single_query_uses_one(monkeypatch):
    model = GlobalTrackModel("tiny").train()
    seen = []
    original = model.embed_query
    monkeypatch.setattr(model, "embed_query", lambda f, b, i=None: seen.append(b.shape[0]) or original(f, b, i))
    q, s = _pairs((3, 2))
    model.forward_train(q.images, q.boxes, s.images, s.boxes)
    model.forward_train(q.images, q.boxes, s.images, s.boxes, single_query=True)
    assert seen == [5, 2]


def test_training_steps_reduce_the_loss_on_one_pair():
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny").train()
    q, s = _pairs((1,))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.02, momentum=0.9)
    history = []
    for _ in range(6):
        loss = total_loss(model.forward_train(q.images, q.boxes, s.images, s.boxes, search_sizes=s.image_sizes))
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(loss))
    assert np.mean(history[-2:]) < history[0] - 0.05


def test_plain_rpn_ablation_trains_and_detects_without_a_query():
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny", modulate=False).train()
    q, s = _pairs()
    losses = model.forward_train(q.images, q.boxes, s.images, s.boxes)
    assert all(torch.isfinite(v) for v in losses.values())
    model.eval()
    dets = model.detect(s.images, s.image_sizes, s.scales, None)
    assert len(dets) == 2 and dets[0].boxes.shape[1] == 4
    with pytest.raises(ValueError):
        GlobalTrackModel("tiny").eval().detect(s.images, s.image_sizes, s.scales, None)


def test_tiny_config_is_small():
    model = GlobalTrackModel("tiny")
    size_mb = sum(t.numel() * t.element_size() for t in model.state_dict().values()) / 2 ** 20
    assert size_mb <= 20
    assert get_config("tiny").image_scale == (320, 240)


def test_losses_average_queries_within_a_pair_then_pairs():
    # spec 2.4: L = 1/M sum_k L(query k) per pair; the official 4 GPUs x 1 pair average the pairs. With sampling
    # budgets larger than the candidates nothing is drawn at random, so a batch of two pairs must give the mean of
    # the two pairs run alone (GroupNorm: no batch statistics).
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny", rpn_batch=10 ** 6, rcnn_batch=10 ** 6).train()
    q, s = _pairs((2, 1))
    with torch.no_grad():
        both = model.forward_train(q.images, q.boxes, s.images, s.boxes, search_sizes=s.image_sizes)
        alone = [model.forward_train(q.images[i:i + 1], q.boxes[i:i + 1], s.images[i:i + 1], s.boxes[i:i + 1],
                                     search_sizes=s.image_sizes[i:i + 1]) for i in range(2)]
    for key in ["loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox"]:
        expected = (alone[0][key] + alone[1][key]) / 2
        torch.testing.assert_close(both[key], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("top", [1, 4])
def test_refinement_sends_the_top_detections_again_through_their_box_regression_and_re_ranks_them(top):
    # an independent loop of what test_refine_passes / test_refine_top mean: pool at the boxes, decode the class-1
    # deltas, clip to the frame, again; then score sqrt(first score * score at the last pass's input box) and sort.
    # Random box-regression and class weights so that every pass moves the boxes and changes the scores; two frames
    # with different content (a wrong batch index shows)
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny").eval()
    torch.nn.init.normal_(model.roi_heads.box_predictor.bbox_pred.weight, 0, 0.05)
    torch.nn.init.normal_(model.roi_heads.box_predictor.bbox_pred.bias, 0, 2.0)
    torch.nn.init.normal_(model.roi_heads.box_predictor.cls_score.weight, 0, 1.0)
    q, s = _pairs()
    with torch.no_grad():
        query = model.embed_query(model.extract_features(q.images), q.boxes[0][:1])
        plain = model.detect(s.images, s.image_sizes, s.scales, query, refine_passes=0, refine_top=top)
        refined = model.detect(s.images, s.image_sizes, s.scales, query, refine_passes=2, refine_top=top)
        features = model.extract_features(s.images)
        for i in range(2):
            boxes = plain[i].boxes[:top] * float(s.scales[i])
            for _ in range(2):
                logits, deltas = model.rcnn_forward(
                    features, torch.cat([torch.full((top, 1), float(i)), boxes], 1), query.rcnn_query)
                boxes = model.roi_heads.box_coder.decode_single(deltas[:, 4:8], boxes, s.image_sizes[i])
            scores = torch.sqrt(plain[i].scores[:top] * torch.softmax(logits, 1)[:, 1])
            order = torch.argsort(scores, descending=True)
            torch.testing.assert_close(refined[i].boxes[:top], boxes[order] / float(s.scales[i]), rtol=1e-5,
                                       atol=1e-4)
            torch.testing.assert_close(refined[i].scores[:top], scores[order])
            assert (refined[i].boxes[:top] - plain[i].boxes[:top]).abs().max() > 0.5  # the passes moved them
            assert (refined[i].scores[:top] - plain[i].scores[:top]).abs().max() > 1e-3
            torch.testing.assert_close(refined[i].boxes[top:], plain[i].boxes[top:])  # the rest in their order,
            torch.testing.assert_close(refined[i].scores[top:], plain[i].scores[top:].clamp(max=scores.min()))
            assert torch.all(refined[i].scores[1:] <= refined[i].scores[:-1])  # ranked by score throughout
    if top > 1:
        assert not torch.equal(order, torch.arange(top))  # the re-ranking was exercised
    # the model's config decides when the caller does not (the official 0 passes for tiny)
    assert model.config.test_refine_passes == 0
    default = model.detect(s.images, s.image_sizes, s.scales, query)
    torch.testing.assert_close(default[0].boxes, plain[0].boxes)


def _rescoring_model(cls_std: float):
    """A tiny model whose query modulation and class scores vary between boxes (random, seeded), with a query and a
    search batch: for the tests of test-time re-scoring."""
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny").eval()
    for module in (model.rcnn_modulator.proj_x, model.rcnn_modulator.proj_z, model.rcnn_modulator.proj_out):
        torch.nn.init.normal_(module.weight, 0, 0.05)
    torch.nn.init.normal_(model.roi_heads.box_predictor.cls_score.weight, 0, cls_std)
    q, s = _pairs((3, 1))
    return model, q, s


def _rescored_as(plain, rescored, scales, expected, rtol, atol) -> int:
    """Checks that each image's top ``RESCORED_TOP`` detections of ``rescored`` are ``plain``'s with the scores
    ``expected(image, rois, n)`` gives them, sorted by those, and the rest below in their order with scores capped at
    the lowest; returns how many images changed order."""
    from globaltrack.trackers.globaltrack.model import RESCORED_TOP

    reordered = 0
    for i in range(len(plain)):
        n = min(RESCORED_TOP, plain[i].boxes.shape[0])
        assert n >= 3
        rois = torch.cat([torch.full((n, 1), float(i)), plain[i].boxes[:n] * float(scales[i])], 1)
        scores = expected(i, rois, n)
        order = torch.argsort(scores, descending=True)
        reordered += int(not torch.equal(order, torch.arange(n)))
        torch.testing.assert_close(rescored[i].boxes[:n], plain[i].boxes[:n][order])
        torch.testing.assert_close(rescored[i].scores[:n], scores[order], rtol=rtol, atol=atol)
        torch.testing.assert_close(rescored[i].boxes[n:], plain[i].boxes[n:])
        torch.testing.assert_close(rescored[i].scores[n:], plain[i].scores[n:].clamp(max=scores.min()))
    return reordered


def test_look_alike_queries_re_score_the_top_detections():
    # an independent loop of what test_distractor_weight means: each of the top detections of each frame is scored
    # by QG-RCNN under every look-alike query alone (the model's own forward, one query at a time); the new score is
    # score - weight * the best of those, the top re-ranked by it, the rest below in their order with capped scores
    import dataclasses

    model, q, s = _rescoring_model(cls_std=1.0)
    with torch.no_grad():
        features_q = model.extract_features(q.images)
        query = model.embed_query(features_q, q.boxes[0][:1])
        looks = model.rcnn_modulator.query(model.query_roi(features_q, q.boxes[0][1:3]))  # two look-alikes
        plain = model.detect(s.images, s.image_sizes, s.scales, query)
        with_looks = dataclasses.replace(query, distractors=looks)
        contrasted = model.detect(s.images, s.image_sizes, s.scales, with_looks, distractor_weight=0.7)
        features = model.extract_features(s.images)

        def expected(i, rois, n):
            best = torch.stack([torch.softmax(model.rcnn_forward(features, rois, looks[d:d + 1])[0], 1)[:, 1]
                                for d in range(2)]).max(0).values
            return plain[i].scores[:n] - 0.7 * best

        assert _rescored_as(plain, contrasted, s.scales, expected, rtol=1e-5, atol=1e-6)  # a ranking changed
        # weight 0 (the config default) and a query without look-alikes leave the detections as they were
        for dets in (model.detect(s.images, s.image_sizes, s.scales, with_looks),
                     model.detect(s.images, s.image_sizes, s.scales, query, distractor_weight=0.7)):
            torch.testing.assert_close(dets[0].boxes, plain[0].boxes)
            torch.testing.assert_close(dets[0].scores, plain[0].scores)


def test_first_frame_fit_re_scores_the_top_detections():
    # an independent loop of what a query's ``fit`` (dw, db) means: each of the top detections of each frame gets
    # sigmoid(logit(score) + fc7 . dw + db), fc7 the box head's output at its box under the target query computed by
    # the unfolded modulation (the model's own modulator and box head, not the folded fc6), the top re-ranked, the
    # rest below in their order with capped scores
    import dataclasses

    model, q, s = _rescoring_model(cls_std=0.05)  # scores not saturated: their logits are finite
    with torch.no_grad():
        z_roi = model.query_roi(model.extract_features(q.images), q.boxes[0][:1])
        query = model.embed_query_roi(z_roi, fold=True)
        plain = model.detect(s.images, s.image_sizes, s.scales, query)
        dw = torch.randn(model.config.representation_size) * 0.5
        db = torch.tensor([0.3])
        fitted = model.detect(s.images, s.image_sizes, s.scales, dataclasses.replace(query, fit=(dw, db)))
        features = model.extract_features(s.images)

        def expected(i, rois, n):
            fc7 = model.roi_heads.box_head(model.rcnn_modulator(model.roi_heads.box_roi_pool(features, rois),
                                                                 query.rcnn_query))
            p = plain[i].scores[:n].double()
            return torch.sigmoid(torch.log(p / (1 - p)) + (fc7 @ dw + db).double()).float()

        assert _rescored_as(plain, fitted, s.scales, expected, rtol=1e-4, atol=1e-5)  # a ranking changed
        # a zero correction changes nothing
        zero = model.detect(s.images, s.image_sizes, s.scales,
                            dataclasses.replace(query, fit=(torch.zeros_like(dw), torch.zeros(1))))
        torch.testing.assert_close(zero[0].boxes, plain[0].boxes)
        torch.testing.assert_close(zero[0].scores, plain[0].scores, rtol=1e-5, atol=1e-6)

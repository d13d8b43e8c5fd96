"""``--init torchvision-coco``: torchvision's COCO Faster R-CNN mapped onto GlobalTrack r50_fpn (issue 12 part 2).

torchvision's own ``fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)`` gives the real names and shapes
(random values; nothing is downloaded). The RPN mapping (anchor channels, box deltas, v1 cell-centred anchors) is
proven on a real frame: torchvision's own RPN code and ours, on the same features, give the same proposals.
"""
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from globaltrack.errors import UserError  # noqa: E402
from globaltrack.trackers.globaltrack.coco_init import (load_torchvision_coco, map_torchvision_coco,  # noqa: E402
                                                        resolve_coco_weights)
from globaltrack.trackers.globaltrack.model import GlobalTrackModel  # noqa: E402
from tests.conftest import shared_path  # noqa: E402


@pytest.fixture(scope="module")
def tv_model():
    from torchvision.models.detection import fasterrcnn_resnet50_fpn

    torch.manual_seed(0)
    model = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None).eval()
    with torch.no_grad():  # deltas of a realistic size (the default init gives ~0.01), so the decoding matters
        model.rpn.head.bbox_pred.weight.normal_(0, 0.002)
        model.rpn.head.bbox_pred.bias.normal_(0, 0.1)
    return model


@pytest.fixture(scope="module")
def coco_file(tv_model, tmp_path_factory):
    # torchvision's COCO file holds FrozenBatchNorm2d buffers: no num_batches_tracked
    sd = {k: v for k, v in tv_model.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path_factory.mktemp("coco") / "fasterrcnn_resnet50_fpn_coco.pth"
    torch.save(sd, path)
    return path


@pytest.fixture(scope="module")
def mapped_model(coco_file):
    torch.manual_seed(1)
    model = GlobalTrackModel("r50_fpn")
    lines = []
    load_torchvision_coco(model, f"torchvision-coco:{coco_file}", log=lines.append)
    return model.eval(), lines


def test_every_detector_tensor_maps_and_the_predictor_becomes_one_class(tv_model, mapped_model):
    model, lines = mapped_model
    ours, theirs = model.state_dict(), tv_model.state_dict()
    _, report = map_torchvision_coco({k: v for k, v in theirs.items() if not k.endswith("num_batches_tracked")},
                                     model)
    # everything but the predictor: backbone body, FPN, RPN head, box head (291 without BN counters)
    assert len(report.mapped) == sum(1 for k in theirs if not k.endswith("num_batches_tracked")) - 4
    for name in report.mapped:
        if not name.startswith("rpn.head."):
            assert torch.equal(ours[name], theirs[name]), name
    assert torch.equal(ours["rpn.head.conv.0.0.weight"], theirs["rpn.head.conv.0.0.weight"])
    # COCO's 91-class predictor cannot load: background + object, re-initialised as mmdet v1 does
    assert sorted(report.reinitialised) == sorted(k for k in theirs if k.startswith("roi_heads.box_predictor."))
    assert tuple(ours["roi_heads.box_predictor.cls_score.weight"].shape) == (2, 1024)
    assert tuple(ours["roi_heads.box_predictor.bbox_pred.weight"].shape) == (8, 1024)
    assert float(ours["roi_heads.box_predictor.cls_score.weight"].std()) == pytest.approx(0.01, rel=0.1)
    # the modulators and the BN counters are not in a detector: kept
    assert all(k.startswith(("rpn_modulator.", "rcnn_modulator.")) or k.endswith("num_batches_tracked")
               for k in report.kept)
    assert sum(k.startswith(("rpn_modulator.", "rcnn_modulator.")) for k in report.kept) == 26
    assert report.unused == []
    text = "\n".join(lines)
    assert f"mapped {len(report.mapped)} tensors" in text and "re-initialised 4" in text
    assert "kept at the model's init" in text


def test_batchnorm_is_frozen_as_in_the_paper(mapped_model):
    model, _ = mapped_model
    model.train()
    bns = [m for m in model.backbone.body.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 53 and not any(m.training for m in bns)  # running statistics, also in training
    assert not any(p.requires_grad for p in model.backbone.body.layer1.parameters())
    assert not model.backbone.body.conv1.weight.requires_grad
    assert model.backbone.body.layer2[0].bn1.weight.requires_grad  # affine of layer2-4 trains (mmdet default)
    model.eval()


def test_rpn_proposals_equal_torchvision_rpn_on_a_real_frame(tv_model, mapped_model):
    from PIL import Image
    from torchvision.models.detection.image_list import ImageList
    from torchvision.models.detection.rpn import concat_box_prediction_layers

    from globaltrack.trackers.globaltrack.ops import delta2bbox
    from globaltrack.trackers.globaltrack.preprocess import preprocess_image

    frame = shared_path("data", "sequences", "otb", "Couple", "img", "0001.jpg")
    model, _ = mapped_model
    # 512 x 384: every FPN stride divides the image, so torchvision's derived strides are the true ones (at 800 px
    # its P6 stride would be 61, spec 1.3) and the two anchor grids are comparable
    p = preprocess_image(np.asarray(Image.open(frame).convert("RGB")), scale=(512, 384))
    assert p.image_size == (384, 512)
    x = p.tensor[None]
    with torch.no_grad():
        feats = model.extract_features(x)
        tv_feats = list(tv_model.backbone(x).values())
        assert all(torch.equal(a, b) for a, b in zip(feats, tv_feats))
        objectness, deltas = model.rpn.head(feats)
        boxes, scores = model.propose(objectness, deltas, [p.image_size], model.config.test_proposals)[0]
        images = ImageList(x, [p.image_size])
        o2, d2 = tv_model.rpn.head(tv_feats)
        anchors = tv_model.rpn.anchor_generator(images, tv_feats)
        o2c, d2c = concat_box_prediction_layers(o2, d2)
        decoded = tv_model.rpn.box_coder.decode(d2c, anchors).view(1, -1, 4)
        tv_boxes, tv_scores = tv_model.rpn.filter_proposals(decoded, o2c, images.image_sizes,
                                                            [o[0].numel() for o in o2])
    # every anchor decodes to the same box (ours inclusive: +1 on x2, y2), within the shared-bias residual
    anc = torch.cat(model.anchor_generator([o.shape[-2:] for o in objectness], "cpu"))
    _, regs = model.rpn.flatten(objectness, deltas)
    ours_all = delta2bbox(anc, regs[0])
    ours_all = torch.cat([ours_all[:, :2], ours_all[:, 2:] + 1], 1)
    assert float((ours_all - decoded[0]).abs().max()) < 0.1
    # the final proposals: same scores in the same order, same boxes
    assert len(boxes) == len(tv_boxes[0]) == 1000
    n = 300
    torch.testing.assert_close(scores[:n], tv_scores[0][:n], atol=1e-6, rtol=0)
    ours_ex = torch.cat([boxes[:, :2], boxes[:, 2:] + 1], 1)
    assert float((ours_ex[:n] - tv_boxes[0][:n]).abs().max()) < 0.1
    # control: without the v1 centre shift the same weights put the boxes s/2 (2..32 px) away
    shift = model.rpn.head.bbox_pred.bias.detach().clone()
    plain = tv_model.rpn.head.bbox_pred.bias.detach()
    unshifted = delta2bbox(anc, regs[0] - (shift - plain).view(-1, 4).repeat(regs.shape[1] // 3, 1))
    assert float((torch.cat([unshifted[:, :2], unshifted[:, 2:] + 1], 1) - decoded[0]).abs().max()) > 1.5


def test_hub_cache_is_read_never_downloaded(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert Path(torch.hub.get_dir()) == tmp_path / "hub"  # the same folder torch's own rule gives
    with pytest.raises(UserError, match="torch hub cache"):
        resolve_coco_weights("torchvision-coco")
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    target = tmp_path / "hub" / "checkpoints" / "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    target.write_bytes(b"")
    assert resolve_coco_weights("torchvision-coco") == target
    with pytest.raises(UserError, match="not found"):
        resolve_coco_weights(f"torchvision-coco:{tmp_path / 'nope.pth'}")


def test_a_non_r50_model_is_a_user_error(coco_file):
    with pytest.raises(UserError, match="r50_fpn"):
        load_torchvision_coco(GlobalTrackModel("tiny"), f"torchvision-coco:{coco_file}", log=None)


def test_train_init_option_reaches_the_mapping(coco_file, capsys):
    from globaltrack.training.train import load_init

    model = GlobalTrackModel("r50_fpn")
    missing, unused = load_init(model, f"torchvision-coco:{coco_file}")
    assert "roi_heads.box_predictor.cls_score.weight" in missing and "rpn_modulator.proj_out.0.weight" in missing
    assert "mapped 291 tensors" in capsys.readouterr().out

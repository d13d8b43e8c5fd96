"""real_evidence: AR@k and the presence threshold measured with the tracker's test-time options, and
``--store-threshold --store-options`` writing exactly those settings into the weights (tensors unchanged)."""
import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from globaltrack.trackers.globaltrack.checkpoint import safe_load, save_checkpoint  # noqa: E402
from globaltrack.trackers.globaltrack.model import GlobalTrackModel  # noqa: E402
from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker  # noqa: E402
from globaltrack.training import real_evidence  # noqa: E402


@pytest.fixture
def val_set(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data" / "coco128"
    (root / "images" / "val2017").mkdir(parents=True)
    (root / "labels" / "val2017").mkdir(parents=True)
    for k in range(3):
        im = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        im[30:80, 40 + 10 * k:100 + 10 * k] = [240, 20, 20]
        Image.fromarray(im).save(root / "images" / "val2017" / f"{k}.jpg")
        (root / "labels" / "val2017" / f"{k}.txt").write_text(f"0 {0.44 + 0.06 * k:.3f} 0.46 0.375 0.42\n")
    return tmp_path / "data"


def test_store_options_writes_the_measured_settings(tmp_path, val_set):
    torch.manual_seed(0)
    weights = tmp_path / "w.pth"
    save_checkpoint(GlobalTrackModel("tiny"), weights)
    before = safe_load(weights)
    real_evidence.main([str(weights), "--data-root", str(val_set), "--opt", "proposals=20", "--opt",
                        "scale=200x160", "--opt", "query_flip=1", "--opt", "query_zooms=0.8,1",
                        "--store-threshold", "--store-options", "--out", str(tmp_path / "e.json")])
    after = safe_load(weights)
    assert after["config"]["test_proposals"]["max_num"] == 20
    assert list(after["config"]["test_image_scale"]) == [200, 160]
    assert after["config"]["test_query_flip"] is True and list(after["config"]["test_query_zooms"]) == [0.8, 1.0]
    assert 0.0 <= after["config"]["presence_threshold"] <= 1.0
    measured = ("test_proposals", "test_image_scale", "presence_threshold", "test_query_flip", "test_query_zooms")
    assert {k: v for k, v in after["config"].items() if k not in measured} == \
        {k: v for k, v in before["config"].items() if k not in measured}
    for k, v in before["state_dict"].items():
        assert torch.equal(v, after["state_dict"][k]), k
    tracker = GlobalTrackTracker(weights=str(weights))  # the stored settings are the tracker's defaults now
    assert tracker.config.test_proposals.max_num == 20 and tracker.config.test_image_scale == (200, 160)
    assert tracker.config.test_query_flip is True and tracker.config.test_query_zooms == (0.8, 1.0)


def test_bad_opt_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        real_evidence.main([str(tmp_path / "w.pth"), "--opt", "proposals"])

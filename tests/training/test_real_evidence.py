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


def _training_checkpoint(path, **train_config):
    """A checkpoint as `train` writes it (tiny model), with the given TrainConfig fields in its meta."""
    from globaltrack.trackers.globaltrack.checkpoint import FORMAT
    from globaltrack.training.train import TrainConfig

    torch.manual_seed(0)
    model = GlobalTrackModel("tiny")
    torch.save({"format": FORMAT, "state_dict": model.state_dict(), "config": model.config.to_dict(),
                "meta": {"iteration": 1, "train_config": TrainConfig(**train_config).to_dict()}}, path)
    return path


def test_export_of_a_presence_config_stores_the_threshold_real_evidence_chooses(tmp_path, val_set):
    """`globaltrack train --from CKPT --export PATH` of a config with presence_on_export (lite0-real) writes the
    threshold that `real_evidence` chooses on coco128 val2017, so one command gives the whole shipped file."""
    from globaltrack.harness.cli import main

    ckpt = _training_checkpoint(tmp_path / "latest.pth", presence_on_export=True, data_root=str(val_set))
    assert main(["train", "--from", str(ckpt), "--export", str(tmp_path / "w.pth")]) == 0
    assert main(["train", "--from", str(_training_checkpoint(tmp_path / "plain.pth")),
                 "--export", str(tmp_path / "plain_w.pth")]) == 0
    stored, plain = safe_load(tmp_path / "w.pth"), safe_load(tmp_path / "plain_w.pth")
    chosen = real_evidence.compute(tmp_path / "w.pth", val_set)["presence"]["threshold"]
    assert stored["config"]["presence_threshold"] == chosen
    assert plain["config"]["presence_threshold"] == GlobalTrackModel("tiny").config.presence_threshold != chosen
    assert {k: v for k, v in stored["config"].items() if k != "presence_threshold"} == \
        {k: v for k, v in plain["config"].items() if k != "presence_threshold"}
    for k, v in plain["state_dict"].items():
        assert torch.equal(v, stored["state_dict"][k]), k


def test_export_without_the_val_set_keeps_the_weights_and_says_how_to_finish(tmp_path, capsys):
    from globaltrack.harness.cli import main

    ckpt = _training_checkpoint(tmp_path / "latest.pth", presence_on_export=True, data_root=str(tmp_path / "none"))
    assert main(["train", "--from", str(ckpt), "--export", str(tmp_path / "w.pth")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is exported, but its presence threshold could not be chosen" in err[0]
    assert "--data-root" in err[0] and str(tmp_path / "none" / "coco128") in err[0]
    assert safe_load(tmp_path / "w.pth")["state_dict"]


def test_the_lite0_configuration_carries_the_shipped_test_settings():
    """The shipped file's stored test settings are the lite0_fpn configuration's own defaults, so a model trained
    with `--config lite0-real` is exported with them (the presence threshold is chosen per model)."""
    from globaltrack.trackers.globaltrack import default_weights_path
    from globaltrack.trackers.globaltrack.config import ModelConfig, get_config

    shipped = ModelConfig.from_dict(safe_load(default_weights_path())["config"]).to_dict()
    own = get_config("lite0_fpn").to_dict()
    from globaltrack.training.train import get_train_config

    trained_with = {*get_train_config("lite0-real").model_overrides, "presence_threshold"}
    assert {k: v for k, v in shipped.items() if k not in trained_with} == \
        {k: v for k, v in own.items() if k not in trained_with}
    assert (own["test_refine_passes"], own["test_refine_top"], own["test_query_flip"]) == (3, 2, True)
    assert own["test_distractor_weight"] == 0.25
    assert own["test_target_fit"] == 0.01

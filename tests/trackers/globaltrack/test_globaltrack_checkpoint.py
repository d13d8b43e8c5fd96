"""The official checkpoint (spec 4): every one of the 374 tensors in ../shared/spec/globaltrack_official_keys.tsv
maps onto our model, conversion is strict, and a tracker runs from a file with the official names and shapes."""
import dataclasses

import numpy as np
import pytest
from tests.conftest import SHARED

from globaltrack.errors import UserError

torch = pytest.importorskip("torch")

from globaltrack.harness.cli import main  # noqa: E402
from globaltrack.trackers.globaltrack.checkpoint import (convert_official, load_model, load_weights,  # noqa: E402
                                                         official_to_ours)
from globaltrack.trackers.globaltrack.config import ProposalConfig  # noqa: E402
from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker  # noqa: E402

TSV = SHARED / "spec" / "globaltrack_official_keys.tsv"


@pytest.fixture(scope="module")
def official_keys():
    if not TSV.is_file():
        pytest.skip(f"{TSV} is not present")
    rows = []
    for line in TSV.read_text().splitlines():
        name, shape, tv = line.split("\t")
        rows.append((name, tuple(int(x) for x in shape.strip("[]").split(",") if x.strip()), tv))
    return rows


def synthesise(rows, seed=0) -> dict:
    """A state dict with the official names and shapes and random values (scaled so activations stay finite)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shape, _ in rows:
        if name.endswith("num_batches_tracked"):
            sd[name] = torch.tensor(1000, dtype=torch.long)
        elif name.endswith("running_var"):
            sd[name] = 1 + 0.1 * torch.rand(shape, generator=g)
        elif name.endswith(("running_mean", "bias")):
            sd[name] = 0.05 * torch.randn(shape, generator=g)
        elif len(shape) == 1:  # BN weight
            sd[name] = 1 + 0.05 * torch.randn(shape, generator=g)
        else:
            fan_in = int(np.prod(shape[1:]))
            sd[name] = torch.randn(shape, generator=g) / np.sqrt(fan_in)
    return sd


@pytest.fixture(scope="module")
def official_state(official_keys):
    return synthesise(official_keys)


@pytest.fixture(scope="module")
def official_file(official_state, tmp_path_factory):
    """The mmcv layout: {'state_dict': ..., 'meta': ...}, DDP 'module.' prefixes."""
    path = tmp_path_factory.mktemp("official") / "qg_rcnn_r50_fpn_coco_got10k_lasot.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in official_state.items()},
                "meta": {"mmdet_version": "1.0rc0+synthetic", "epoch": 12}}, path)
    return path


def test_the_key_table_has_374_tensors_and_our_mapping_agrees_with_it(official_keys):
    assert len(official_keys) == 374
    for name, _, tv in official_keys:
        assert official_to_ours(name) == (name if tv == "None" else tv), name


def test_conversion_accounts_for_every_tensor(official_state):
    ours = convert_official(official_state)
    assert len(ours) == 374
    for name, tensor in official_state.items():
        assert ours[official_to_ours(name)] is tensor


def test_missing_unexpected_and_misshaped_tensors_are_named(official_state):
    sd = dict(official_state)
    del sd["rcnn_modulator.proj_x.bias"]
    with pytest.raises(UserError, match=r"missing.*rcnn_modulator\.proj_x\.bias"):
        convert_official(sd)
    sd = dict(official_state, **{"bbox_head.fc_extra.weight": torch.zeros(3)})
    with pytest.raises(UserError, match=r"unexpected tensor 'bbox_head\.fc_extra\.weight'"):
        convert_official(sd)
    sd = dict(official_state, **{"bbox_head.fc_cls.weight": torch.zeros(81, 1024)})  # an 81-class COCO head
    with pytest.raises(UserError, match=r"'bbox_head\.fc_cls\.weight' has shape \[81, 1024\], expected \[2, 1024\]"):
        convert_official(sd)
    sd = dict(official_state)
    del sd["neck.lateral_convs.2.conv.weight"]
    with pytest.raises(UserError, match=r"neck\.lateral_convs\.2\.conv\.weight"):
        convert_official(sd)


def test_bn_counters_may_be_absent(official_state):
    sd = {k: v for k, v in official_state.items() if not k.endswith("num_batches_tracked")}
    assert len(sd) == 374 - 53
    assert len(convert_official(sd)) == 374


def test_convert_command_and_direct_loading_give_the_same_tracker(official_file, official_state, tmp_path, capsys):
    out = tmp_path / "converted.pth"
    assert main(["convert-checkpoint", str(official_file), str(out)]) == 0
    assert "374" in capsys.readouterr().out
    sd, cfg, fmt = load_weights(out)
    assert fmt == "ours" and cfg.name == "r50_fpn" and len(sd) == 374
    sd_direct, cfg_direct, fmt_direct = load_weights(official_file)
    assert fmt_direct == "official" and cfg_direct.name == "r50_fpn"
    for k, v in sd.items():
        assert torch.equal(v, sd_direct[k]), k
    # a file in our format is not an official checkpoint
    assert main(["convert-checkpoint", str(out), str(tmp_path / "again.pth")]) == 2


def test_official_weights_with_the_wrong_config_is_a_user_error(official_file):
    with pytest.raises(UserError, match="config=r50_fpn"):
        load_weights(official_file, "tiny")


def test_tracker_from_the_official_file_runs_on_a_real_sequence(official_file, shared):
    from globaltrack.sequence import read_image

    seq = shared / "data" / "sequences" / "otb" / "Crossing"
    frames = [read_image(p) for p in sorted((seq / "img").glob("*.jpg"))[:3]]
    gt = np.loadtxt(seq / "groundtruth_rect.txt")
    model = load_model(official_file)
    assert model.config.name == "r50_fpn"
    # the official architecture at a reduced image size and proposal count, to keep the test fast on a CPU
    model.config = dataclasses.replace(model.config, image_scale=(384, 256),
                                       test_proposals=ProposalConfig(100, 100, 100, 0.7))
    tracker = GlobalTrackTracker(model=model)
    tracker.init(frames[0], gt[0])
    preds = tracker.track_batch(frames[1:])
    h, w = frames[0].shape[:2]
    for p in preds:
        assert np.all(np.isfinite(p.box)) and 0 <= p.score <= 1
        assert p.box[0] >= 0 and p.box[1] >= 0 and p.box[0] + p.box[2] <= w + 1e-3 and p.box[1] + p.box[3] <= h + 1e-3

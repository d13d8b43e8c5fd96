"""GlobalTrack training: pair sampling, the lr schedule, and a 2-iteration run that checkpoints, logs and resumes."""
import csv

import numpy as np
import pytest

from globaltrack.benchmarks import load_sequences
from globaltrack.benchmarks.synthetic import generate
from globaltrack.sequence import Sequence
from globaltrack.training.pairs import (MAX_GAP, ImagePairs, PairMixture, SyntheticPairs, VideoPairs,
                                                    hflip, valid_boxes)
from globaltrack.training.train import TrainConfig, get_train_config, learning_rate


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("syn") / "train", seed=5, split="train", sequences=2, frames=60,
                    size=(128, 96))


def test_official_frame_filter():
    # spec 2.3: area > 20; w,h >= 10; w,h <= 960; 1%..75% of the image; aspect in [0.2, 5)
    boxes = np.array([[0, 0, 50, 50], [0, 0, 9, 50], [0, 0, 50, 9], [0, 0, 400, 50], [0, 0, 100, 20],
                      [0, 0, 20, 100], [0, 0, 19, 100]], float)
    np.testing.assert_array_equal(valid_boxes(boxes, (500, 400)), [1, 0, 0, 0, 0, 1, 0])


def test_hflip_inclusive_boxes():
    img = np.zeros((10, 20, 3), np.uint8)
    img[2:4, 1:5] = 255
    out, b = hflip(img, np.array([[1, 2, 4, 3]], np.float32))
    ys, xs = np.nonzero(out[..., 0])
    np.testing.assert_array_equal(b[0], [xs.min(), ys.min(), xs.max(), ys.max()])


def test_video_pairs_query_before_search_within_gap(tmp_path):
    n = 400
    gt = np.tile([10.0, 10, 30, 30], (n, 1))
    frames = []
    from PIL import Image

    for i in range(n):
        p = tmp_path / f"{i:04d}.jpg"
        if i < 2:
            Image.new("RGB", (100, 80)).save(p)
        frames.append(str(tmp_path / f"{min(i, 1):04d}.jpg"))
    absent = np.zeros(n, bool)
    absent[50:] = True
    seq = Sequence("v", frames, gt, absent, metadata={"resolution": (100, 80)})
    src = VideoPairs([seq])
    rng = np.random.default_rng(0)
    valid = src.valid(0)
    assert valid[:50].all() and not valid[50:].any()
    from globaltrack.training.pairs import _gap_pair

    for _ in range(50):
        q, s = _gap_pair(rng, valid, valid)
        assert q < s <= q + MAX_GAP and s < 50


def test_synthetic_pairs_share_instances(synth):
    seqs = load_sequences("synthetic", synth, split="train")
    src = SyntheticPairs(seqs)
    rng = np.random.default_rng(1)
    pairs = [p for p in (src.sample(rng) for _ in range(20)) if p is not None]
    assert pairs
    assert any(len(p.query_boxes) > 1 for p in pairs)  # several co-existing instances
    for p in pairs:
        assert p.query_boxes.shape == p.search_boxes.shape and len(p.query_boxes) <= 8
        assert np.all(p.query_boxes[:, 2] > p.query_boxes[:, 0])


def test_coco_pairs_same_image_all_instances(tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 48), (10, 20, 30)).save(tmp_path / "a.jpg")
    items = [{"path": str(tmp_path / "a.jpg"), "boxes": [[1, 2, 10, 12], [20, 5, 15, 15], [0, 0, 0.5, 3]]}]
    p = ImagePairs(items).sample(np.random.default_rng(0))
    assert len(p.query_boxes) == 2  # the w < 1 box is dropped
    np.testing.assert_array_equal(p.query_boxes, p.search_boxes)
    np.testing.assert_array_equal(p.query_boxes[0], [1, 2, 10, 13])
    # the tuples of globaltrack.benchmarks.coco.load_coco_instances work the same
    tup = [(str(tmp_path / "a.jpg"), np.array([[1, 2, 10, 12], [20, 5, 15, 15]], float), np.array([1, 2]))]
    q = ImagePairs(tup).sample(np.random.default_rng(0))
    np.testing.assert_array_equal(q.query_boxes, p.query_boxes)


def test_mixture_is_deterministic_and_augments_independently(synth):
    seqs = load_sequences("synthetic", synth, split="train")
    mix = PairMixture([(SyntheticPairs(seqs), 1.0)], pairs_per_epoch=8, seed=3)
    a, b = mix[5], mix[5]
    np.testing.assert_array_equal(a.query_image, b.query_image)
    np.testing.assert_array_equal(a.search_boxes, b.search_boxes)
    mix.set_epoch(1)
    assert not np.array_equal(mix[5].query_image, a.query_image)


def test_lr_schedule_matches_official_recipe():
    cfg = get_train_config("r50-official")
    assert (cfg.lr, cfg.momentum, cfg.weight_decay, cfg.grad_clip, cfg.lr_steps) == (0.005, 0.9, 1e-4, 35.0, (8, 11))
    assert learning_rate(cfg, 0, 0) == pytest.approx(0.005 / 3)        # warm-up starts at 1/3 (spec 2.2)
    assert learning_rate(cfg, 500, 0) == pytest.approx(0.005)
    assert learning_rate(cfg, 10**5, 8) == pytest.approx(0.0005)       # x0.1 from epoch 9 on
    assert learning_rate(cfg, 10**5, 11) == pytest.approx(0.00005)


def test_two_iterations_checkpoint_log_and_resume(synth, tmp_path):
    pytest.importorskip("globaltrack.trackers.globaltrack.model")
    import torch

    from globaltrack.training.train import export_weights, model_from_checkpoint, train

    cfg = TrainConfig(name="t", model="tiny", epochs=2, pairs_per_epoch=2, batch_size=1, lr=0.002,
                      warmup_iters=2, probs={"synthetic": 1.0}, synthetic_root=str(synth), max_iters=2,
                      threads=1)
    out = tmp_path / "run"
    train(cfg, out, quiet=True)
    assert (out / "epoch_1.pth").is_file() and (out / "latest.pth").is_file()
    rows = list(csv.DictReader(open(out / "train_log.csv")))
    assert [int(r["iteration"]) for r in rows] == [1, 2]
    assert all(np.isfinite(float(r["loss"])) for r in rows)
    # a killed run may have logged rows after its last checkpoint: a resume drops them
    with open(out / "train_log.csv", "a") as f:
        f.write(f"3,2,0.001,{',9' * (len(rows[0]) - 3)}\n")
    # resume: the schedule continues from iteration 2 up to max_iters 3
    train(TrainConfig(**{**cfg.__dict__, "max_iters": 3}), out, resume=True, quiet=True)
    rows = list(csv.DictReader(open(out / "train_log.csv")))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3]
    ck = torch.load(out / "latest.pth", weights_only=False)
    assert ck["meta"]["iteration"] == 3 and "optimizer" in ck
    shipped = export_weights(out / "latest.pth", tmp_path / "w.pth", fp16=True)
    model, meta = model_from_checkpoint(shipped)
    assert all(v.dtype == torch.float16 for v in meta["state_dict"].values() if v.is_floating_point())
    assert "optimizer" not in meta and meta["meta"]["iteration"] == 3
    # the shipped weights equal the trained ones (to fp16 precision)
    trained = ck["state_dict"]["roi_heads.box_predictor.cls_score.weight"]
    torch.testing.assert_close(model.state_dict()["roi_heads.box_predictor.cls_score.weight"], trained,
                               atol=1e-3, rtol=1e-3)
    # the command users run writes what is shipped: fp16 weights with the run's log (and plot) beside them
    from globaltrack.harness.cli import main

    assert main(["train", "--from", str(out / "latest.pth"), "--export", str(tmp_path / "cli.pth")]) == 0
    _, meta = model_from_checkpoint(tmp_path / "cli.pth")
    assert all(v.dtype == torch.float16 for v in meta["state_dict"].values() if v.is_floating_point())
    assert (tmp_path / "cli_train_log.csv").read_bytes() == (out / "train_log.csv").read_bytes()


def test_evidence_figures_resolve_relative_to_the_json(tmp_path):
    import json

    from globaltrack.training.evidence import load_evidence

    (tmp_path / "fig.png").write_bytes(b"png")
    (tmp_path / "evidence.json").write_text(json.dumps({"tables": {}, "notes": [], "figures": {"c": "fig.png"}}))
    ev = load_evidence(tmp_path / "evidence.json")
    assert ev["figures"]["c"] == str((tmp_path / "fig.png").resolve())


def test_shipped_evidence_has_the_agreed_shape():
    import json

    from globaltrack.training.evidence import EVIDENCE_PATH

    if not EVIDENCE_PATH.is_file():
        pytest.skip("no shipped evidence.json")
    ev = json.loads(EVIDENCE_PATH.read_text())
    assert set(ev) == {"tables", "notes", "figures"}
    for table in ev["tables"].values():
        for row in table.values():
            assert all(isinstance(v, (int, float)) for v in row.values())
    for path in ev["figures"].values():
        assert (EVIDENCE_PATH.parent / path).is_file()


def test_build_pairs_from_a_tiny_coco_and_the_synthetic_split(tmp_path, synth):
    import json

    from PIL import Image

    from globaltrack.training.train import build_pairs

    (tmp_path / "coco" / "train2017").mkdir(parents=True)
    (tmp_path / "coco" / "annotations").mkdir()
    Image.new("RGB", (64, 48), (90, 20, 30)).save(tmp_path / "coco" / "train2017" / "1.jpg")
    (tmp_path / "coco" / "annotations" / "instances_train2017.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "1.jpg", "width": 64, "height": 48}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [3, 4, 20, 10], "category_id": 1, "iscrowd": 0,
                         "area": 200}],
        "categories": [{"id": 1, "name": "thing"}]}))
    cfg = TrainConfig(probs={"coco": 0.5, "synthetic": 0.5}, coco_root=str(tmp_path / "coco"),
                      synthetic_root=str(synth), pairs_per_epoch=10)
    mix = build_pairs(cfg, tmp_path / "run")
    sources = {mix[i].source for i in range(10)}
    assert sources == {"coco", "synthetic"}
    from globaltrack.errors import UserError

    with pytest.raises(UserError):
        build_pairs(TrainConfig(probs={"lasot": 1.0}), tmp_path / "run")  # no --lasot-root: a user error


def test_demo_evidence_puts_the_real_data_first(tmp_path, monkeypatch):
    """The demo report's evidence: the real-data tables of evidence_lite0_real.json (what was not measured becomes a
    note), then only the synthetic long-term table, labelled synthetic."""
    import json

    from globaltrack.harness.commands import demo

    real = {"model": "m", "ar_coco128_val2017": {"QG-RCNN": {"AR@1": 0.2, "AR@10": 0.4, "queries": 9},
                                                 "plain RPN": {"AR@1": 0.01, "AR@10": 0.1, "queries": 9},
                                                 "other_budget_rows": {"QG-RCNN, short": {"AR@1": 0.1}},
                                                 "selection": "a tie on val", "refine_choice": "3 passes",
                                                 "distractors_choice": "weight 0.25",
                                                 "target_fit_choice": "L2 weight 0.01"},
            "real_sequences": {"sequences": ["a"], "frames": 5, "otb": {"gt": {"auc": 0.5, "per_sequence": {"a": 0.5}}},
                               "lasot": {"gt": {"auc": 0.49}}},
            "cross_vs_single_query": "not measured",
            "recipe_runs": {"rows": {"shipped": {"minutes": 90.0}, "again": {"minutes": 95.0}}, "how": "twice"}}
    (tmp_path / "evidence_lite0_real.json").write_text(json.dumps(real))
    (tmp_path / "evidence.json").write_text(json.dumps({
        "tables": {"AR@k synthetic": {"QG-RPN": {"AR@1": 0.9}}, "Long-term: AUC": {"gt": {"AUC all": 40.0}}},
        "notes": ["Synthetic test split: 8 sequences", "Cross- vs single-query: other"], "figures": {}}))
    monkeypatch.setattr(demo, "evidence_path", lambda: tmp_path / "evidence.json")
    ev = demo.demo_evidence()
    titles = list(ev["tables"])
    assert titles[0].startswith("AR@k on coco128 val2017")
    assert list(ev["tables"][titles[0]]) == ["RPN (plain, no modulator)", "QG-RCNN", "QG-RCNN, short"]
    assert ev["tables"][titles[1]]["gt"] == {"AUC (otb rules)": 0.5, "AUC (lasot rules)": 0.49, "a": 0.5}
    assert ev["tables"][titles[2]] == {"shipped": {"minutes": 90.0}, "again": {"minutes": 95.0}}
    assert titles[2].startswith("Runs of the training recipe") and "Recipe runs: twice" in ev["notes"]
    assert titles[-1] == "Synthetic test split, tiny model: Long-term: AUC" and len(titles) == 4
    assert "Cross vs single query: not measured" in ev["notes"]
    assert "Model selection: a tie on val" in ev["notes"]
    assert "Look-alike queries: weight 0.25." in ev["notes"]
    assert "First-frame fit: L2 weight 0.01." in ev["notes"]
    assert "Top-1 box refinement: 3 passes" in ev["notes"]
    assert "Synthetic: Synthetic test split: 8 sequences" in ev["notes"]


def test_named_config_brings_its_process_layout(monkeypatch, tmp_path):
    """`globaltrack train --config lite0-real` runs the two DDP processes its recipe was measured with; --device or
    --devices on the command line, or torchrun's RANK, take precedence."""
    from globaltrack.harness.cli import main
    from globaltrack.training import distributed, train as train_mod

    calls = []
    monkeypatch.setattr(distributed, "launch", lambda fn, cfg, devices, *a, **k: calls.append(("launch", devices)))
    monkeypatch.setattr(train_mod, "train", lambda cfg, out, **k: calls.append(("train", cfg.device)) or out)
    monkeypatch.delenv("RANK", raising=False)
    assert main(["train", "--config", "lite0-real", "--out", str(tmp_path)]) == 0
    assert main(["train", "--config", "lite0-real", "--out", str(tmp_path), "--device", "cpu"]) == 0
    assert main(["train", "--config", "tiny-synthetic", "--out", str(tmp_path)]) == 0
    assert main(["train", "--config", "lite0-real", "--out", str(tmp_path), "--devices", "cpu,cpu,cpu"]) == 0
    monkeypatch.setenv("RANK", "0")  # torchrun made the processes: each one trains, none launches more
    assert main(["train", "--config", "lite0-real", "--out", str(tmp_path)]) == 0
    assert [c[0] for c in calls] == ["launch", "train", "train", "launch", "train"]
    assert len(calls[0][1]) == 2 and len(calls[3][1]) == 3

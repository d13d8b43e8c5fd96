"""GlobalTrack training pairs from the real dataset layouts (COCO, GOT-10k, LaSOT), built tiny in tmp_path.

Checks spec 2.3 (``Image2Pair``, ``Seq2Pair``, ``RandomConcat``): COCO pairs are one image twice with all its
non-crowd, non-tiny instances; video pairs have query frame < search frame, at most 300 frames apart, after the
official filters (GOT-10k absence/cover, LaSOT full_occlusion/out_of_view); at most 8 instances; boxes stay valid
after augmentation; sources are mixed with the configured probabilities.
"""
import json
import os

import numpy as np
import pytest
from PIL import Image

from globaltrack.benchmarks import load_sequences
from globaltrack.benchmarks.coco import load_coco_instances
from globaltrack.training.pairs import (MAX_GAP, MAX_INSTANCES, ImagePairs, VideoPairs, augment,
                                                    xywh_to_x1y1x2y2)
from globaltrack.training.train import TrainConfig, build_pairs

W, H = 64, 48
STEP = 0.1        # ground-truth x = X0 + STEP * frame index, so a box tells which frame it came from
X0 = 2.0
LASOT_NAME = "cat-10"   # an official LaSOT train-split name (the adapter's train split lists official names only)
pytestmark = pytest.mark.filterwarnings("ignore:lasot split 'train'")


def _jpg(path, size=(W, H), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def _box(t):
    return [X0 + STEP * t, 10.0, 16.0, 12.0]


def _frame_of(box_x1):
    return int(round((float(box_x1) - X0) / STEP))


def _write_gt(path, n, overrides=None):
    rows = [_box(t) for t in range(n)]
    for t, b in (overrides or {}).items():
        rows[t] = b
    path.write_text("".join(",".join(f"{v:g}" for v in r) + "\n" for r in rows))


# ---------------------------------------------------------------------------------------------- datasets
COCO_KEPT = {  # image file -> its non-crowd boxes with w, h >= 1 (x, y, w, h)
    "000000000001.jpg": [[4, 5, 20, 10], [30, 20, 12, 15]],
    "000000000002.jpg": [[1, 2, 30, 25], [40, 30, 15, 10]],
}
COCO_SIZES = {"000000000001.jpg": (64, 48), "000000000002.jpg": (80, 60)}

GOT_N = 12
GOT_ABSENT = {3}
GOT_COVER = {3: 0, 6: 2, 8: 1}        # cover > max(1, 0.3 * 8) = 2.4 needed: frames 3, 6, 8 excluded
GOT_TINY = {10: [X0 + STEP * 10, 10.0, 5.0, 5.0]}   # fails w, h >= 10
GOT_VALID = sorted(set(range(GOT_N)) - GOT_ABSENT - set(GOT_COVER) - set(GOT_TINY))

LASOT_N = 420                          # longer than MAX_GAP, so the 300-frame rule is exercised
LASOT_OCCLUDED = {2, 100, 250}
LASOT_OUT_OF_VIEW = {5, 310}
LASOT_VALID = sorted(set(range(LASOT_N)) - LASOT_OCCLUDED - LASOT_OUT_OF_VIEW)


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("pair_sources")
    # COCO: <root>/train2017/*.jpg + an instances json with one crowd box and one tiny box
    coco = base / "coco"
    (coco / "train2017").mkdir(parents=True)
    images, anns = [], []
    for i, (name, boxes) in enumerate(COCO_KEPT.items(), start=1):
        _jpg(coco / "train2017" / name, COCO_SIZES[name], seed=i)
        images.append({"id": i, "file_name": name, "width": COCO_SIZES[name][0], "height": COCO_SIZES[name][1]})
        for b in boxes:
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1, "bbox": b, "iscrowd": 0})
    anns.append({"id": 90, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "iscrowd": 1})
    anns.append({"id": 91, "image_id": 2, "category_id": 1, "bbox": [50, 5, 0.5, 8], "iscrowd": 0})
    (coco / "annotations").mkdir()
    ann_path = coco / "annotations" / "instances_train.json"
    ann_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1}]}))

    # GOT-10k: <root>/train/list.txt + train/GOT-10k_Train_000001/...
    got = base / "got10k"
    seq = got / "train" / "GOT-10k_Train_000001"
    seq.mkdir(parents=True)
    (got / "train" / "list.txt").write_text("GOT-10k_Train_000001\n")
    for t in range(GOT_N):
        _jpg(seq / f"{t + 1:08d}.jpg", seed=100 + t)
    _write_gt(seq / "groundtruth.txt", GOT_N, GOT_TINY)
    (seq / "absence.label").write_text("".join(f"{int(t in GOT_ABSENT)}\n" for t in range(GOT_N)))
    (seq / "cover.label").write_text("".join(f"{GOT_COVER.get(t, 8)}\n" for t in range(GOT_N)))
    (seq / "cut_by_image.label").write_text("0\n" * GOT_N)
    (seq / "meta_info.ini").write_text("[METAINFO]\nobject_class: cat\nmotion_class: walking\n"
                                       f"resolution: ({W}, {H})\n")

    # LaSOT: <root>/cat/cat-10/{img/00000001.jpg..., groundtruth.txt, full_occlusion.txt, out_of_view.txt, nlp.txt}
    lasot = base / "lasot"
    seq = lasot / "cat" / LASOT_NAME
    (seq / "img").mkdir(parents=True)
    for k in range(4):
        _jpg(seq / "img" / f"{k + 1:08d}.jpg", seed=200 + k)
    for t in range(4, LASOT_N):  # identical pixels are fine: the boxes identify the frame
        os.link(seq / "img" / f"{t % 4 + 1:08d}.jpg", seq / "img" / f"{t + 1:08d}.jpg")
    _write_gt(seq / "groundtruth.txt", LASOT_N)
    (seq / "full_occlusion.txt").write_text(",".join(str(int(t in LASOT_OCCLUDED)) for t in range(LASOT_N)))
    (seq / "out_of_view.txt").write_text(",".join(str(int(t in LASOT_OUT_OF_VIEW)) for t in range(LASOT_N)))
    (seq / "nlp.txt").write_text("a cat walking\n")
    return {"coco": coco, "coco_ann": ann_path, "got10k": got, "lasot": lasot}


def _config(roots, probs):
    return TrainConfig(probs=probs, coco_root=str(roots["coco"]), coco_annotations=str(roots["coco_ann"]),
                       got10k_root=str(roots["got10k"]), lasot_root=str(roots["lasot"]), pairs_per_epoch=200, seed=3)


def _assert_boxes_valid(boxes, image):
    h, w = image.shape[:2]
    assert 1 <= len(boxes) <= MAX_INSTANCES
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= w - 1) and np.all(boxes[:, 3] <= h - 1)


# ---------------------------------------------------------------------------------------------- COCO
def test_coco_pairs_are_one_image_with_all_kept_instances(roots):
    items = load_coco_instances(roots["coco_ann"], roots["coco"] / "train2017", min_size=1.0)
    src = ImagePairs(items, name="coco")
    assert len(src) == 2
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(20):
        p = src.sample(rng)
        name = next(n for n, s in COCO_SIZES.items() if p.query_image.shape[:2] == (s[1], s[0]))
        seen.add(name)
        np.testing.assert_array_equal(p.query_image, p.search_image)
        np.testing.assert_array_equal(p.query_image, np.asarray(Image.open(roots["coco"] / "train2017" / name)))
        np.testing.assert_array_equal(p.query_boxes, p.search_boxes)  # row k is the same instance in both
        # all instances, minus the crowd box (image 1) and the w < 1 box (image 2)
        assert sorted(map(tuple, p.query_boxes.tolist())) == sorted(
            map(tuple, xywh_to_x1y1x2y2(COCO_KEPT[name]).tolist()))
    assert seen == set(COCO_KEPT)


def test_coco_pairs_keep_at_most_8_instances_matched(roots):
    path = str(roots["coco"] / "train2017" / "000000000002.jpg")
    boxes = np.array([[2 + 5 * k, 3, 4 + k, 6] for k in range(12)], float)
    src = ImagePairs([{"path": path, "boxes": boxes}])
    all_rows = set(map(tuple, xywh_to_x1y1x2y2(boxes).tolist()))
    for seed in range(5):
        p = augment(src.sample(np.random.default_rng(seed)), np.random.default_rng(seed), flip=0.0)
        assert len(p.query_boxes) == MAX_INSTANCES
        rows = set(map(tuple, p.query_boxes.tolist()))
        assert len(rows) == MAX_INSTANCES and rows <= all_rows
        np.testing.assert_array_equal(p.query_boxes, p.search_boxes)


# ---------------------------------------------------------------------------------------------- videos
def _raw_frames(src, n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = src.sample(rng)
        assert p is not None and len(p.query_boxes) == 1 == len(p.search_boxes)
        out.append((_frame_of(p.query_boxes[0, 0]), _frame_of(p.search_boxes[0, 0])))
    return np.array(out)


def test_got10k_pairs_follow_order_and_official_filters(roots):
    seqs = load_sequences("got10k", roots["got10k"], split="train")
    src = VideoPairs(seqs, name="got10k")
    np.testing.assert_array_equal(np.flatnonzero(src.valid(0)), GOT_VALID)
    qs = _raw_frames(src, 150)
    assert np.all(qs[:, 0] < qs[:, 1]) and np.all(qs[:, 1] - qs[:, 0] <= MAX_GAP)
    used = set(qs.ravel().tolist())
    assert used == set(GOT_VALID)  # absent, low-cover and too-small frames never used; every valid one is


def test_lasot_pairs_follow_order_gap_and_absence(roots):
    seqs = load_sequences("lasot", roots["lasot"], split="train")
    assert [s.name for s in seqs] == [LASOT_NAME]
    src = VideoPairs(seqs, name="lasot")
    np.testing.assert_array_equal(np.flatnonzero(src.valid(0)), LASOT_VALID)
    qs = _raw_frames(src, 300, seed=1)
    gap = qs[:, 1] - qs[:, 0]
    assert np.all(gap > 0) and gap.max() <= MAX_GAP
    assert gap.max() > 150  # the rule is actually exercised, not satisfied by a short sequence
    assert not (set(qs.ravel().tolist()) & (LASOT_OCCLUDED | LASOT_OUT_OF_VIEW))


# ---------------------------------------------------------------------------------------------- mixing
def _draw(mixture, n=200):
    return [mixture[i] for i in range(n)]


def test_mixture_of_real_sources_gives_valid_augmented_pairs(roots, tmp_path):
    probs = {"coco": 0.4, "got10k": 0.4, "lasot": 0.2}
    pairs = _draw(build_pairs(_config(roots, probs), tmp_path))
    counts = {k: sum(p.source == k for p in pairs) for k in probs}
    assert all(c > 0 for c in counts.values()), counts
    for k, pr in probs.items():
        assert abs(counts[k] / len(pairs) - pr) < 0.1, counts
    for p in pairs:
        _assert_boxes_valid(p.query_boxes, p.query_image)
        _assert_boxes_valid(p.search_boxes, p.search_image)
        assert len(p.query_boxes) == len(p.search_boxes)
        if p.source == "coco":  # same instances; only the independent flips may differ
            assert p.query_image.shape == p.search_image.shape
            w = p.query_image.shape[1]
            flipped = p.query_boxes[:, [2, 1, 0, 3]] * [-1, 1, -1, 1] + [w - 1, 0, w - 1, 0]
            assert (np.allclose(p.search_boxes, p.query_boxes) or np.allclose(p.search_boxes, flipped))


def test_mixture_never_draws_a_zero_probability_source(roots, tmp_path):
    cfg = _config(roots, {"coco": 0.5, "got10k": 0.0, "lasot": 0.5})
    sources = {p.source for p in _draw(build_pairs(cfg, tmp_path))}
    assert sources == {"coco", "lasot"}

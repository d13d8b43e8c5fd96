"""Training pairs for GlobalTrack: a query image and a search image sharing up to 8 instances.

Follows the official data pipeline (spec 2.3: ``datasets/wrappers.py``, ``neuron/data/datasets/structure.py``,
``neuron/data/transforms/pair_transforms/mmdet_transforms.py``):

- COCO (``Image2Pair``): the *same* image twice with *all* its instances, augmented independently.
- Videos (``Seq2Pair``, GOT-10k and LaSOT): a query frame strictly before the search frame, at most 300 frames
  apart (up to 100 tries), after the official frame filters (``valid_frames`` below); one instance per pair.
- The synthetic benchmark: like a video, but every instance visible in both frames is used (so the cross-query loss
  sees look-alike distractors as other queries' background).
- Mixing (``RandomConcat``): a source drawn per pair with fixed probabilities (official 0.4/0.4/0.2).
- Augmentation (``extra_partial``): photometric distortion on each image independently, one channel permutation
  (p=0.5) drawn on the query and shared with the search image, and horizontal flips drawn independently
  (p=0.5 each). Rescaling, normalising and padding are the model's ``preprocess_batch``; the official random
  interpolation choice at rescale time is not reproduced (both images use the model's bilinear resize).

Boxes in a `Pair` are inclusive ``x1, y1, x2, y2`` (x2 = x + w - 1), the convention of the official datasets.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from globaltrack.sequence import Sequence, read_image

MAX_INSTANCES = 8     # spec 2.3 max_instances
MAX_GAP = 300         # spec 2.3: search frame at most 300 frames after the query frame
PAIRS_PER_SEQUENCE = 10
TRIES = 100


@dataclass
class Pair:
    query_image: np.ndarray   # RGB uint8 (H, W, 3)
    query_boxes: np.ndarray   # (K, 4) float32 inclusive x1, y1, x2, y2; row k is the same instance in both
    search_image: np.ndarray
    search_boxes: np.ndarray
    source: str = ""


def xywh_to_x1y1x2y2(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    b[:, 2] = b[:, 0] + b[:, 2] - 1
    b[:, 3] = b[:, 1] + b[:, 3] - 1
    return b


def valid_boxes(boxes_xywh: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """The official video frame filter (spec 2.3, ``Seq2Pair``): area > 20; w, h >= 10; w, h <= 960; w, h within
    1%..75% of the image's width and height; aspect w/h in [0.2, 5). Returns a bool mask."""
    b = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    w, h = b[:, 2], b[:, 3]
    W, H = float(image_size[0]), float(image_size[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = np.where(h > 0, w / np.maximum(h, 1e-9), 0)
    ok = (w * h > 20) & (w >= 10) & (h >= 10) & (w <= 960) & (h <= 960)
    ok &= (w >= 0.01 * W) & (w <= 0.75 * W) & (h >= 0.01 * H) & (h <= 0.75 * H)
    ok &= (aspect >= 0.2) & (aspect < 5)
    return ok & np.all(np.isfinite(b), axis=1)


def _image_size(seq: Sequence) -> tuple[int, int]:
    res = seq.metadata.get("resolution")
    if res:
        return int(res[0]), int(res[1])
    from PIL import Image

    with Image.open(seq.frames[0]) as im:
        seq.metadata["resolution"] = im.size
        return im.size


def _gap_pair(rng: np.random.Generator, valid_q: np.ndarray, valid_s: np.ndarray) -> tuple[int, int] | None:
    """Query index < search index <= query + MAX_GAP, both valid (official: up to 100 tries)."""
    q_idx = np.flatnonzero(valid_q)
    if len(q_idx) == 0:
        return None
    for _ in range(TRIES):
        q = int(q_idx[rng.integers(len(q_idx))])
        cand = np.flatnonzero(valid_s[q + 1:q + 1 + MAX_GAP]) + q + 1
        if len(cand):
            return q, int(cand[rng.integers(len(cand))])
    return None


class VideoPairs:
    """Pairs from single-object video sequences (GOT-10k, LaSOT train): one instance per pair."""

    name = "video"

    def __init__(self, sequences: list[Sequence], name: str = "video"):
        self.name = name
        self.sequences = [s for s in sequences if len(s.frames) >= 2 and len(s.ground_truth) == len(s.frames)]
        self._valid: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.sequences)

    def valid(self, i: int) -> np.ndarray:
        if i not in self._valid:
            seq = self.sequences[i]
            ok = valid_boxes(seq.ground_truth, _image_size(seq)) & ~np.asarray(seq.absent, bool)
            cover = seq.metadata.get("cover")
            if cover is not None:  # GOT-10k: cover > max(1, 0.3 * max cover)  (spec 2.3)
                cover = np.asarray(cover, dtype=float)
                ok &= cover > max(1.0, 0.3 * float(cover.max()))
            self._valid[i] = ok
        return self._valid[i]

    def sample(self, rng: np.random.Generator) -> Pair | None:
        i = int(rng.integers(len(self.sequences)))
        ok = self.valid(i)
        ij = _gap_pair(rng, ok, ok)
        if ij is None:
            return None
        seq = self.sequences[i]
        q, s = ij
        return Pair(read_image(seq.frames[q]), xywh_to_x1y1x2y2(seq.ground_truth[q]),
                    read_image(seq.frames[s]), xywh_to_x1y1x2y2(seq.ground_truth[s]), self.name)


class SyntheticPairs:
    """Pairs from the synthetic benchmark: every instance visible in both frames, up to 8."""

    name = "synthetic"

    def __init__(self, sequences: list[Sequence], min_visible: float = 0.6):
        self.sequences = sequences
        self.min_visible = min_visible
        self._tracks: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.sequences)

    def tracks(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(boxes (I, N, 4) xywh with NaN where not visible, usable (I, N) bool) for sequence i."""
        if i not in self._tracks:
            seq = self.sequences[i]
            inst = json.loads((Path(seq.metadata["path"]) / "instances.json").read_text())["instances"]
            n = len(seq.frames)
            boxes = np.full((len(inst), n, 4), np.nan)
            usable = np.zeros((len(inst), n), dtype=bool)
            size = _image_size(seq)
            for k, it in enumerate(inst):
                for t, b in enumerate(it["boxes"][:n]):
                    if b is not None:
                        boxes[k, t] = b
                vis = np.asarray(it["visible"][:n], dtype=float)
                usable[k] = (vis >= self.min_visible) & valid_boxes(np.nan_to_num(boxes[k]), size)
            self._tracks[i] = (boxes, usable)
        return self._tracks[i]

    def sample(self, rng: np.random.Generator) -> Pair | None:
        i = int(rng.integers(len(self.sequences)))
        boxes, usable = self.tracks(i)
        # anchor the frame choice on a random instance, then keep every instance usable in both frames
        k0 = int(rng.integers(len(boxes)))
        ij = _gap_pair(rng, usable[k0], usable[k0])
        if ij is None:
            ij = _gap_pair(rng, usable.any(0), usable.any(0))
            if ij is None:
                return None
        q, s = ij
        keep = np.flatnonzero(usable[:, q] & usable[:, s])
        if len(keep) == 0:
            return None
        if len(keep) > MAX_INSTANCES:
            keep = np.sort(rng.choice(keep, MAX_INSTANCES, replace=False))
        seq = self.sequences[i]
        return Pair(read_image(seq.frames[q]), xywh_to_x1y1x2y2(boxes[keep, q]),
                    read_image(seq.frames[s]), xywh_to_x1y1x2y2(boxes[keep, s]), self.name)


class ImagePairs:
    """COCO (``Image2Pair``): the same image as query and search, all its instances (up to 8 drawn at random).

    ``items`` are records with an image path and (N, 4) x, y, w, h boxes: ``(path, boxes, ...)`` tuples as
    ``globaltrack.benchmarks.coco.load_coco_instances`` returns, or dicts / objects with ``path`` and ``boxes``.
    Crowd boxes are expected to be removed by the loader (spec 2.3); boxes with w or h < 1 and images with a short
    side < 32 are dropped here.
    """

    name = "coco"

    def __init__(self, items: list[Any], name: str = "coco"):
        self.name = name
        self.items = [it for it in items if len(self._boxes(it))]

    @staticmethod
    def _get(item, *keys):
        if isinstance(item, (tuple, list)):  # load_coco_instances: (image_path, boxes, category_ids)
            return item[0] if keys[0] in ("path", "file_name", "image", "file") else item[1]
        for k in keys:
            if isinstance(item, dict) and k in item:
                return item[k]
            if hasattr(item, k):
                return getattr(item, k)
        raise KeyError(keys[0])

    def _boxes(self, item) -> np.ndarray:
        b = np.asarray(self._get(item, "boxes", "bboxes"), dtype=np.float64).reshape(-1, 4)
        return b[(b[:, 2] >= 1) & (b[:, 3] >= 1)]

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, rng: np.random.Generator) -> Pair | None:
        item = self.items[int(rng.integers(len(self.items)))]
        img = read_image(self._get(item, "path", "file_name", "image", "file"))
        if min(img.shape[:2]) < 32:
            return None
        b = self._boxes(item)
        if len(b) > MAX_INSTANCES:
            b = b[np.sort(rng.choice(len(b), MAX_INSTANCES, replace=False))]
        boxes = xywh_to_x1y1x2y2(b)
        return Pair(img, boxes, img.copy(), boxes.copy(), self.name)


# --------------------------------------------------------------------------------------------- augmentation
def photometric_distortion(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """mmdet ``PhotoMetricDistortion`` as the official ``ExtraPairTransforms`` uses it: brightness +-32, contrast
    x[0.5, 1.5] before or after the HSV step, saturation x[0.5, 1.5], hue +-18 degrees, each with p=0.5."""
    import cv2

    x = img.astype(np.float32)
    if rng.random() < 0.5:
        x += rng.uniform(-32, 32)
    contrast_first = rng.random() < 0.5
    if contrast_first and rng.random() < 0.5:
        x *= rng.uniform(0.5, 1.5)
    do_sat, do_hue = rng.random() < 0.5, rng.random() < 0.5
    if do_sat or do_hue:
        hsv = cv2.cvtColor(np.clip(x, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
        if do_sat:
            hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.5, 1.5), 0, 1)
        if do_hue:
            hsv[..., 0] = (hsv[..., 0] + rng.uniform(-18, 18)) % 360
        x = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0
    if not contrast_first and rng.random() < 0.5:
        x *= rng.uniform(0.5, 1.5)
    return np.clip(x, 0, 255).astype(np.uint8)


def hflip(img: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal flip of an image and its inclusive boxes (x1' = W - 1 - x2)."""
    W = img.shape[1]
    b = boxes.copy()
    b[:, 0] = W - 1 - boxes[:, 2]
    b[:, 2] = W - 1 - boxes[:, 0]
    return np.ascontiguousarray(img[:, ::-1]), b


def augment(pair: Pair, rng: np.random.Generator, photometric: bool = True, flip: float = 0.5,
            channel_swap: float = 0.5) -> Pair:
    q, s = pair.query_image, pair.search_image
    qb, sb = pair.query_boxes, pair.search_boxes
    if photometric:
        q, s = photometric_distortion(q, rng), photometric_distortion(s, rng)
    if rng.random() < channel_swap:  # drawn on the query, shared with the search image
        perm = rng.permutation(3)
        q, s = q[..., perm], s[..., perm]
    if rng.random() < flip:
        q, qb = hflip(q, qb)
    if rng.random() < flip:
        s, sb = hflip(s, sb)
    return Pair(np.ascontiguousarray(q), qb, np.ascontiguousarray(s), sb, pair.source)


class PairMixture:
    """``RandomConcat``: draw a source per pair with fixed probabilities, then augment.

    Pair ``index`` of ``epoch`` is a pure function of ``(seed, epoch, index)``, so a resumed run sees the same data
    and DataLoader workers need no shared state.
    """

    def __init__(self, sources: list[tuple[Any, float]], pairs_per_epoch: int, seed: int = 0,
                 augment_fn: Callable[[Pair, np.random.Generator], Pair] | None = augment):
        sources = [(s, float(p)) for s, p in sources if len(s) and p > 0]
        if not sources:
            from globaltrack.errors import UserError

            raise UserError("no training data: every pair source is empty or has probability 0")
        self.sources = [s for s, _ in sources]
        probs = np.array([p for _, p in sources])
        self.probs = probs / probs.sum()
        self.pairs_per_epoch = int(pairs_per_epoch)
        self.seed = int(seed)
        self.epoch = 0
        self.augment_fn = augment_fn

    def __len__(self) -> int:
        return self.pairs_per_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __getitem__(self, index: int) -> Pair:
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        for _ in range(TRIES):
            src = self.sources[int(rng.choice(len(self.sources), p=self.probs))]
            pair = src.sample(rng)
            if pair is not None:
                return self.augment_fn(pair, rng) if self.augment_fn else pair
        raise RuntimeError("could not sample a valid training pair in 100 tries")


def collate_pairs(pairs: list[Pair]) -> list[Pair]:
    """DataLoader collate: keep the list (images differ in size; the model's preprocessing batches them)."""
    return list(pairs)


__all__ = ["Pair", "VideoPairs", "SyntheticPairs", "ImagePairs", "PairMixture", "augment", "hflip",
           "photometric_distortion", "valid_boxes", "xywh_to_x1y1x2y2", "collate_pairs"]

"""`got10k`: GOT-10k (Huang, Zhao, Huang; TPAMI 2019) as released.

Layout::

    <root>/{train,val,test}/list.txt
    <root>/<split>/<seq>/00000001.jpg ...
    <root>/<split>/<seq>/groundtruth.txt        x,y,w,h per frame (test: the first frame only)
    <root>/<split>/<seq>/absence.label          0/1 per frame (train, val)
    <root>/<split>/<seq>/cover.label            0-8 per frame: visible fraction in eighths (0 = invisible)
    <root>/<split>/<seq>/cut_by_image.label     0/1 per frame
    <root>/<split>/<seq>/meta_info.ini          "key: value" lines, among them ``resolution: (W, H)``

``--root`` may also be the split folder itself. The GOT-10k protocol needs ``cover`` (it keeps frames with
cover > 0) and the image resolution (it clips boxes to the image), so both go into ``metadata`` (spec §1.3); the
other meta_info fields are in ``metadata["meta_info"]``. ``Sequence.absent`` is ``absence.label``. The test split has
one annotated row, the initial box, as the dataset ships it.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import (DatasetAdapter, SequenceMissing, align_frames, list_images, read_table,
                                            require_dir)
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence

SPLITS = ("val", "test", "train")


def read_meta_info(path: str | Path) -> dict[str, str]:
    """``meta_info.ini`` as a dict (the first line, ``[METAINFO]``, and lines without a colon are skipped)."""
    out: dict[str, str] = {}
    for line in Path(path).read_text(errors="replace").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def parse_resolution(text: str, path: Path) -> tuple[int, int]:
    nums = re.findall(r"\d+", text)
    if len(nums) != 2:
        raise AnnotationError(f"resolution '{text}' is not '(W, H)'", path)
    return int(nums[0]), int(nums[1])


def read_labels(path: Path, rows: int, what: str) -> np.ndarray:
    values = read_table(path, 1, what=what).reshape(-1)
    if len(values) != rows:
        raise AnnotationError(f"{what} has {len(values)} rows, groundtruth.txt has {rows}", path)
    return values


@register_benchmark("got10k", description="GOT-10k (val 180 / test 180 / train); cover and resolution in metadata",
                    aliases=("got-10k",))
class GOT10k(DatasetAdapter):
    benchmark_name = "got10k"
    default_protocol = "got10k"
    splits = SPLITS
    default_split = "val"

    def __init__(self, root=None, split=None, **options):
        super().__init__(root, split=split, **options)
        root = require_dir(root, "GOT-10k dataset")
        split_dir = root / self.split
        if not split_dir.is_dir() and (root / "list.txt").is_file() and root.name.lower() == self.split:
            split_dir = root  # --root points at the split folder itself
        self._dir = require_dir(split_dir, f"GOT-10k '{self.split}' split")

    def sequence_names(self) -> list[str]:
        listing = self._dir / "list.txt"
        if listing.is_file():
            names = [x.strip() for x in listing.read_text(errors="replace").splitlines() if x.strip()]
            if names:
                return names
            raise UserError("empty list.txt", listing)
        names = sorted(d.name for d in self._dir.iterdir() if (d / "groundtruth.txt").is_file())
        if not names:
            raise UserError("no list.txt and no <seq>/groundtruth.txt in the GOT-10k split folder", self._dir)
        return names

    def read_sequence(self, name: str) -> Sequence:
        seq_dir = self._dir / name
        if not seq_dir.is_dir():
            raise SequenceMissing("")
        anno = seq_dir / "groundtruth.txt"
        gt = read_table(anno, 4, what="GOT-10k groundtruth")
        frames = list_images(seq_dir)
        if not frames:
            frames = self.frames_not_found("no images in the sequence folder", seq_dir)
        notes: list[str] = []
        first_only = len(gt) == 1 and len(frames) > 1
        if first_only:
            notes.append("test-style annotation: the initial box only")
        elif frames:
            frames = align_frames(frames, len(gt), anno)
        meta: dict = {"benchmark": "got10k", "protocol": "got10k", "split": self.split, "annotation_file": str(anno),
                      "sequence_dir": str(seq_dir), "aliases": [], "notes": notes}
        absent = np.zeros(len(gt), dtype=bool)
        if (seq_dir / "absence.label").is_file():
            absent = read_labels(seq_dir / "absence.label", len(gt), "absence.label") != 0
        if (seq_dir / "cover.label").is_file():
            meta["cover"] = read_labels(seq_dir / "cover.label", len(gt), "cover.label").astype(np.int64)
        if (seq_dir / "cut_by_image.label").is_file():
            meta["cut_by_image"] = read_labels(seq_dir / "cut_by_image.label", len(gt), "cut_by_image.label") != 0
        info_path = seq_dir / "meta_info.ini"
        if info_path.is_file():
            info = read_meta_info(info_path)
            meta["meta_info"] = info
            if "resolution" in info:
                meta["resolution"] = parse_resolution(info["resolution"], info_path)
            if "object_class" in info:
                meta["class"] = info["object_class"]
        elif self.split != "test":
            notes.append("no meta_info.ini: resolution unknown (the GOT-10k protocol clips boxes to it)")
        return Sequence(name, frames, gt, absent, {}, meta)

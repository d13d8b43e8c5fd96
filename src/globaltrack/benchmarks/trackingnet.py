"""`trackingnet`: TrackingNet (Müller et al., ECCV 2018) as released.

Layout::

    <root>/TEST/anno/<video>.txt           the first box only (x,y,w,h), evaluated on the server
    <root>/TEST/frames/<video>/0.jpg 1.jpg ... 10.jpg ...   (sorted numerically, not as strings)
    <root>/TRAIN_<k>/anno/<video>.txt      one box per frame, k = 0..11
    <root>/TRAIN_<k>/frames/<video>/...

Splits: ``test`` (TEST, 511 videos), ``train`` (every TRAIN_<k> present) or one chunk, e.g. ``TRAIN_3``. Names are
the video ids (the annotation file stems), in sorted order as pytracking lists them.
"""
from __future__ import annotations


import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import (DatasetAdapter, SequenceMissing, align_frames, list_images, read_table,
                                            require_dir)
from globaltrack.errors import UserError
from globaltrack.sequence import Sequence

CHUNKS = tuple(f"TRAIN_{k}" for k in range(12))


@register_benchmark("trackingnet", description="TrackingNet (TEST: 511 videos, first box only; TRAIN_0..11)")
class TrackingNet(DatasetAdapter):
    benchmark_name = "trackingnet"
    default_protocol = "trackingnet"
    splits = ("test", "train")
    extra_splits = CHUNKS
    default_split = "test"

    def __init__(self, root=None, split=None, **options):
        if split and split.lower().startswith("train_"):
            split = split.upper()
        elif split:
            split = split.lower()
        super().__init__(root, split=split, **options)
        self._root = require_dir(root, "TrackingNet dataset")
        if self.split == "test":
            chunks = ["TEST"]
        elif self.split == "train":
            chunks = [c for c in CHUNKS if (self._root / c).is_dir()]
            if not chunks:
                raise UserError("no TRAIN_<k> folder found", self._root)
        else:
            chunks = [self.split]
        for c in chunks:
            require_dir(self._root / c / "anno", f"TrackingNet {c} annotations")
        self._chunks = chunks
        self._where: dict[str, str] = {}

    def sequence_names(self) -> list[str]:
        names = []
        for c in self._chunks:
            for p in sorted((self._root / c / "anno").glob("*.txt")):
                self._where[p.stem] = c
                names.append(p.stem)
        if not names:
            raise UserError("no annotation files (*.txt) in the anno folder", self._root / self._chunks[0] / "anno")
        return names

    def read_sequence(self, name: str) -> Sequence:
        if not self._where:
            self.sequence_names()
        chunk = self._where.get(name)
        if chunk is None:
            raise SequenceMissing("")
        anno = self._root / chunk / "anno" / f"{name}.txt"
        gt = read_table(anno, 4, what="TrackingNet annotation")
        frame_dir = self._root / chunk / "frames" / name
        frames = list_images(frame_dir)
        if not frames:
            frames = self.frames_not_found(f"no frames in {frame_dir}", anno)
        notes: list[str] = []
        if not frames:
            pass  # annotation-only (scoring, export, validation)
        elif chunk == "TEST":
            if len(gt) != 1:
                notes.append(f"TEST annotation has {len(gt)} rows; TrackingNet TEST ships the first box only")
                frames = align_frames(frames, len(gt), anno)
        else:
            frames = align_frames(frames, len(gt), anno)
        meta = {"benchmark": "trackingnet", "protocol": "trackingnet", "chunk": chunk, "annotation_file": str(anno),
                "sequence_dir": str(frame_dir), "aliases": [], "notes": notes}
        return Sequence(name, frames, gt, np.zeros(len(gt), dtype=bool), {}, meta)

    def check_sequence(self, seq: Sequence) -> list[str]:
        return []  # frames come from a directory listing, so they exist

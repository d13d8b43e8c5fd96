"""`tlp` and `tinytlp`: Track Long and Prosper (Moudgil & Gandhi, ACCV 2018).

Layout (TLP and TinyTLP alike; TinyTLP keeps the first 600 frames of each sequence)::

    <root>/<Seq>/img/00001.jpg ...
    <root>/<Seq>/groundtruth_rect.txt     rows "frame,x,y,w,h,isLost", frame 1-based, isLost 1 = target absent

Absent = isLost (spec §6). The frame column must count 1, 2, 3 ... so a shifted or reordered file is reported with
its line rather than silently misaligned. The 50 names are the dataset's sequence folders (the same list as the
pytracking-style reader rvpagehhj/VideoCube-VastTrack-UAV20L-TLP-dataset-for-pytracking ``tlpdataset.py``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import (DatasetAdapter, SequenceMissing, align_frames, count_images,
                                            numbered_frames, read_table, require_dir)
from globaltrack.errors import AnnotationError
from globaltrack.sequence import Sequence

TLP_SEQUENCES = (
    "Alladin", "Aquarium1", "Aquarium2", "Badminton1", "Badminton2", "Basketball", "Bharatanatyam", "Bike",
    "Billiards1", "Billiards2", "Boat", "Boxing1", "Boxing2", "Boxing3", "BreakfastClub", "CarChase1", "CarChase2",
    "CarChase3", "Dashcam", "DriftCar1", "DriftCar2", "Drone1", "Drone2", "Drone3", "Elephants", "Helicopter",
    "Hideaway", "ISS", "IceSkating", "Jet1", "Jet2", "Jet3", "Jet4", "Jet5", "KinBall1", "KinBall2", "KinBall3",
    "Lion", "Mohiniyattam", "MotorcycleChase", "Parakeet", "PolarBear1", "PolarBear2", "PolarBear3", "Puppies1",
    "Puppies2", "Rope", "Sam", "Violinist", "ZebraFish",
)
TINY_TLP_FRAMES = 600


def read_tlp_annotation(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes (N,4), lost (N,) bool)`` from a TLP ``groundtruth_rect.txt``; checks the frame and isLost columns."""
    table = read_table(path, 6, what="TLP annotation")
    frames = table[:, 0]
    expected = np.arange(1, len(table) + 1)
    bad = np.flatnonzero(frames != expected)
    if bad.size:
        i = int(bad[0])
        raise AnnotationError(f"frame column reads {frames[i]:g}, expected {i + 1} (rows must be frames 1, 2, 3 ...)",
                              path, i + 1)
    lost = table[:, 5]
    bad = np.flatnonzero((lost != 0) & (lost != 1))
    if bad.size:
        i = int(bad[0])
        raise AnnotationError(f"isLost column reads {lost[i]:g}, expected 0 or 1", path, i + 1)
    return table[:, 1:5].copy(), lost.astype(bool)


@register_benchmark("tlp", description="TLP (50 long HD sequences); absent = isLost")
class TLP(DatasetAdapter):
    benchmark_name = "tlp"
    default_protocol = "tlp"
    splits = ("test",)
    default_split = "test"

    def __init__(self, root=None, split=None, **options):
        super().__init__(root, split=split, **options)
        self._root = require_dir(root, f"{self.benchmark_name} dataset")

    def sequence_names(self) -> list[str]:
        return list(TLP_SEQUENCES)

    def read_sequence(self, name: str) -> Sequence:
        seq_dir = self._root / name
        if not seq_dir.is_dir():
            raise SequenceMissing("")
        anno = seq_dir / "groundtruth_rect.txt"
        boxes, lost = read_tlp_annotation(anno)
        notes: list[str] = []
        img_dir = seq_dir / "img"
        n_img = count_images(img_dir)
        if n_img == 0:
            frames = self.frames_not_found("no images in the sequence's img/ folder", img_dir)
        else:
            frames = align_frames(numbered_frames(img_dir, 1, n_img, 5, "jpg"), len(boxes), anno)
        meta = {"benchmark": self.benchmark_name, "protocol": "tlp", "annotation_file": str(anno),
                "sequence_dir": str(seq_dir), "aliases": [], "notes": notes, "tiny": len(boxes) == TINY_TLP_FRAMES}
        return Sequence(name, frames, boxes, lost, {}, meta)


@register_benchmark("tinytlp", description="TinyTLP (the first 600 frames of the 50 TLP sequences)")
class TinyTLP(TLP):
    benchmark_name = "tinytlp"

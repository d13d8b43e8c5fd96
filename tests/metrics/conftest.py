"""Build OTB-100 `Sequence`s and result arrays straight from ../shared (the OTB MATLAB toolkit's anno_TB100 and the
published raw results), without the benchmark adapter."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from globaltrack.results.formats import canonical_name, read_text_boxes
from globaltrack.sequence import Sequence

# got10k's OTB folder/annotation names (got10k/datasets/otb.py): duplicates become Jogging.1, Skating2.2 ...
GOT10K_DIR = {"jogging-1": ("Jogging", "groundtruth_rect.1.txt"), "jogging-2": ("Jogging", "groundtruth_rect.2.txt"),
              "skating2-1": ("Skating2", "groundtruth_rect.1.txt"),
              "skating2-2": ("Skating2", "groundtruth_rect.2.txt"), "human4-2": ("Human4", "groundtruth_rect.2.txt")}


def otb_sequences(shared: Path) -> list[Sequence]:
    """The 100 OTB-100 sequences; Tiger1 starts at frame 6 (initOmit 1-5), as the published results do."""
    anno = shared / "data" / "annotations" / "otb100" / "anno_TB100"
    seqs = []
    for p in sorted(anno.glob("*.txt")):
        gt = read_text_boxes(p)
        name = canonical_name(p.stem)
        if name == "tiger1":
            gt = gt[5:]
        seqs.append(Sequence(name=name, ground_truth=gt))
    return seqs


def otb_results(shared: Path, tracker: str) -> dict[str, np.ndarray]:
    d = shared / "data" / "raw_results" / "otb100" / tracker
    return {canonical_name(p.stem): read_text_boxes(p) for p in d.glob("*.txt")}


import pytest  # noqa: E402


@pytest.fixture
def otb(shared):
    """Namespace with the OTB helpers bound to ../shared."""
    class _OTB:
        dirs = GOT10K_DIR

        @staticmethod
        def sequences():
            return otb_sequences(shared)

        @staticmethod
        def results(tracker):
            return otb_results(shared, tracker)

    return _OTB

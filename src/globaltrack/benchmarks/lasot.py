"""`lasot`: LaSOT (Fan et al., CVPR 2019) as released, or the official toolkit's ``annos/`` folder.

Dataset layout (``--root``), either grouped by class or flat::

    <root>/<class>/<class>-<n>/img/00000001.jpg ...      or    <root>/<class>-<n>/img/...
                              /groundtruth.txt            x,y,w,h per frame, comma-separated
                              /full_occlusion.txt         one comma-separated line of 0/1
                              /out_of_view.txt            idem
                              /nlp.txt                    a sentence describing the target

Absent = full_occlusion OR out_of_view (pytracking's ``target_visible``, spec §2.5).

Toolkit layout (option ``annos=DIR``, CLI ``--annos DIR``; HengLan/LaSOT_Evaluation_Toolkit ``annos/``)::

    DIR/<seq>.txt  DIR/absent/<seq>.txt (0/1 per line)  DIR/att/<seq>.txt (14 flags)  DIR/nlp/<seq>.txt

The toolkit's annotations are what the official MATLAB evaluation uses and can differ from the dataset's
groundtruth.txt (LaSOT issue #18, e.g. paddle-1: 2,500 vs 2,703 rows). With ``annos`` the ground truth, absence and
attributes come from DIR; images (if ``--root`` is also given) are matched to them, and surplus images are dropped as
the toolkit evaluates only the annotated length (recorded in ``metadata["notes"]``). Without a root the sequences are
annotation-only (``frames == []``), which is all evaluation needs.

Splits: ``test`` (the 280 of Protocol II, toolkit order), ``train`` (the other 1,120), ``all`` (1,400).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import (DatasetAdapter, SequenceMissing, align_frames, count_images,
                                            numbered_frames, read_attribute_flags, read_flags, read_table,
                                            read_tables, require_dir)
from globaltrack.benchmarks._lasot_names import ALL, TEST, TRAIN
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence

# order of the 14 flags in annos/att/<seq>.txt (run_tracker_performance_evaluation.m, att_fig_name)
ATTRIBUTES = ("IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM", "OV", "LR", "ARC")
ATTRIBUTE_NAMES = ("Illumination Variation", "Partial Occlusion", "Deformation", "Motion Blur", "Camera Motion",
                   "Rotation", "Background Clutter", "Viewpoint Change", "Scale Variation", "Full Occlusion",
                   "Fast Motion", "Out-of-View", "Low Resolution", "Aspect Ratio Change")


@register_benchmark("lasot", description="LaSOT (280 test / 1,120 train sequences); --annos reads the toolkit annos/")
class LaSOT(DatasetAdapter):
    benchmark_name = "lasot"
    default_protocol = "lasot"
    splits = ("test", "train", "all")
    default_split = "test"
    annotation_only_ok = True

    def __init__(self, root=None, split=None, annos=None, **options):
        super().__init__(root, split=split, **options)
        self.annos = None if annos in (None, "") else require_dir(annos, "LaSOT toolkit annos")
        self._root = None if root in (None, "") else require_dir(root, "LaSOT dataset")
        if self._root is None and self.annos is None:
            raise UserError("lasot: give the dataset folder (--root) or the toolkit's annos folder (--annos)")
        self._tables: dict[str, np.ndarray] = {}

    def prefetch(self, names: list[str]) -> None:
        if self.annos is not None:
            self._tables = read_tables([self.annos / f"{n}.txt" for n in names], 4)

    def _gt(self, path: Path, what: str) -> np.ndarray:
        table = self._tables.pop(str(path), None)
        return table if table is not None else read_table(path, 4, what=what)

    def sequence_names(self) -> list[str]:
        return list({"test": TEST, "train": TRAIN, "all": ALL}[self.split])

    def _sequence_dir(self, name: str) -> Path | None:
        if self._root is None:
            return None
        cls = name.rsplit("-", 1)[0]
        for d in (self._root / cls / name, self._root / name):
            if d.is_dir():
                return d
        return None

    def read_sequence(self, name: str) -> Sequence:
        seq_dir = self._sequence_dir(name)
        notes: list[str] = []
        meta = {"benchmark": "lasot", "protocol": "lasot", "class": name.rsplit("-", 1)[0], "aliases": [],
                "notes": notes}
        attributes: dict = {}
        if self.annos is not None and (self.annos / f"{name}.txt").is_file():
            gt_path = self.annos / f"{name}.txt"
            gt = self._gt(gt_path, "LaSOT annotation")
            absent_path = self.annos / "absent" / f"{name}.txt"
            if absent_path.is_file():
                absent = read_flags(absent_path, what="LaSOT absent", expected=len(gt))
                meta["absent_source"] = "toolkit annos/absent"
            elif seq_dir is not None:
                absent = self._dataset_absent(seq_dir, len(gt))
                meta["absent_source"] = "dataset full_occlusion|out_of_view"
            else:
                raise AnnotationError("absence file not found (the toolkit ships annos/absent/<seq>.txt)",
                                      absent_path)
            att_path = self.annos / "att" / f"{name}.txt"
            if att_path.is_file():
                attributes = read_attribute_flags(att_path, ATTRIBUTES, what="LaSOT attribute")
            nlp_path = self.annos / "nlp" / f"{name}.txt"
            if nlp_path.is_file():
                meta["nlp"] = nlp_path.read_text(errors="replace").strip()
            meta["annotation_source"] = "toolkit annos"
        elif seq_dir is not None:
            gt_path = seq_dir / "groundtruth.txt"
            gt = read_table(gt_path, 4, what="LaSOT groundtruth")
            absent = self._dataset_absent(seq_dir, len(gt))
            meta["absent_source"] = "dataset full_occlusion|out_of_view"
            meta["annotation_source"] = "dataset groundtruth.txt"
            nlp_path = seq_dir / "nlp.txt"
            if nlp_path.is_file():
                meta["nlp"] = nlp_path.read_text(errors="replace").strip()
        else:
            where = self.annos if self._root is None else self._root
            raise SequenceMissing(f"neither {name}.txt in the annos folder nor a sequence folder under {where}"
                                  if self.annos is not None and self._root is not None else "")
        meta["annotation_file"] = str(gt_path)
        frames: list[str] = []
        if seq_dir is not None:
            img_dir = seq_dir / "img"
            n_img = count_images(img_dir)
            if n_img == 0:
                frames = self.frames_not_found("no images in the sequence's img/ folder", img_dir)
            else:
                frames = numbered_frames(img_dir, 1, n_img, 8, "jpg")
                frames = align_frames(frames, len(gt), gt_path, allow_more=True, notes=notes,
                                      rule="the LaSOT toolkit evaluates the annotated length only")
            meta["sequence_dir"] = str(seq_dir)
        return Sequence(name, frames, gt, absent, attributes, meta)

    @staticmethod
    def _dataset_absent(seq_dir: Path, rows: int) -> np.ndarray:
        occ = read_flags(seq_dir / "full_occlusion.txt", what="LaSOT full_occlusion", expected=rows)
        oov = read_flags(seq_dir / "out_of_view.txt", what="LaSOT out_of_view", expected=rows)
        return occ | oov

"""`otb2015` (alias `otb100`, `otb`), `otb2013`, `otb50`: the OTB benchmarks (Wu, Lim, Yang; CVPR 2013 / TPAMI 2015).

Sources, in order of preference when several are given:

- ``json=PATH``: a pysot-style JSON (``{key: {name|video_dir, image_files|img_names, init_rect, gt_rect, attr}}``, e.g.
  pysot's ``OTB100.json`` or DaSiamRPN's ``OTB2015.json``); images resolve under ``--root`` when given.
- ``annos=DIR`` (CLI ``--annos``): the OTB MATLAB toolkit's flat ``anno_TB100`` folder (``<toolkit name>.txt`` such as
  ``Human4.2.txt``, ``jogging-1.txt``, ``att/<name>.txt``); annotation-only unless ``--root`` also has images.
- ``--root``: the dataset as downloaded, ``<root>/<Seq>/{img/0001.jpg..., groundtruth_rect[.N].txt}``.

Rules applied (the table in `_otb_table` says where each comes from):

- official frame ranges: David 300-770, Football1 1-74 (81 images), Freeman3 1-460, Freeman4 1-283, Diving 1-215,
  BlurCar1 247-988, BlurCar3 3-359, BlurCar4 18-397, Board ``%05d`` names;
- Tiger1 OPE starts at frame 6: the OTB toolkit's ``initOmit/tiger1.txt`` omits frames 1-5 before the first TRE
  segment, and pytracking and pysot do the same (got10k keeps all 354 frames: spec §10 item 13). Option
  ``full_range=1`` keeps all 354 rows instead and puts ``metadata["init_omit"] = [(1, 5)]`` so that a protocol with an
  OPE start rule skips them while got10k-style scoring uses every frame;
- Jogging and Skating2 have two targets (``groundtruth_rect.1.txt``/``.2.txt``) and become two sequences; Human4 uses
  its ``.2`` file (the ``.1`` file is empty);
- comma, tab and space delimiters are all accepted.

Official names are the OTB website's and pysot's (``Jogging-1``, ``Human4-2``); got10k's ``Jogging.1``, pytracking's
``Jogging_1``, the MATLAB toolkit's ``jogging-1`` and lower-case spellings are in ``metadata["aliases"]``.
Any truncation or range applied is written to ``metadata["notes"]``.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import (DatasetAdapter, SequenceMissing, count_images, missing_files,
                                            name_variants, parse_bool, read_attribute_flags, read_table, require_dir)
from globaltrack.benchmarks._otb_table import ATTRIBUTES, OTB2013, OTB50, OTB2015, OTB_TABLE
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence


def otb_aliases(name: str) -> list[str]:
    """Every spelling of ``name`` used by got10k, pytracking, pysot, the MATLAB toolkit and the JSON files."""
    folder, suffix, *_rest = OTB_TABLE[name]
    toolkit = _rest[-2]
    out = name_variants(name) | {toolkit, toolkit.lower()}
    if name == "Human4-2":
        out |= {"Human4", "human4"}  # got10k drops the empty .1 file and keeps the folder name
    if name == "Basketball":
        out |= {"BasketBall"}  # tb_100.txt spelling
    out.discard(name)
    return sorted(out)


def _key(s: str) -> str:
    """Normalised lookup key: case and the separator of two-target names do not matter."""
    return re.sub(r"[-._]", "-", s.lower())


_ALIAS_KEY = {}
for _n in OTB_TABLE:
    for _a in [_n] + otb_aliases(_n):
        _ALIAS_KEY.setdefault(_key(_a), _n)


def resolve_otb_name(s: str) -> str | None:
    return _ALIAS_KEY.get(_key(s))


class _OTB(DatasetAdapter):
    default_protocol = "otb"
    splits = ("test",)
    default_split = "test"
    annotation_only_ok = True
    names: tuple[str, ...] = OTB2015

    def __init__(self, root=None, split=None, annos=None, json=None, **options):  # noqa: A002 - option name
        super().__init__(root, split=split, **options)
        self._root = None if root in (None, "") else require_dir(root, "OTB dataset")
        self.annos = None if annos in (None, "") else require_dir(annos, "OTB toolkit anno folder")
        self._json_path = None if json in (None, "") else Path(json)
        if self._root is None and self.annos is None and self._json_path is None:
            raise UserError(f"{self.benchmark_name}: give the dataset folder (--root), the toolkit's anno_TB100 "
                            f"folder (--annos) or a pysot-style JSON (--opt json=PATH)")
        self._json = self._load_json(self._json_path) if self._json_path is not None else None
        self._full_range = parse_bool(options.get("full_range"))
        self._annos_index = self._index(self.annos) if self.annos is not None else {}
        self._root_index = ({e.lower(): e for e in os.listdir(self._root)} if self._root is not None else {})

    # -- sources
    @staticmethod
    def _index(folder: Path) -> dict[str, str]:
        return {f[:-4].lower(): f for f in os.listdir(folder) if f.endswith(".txt")}

    @staticmethod
    def _load_json(path: Path) -> dict[str, dict]:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise UserError("OTB JSON file not found", path) from None
        except json.JSONDecodeError as err:
            raise AnnotationError(f"not valid JSON: {err.msg}", path, err.lineno) from None
        if not isinstance(data, dict):
            raise AnnotationError("expected a JSON object {sequence: {...}}", path)
        out = {}
        for key, entry in data.items():
            official = resolve_otb_name(key)
            if official is not None:
                out[official] = {"_key": key, **entry}
        return out

    def sequence_names(self) -> list[str]:
        return list(self.names)

    def resolve_name(self, requested: str) -> str | None:
        return resolve_otb_name(requested)

    def _seq_dir(self, folder: str) -> Path | None:
        if self._root is None:
            return None
        real = self._root_index.get(folder.lower())
        return self._root / real if real is not None else None

    # -- reading
    def read_sequence(self, name: str) -> Sequence:
        folder, suffix, start, end, file_start, digits, ext, toolkit, att = OTB_TABLE[name]
        notes: list[str] = []
        meta = {"benchmark": self.benchmark_name, "protocol": "otb", "folder": folder, "toolkit_name": toolkit,
                "start_frame": start, "end_frame": end, "aliases": otb_aliases(name), "notes": notes}
        if start > file_start:
            meta["omitted_frames"] = (file_start, start - 1)
        seq_dir = self._seq_dir(folder)
        if self._json is not None and name in self._json:
            gt, frame_numbers, anno_path = self._from_json(name, self._json[name], notes)
        elif self._json is not None and self.annos is None and seq_dir is None:
            raise SequenceMissing(f"not in {self._json_path}")
        else:
            gt, anno_path = self._read_annotation(name, seq_dir)
            if self._full_range and start > file_start and len(gt) == end - file_start + 1:
                meta["init_omit"] = [(file_start, start - 1)]
                notes.append(f"full_range: frames {file_start}-{start - 1} kept; metadata init_omit marks them")
                frame_numbers = list(range(file_start, end + 1))
            else:
                gt = self._official_rows(name, gt, anno_path, notes)
                frame_numbers = list(range(start, end + 1))
        meta["annotation_file"] = str(anno_path)
        frames: list[str] = []
        if seq_dir is not None and (seq_dir / "img").is_dir():
            img_dir = seq_dir / "img"
            n_img = count_images(img_dir)
            last_needed = frame_numbers[-1]
            frames = [os.path.join(str(img_dir), f"{n:0{digits}d}.{ext}") for n in frame_numbers]
            if n_img < last_needed:
                absent = missing_files(frames)
                if absent:
                    raise AnnotationError(f"frame file is missing ({len(absent)} of the {len(frames)} frames that "
                                          f"{anno_path} annotates are missing)", absent[0])
                raise AnnotationError(f"fewer images ({n_img} in {img_dir}) than annotation rows need (frames "
                                      f"{frame_numbers[0]}-{last_needed})", anno_path)
            if n_img > last_needed or frame_numbers[0] > 1:
                notes.append(f"{n_img} images; official OTB range frames {frame_numbers[0]}-{last_needed} "
                             f"({len(frame_numbers)} frames)")
            meta["sequence_dir"] = str(seq_dir)
        meta["frame_numbers"] = (frame_numbers[0], frame_numbers[-1])
        attributes = {a: f == "1" for a, f in zip(ATTRIBUTES, att)}
        if self.annos is not None:
            att_path = self.annos / "att" / f"{toolkit}.txt"
            if att_path.is_file():
                attributes = read_attribute_flags(att_path, ATTRIBUTES, what="OTB attribute")
        return Sequence(name, frames, gt, None, attributes, meta)

    def _read_annotation(self, name: str, seq_dir: Path | None) -> tuple[np.ndarray, Path]:
        folder, suffix, *_ = OTB_TABLE[name]
        toolkit = OTB_TABLE[name][7]
        if self.annos is not None:
            real = self._annos_index.get(toolkit.lower())
            if real is not None:
                path = self.annos / real
                return read_table(path, 4, what="OTB annotation"), path
            if seq_dir is None:
                raise SequenceMissing(f"{toolkit}.txt not in {self.annos}")
        if seq_dir is None:
            raise SequenceMissing("")
        path = seq_dir / f"groundtruth_rect{suffix}.txt"
        if not path.is_file():
            raise AnnotationError(f"annotation file of {name} not found", path)
        return read_table(path, 4, what="OTB annotation"), path

    @staticmethod
    def _official_rows(name: str, gt: np.ndarray, path: Path, notes: list[str]) -> np.ndarray:
        """Rows of the official range: the file's row 1 annotates frame ``file_start`` (see `_otb_table`)."""
        _f, _s, start, end, file_start, *_ = OTB_TABLE[name]
        full = end - file_start + 1
        official = end - start + 1
        n = len(gt)
        if n == full:
            if start > file_start:
                notes.append(f"OPE starts at frame {start}: rows for frames {file_start}-{start - 1} skipped "
                             f"(OTB toolkit initOmit)")
            return gt[start - file_start:]
        if n == official:
            notes.append(f"annotation already starts at the official frame {start}")
            return gt
        if n > full:
            notes.append(f"{n} annotation rows, official range has {full}: using the first {full}")
            return gt[start - file_start:full]
        raise AnnotationError(f"{n} annotation rows; the official OTB range of {name} (frames {start}-{end}) needs "
                              f"{official}", path)

    def _from_json(self, name: str, entry: dict, notes: list[str]) -> tuple[np.ndarray, list[int], Path]:
        path = self._json_path
        _f, _s, start, end, *_ = OTB_TABLE[name]
        gt = np.asarray(entry.get("gt_rect", []), dtype=np.float64)
        if gt.ndim != 2 or gt.shape[1] != 4 or len(gt) == 0:
            raise AnnotationError(f"entry '{entry['_key']}': gt_rect must be a non-empty list of [x, y, w, h]", path)
        files = entry.get("image_files") or entry.get("img_names") or []
        numbers = []
        for f in files:
            m = re.search(r"(\d+)\.\w+$", str(f))
            numbers.append(int(m.group(1)) if m else -1)
        if len(numbers) != len(gt) or -1 in numbers:
            raise AnnotationError(f"entry '{entry['_key']}': {len(files)} image names for {len(gt)} boxes", path)
        keep = [i for i, k in enumerate(numbers) if start <= k <= end]
        if len(keep) != len(numbers):
            notes.append(f"JSON lists frames {numbers[0]}-{numbers[-1]}; official range {start}-{end} kept")
        if not keep:
            raise AnnotationError(f"entry '{entry['_key']}': no frame inside the official range {start}-{end}", path)
        return gt[keep], [numbers[i] for i in keep], path


@register_benchmark("otb2015", description="OTB-2015 / OTB-100 (100 targets); --annos anno_TB100, --opt json=PATH",
                    aliases=("otb100", "otb", "tb100"))
class OTB2015Benchmark(_OTB):
    benchmark_name = "otb2015"
    names = OTB2015


@register_benchmark("otb2013", description="OTB-2013 / CVPR13 (51 targets)", aliases=("cvpr13",))
class OTB2013Benchmark(_OTB):
    benchmark_name = "otb2013"
    names = OTB2013


@register_benchmark("otb50", description="OTB-50 / TB-50 (the 50 hardest OTB-2015 targets)", aliases=("tb50",))
class OTB50Benchmark(_OTB):
    benchmark_name = "otb50"
    names = OTB50

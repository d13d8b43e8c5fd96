"""`vot` (alias `vot-lt`): a VOT / VOT-LT dataset folder, as the VOT toolkit lays it out.

Layout::

    <root>/list.txt                       sequence names, one per line (optional: else every folder with a groundtruth)
    <root>/<seq>/groundtruth.txt          one region per frame
    <root>/<seq>/color/00000001.jpg ...   (VOT2017+), or the frames beside groundtruth.txt (VOT2013-2016)

A region line is a rectangle ``x,y,w,h``, a polygon ``x1,y1,...,xn,yn`` (VOT2014-2019 use 8 values) or a mask
``m...`` (VOT2020+). Polygons and masks become axis-aligned boxes the way vot-toolkit 0.9.0 converts a region to a
rectangle (``vot.region.shapes.Rectangle.convert``: left = min x, top = min y, width = max x - min x, height =
max y - min y), in the toolkit's float32 arithmetic, so the boxes equal what ``vot.region`` computes; rectangles also
pass through float32 as ``vot.region.io.parse_region`` stores them.

A row of NaN is the toolkit's "unknown" region (``Special(0)``, spec §7.1): the box stays NaN and the frame is marked
absent, since VOT-LT counts only frames with a known region as visible (its ``n_visible``).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import DatasetAdapter, SequenceMissing, align_frames, list_images, require_dir
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence


def region_to_box(values: list[float] | np.ndarray) -> tuple[float, float, float, float]:
    """A rectangle (4 values) or polygon (even count >= 6) to ``(x, y, w, h)`` as vot-toolkit does, in float32."""
    v = np.asarray(values, dtype=np.float32)
    if v.size == 4:
        return tuple(float(x) for x in v)  # type: ignore[return-value]
    if v.size < 6 or v.size % 2:
        raise ValueError(f"a region has 4 values (rectangle) or an even number >= 6 (polygon), got {v.size}")
    pts = v.reshape(-1, 2)
    left, top = pts[:, 0].min(), pts[:, 1].min()
    right, bottom = pts[:, 0].max(), pts[:, 1].max()
    return float(left), float(top), float(right - left), float(bottom - top)


def _mask_to_box(line: str, path: Path, lineno: int) -> tuple[float, float, float, float]:
    try:
        from vot.region.io import parse_region
        from vot.region.shapes import Mask
        from vot.region.raster import mask_bounds
    except ImportError:  # pragma: no cover - vot-toolkit is a dependency
        raise AnnotationError("a mask region needs the vot-toolkit package", path, lineno) from None
    try:
        region = parse_region(line)
    except Exception as err:  # noqa: BLE001 - the toolkit raises various errors for bad masks
        raise AnnotationError(f"unreadable mask region: {err}", path, lineno) from None
    if not isinstance(region, Mask):
        raise AnnotationError("expected a mask region", path, lineno)
    bounds = mask_bounds(region.mask)
    if None in bounds:
        return (math.nan,) * 4  # type: ignore[return-value]
    x0, y0 = bounds[0] + region.offset[0], bounds[1] + region.offset[1]
    return float(x0), float(y0), float(bounds[2] - bounds[0]), float(bounds[3] - bounds[1])


def read_vot_groundtruth(path: str | Path) -> tuple[np.ndarray, dict[str, int]]:
    """Boxes (N,4) from a VOT ``groundtruth.txt`` and the count of each region kind found."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        raise AnnotationError("VOT groundtruth file not found", path) from None
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise AnnotationError("empty VOT groundtruth file", path)
    boxes = np.empty((len(lines), 4), dtype=np.float64)
    kinds = {"rectangle": 0, "polygon": 0, "mask": 0, "unknown": 0}
    for i, raw in enumerate(lines, start=1):
        s = raw.strip()
        if not s:
            raise AnnotationError("empty line in VOT groundtruth (every frame needs a region)", path, i)
        if s[0] in "mM":
            boxes[i - 1] = _mask_to_box(s, path, i)
            kinds["mask"] += 1
            continue
        fields = [f.strip() for f in s.replace("\t", ",").split(",")]
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            raise AnnotationError(f"non-numeric value '{bad}' in region", path, i) from None
        if any(math.isnan(v) for v in vals):
            boxes[i - 1] = np.nan
            kinds["unknown"] += 1
            continue
        try:
            boxes[i - 1] = region_to_box(vals)
        except ValueError as err:
            raise AnnotationError(str(err), path, i) from None
        kinds["rectangle" if len(vals) == 4 else "polygon"] += 1
    return boxes, kinds


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


@register_benchmark("vot", description="VOT / VOT-LT folder (list.txt, <seq>/groundtruth.txt, color/)",
                    aliases=("vot-lt", "votlt"))
class VOT(DatasetAdapter):
    benchmark_name = "vot"
    default_protocol = "vot-lt"
    splits = ("test",)
    default_split = "test"

    def __init__(self, root=None, split=None, **options):
        super().__init__(root, split=split, **options)
        self._root = require_dir(root, "VOT dataset")

    def sequence_names(self) -> list[str]:
        listing = self._root / "list.txt"
        if listing.is_file():
            names = [x.strip() for x in listing.read_text(errors="replace").splitlines() if x.strip()]
            if not names:
                raise UserError("empty list.txt", listing)
            return names
        names = sorted(d.name for d in self._root.iterdir() if (d / "groundtruth.txt").is_file())
        if not names:
            raise UserError("no list.txt and no <seq>/groundtruth.txt in the VOT folder", self._root)
        return names

    def read_sequence(self, name: str) -> Sequence:
        seq_dir = self._root / name
        if not seq_dir.is_dir():
            raise SequenceMissing("")
        anno = seq_dir / "groundtruth.txt"
        boxes, kinds = read_vot_groundtruth(anno)
        img_dir = seq_dir / "color" if (seq_dir / "color").is_dir() else seq_dir
        frames = list_images(img_dir)
        if not frames:
            frames = self.frames_not_found("no images in color/ or beside groundtruth.txt", img_dir)
        else:
            frames = align_frames(frames, len(boxes), anno)
        absent = np.isnan(boxes).any(axis=1)
        meta = {"benchmark": self.benchmark_name, "protocol": "vot-lt", "annotation_file": str(anno),
                "sequence_dir": str(seq_dir), "region_kinds": kinds, "aliases": [], "notes": []}
        return Sequence(name, frames, boxes, absent, {}, meta)

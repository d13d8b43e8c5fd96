"""`oxuva`: OxUvA long-term tracking (Valmadre et al., ECCV 2018), oxuva/long-term-tracking-benchmark.

Layout (the dataset as released, or the repository's ``dataset/`` folder)::

    <root>/images/{dev,test}/<video>/000000.jpeg ...      frames, 30 fps, 6-digit numbers
    <root>/tasks/{dev,test}.csv        (or <root>/dataset/tasks/...)       no header:
        video_id, object_id, init_frame, last_frame, xmin, xmax, ymin, ymax
    <root>/annotations/dev.csv         (or <root>/dataset/annotations/dev.csv)  no header:
        video_id, object_id, class_id, class_name, contains_cuts, always_visible, frame_num, present|absent,
        xmin, xmax, ymin, ymax

Coordinates are normalised to [0, 1] and ordered x-pair then y-pair (spec §5.1). A sequence is one task: video,
object, frames ``init_frame..last_frame``; its name is ``<video>_<object>`` (the prediction file stem). Labels come
once a second (every 30 frames); the init frame's label is not scored (``make_task_from_track``), so
``metadata["label_frames"]`` lists the labels after it.

What the OxUvA protocol needs is in ``metadata``: ``label_frames``, ``label_present``, ``label_boxes`` (normalised
``xmin, xmax, ymin, ymax``), ``init_frame``, ``last_frame``, ``init_box`` (normalised) and ``image_size`` (W, H) read
from the header of the first image when the images are there. ``ground_truth`` has one row per frame: pixels when the
image size is known (``metadata["box_units"] == "pixels"``), else normalised x, y, w, h (``"normalized"``); frames
without a label are NaN rows (unknown); absent labels are NaN rows with ``absent`` True.

Splits: ``dev`` (annotations public, the default since only it can be scored locally) and ``test`` (tasks only; the
evaluation server is gone, OxUvA issues #8/#10).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from globaltrack.benchmarks import register_benchmark
from globaltrack.benchmarks._common import DatasetAdapter, SequenceMissing, numbered_frames, require_dir
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence

TASK_COLUMNS = ("video_id", "object_id", "init_frame", "last_frame", "xmin", "xmax", "ymin", "ymax")
ANNOTATION_COLUMNS = ("video_id", "object_id", "class_id", "class_name", "contains_cuts", "always_visible",
                      "frame_num", "object_presence", "xmin", "xmax", "ymin", "ymax")


def _rows(path: Path, columns: tuple[str, ...]):
    try:
        fh = path.open(newline="")
    except FileNotFoundError:
        raise AnnotationError("OxUvA CSV file not found", path) from None
    with fh:
        n = 0
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(columns):
                raise AnnotationError(f"expected {len(columns)} columns ({', '.join(columns)}), found {len(row)}",
                                      path, lineno)
            n += 1
            yield lineno, row
        if n == 0:
            raise AnnotationError("empty OxUvA CSV file", path)


def _numbers(row, idx, path, lineno, kind=float):
    out = []
    for i in idx:
        try:
            out.append(kind(row[i]))
        except ValueError:
            raise AnnotationError(f"non-numeric value '{row[i]}' in column {i + 1}", path, lineno) from None
    return out


def read_tasks(path: Path) -> list[dict]:
    tasks = []
    for lineno, row in _rows(path, TASK_COLUMNS):
        init, last = _numbers(row, (2, 3), path, lineno, int)
        box = _numbers(row, (4, 5, 6, 7), path, lineno)
        if last < init:
            raise AnnotationError(f"last_frame {last} is before init_frame {init}", path, lineno)
        tasks.append({"video": row[0], "object": row[1], "init_frame": init, "last_frame": last, "init_box": box})
    return tasks


def read_annotations(path: Path) -> dict[tuple[str, str], dict]:
    """Tracks keyed by (video, object): per-label frames, presence, normalised boxes, and the track's fields."""
    tracks: dict[tuple[str, str], dict] = {}
    for lineno, row in _rows(path, ANNOTATION_COLUMNS):
        frame = _numbers(row, (6,), path, lineno, int)[0]
        box = _numbers(row, (8, 9, 10, 11), path, lineno)
        presence = row[7].strip().lower()
        if presence not in ("present", "absent"):
            raise AnnotationError(f"object_presence '{row[7]}' is neither 'present' nor 'absent'", path, lineno)
        t = tracks.setdefault((row[0], row[1]), {"class_id": row[2], "class_name": row[3], "contains_cuts": row[4],
                                                 "always_visible": row[5], "frames": [], "present": [], "boxes": []})
        t["frames"].append(frame)
        t["present"].append(presence == "present")
        t["boxes"].append(box)
    return tracks


def normalized_to_pixels(xmin, xmax, ymin, ymax, width, height) -> tuple[float, float, float, float]:
    """Normalised (xmin, xmax, ymin, ymax) to pixel (x, y, w, h), as pytracking's OxUvA reader converts them."""
    return xmin * width, ymin * height, (xmax - xmin) * width, (ymax - ymin) * height


def _image_size(path: str) -> tuple[int, int] | None:
    """(W, H) from the image header only (PIL reads the size without decoding pixels)."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except (FileNotFoundError, OSError):
        return None


@register_benchmark("oxuva", description="OxUvA long-term (dev 200 tracks with labels / test 166 tasks)")
class OxUvA(DatasetAdapter):
    benchmark_name = "oxuva"
    default_protocol = "oxuva"
    splits = ("dev", "test")
    default_split = "dev"
    annotation_only_ok = True

    def __init__(self, root=None, split=None, **options):
        super().__init__(root, split=split, **options)
        self._root = require_dir(root, "OxUvA dataset")
        self._tasks_dir = self._find("tasks")
        self._annotations_dir = self._find("annotations", required=False)
        self._images_dir = self._find("images", required=False)
        self._tasks: dict[str, dict] | None = None
        self._tracks: dict[tuple[str, str], dict] = {}

    def _find(self, sub: str, required: bool = True) -> Path | None:
        for d in (self._root / sub, self._root / "dataset" / sub):
            if d.is_dir():
                return d
        if required:
            raise UserError(f"no '{sub}' folder (looked for {sub}/ and dataset/{sub}/)", self._root)
        return None

    def _load_tables(self) -> dict[str, dict]:
        if self._tasks is None:
            tasks = read_tasks(self._tasks_dir / f"{self.split}.csv")
            self._tasks = {f"{t['video']}_{t['object']}": t for t in tasks}
            if self._annotations_dir is not None and (self._annotations_dir / f"{self.split}.csv").is_file():
                self._annotations_file = self._annotations_dir / f"{self.split}.csv"
                self._tracks = read_annotations(self._annotations_file)
        return self._tasks

    def sequence_names(self) -> list[str]:
        return list(self._load_tables())

    def resolve_name(self, requested: str) -> str | None:
        # pytracking's name: <video>_<object>_frames[<init>:<last + 1>]
        return requested.split("_frames[", 1)[0] if "_frames[" in requested else None

    def read_sequence(self, name: str) -> Sequence:
        task = self._load_tables().get(name)
        if task is None:
            raise SequenceMissing("")
        video, obj, init, last = task["video"], task["object"], task["init_frame"], task["last_frame"]
        notes: list[str] = []
        frames: list[str] = []
        size = None
        if self._images_dir is not None and (self._images_dir / self.split / video).is_dir():
            frames = numbered_frames(self._images_dir / self.split / video, init, last, 6, "jpeg")
            size = _image_size(frames[0])
            if size is None:
                raise AnnotationError("cannot read the size of the first image", frames[0])
        n = last - init + 1
        track = self._tracks.get((video, obj))
        label_frames = np.zeros(0, dtype=np.int64)
        label_present = np.zeros(0, dtype=bool)
        label_boxes = np.zeros((0, 4))
        meta: dict = {"benchmark": "oxuva", "protocol": "oxuva", "split": self.split, "video": video, "object": obj,
                      "init_frame": init, "last_frame": last, "init_box": tuple(task["init_box"]),
                      "image_size": size, "notes": notes,
                      # pytracking's OxUvA sequence name (spec §2.5)
                      "aliases": [f"{video}_{obj}_frames[{init:06d}:{last + 1:06d}]"],
                      "tasks_file": str(self._tasks_dir / f"{self.split}.csv")}
        if track is not None:
            f_all = np.asarray(track["frames"], dtype=np.int64)
            order = np.argsort(f_all, kind="stable")
            keep = order[(f_all[order] > init) & (f_all[order] <= last)]
            label_frames = f_all[keep]
            label_present = np.asarray(track["present"], dtype=bool)[keep]
            label_boxes = np.asarray(track["boxes"], dtype=np.float64)[keep]
            meta.update({k: track[k] for k in ("class_id", "class_name", "contains_cuts", "always_visible")})
            meta["annotation_file"] = str(self._annotations_file)
            if init not in set(track["frames"]):
                notes.append(f"no label at the init frame {init}: the init box comes from the tasks file")
        elif self.split == "dev":
            notes.append("no annotation for this task: only the initial box is known")
        meta.update(label_frames=label_frames, label_present=label_present, label_boxes=label_boxes)

        def to_xywh(b):
            xmin, xmax, ymin, ymax = b
            if size is None:
                return xmin, ymin, xmax - xmin, ymax - ymin
            return normalized_to_pixels(xmin, xmax, ymin, ymax, *size)

        gt = np.full((n, 4), np.nan)
        absent = np.zeros(n, dtype=bool)
        gt[0] = to_xywh(task["init_box"])
        for f, present, box in zip(label_frames, label_present, label_boxes):
            if present:
                gt[f - init] = to_xywh(box)
            else:
                absent[f - init] = True
        meta["box_units"] = "pixels" if size is not None else "normalized"
        if size is None:
            notes.append("images not found: ground_truth is in normalised units (x, y, w, h in [0, 1])")
        return Sequence(name, frames, gt, absent, {}, meta)

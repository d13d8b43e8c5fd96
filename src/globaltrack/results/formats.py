"""Readers and writers of raw-result formats, and a fast parser for result files.

Formats (spec/metrics.md sections 1.1, 1.3, 2.4, 3, 5.1, 8 and the OTB MATLAB toolkit):

- ``pysot`` / LaSOT / got10k-OTB: ``<seq>.txt``, one ``x,y,w,h`` row per frame, comma-separated.
- ``pytracking``: ``<seq>.txt`` tab-separated integers (truncated with ``astype(int)``), optional
  ``<seq>_time.txt`` and ``<seq>_object_presence_scores.txt``.
- ``got10k``: ``<seq>/<seq>_001.txt`` (comma, ``%.3f``) plus ``<seq>/<seq>_time.txt``.
- ``otb-json``: one JSON file per sequence with the boxes under ``res`` (and optionally ``type``, ``fps``).
- ``otb-mat``: the OTB MATLAB toolkit's ``<seq>_<Tracker>.mat``: ``results{1}`` with fields ``res``, ``type``
  ('rect'), ``startFrame``, ``len``, ``fps``...; only OPE (``results{1}``) is read.
- ``oxuva``: one CSV per task ``<video>_<object>.csv``, columns video, object, frame_num, present, score, xmin,
  xmax, ymin, ymax (normalised), optional header, init frame not included.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from globaltrack.errors import AnnotationError, UserError
from globaltrack.textio import parse_box_bytes, plain_csv_rows  # noqa: F401 - re-exported for readers

FORMATS = ("otb-mat", "pytracking", "got10k", "pysot", "lasot", "otb-json", "oxuva")


# -- readers ---------------------------------------------------------------------------------------------------------
@dataclass
class RawResult:
    """One sequence's imported result."""

    sequence: str
    boxes: np.ndarray
    times: np.ndarray | None = None
    scores: np.ndarray | None = None
    present: np.ndarray | None = None
    start_frame: int = 1                   # 1-based frame of the first row (OTB .mat startFrame)
    info: dict = field(default_factory=dict)


def read_text_boxes(path: Path) -> np.ndarray:
    return parse_box_bytes(Path(path).read_bytes(), path)


def _optional_column(path: Path) -> np.ndarray | None:
    if not path.is_file():
        return None
    txt = path.read_text().replace(",", " ").replace("\t", " ").split()
    try:
        return np.asarray([float(v) for v in txt], dtype=np.float64)
    except ValueError:
        raise AnnotationError("non-numeric value", path) from None


def _read_by_server(server: str, src: Path, **options) -> list[RawResult]:
    """A folder in a submission server's own layout, read by that server's `read` (one parser per format)."""
    from globaltrack.results.servers import get_server
    from globaltrack.results.validate import read_submission

    return list(get_server(server).read(read_submission(src), root=Path(src), **options).values())


def read_pysot(src: Path) -> list[RawResult]:
    """``<seq>.txt`` per sequence, comma separated (pysot, LaSOT toolkit, got10k OTB): the LaSOT server's files."""
    return _read_by_server("lasot", src)


def read_pytracking(src: Path) -> list[RawResult]:
    """pytracking ``<seq>.txt`` (tab, integers) with optional ``_time.txt`` and ``_object_presence_scores.txt``."""
    out = []
    for p in sorted(Path(src).glob("*.txt")):
        if p.name.endswith(("_time.txt", "_object_presence_scores.txt")):
            continue
        r = RawResult(p.stem, read_text_boxes(p))
        r.times = _optional_column(p.with_name(p.stem + "_time.txt"))
        r.scores = _optional_column(p.with_name(p.stem + "_object_presence_scores.txt"))
        out.append(r)
    return out


def read_got10k(src: Path, repetition: int = 1) -> list[RawResult]:
    """GOT-10k toolkit layout ``<seq>/<seq>_00r.txt`` plus ``<seq>/<seq>_time.txt``: the GOT-10k server's files."""
    return _read_by_server("got10k", src, repetition=repetition)


def read_otb_json(src: Path) -> list[RawResult]:
    """One JSON per sequence: ``{"res": [[x,y,w,h], ...], "type": "rect", "fps": ..}`` (or a list of such)."""
    out = []
    for p in sorted(Path(src).glob("*.json")):
        try:
            d = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise AnnotationError(f"invalid JSON: {e.msg}", p, e.lineno) from None
        if isinstance(d, list):
            d = d[0]
        if "res" not in d:
            raise AnnotationError("no 'res' field", p)
        if d.get("type", "rect") != "rect":
            raise AnnotationError(f"result type '{d.get('type')}' is not 'rect'", p)
        out.append(RawResult(p.stem, np.asarray(d["res"], dtype=np.float64).reshape(-1, 4),
                             start_frame=int(d.get("startFrame", 1)), info={"fps": d.get("fps")}))
    return out


def read_otb_mat(src: Path, tracker: str | None = None) -> list[RawResult]:
    """The OTB toolkit's ``<seq>_<Tracker>.mat`` OPE files: ``results{1}.res`` (type 'rect'), ``startFrame``."""
    from scipy.io import loadmat

    out = []
    for p in sorted(Path(src).glob("*.mat")):
        stem = p.stem
        if tracker and stem.endswith("_" + tracker):
            seq = stem[: -len(tracker) - 1]
        else:
            seq = stem.rsplit("_", 1)[0] if "_" in stem else stem
        try:
            m = loadmat(str(p), squeeze_me=True, struct_as_record=False)
        except Exception as e:  # noqa: BLE001 - scipy raises several types
            raise AnnotationError(f"cannot read .mat file: {e}", p) from None
        if "results" not in m:
            raise AnnotationError("no 'results' variable", p)
        res = m["results"]
        first = res[0] if isinstance(res, np.ndarray) and res.dtype == object and res.ndim else res
        kind = getattr(first, "type", "rect")
        if kind != "rect":
            raise AnnotationError(f"result type '{kind}' is not 'rect'", p)
        boxes = np.asarray(first.res, dtype=np.float64).reshape(-1, 4)
        start = int(getattr(first, "startFrame", 1))
        fps = getattr(first, "fps", None)
        out.append(RawResult(seq, boxes, start_frame=start,
                             info={"fps": None if fps is None else float(fps)}))
    return out


def read_oxuva(src: Path) -> list[RawResult]:
    """Per-task CSVs (the OxUvA server's files); boxes stay normalised (x, y, w, h in [0,1]) with
    ``info['frames']`` the absolute frame numbers. The importer turns them into per-frame pixel boxes once it knows
    the sequence (image size)."""
    return _read_by_server("oxuva", src)


READERS = {
    "pysot": read_pysot, "lasot": read_pysot, "pytracking": read_pytracking, "got10k": read_got10k,
    "otb-json": read_otb_json, "otb-mat": read_otb_mat, "oxuva": read_oxuva,
}


def read_results(fmt: str, src: str | Path, **options) -> list[RawResult]:
    if fmt not in READERS:
        raise UserError(f"unknown result format '{fmt}'; known: {', '.join(sorted(READERS))}")
    src = Path(src)
    if not src.exists():
        raise UserError("source folder does not exist", src)
    if fmt == "otb-mat":
        return read_otb_mat(src, options.get("tracker"))
    if fmt == "got10k":
        return read_got10k(src, int(options.get("repetition", 1)))
    return READERS[fmt](src)


# -- writers ---------------------------------------------------------------------------------------------------------
def write_got10k_boxes(boxes: np.ndarray) -> str:
    """got10k toolkit result text: ``%.3f`` comma-separated."""
    buf = io.StringIO()
    np.savetxt(buf, np.asarray(boxes, float).reshape(-1, 4), fmt="%.3f", delimiter=",")
    return buf.getvalue()


def write_pytracking_boxes(boxes: np.ndarray) -> str:
    """pytracking result text: truncated to integers (``astype(int)``), tab-separated."""
    buf = io.StringIO()
    np.savetxt(buf, np.asarray(boxes, float).reshape(-1, 4).astype(int), fmt="%d", delimiter="\t")
    return buf.getvalue()


def canonical_name(name: str) -> str:
    """Name key that matches the toolkits' spellings: case, and '.', '_' or '-' before a target index
    (got10k ``Jogging.1``, pytracking ``Jogging_1``, pysot ``Jogging-1``, MATLAB ``jogging-1``)."""
    return name.lower().replace(".", "-").replace("_", "-")

"""NanoTrack (a light Siamese tracker, HonglinChu/SiamTrackers) through OpenCV's ``cv2.TrackerNano``.

OpenCV runs the two ONNX networks the NanoTrack v2 release ships (``nanotrack_backbone_sim.onnx`` and
``nanotrack_head_sim.onnx``): pass them as ``--opt backbone=PATH --opt head=PATH``, or ``--opt models=DIR`` for a
folder holding one ``*backbone*.onnx`` and one ``*head*.onnx``. No file is downloaded.

Failure policy (as for the OpenCV classic trackers, `globaltrack.trackers.opencv_trackers`): when OpenCV reports
failure (``ok=False``) the prediction holds the last box with ``present=False`` and ``score=0``; otherwise the box
comes with ``score = getTrackingScore()`` (the classification score of the chosen anchor) and ``present=True``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from globaltrack.errors import UserError
from globaltrack.trackers import register_tracker
from globaltrack.trackers.base import Prediction
from globaltrack.trackers.opencv_trackers import INSTALL_HINT, OpenCVSpec, OpenCVTracker, check_init_box, \
    integer_rect, to_bgr

SPEC = OpenCVSpec("nanotrack", "Nano",
                  "NanoTrack v2 via cv2.TrackerNano; options backbone=ONNX head=ONNX (or models=DIR)")
USAGE = ("pass --opt backbone=PATH/nanotrack_backbone_sim.onnx --opt head=PATH/nanotrack_head_sim.onnx "
         "(or --opt models=DIR)")


def nanotrack_availability() -> tuple[bool, str]:
    try:
        import cv2
    except ImportError:
        return False, f"cv2 not importable; {INSTALL_HINT}"
    if not hasattr(cv2, "TrackerNano_create"):
        return False, f"cv2 {cv2.__version__} has no TrackerNano (needs OpenCV >= 4.7): {INSTALL_HINT}"
    return True, ""


def _onnx_file(path: str, role: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"nanotrack: {role} ONNX file not found; {USAGE}", path=p)
    return p


def _find_in_dir(folder: str) -> tuple[Path, Path]:
    d = Path(folder).expanduser()
    if not d.is_dir():
        raise UserError(f"nanotrack: models folder not found; {USAGE}", path=d)
    found = {}
    for role in ("backbone", "head"):
        hits = sorted(d.glob(f"*{role}*.onnx"))
        if len(hits) != 1:
            raise UserError(f"nanotrack: expected exactly one *{role}*.onnx in the folder, found {len(hits)}; {USAGE}",
                            path=d)
        found[role] = hits[0]
    return found["backbone"], found["head"]


class NanoTrack(OpenCVTracker):
    """NanoTrack v2 run by ``cv2.TrackerNano``. Failure policy: on ``ok=False`` the last box is held with
    ``present=False`` and ``score=0``; otherwise ``score`` is OpenCV's ``getTrackingScore()``."""

    is_deterministic = True

    def __init__(self, backbone: str | Path, head: str | Path):
        ok, why = nanotrack_availability()
        if not ok:
            raise UserError(f"tracker 'nanotrack' is unavailable: {why}")
        import cv2

        self.spec = SPEC
        self.name = SPEC.name
        self.backbone = str(backbone)
        self.head = str(head)
        self._legacy = False
        params = cv2.TrackerNano_Params()
        params.backbone = self.backbone
        params.neckhead = self.head

        def make():
            # OpenCV 5's DNN warns on every load that the new graph engine ignores preferable targets; the warning
            # is about the CPU default we use anyway, so keep the log quiet while the networks load
            logging = getattr(getattr(cv2, "utils", None), "logging", None)
            if logging is None:
                return cv2.TrackerNano_create(params)
            level = logging.getLogLevel()
            logging.setLogLevel(min(level, logging.LOG_LEVEL_ERROR))
            try:
                return cv2.TrackerNano_create(params)
            finally:
                logging.setLogLevel(level)

        self._ctor = make
        try:  # load the networks now, so that a bad file fails at construction with one line
            make()
        except cv2.error as err:
            msg = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
            raise UserError(f"nanotrack: OpenCV could not load the ONNX files ({msg}); {USAGE}",
                            path=self.backbone) from None
        self._tracker = None
        self._last = np.zeros(4)

    def init(self, image, box) -> None:
        box = check_init_box(box)
        self._tracker = self._ctor()
        self._tracker.init(to_bgr(image), integer_rect(box))
        self._last = box.copy()

    def update(self, image) -> Prediction:
        if self._tracker is None:
            raise RuntimeError("update() called before init()")
        ok, rect = self._tracker.update(to_bgr(image))
        return self._prediction(ok, rect, score=float(self._tracker.getTrackingScore()))


@register_tracker("nanotrack", description=SPEC.description, requires="opencv-contrib-python-headless>=4.7",
                  available=nanotrack_availability, baseline=True)
def make_nanotrack(backbone=None, head=None, models=None, neckhead=None, **options):
    """``backbone=ONNX head=ONNX`` (``neckhead`` is OpenCV's name for ``head``) or ``models=DIR``."""
    if options:
        raise UserError(f"nanotrack: unknown options {', '.join(sorted(options))}; {USAGE}")
    head = head or neckhead
    if models and not (backbone or head):
        backbone_path, head_path = _find_in_dir(models)
    elif backbone and head:
        backbone_path, head_path = _onnx_file(backbone, "backbone"), _onnx_file(head, "head")
    else:
        raise UserError(f"nanotrack needs its two ONNX files; {USAGE}")
    return NanoTrack(backbone_path, head_path)

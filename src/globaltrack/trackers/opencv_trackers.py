"""OpenCV's classic single-object trackers as registered baselines: ``kcf``, ``csrt``, ``mil``, ``mosse``,
``medianflow``, ``tld``, ``boosting``.

They come from the contrib build of OpenCV (``opencv-contrib-python-headless``); in OpenCV >= 4.5.1 MOSSE,
MedianFlow, TLD and Boosting moved to ``cv2.legacy`` (the contrib ``tracking`` module's legacy API), while KCF, CSRT
and MIL also exist in the main namespace. The factory looks in ``cv2`` first, then in ``cv2.legacy``, so the same
name works across OpenCV 4.x/5.x builds.

Failure policy (shared with `globaltrack.trackers.nanotrack`): when OpenCV's ``update`` reports failure
(``ok=False``), the prediction holds the last successful box, with ``present=False`` and ``score=0``. OpenCV's
classic trackers give no confidence, so a successful frame has ``score=1``. A long-term evaluation therefore sees
a failure as "target reported absent" (VOT-LT: confidence 0 is below every threshold), and a short-term one (OTB
success) scores the held box as it is.

cv2 is imported inside functions so that listing trackers stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from globaltrack.errors import UserError
from globaltrack.trackers import register_tracker
from globaltrack.trackers.base import Prediction, Tracker

REPAIR_OPENCV = ("pip uninstall -y opencv-python opencv-python-headless && "
                 "pip install --force-reinstall --no-deps opencv-contrib-python-headless")
INSTALL_HINT = f"install OpenCV's contrib build: {REPAIR_OPENCV}"
_PLAIN_OPENCV = ("opencv-python", "opencv-python-headless")


def opencv_clash() -> str | None:
    """Which plain OpenCV distributions share the cv2/ folder with the contrib build (got10k and vot-toolkit
    install opencv-python), or None. Whichever pip installed last owns cv2/, so the contrib trackers may be gone."""
    from importlib import metadata

    found = []
    for dist in _PLAIN_OPENCV:
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found) or None


def contrib_problem() -> str | None:
    """None when cv2 has the contrib trackers (KCF in cv2, TLD in cv2.legacy); else one line with the repair."""
    try:
        import cv2
    except ImportError as err:
        return f"cv2 cannot be imported ({err}); {INSTALL_HINT}"
    if find_constructor("KCF")[0] is not None and find_constructor("TLD")[0] is not None:
        return None
    clash = opencv_clash()
    why = (f" because {clash} (a dependency of vot-toolkit) overwrote the contrib build's cv2/ folder"
           if clash else "")
    return f"cv2 {cv2.__version__} lacks OpenCV's contrib trackers{why}; repair with: {REPAIR_OPENCV}"


@dataclass(frozen=True)
class OpenCVSpec:
    """Where a tracker's constructor lives: ``cv2.Tracker<cv_name>_create`` or
    ``cv2.legacy.Tracker<cv_name>_create``."""

    name: str
    cv_name: str
    description: str


SPECS = (
    OpenCVSpec("kcf", "KCF", "OpenCV KCF (kernelized correlation filter, Henriques et al. 2015)"),
    OpenCVSpec("csrt", "CSRT", "OpenCV CSRT (discriminative correlation filter with spatial reliability)"),
    OpenCVSpec("mil", "MIL", "OpenCV MIL (multiple instance learning, Babenko et al. 2009)"),
    OpenCVSpec("mosse", "MOSSE", "OpenCV MOSSE (minimum output sum of squared error filter)"),
    OpenCVSpec("medianflow", "MedianFlow", "OpenCV MedianFlow (forward-backward error, Kalal et al. 2010)"),
    OpenCVSpec("tld", "TLD", "OpenCV TLD (tracking-learning-detection; re-detects: the classic long-term baseline)"),
    OpenCVSpec("boosting", "Boosting", "OpenCV Boosting (online AdaBoost, Grabner et al. 2006)"),
)


def find_constructor(cv_name: str):
    """``(constructor, is_legacy)`` for ``Tracker<cv_name>_create``, or ``(None, False)`` if this cv2 lacks it.

    The main namespace is preferred: there ``init`` takes an integer ``Rect`` and returns None; the legacy API's
    ``init`` takes a float ``Rect2d`` and returns a success flag.
    """
    try:
        import cv2
    except ImportError:
        return None, False
    attr = f"Tracker{cv_name}_create"
    if hasattr(cv2, attr):
        return getattr(cv2, attr), False
    legacy = getattr(cv2, "legacy", None)
    if legacy is not None and hasattr(legacy, attr):
        return getattr(legacy, attr), True
    return None, False


def opencv_availability(cv_name: str) -> tuple[bool, str]:
    try:
        import cv2
    except ImportError:
        return False, f"cv2 not importable; {INSTALL_HINT}"
    ctor, _ = find_constructor(cv_name)
    if ctor is None:
        return False, contrib_problem() or f"cv2 {cv2.__version__} has no Tracker{cv_name}_create; {INSTALL_HINT}"
    return True, ""


def to_bgr(image) -> np.ndarray:
    """Our frames are RGB (`globaltrack.sequence.read_image`); OpenCV expects BGR uint8, C-contiguous."""
    import cv2

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    if arr.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGBA2BGR)
    return np.ascontiguousarray(arr[:, :, ::-1])


def integer_rect(box) -> tuple[int, int, int, int]:
    """Round a float (x, y, w, h) to the integer ``cv::Rect`` that covers the same pixels (corners rounded, so the
    far edge does not drift by the rounding of w); width and height at least 1."""
    x, y, w, h = (float(v) for v in box)
    x0, y0 = int(round(x)), int(round(y))
    x1, y1 = int(round(x + w)), int(round(y + h))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def check_init_box(box) -> np.ndarray:
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.size != 4 or not np.all(np.isfinite(b)) or b[2] <= 0 or b[3] <= 0:
        raise ValueError(f"initial box must be finite (x, y, w, h) with w, h > 0, got {b.tolist()}")
    return b


class OpenCVTracker(Tracker):
    """One of OpenCV's classic trackers behind our `Tracker` interface.

    Failure policy: when OpenCV's ``update`` returns ``ok=False`` the prediction is the last successful box with
    ``present=False`` and ``score=0``; a successful update gives the OpenCV box (floats) with ``score=1`` and
    ``present=True`` (these trackers expose no confidence). Frames arrive RGB and are converted to BGR. The initial
    box is passed as an integer ``Rect`` to the main-namespace API (some versions reject floats) and as a float
    ``Rect2d`` to the legacy API.
    """

    is_deterministic = True

    def __init__(self, spec: OpenCVSpec):
        self.spec = spec
        self.name = spec.name
        ctor, legacy = find_constructor(spec.cv_name)
        if ctor is None:
            raise UserError(f"tracker '{spec.name}' is unavailable: {opencv_availability(spec.cv_name)[1]}")
        self._ctor = ctor
        self._legacy = legacy
        self._tracker = None
        self._last = np.zeros(4)

    def init(self, image, box) -> None:
        box = check_init_box(box)
        # A fresh OpenCV object per sequence: re-initialising a used one keeps state in some implementations.
        self._tracker = self._ctor()
        frame = to_bgr(image)
        if self._legacy:
            ok = self._tracker.init(frame, tuple(float(v) for v in box))
            if ok is False:
                raise RuntimeError(f"OpenCV {self.spec.cv_name} failed to initialise on box {box.tolist()}")
        else:
            self._tracker.init(frame, integer_rect(box))
        self._last = box.copy()

    def update(self, image) -> Prediction:
        if self._tracker is None:
            raise RuntimeError("update() called before init()")
        ok, rect = self._tracker.update(to_bgr(image))
        return self._prediction(ok, rect, score=1.0)

    def _prediction(self, ok, rect, score: float) -> Prediction:
        box = np.asarray(rect, dtype=np.float64).reshape(-1)
        if not ok or box.size != 4 or not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            return Prediction(self._last.copy(), score=0.0, present=False)
        self._last = box
        return Prediction(box.copy(), score=score, present=True)


def _reject_options(name: str, options: dict) -> None:
    if options:
        raise UserError(f"tracker '{name}' takes no options, got: {', '.join(sorted(options))}")


def _register(spec: OpenCVSpec) -> None:
    def factory(**options):
        _reject_options(spec.name, options)
        return OpenCVTracker(spec)

    factory.__name__ = f"make_{spec.name}"
    factory.__doc__ = f"{spec.description}; failure policy: see OpenCVTracker."
    register_tracker(spec.name, description=spec.description, requires="opencv-contrib-python-headless",
                     available=lambda: opencv_availability(spec.cv_name), baseline=True)(factory)


for _spec in SPECS:
    _register(_spec)

"""Bridges to the got10k package (``pip install got10k``, 0.1.3), the toolkit behind GOT-10k, OTB, VOT, UAV123 ...
experiments in Python.

- `Got10kAdapter`: one of our trackers as a ``got10k.trackers.Tracker``, for ``ExperimentOTB(...).run(adapter)`` and
  friends. got10k hands ``init``/``update`` PIL images (RGB) and expects ``update`` to return an (x, y, w, h) box.
- `Got10kTrackerWrapper`: a ``got10k.trackers.Tracker`` subclass (any third-party tracker written for the got10k
  toolkit) behind our `Tracker` interface; the registered tracker ``got10k`` (``--opt class=module:ClassName``)
  builds it, so our runner runs it like any other.
- `ExperimentOTBLocal`: ``ExperimentOTB`` over a local OTB root that holds only some sequences. got10k 0.1.3's
  ``ExperimentOTB.__init__`` always calls ``OTB(root, version, download=True)``, which downloads every sequence
  of the version missing from the root; this subclass builds the dataset with ``download=False`` instead
  (got10k then prints one warning per missing sequence and evaluates the ones present).
"""
from __future__ import annotations

import importlib

import numpy as np
from PIL import Image

from got10k.datasets import OTB
from got10k.experiments import ExperimentOTB
from got10k.trackers import Tracker as Got10kTracker

from globaltrack.errors import UserError
from globaltrack.trackers.base import Prediction, Tracker


def _rgb_array(image) -> np.ndarray:
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)
    return np.asarray(image)


def _pil(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    return Image.fromarray(np.asarray(image, dtype=np.uint8))


class Got10kAdapter(Got10kTracker):
    """Our tracker as a got10k ``Tracker``.

    ``tracker``: a registered name (built with ``options``) or a `Tracker` instance. ``name`` is the folder got10k
    writes results under (default: the tracker's registered name). The last `Prediction` is kept in
    ``last_prediction`` and all of a sequence's scores/presence in ``scores``/``present`` (got10k itself records
    boxes only).
    """

    def __init__(self, tracker: str | Tracker, name: str | None = None, **options):
        if isinstance(tracker, str):
            from globaltrack.trackers import create_tracker

            tracker = create_tracker(tracker, **options)
        elif options:
            raise TypeError("options apply only when the tracker is given by name")
        self.tracker = tracker
        super().__init__(name=name or tracker.name, is_deterministic=bool(getattr(tracker, "is_deterministic", True)))
        self.last_prediction: Prediction | None = None
        self.scores: list[float] = []
        self.present: list[bool] = []

    def init(self, image, box):
        box = np.asarray(box, dtype=np.float64).reshape(4)
        self.tracker.init(_rgb_array(image), box)
        self.last_prediction = Prediction(box, 1.0, True)
        self.scores, self.present = [1.0], [True]

    def update(self, image):
        pred = self.tracker.update(_rgb_array(image))
        self.last_prediction = pred
        self.scores.append(pred.score)
        self.present.append(pred.present)
        return np.asarray(pred.box, dtype=np.float64)


def as_got10k_tracker(name: str, **options) -> Got10kAdapter:
    """``ExperimentOTB(root).run(as_got10k_tracker("kcf"))``."""
    return Got10kAdapter(name, **options)


def load_got10k_class(spec: str):
    """Import ``module:ClassName`` (or ``module.ClassName``) and check it is a got10k ``Tracker`` subclass."""
    if ":" in spec:
        module_name, _, class_name = spec.partition(":")
    else:
        module_name, _, class_name = spec.rpartition(".")
    if not module_name or not class_name:
        raise UserError(f"got10k: class must be 'module:ClassName', got '{spec}'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UserError(f"got10k: cannot import module '{module_name}' ({err})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UserError(f"got10k: module '{module_name}' has no '{class_name}'")
    if not (isinstance(cls, type) and issubclass(cls, Got10kTracker)):
        raise UserError(f"got10k: {spec} is not a subclass of got10k.trackers.Tracker")
    return cls


class Got10kTrackerWrapper(Tracker):
    """A got10k ``Tracker`` instance behind our interface.

    Frames (RGB arrays) are handed over as PIL RGB images, as ``got10k.trackers.Tracker.track`` does. got10k
    trackers return a box only, so ``score=1`` and ``present=True`` on every frame; a tracker whose ``update``
    returns ``(box, score)`` has its score kept (present when score > 0).
    """

    def __init__(self, inner: Got10kTracker):
        self.inner = inner
        self.is_deterministic = bool(getattr(inner, "is_deterministic", False))

    def init(self, image, box) -> None:
        self.inner.init(_pil(image), np.asarray(box, dtype=np.float64).reshape(4))

    def update(self, image) -> Prediction:
        out = self.inner.update(_pil(image))
        if isinstance(out, tuple) and len(out) == 2 and np.ndim(out[1]) == 0:
            box, score = out
            return Prediction(np.asarray(box, dtype=np.float64).reshape(4), float(score), float(score) > 0)
        box = np.asarray(out, dtype=np.float64).reshape(4)
        return Prediction(box, 1.0, True)


def make_got10k_tracker(class_spec: str, **kwargs) -> Got10kTrackerWrapper:
    """Instantiate ``class_spec`` with ``kwargs`` (strings, as the CLI gives them) and wrap it."""
    cls = load_got10k_class(class_spec)
    try:
        inner = cls(**kwargs)
    except TypeError as err:
        raise UserError(f"got10k: cannot construct {class_spec}({', '.join(kwargs)}): {err}") from None
    return Got10kTrackerWrapper(inner)


class ExperimentOTBLocal(ExperimentOTB):
    """``ExperimentOTB`` that never downloads: evaluates the sequences of ``version`` present under ``root_dir``.

    Same attributes as got10k 0.1.3's constructor sets (dataset, result_dir, report_dir, nbins_iou, nbins_ce), so
    ``run``, ``report`` and ``plot_curves`` are got10k's own code.
    """

    def __init__(self, root_dir, version=2015, result_dir="results", report_dir="reports"):
        import os

        self.dataset = OTB(root_dir, version, download=False)
        self.result_dir = os.path.join(result_dir, "OTB" + str(version))
        self.report_dir = os.path.join(report_dir, "OTB" + str(version))
        self.nbins_iou = 21
        self.nbins_ce = 51

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

import numpy as np
from PIL import Image

from got10k.datasets import OTB
from got10k.experiments import ExperimentOTB
from got10k.trackers import Tracker as Got10kTracker

from globaltrack.trackers.base import Prediction, Tracker
# the wrapper of a got10k tracker behind our interface is a tracker: it lives with the trackers (no cycle back here)
from globaltrack.trackers.got10k_tracker import (Got10kTrackerWrapper, load_got10k_class,  # noqa: F401
                                                make_got10k_tracker)


def _rgb_array(image) -> np.ndarray:
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)
    return np.asarray(image)


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

"""Diagnostic trackers that exercise the harness. Reports label them "diagnostic": they are not real trackers.

- ``static``: always returns the first box.
- ``oracle``: returns the ground truth (optionally with Gaussian noise); needs ``set_sequence`` from the runner.
"""
from __future__ import annotations

import numpy as np

from globaltrack.trackers import register_tracker
from globaltrack.trackers.base import Prediction, Tracker


class StaticTracker(Tracker):
    diagnostic = True

    def init(self, image, box):
        self._box = np.asarray(box, dtype=np.float64)

    def update(self, image):
        return Prediction(self._box.copy(), score=1.0, present=True)

    def track_batch(self, images):
        return [self.update(im) for im in images]


class OracleTracker(Tracker):
    """Ground truth with optional noise ``noise`` (std as a fraction of the box size), seeded per sequence."""

    diagnostic = True

    def __init__(self, noise: float = 0.0, seed: int = 0):
        self.noise = float(noise)
        self.seed = int(seed)
        self._sequence = None

    def set_sequence(self, sequence):
        self._sequence = sequence

    def init(self, image, box):
        if self._sequence is None:
            raise RuntimeError("oracle needs set_sequence(sequence) before init (the runner calls it)")
        self._index = 0
        self._last = np.asarray(box, dtype=np.float64)
        name_seed = sum(map(ord, self._sequence.name))
        self._rng = np.random.default_rng(self.seed * 1_000_003 + name_seed)

    def update(self, image):
        self._index += 1
        gt = self._sequence.ground_truth
        absent = self._sequence.absent
        i = min(self._index, len(gt) - 1)
        if absent[i] or not np.all(np.isfinite(gt[i])) or gt[i, 2] <= 0 or gt[i, 3] <= 0:
            return Prediction(self._last.copy(), score=0.0, present=False)
        box = gt[i].copy()
        if self.noise > 0:
            wh = np.r_[box[2:], box[2:]]
            box = box + self._rng.normal(0, self.noise, 4) * wh
            box[2:] = np.maximum(box[2:], 1.0)
        self._last = box
        return Prediction(box, score=1.0, present=True)


@register_tracker("static", description="diagnostic: always the first box", diagnostic=True)
def make_static(**options):
    return StaticTracker()


@register_tracker("oracle", description="diagnostic: ground truth, option noise=FRACTION", diagnostic=True)
def make_oracle(noise="0", seed="0", **options):
    return OracleTracker(noise=float(noise), seed=int(seed))


# -- test-only trackers ------------------------------------------------------------------------------------------
# Registered only when GLOBALTRACK_TEST_TRACKERS=1 (the harness tests set it for the `globaltrack` subprocesses they
# start), so users and the demo never see them.
class SleepyTracker(StaticTracker):
    """``static`` that sleeps ``delay`` seconds per frame: a slow tracker for resume-after-kill tests."""

    def __init__(self, delay: float = 0.0):
        self.delay = float(delay)

    def update(self, image):
        import time

        time.sleep(self.delay)
        return super().update(image)


class FaultyTracker(StaticTracker):
    """``static`` that misbehaves on the sequences named in ``on`` (``+``-separated) from frame index ``at``:
    ``fail=raise`` raises, ``fail=nan`` returns a NaN box, ``fail=negative`` a negative width."""

    def __init__(self, fail: str = "raise", on: str = "", at: int = 1):
        self.fail, self.on, self.at = fail, set(filter(None, on.split("+"))), int(at)
        self._name = None

    def set_sequence(self, sequence):
        self._name = sequence.name

    def init(self, image, box):
        super().init(image, box)
        self._index = 0

    def update(self, image):
        self._index += 1
        if self._name in self.on and self._index >= self.at:
            if self.fail == "raise":
                raise RuntimeError(f"faulty tracker raised on purpose at frame index {self._index}")
            bad = [np.nan, 0, 10, 10] if self.fail == "nan" else [0, 0, -5, 10]
            return Prediction(np.array(bad, dtype=np.float64))
        return super().update(image)


def make_sleepy(delay="0", **options):
    return SleepyTracker(delay=float(delay))


def make_faulty(fail="raise", on="", at="1", **options):
    return FaultyTracker(fail=fail, on=on, at=int(at))


def _register_test_trackers() -> None:
    import os

    if os.environ.get("GLOBALTRACK_TEST_TRACKERS") != "1":
        return
    register_tracker("sleepy", description="test only: static with option delay=SECONDS per frame",
                     diagnostic=True, test_only=True)(make_sleepy)
    register_tracker("faulty", description="test only: static failing (fail=raise|nan|negative) on sequences "
                                           "on=A+B from frame index at=K", diagnostic=True, test_only=True)(make_faulty)


_register_test_trackers()

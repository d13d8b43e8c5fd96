"""The tracker interface: as small as the got10k toolkit's.

Required: ``init(image, box)`` and ``update(image) -> Prediction``.
Optional capabilities, detected with `hasattr`, never required of every tracker:

- ``track_batch(images) -> list[Prediction]``: for trackers with no temporal state (GlobalTrack): frames are
  independent given the query, so the runner may send several at once.
- ``candidates(image, k) -> (boxes (K,4) float array, scores (K,) float array)``: ranked boxes, used by AR@k.
- ``set_sequence(sequence)``: called before ``init`` by the runner; only diagnostic trackers (oracle) use it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Prediction:
    """One frame's output. ``box`` is (x, y, w, h); ``score`` the confidence; ``present`` whether the tracker
    believes the target is visible (long-term benchmarks use it)."""

    box: np.ndarray
    score: float = 1.0
    present: bool = True

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, dtype=np.float64).reshape(4)
        self.score = float(self.score)
        self.present = bool(self.present)


class Tracker:
    """Base class. Subclasses set ``name`` and implement ``init`` and ``update``.

    ``is_deterministic``: the same input gives the same output (the GOT-10k toolkit then runs one repetition).
    ``diagnostic``: a harness-testing tracker (static, oracle): reports label it as such.
    """

    name: str = "tracker"
    is_deterministic: bool = True
    diagnostic: bool = False

    def init(self, image: np.ndarray, box) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def update(self, image: np.ndarray) -> Prediction:  # pragma: no cover - interface
        raise NotImplementedError


def supports_batch(tracker: Tracker) -> bool:
    return callable(getattr(tracker, "track_batch", None))


def supports_candidates(tracker: Tracker) -> bool:
    return callable(getattr(tracker, "candidates", None))

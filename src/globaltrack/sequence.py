"""`Sequence`: one tracking sequence as a benchmark defines it.

Frames are file paths decoded lazily: building a `Sequence` reads annotations only, never images.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to an RGB uint8 array (H, W, 3)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@dataclass
class Sequence:
    """A sequence: official name, frame paths, ground truth and absence flags.

    - ``ground_truth``: float64 array (N, 4) of ``(x, y, w, h)`` as the benchmark file gives them; rows may be NaN
      (unknown) or all-zero (absent in LaSOT). For test splits that only give the first box, N == 1.
    - ``absent``: bool array (N,), True where the benchmark marks the target absent (LaSOT full_occlusion|out_of_view,
      TLP isLost, GOT-10k absence, OxUvA absent). All False when the benchmark has no such flag.
    - ``frames``: paths of the frames in order; may be empty for annotation-only use (evaluation).
    - ``attributes``: benchmark attribute name -> per-sequence bool/flag (or per-frame array).
    - ``metadata``: anything else (class name, resolution, annotation file path, start frame ...).
    """

    name: str
    frames: list[str] = field(default_factory=list)
    ground_truth: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    absent: np.ndarray | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ground_truth = np.asarray(self.ground_truth, dtype=np.float64).reshape(-1, 4)
        if self.absent is None:
            self.absent = np.zeros(len(self.ground_truth), dtype=bool)
        else:
            self.absent = np.asarray(self.absent, dtype=bool).reshape(-1)
        self.frames = [str(f) for f in self.frames]

    def __len__(self) -> int:
        """Number of frames (the image count when frames are known, else the annotation rows)."""
        return len(self.frames) if self.frames else len(self.ground_truth)

    @classmethod
    def unreadable(cls, name: str, error: Exception) -> "Sequence":
        """A placeholder for a sequence whose files could not be read: it carries the one-line reason (file and
        line) so that a run records it as that sequence's failure and goes on with the others."""
        meta: dict[str, Any] = {"load_error": str(error)}
        path = getattr(error, "path", None)
        if path is not None:
            meta["path"] = path
        return cls(name, metadata=meta)

    @property
    def load_error(self) -> str | None:
        """Why the sequence could not be read (`unreadable`), or None for a readable sequence."""
        return self.metadata.get("load_error")

    @property
    def init_box(self) -> np.ndarray:
        return self.ground_truth[0].copy()

    def frame(self, index: int) -> np.ndarray:
        """Decode frame ``index`` (RGB uint8)."""
        return read_image(self.frames[index])

    def annotation_key(self) -> str:
        """Hash of what scoring depends on (ground truth, absence, frame count): a resume/cache key."""
        h = hashlib.sha1()
        h.update(self.name.encode())
        h.update(np.ascontiguousarray(self.ground_truth, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.absent, dtype=np.uint8).tobytes())
        h.update(str(len(self)).encode())
        return h.hexdigest()

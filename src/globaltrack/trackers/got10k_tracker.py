"""Registered tracker ``got10k``: any tracker written for the got10k toolkit (a ``got10k.trackers.Tracker``
subclass) run by our harness. ``--opt class=module:ClassName``; every other option is passed to the class
constructor as a string keyword argument. Example: ``--opt class=got10k.trackers:IdentityTracker``.

got10k itself is imported on construction only (it pulls matplotlib and shapely), so listing trackers stays fast.
The other direction (our trackers inside got10k's experiments) is `globaltrack.interop.got10k`.
"""
from __future__ import annotations

import importlib
import importlib.util

import numpy as np

from globaltrack.errors import UserError
from globaltrack.trackers import register_tracker
from globaltrack.trackers.base import Prediction, Tracker


def got10k_availability() -> tuple[bool, str]:
    if importlib.util.find_spec("got10k") is None:
        return False, "the got10k package is not installed: pip install got10k"
    return True, ""


@register_tracker("got10k", description="any got10k-toolkit Tracker subclass; option class=module:ClassName",
                  requires="got10k", available=got10k_availability)
def make_got10k(**options):
    spec = options.pop("class", None) or options.pop("cls", None)
    if not spec:
        raise UserError("tracker 'got10k' needs --opt class=module:ClassName (a got10k.trackers.Tracker subclass)")
    ok, why = got10k_availability()
    if not ok:
        raise UserError(f"tracker 'got10k' is unavailable: {why}")
    return make_got10k_tracker(spec, **options)


def _pil(image):
    from PIL import Image

    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    return Image.fromarray(np.asarray(image, dtype=np.uint8))


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
    from got10k.trackers import Tracker as Got10kTracker

    if not (isinstance(cls, type) and issubclass(cls, Got10kTracker)):
        raise UserError(f"got10k: {spec} is not a subclass of got10k.trackers.Tracker")
    return cls


class Got10kTrackerWrapper(Tracker):
    """A got10k ``Tracker`` instance behind our interface.

    Frames (RGB arrays) are handed over as PIL RGB images, as ``got10k.trackers.Tracker.track`` does. got10k
    trackers return a box only, so ``score=1`` and ``present=True`` on every frame; a tracker whose ``update``
    returns ``(box, score)`` has its score kept (present when score > 0).
    """

    def __init__(self, inner):
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


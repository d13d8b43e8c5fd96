"""Trackers: the interface, the registry, GlobalTrack and baselines.

Register a tracker in its own module::

    from globaltrack.trackers import register_tracker

    @register_tracker("kcf", description="OpenCV KCF", requires="opencv-contrib-python-headless")
    def make_kcf(**options): return KCF(**options)

Options arrive from the CLI as strings (``--opt weights=PATH``); factories convert them. A factory may carry an
``available`` callable in ``extra`` returning ``(ok: bool, why: str)`` for ``globaltrack trackers``.
"""
from __future__ import annotations

from typing import Any

from globaltrack.registry import Registry
from globaltrack.trackers.base import Prediction, Tracker, supports_batch, supports_candidates

TRACKERS = Registry("tracker", "globaltrack.trackers")
register_tracker = TRACKERS.register


def create_tracker(name: str, **options: Any) -> Tracker:
    """Build a registered tracker by name with options."""
    entry = TRACKERS.get(name)
    tracker = entry.factory(**options)
    tracker.name = entry.name
    return tracker


def tracker_availability(name: str) -> tuple[bool, str]:
    entry = TRACKERS.get(name)
    check = entry.extra.get("available")
    if check is None:
        return True, ""
    return check()


__all__ = ["Prediction", "Tracker", "TRACKERS", "register_tracker", "create_tracker", "tracker_availability",
           "supports_batch", "supports_candidates"]

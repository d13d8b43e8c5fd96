"""Registered tracker ``got10k``: any tracker written for the got10k toolkit (a ``got10k.trackers.Tracker``
subclass) run by our harness. ``--opt class=module:ClassName``; every other option is passed to the class
constructor as a string keyword argument. Example: ``--opt class=got10k.trackers:IdentityTracker``.

The wrapper lives in `globaltrack.interop.got10k` and is imported on construction (got10k pulls matplotlib and
shapely), so listing trackers stays fast.
"""
from __future__ import annotations

import importlib.util

from globaltrack.errors import UserError
from globaltrack.trackers import register_tracker


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
    from globaltrack.interop.got10k import make_got10k_tracker

    return make_got10k_tracker(spec, **options)

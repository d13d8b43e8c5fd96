"""globaltrack: a long-term single-object-tracking harness built around GlobalTrack.

Box convention everywhere: ``(x, y, w, h)`` floats, (x, y) the top-left corner, exactly as benchmark files give them
(no +1, no conversion). Images are RGB ``uint8`` numpy arrays of shape ``(H, W, 3)``.
"""
__version__ = "0.1.0"

from globaltrack.sequence import Sequence  # noqa: E402
from globaltrack.trackers.base import Prediction, Tracker  # noqa: E402

__all__ = ["Sequence", "Prediction", "Tracker", "__version__"]

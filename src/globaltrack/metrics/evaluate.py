"""Moved to `globaltrack.scoring.evaluate` (the evaluation layer above the pure metrics).

Kept only for ``trackers/globaltrack/evidence.py``, which issue 11 moves to ``globaltrack/training/``; once that
module imports `globaltrack.scoring.evaluate`, delete this file (tests/test_layers.py then forbids the edge).
"""
from globaltrack.scoring.evaluate import evaluate  # noqa: F401

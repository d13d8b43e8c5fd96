"""The result of scoring trackers on one benchmark under one protocol: what reports, leaderboards and the
``evaluate --json`` output consume. Values are on the 0-1 scale (fps in frames per second).

Measure keys and their descriptions: `globaltrack.scoring.measures`. Curve keys: ``success`` (IoU thresholds, rate),
``precision`` (pixels, rate), ``norm_precision`` (normalised distance, rate), and for the long-term families
``pr`` (VOT-LT: recall, precision), ``f_score`` (VOT-LT: confidence threshold, F), ``tpr_time`` (OxUvA).
The JSON layout is documented in the README ("evaluate --json") and fixed by ``evaluation.schema.json`` beside
this module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCHEMA_ID = "globaltrack-evaluation/1"


@dataclass
class TrackerEvaluation:
    tracker: str
    scores: dict[str, float] = field(default_factory=dict)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    per_sequence: dict[str, dict[str, float]] = field(default_factory=dict)
    per_attribute: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)      # what the protocol did: "seq X: 3 rows truncated"
    rules: dict[str, int] = field(default_factory=dict)  # rule -> rows/frames it applied to, over all sequences
    sequence_rules: dict[str, dict[str, int]] = field(default_factory=dict)   # sequence -> rule -> count
    missing: list[str] = field(default_factory=list)    # sequences without a result file
    failed: list[str] = field(default_factory=list)     # sequences the run recorded as failed
    imported: bool = False                              # results imported from published files
    diagnostic: bool = False                            # static / oracle
    run: dict[str, Any] = field(default_factory=dict)   # the typed run manifest's JSON view (empty: none)


@dataclass
class Evaluation:
    benchmark: str
    protocol: str
    trackers: dict[str, TrackerEvaluation] = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)
    protocol_fields: dict[str, Any] = field(default_factory=dict)   # every field of the protocol, as used
    versions: dict[str, str] = field(default_factory=dict)

    def ranking(self, key: str | None = None) -> list[str]:
        """Best first by ``key`` (default: the protocol's primary measure), as `leaderboard` ranks."""
        from globaltrack.scoring.leaderboard import ranked_trackers

        return ranked_trackers(self, key)

    def to_json(self) -> dict[str, Any]:
        """Everything needed to redraw any plot or table: see the README section "evaluate --json"."""
        from globaltrack.scoring import measures
        from globaltrack.scoring.leaderboard import metric_keys, primary_metric

        keys = metric_keys(self)
        primary = primary_metric(self)
        return {
            "schema": SCHEMA_ID,
            "benchmark": self.benchmark,
            "protocol": self.protocol,
            "protocol_fields": _clean(self.protocol_fields),
            "versions": dict(self.versions),
            "sequences": list(self.sequences),
            "measures": {k: measures.measure(k).to_json() for k in keys},
            "primary": primary,
            "ranking": self.ranking(primary),
            "trackers": {n: {k: _num(v) for k, v in t.scores.items()} for n, t in self.trackers.items()},
            "details": {n: _details(t) for n, t in self.trackers.items()},
        }


def _details(t: TrackerEvaluation) -> dict[str, Any]:
    return {
        "notes": [str(n) for n in t.notes],
        "rules": {k: int(v) for k, v in sorted(t.rules.items())},
        "missing": list(t.missing), "failed": list(t.failed),
        "imported": bool(t.imported), "diagnostic": bool(t.diagnostic),
        "per_sequence": {s: {k: _num(v) for k, v in sc.items()} for s, sc in t.per_sequence.items()},
        "sequence_rules": {s: {k: int(v) for k, v in r.items()} for s, r in t.sequence_rules.items() if r},
        "per_attribute": {a: {k: _num(v) for k, v in sc.items()} for a, sc in t.per_attribute.items()},
        "curves": {c: {"x": [_num(v) for v in np.asarray(x, float).ravel()],
                       "y": [_num(v) for v in np.asarray(y, float).ravel()]} for c, (x, y) in t.curves.items()},
        "run": _clean(t.run),
    }


def _num(v) -> float | None:
    """A JSON number; NaN/inf (no value) become null, since JSON has no NaN."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _clean(obj):
    """Protocol fields and manifests as plain JSON (tuples to lists, non-finite floats to null)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return _clean(obj.item())
    return obj

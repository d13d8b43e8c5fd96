"""The result of scoring trackers on one benchmark under one protocol: what reports, leaderboards and the
``evaluate --json`` output consume. Values are on the 0-1 scale.

Metric keys (as applicable): ``auc``, ``precision``, ``norm_precision``, ``sr50``, ``tpr``, ``tnr``, ``max_gm``,
``ao``, ``sr75``, ``ar@K``, ``f_score`` ...
Curve keys: ``success`` (IoU thresholds, rate), ``precision`` (pixels, rate), ``norm_precision`` (0-0.5, rate).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TrackerEvaluation:
    tracker: str
    scores: dict[str, float] = field(default_factory=dict)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    per_sequence: dict[str, dict[str, float]] = field(default_factory=dict)
    per_attribute: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)      # what the protocol did: "seq X: 3 rows truncated"
    missing: list[str] = field(default_factory=list)    # sequences without a result file
    failed: list[str] = field(default_factory=list)     # sequences the run recorded as failed
    imported: bool = False                              # results imported from published files
    diagnostic: bool = False                            # static / oracle


@dataclass
class Evaluation:
    benchmark: str
    protocol: str
    trackers: dict[str, TrackerEvaluation] = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)

    def ranking(self, key: str = "auc") -> list[str]:
        return sorted(self.trackers, key=lambda t: -np.nan_to_num(self.trackers[t].scores.get(key, np.nan),
                                                                   nan=-np.inf))

    def to_json(self) -> dict[str, Any]:
        """``{"benchmark": B, "protocol": P, "trackers": {NAME: {METRIC: value}}}`` plus a ``details`` block."""
        return {
            "benchmark": self.benchmark,
            "protocol": self.protocol,
            "trackers": {n: {k: float(v) for k, v in t.scores.items()} for n, t in self.trackers.items()},
            "details": {n: {"notes": t.notes, "missing": t.missing, "failed": t.failed, "imported": t.imported}
                        for n, t in self.trackers.items()},
        }

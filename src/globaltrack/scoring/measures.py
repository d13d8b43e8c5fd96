"""Each measure described once (as the VOT toolkit describes its measures): key, label, direction, range, display
format. `evaluate`, `leaderboard`, the report and the JSON output all read these; `rank` is the one ranking rule.

Ranking follows the benchmark's official primary measure, with the toolkits' tie-breakers: OxUvA ranks by MaxGM,
then TPR, then TNR (oxuva/long-term-tracking-benchmark python/oxuva/tools/analyze.py); the other toolkits sort by
their one measure (got10k AO, VOT-LT F, OTB/LaSOT/TrackingNet success AUC). Equal values after that keep the
trackers in name order, so the ranking never depends on the order folders were listed in; a missing or NaN value
ranks last.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Literal, Mapping


@dataclass(frozen=True)
class Measure:
    key: str                                  # the score key in `TrackerEvaluation.scores`
    label: str                                # the papers' short name
    direction: Literal["higher", "lower"]     # which way is better
    low: float | None = 0.0                   # range; None: unbounded
    high: float | None = 1.0
    scale: float = 100.0                      # tables print value * scale (the papers' 0-100 convention)
    digits: int = 1                           # decimals at that scale
    description: str = ""

    def format(self, value, *, scaled: bool = True) -> str:
        """``value`` for a table: '-' when missing; at the table scale, or on the stored 0-1 scale (4 decimals)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if not scaled:
            return f"{float(value):.{self.digits if self.scale == 1 else 4}f}"
        return f"{float(value) * self.scale:.{self.digits}f}"

    def to_json(self) -> dict:
        return asdict(self)


_MEASURES = (
    Measure("max_gm", "MaxGM", "higher", description="OxUvA: maximum over score thresholds of sqrt(TPR * TNR)"),
    Measure("tpr", "TPR", "higher", description="OxUvA: true-positive rate (present frames, IoU >= 0.5)"),
    Measure("tnr", "TNR", "higher", description="OxUvA: true-negative rate (absent frames reported absent)"),
    Measure("gm", "GM", "higher", description="OxUvA: sqrt(TPR * TNR) at the tracker's own presence decision"),
    Measure("ao", "AO", "higher", description="GOT-10k: average overlap"),
    Measure("f_score", "F", "higher", description="VOT-LT: maximum over thresholds of the tracking F-measure"),
    Measure("lt_precision", "Pr", "higher", description="VOT-LT: tracking precision at the F-maximising threshold"),
    Measure("lt_recall", "Re", "higher", description="VOT-LT: tracking recall at the F-maximising threshold"),
    Measure("auc", "AUC", "higher", description="success: area under the IoU-threshold curve"),
    Measure("precision", "P", "higher", description="centre-error precision (at 20 px, or the toolkit's rule)"),
    Measure("norm_precision", "NP", "higher", description="normalised precision (at 0.2, or the toolkit's rule)"),
    Measure("sr50", "SR0.5", "higher", description="success rate at IoU > 0.5"),
    Measure("sr75", "SR0.75", "higher", description="success rate at IoU > 0.75"),
    Measure("fps", "FPS", "higher", low=0.0, high=None, scale=1.0, digits=1,
            description="tracker speed, frames per second (the toolkit's averaging)"),
)
MEASURES: dict[str, Measure] = {m.key: m for m in _MEASURES}
DISPLAY_ORDER = tuple(MEASURES)

# The official ranking tie-breakers after a primary measure.
TIE_BREAKERS: dict[str, tuple[str, ...]] = {"max_gm": ("tpr", "tnr")}
# When a protocol names no primary measure present in the scores: the first of these that is.
PRIMARY_PREFERENCE = ("max_gm", "ao", "f_score", "auc", "sr50", "precision")

_AT_K = re.compile(r"^(ar|recall)@(\d+)$")


def measure(key: str) -> Measure:
    """The description of ``key``; AR@k / recall@k and unknown keys get a generic one (higher is better, 0-1)."""
    if key in MEASURES:
        return MEASURES[key]
    m = _AT_K.match(key)
    if m:
        what = "average recall (IoU 0.50:0.95)" if m.group(1) == "ar" else "recall (IoU 0.5)"
        return Measure(key, f"{m.group(1).upper() if m.group(1) == 'ar' else 'R'}@{m.group(2)}", "higher",
                       description=f"{what} of the top-{m.group(2)} candidates")
    return Measure(key, key, "higher", low=None, high=None, scale=1.0, digits=4, description="")


def label(key: str) -> str:
    return measure(key).label


def display_order(keys) -> list[str]:
    """Known measures in their fixed order, then the others alphabetically."""
    keys = set(keys)
    known = [k for k in DISPLAY_ORDER if k in keys]
    return known + sorted(keys - set(known))


def primary_measure(protocol_primary: str | None, keys) -> str | None:
    """The protocol's ranking measure when present in ``keys``, else the first of `PRIMARY_PREFERENCE`."""
    keys = list(keys)
    if protocol_primary in keys:
        return protocol_primary
    for k in PRIMARY_PREFERENCE:
        if k in keys:
            return k
    return display_order(keys)[0] if keys else None


def _value(scores: Mapping[str, float], key: str) -> float:
    """Sort value: better is smaller (so one ascending sort ranks); missing/NaN is +inf (last)."""
    v = scores.get(key)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return math.inf
    if math.isnan(v):
        return math.inf
    return -v if measure(key).direction == "higher" else v


def rank(scores: Mapping[str, Mapping[str, float]], key: str | None) -> list[str]:
    """Names of ``scores`` (``{tracker: {measure: value}}``), best first by ``key`` and its official tie-breakers,
    then by name."""
    if key is None:
        return sorted(scores)
    order = (key,) + TIE_BREAKERS.get(key, ())
    return sorted(scores, key=lambda n: tuple(_value(scores[n], k) for k in order) + (n,))

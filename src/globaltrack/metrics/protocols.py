"""Protocols: the conventions of each official toolkit as data (spec/metrics.md sections 1-9, checklist 13).

A `Protocol` is a small frozen dataclass; metric code reads its fields and never a benchmark's name. Some toolkits
change rules per dataset (pytracking's ``dataset`` string, got10k's Experiment classes); those are separate
protocols listed in ``variants`` (benchmark name -> protocol name) and picked by `Protocol.for_benchmark`.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

from globaltrack.registry import Registry

PROTOCOLS = Registry("protocol", "globaltrack.metrics.toolkits")


Family = Literal["ope", "oxuva", "vot-lt", "pooled-f1"]
IoURule = Literal["continuous", "inclusive", "raster"]
Bounds = Literal["none", "image", "unit"]
FirstFrame = Literal["gt", "as_is", "drop"]
CarryForward = Literal["none", "matlab", "pytracking"]
LengthRule = Literal["truncate_or_error", "truncate_or_pad_zeros", "truncate_both", "pad_nan", "equal"]
ValidGT = Literal["all4", "wh", "nonnan", "none"]
Visibility = Literal["absent", "cover"]
AbsentRule = Literal["fail", "exclude", "evaluate"]
Outcome = Literal["success", "fail"]
CenterMask = Literal["box", "center_positive"]
NormCenter = Literal["gt_wh", "gt_wh_diff", "gt_wh_min1", "gt_wh_eps"]
SuccessGrid = Literal["success21_numpy", "success21_matlab", "success21_torch", "success101", "success100_vot"]
SuccessOp = Literal[">", ">="]
PrecisionGrid = Literal["precision51", "precision21_trackingnet"]
NormGrid = Literal["norm51", "norm51_got10k", "norm21_trackingnet"]
AreaRule = Literal["mean", "trapz"]
Aggregation = Literal["sequence_mean", "frame_pooled"]
CurveDtype = Literal["float64", "float32"]
MissingRule = Literal["zeros", "exclude"]
SpeedRule = Literal["none", "sequence_mean", "pooled"]
LTThresholds = Literal["vot", "pysot"]
MeasureKey = Literal["auc", "precision", "norm_precision", "sr50", "sr75", "ao", "tpr", "tnr", "gm", "max_gm",
                     "f_score", "lt_precision", "lt_recall"]
# A curve's score: "mean" (of the grid), "trapz" (TrackingNet), or "at:<threshold>" (the value at one threshold).
_SCORE_RULE = re.compile(r"^(mean|trapz|at:[0-9]*\.?[0-9]+)$")
_NUMBER_RANGES = {"iou_threshold": (0.0, 1.0), "time_bucket": (1, None), "bootstrap_trials": (0, None),
                  "lt_resolution": (3, None)}


@dataclass(frozen=True)
class Protocol:
    """Every field's allowed values are declared (``Literal``) and checked when a protocol is built or overridden:
    a wrong value is one `UserError` line naming the field and the allowed values."""

    name: str
    description: str = ""
    source: str = ""                      # where the rules come from (repo, file)
    family: Family = "ope"                # "ope" (success/precision curves) | "oxuva" | "vot-lt" | "pooled-f1"
    # -- boxes ---------------------------------------------------------------------------------------------------
    iou: IoURule = "continuous"           # "continuous" | "inclusive" (+1 pixel) | "raster" (VOT)
    iou_eps: bool = False                 # got10k: union + machine eps
    iou_clip: bool = False                # got10k, pysot: clip IoU to [0, 1]
    round_coords: bool = False            # TrackingNet: np.round every coordinate first
    bounds: Bounds = "none"               # "none" | "image" (GOT-10k clip to [0,W]x[0,H]) | "unit" (OxUvA)
    # -- frames --------------------------------------------------------------------------------------------------
    first_frame: FirstFrame = "gt"        # "gt" (replace by GT, count) | "as_is" | "drop"
    ope_start: bool = False               # OTB MATLAB OPE: start at the first frame not in metadata["init_omit"]
    carry_forward: CarryForward = "none"  # "matlab" (NaN/w<=0/h<=0) | "pytracking" (w==0/h==0; raise on NaN/neg)
    length: LengthRule = "truncate_or_error"
    valid_gt: ValidGT = "all4"            # "all4" (x,y,w,h > 0) | "wh" (w,h > 0) | "nonnan" | "none"
    visibility: Visibility = "absent"     # where absence comes from: Sequence.absent | "cover" (metadata cover > 0)
    absent: AbsentRule = "fail"           # Sequence.absent frames: "fail" (kept in denominator) | "exclude" | "evaluate"
    invalid_denominator: bool = True      # invalid-GT frames stay in the denominator (as failures / -1 codes)
    invalid_center: Outcome = "success"   # centre error on invalid GT: "success" (-1) | "fail" (Inf)
    invalid_norm_center: Outcome = "success"
    absent_center: Outcome = "fail"       # centre error on absent frames
    absent_norm_center: Outcome = "fail"
    center_mask: CenterMask = "box"       # "box": validity rule above | "center_positive" (pysot: GT centre > 0)
    norm_center: NormCenter = "gt_wh"     # see boxes.normalized_center_error
    # -- grids, operators, scores --------------------------------------------------------------------------------
    success_grid: SuccessGrid = "success21_numpy"
    success_op: SuccessOp = ">"
    precision_grid: PrecisionGrid = "precision51"
    norm_grid: NormGrid = "norm51"
    auc: AreaRule = "mean"                # "mean" | "trapz"
    precision_score: str = "at:20"        # "mean" | "trapz" | "at:<px>"
    norm_precision_score: str = "at:0.2"  # "mean" | "trapz" | "at:<distance>"
    aggregation: Aggregation = "sequence_mean"   # | "frame_pooled" (GOT-10k)
    drop_empty_sequences: bool = False    # MATLAB plot_draw_save: drop sequences whose curve sums to <= eps
    metrics: tuple[MeasureKey, ...] = ("auc", "precision", "norm_precision", "sr50")
    primary_metric: MeasureKey = "auc"    # the ranking key (OxUvA ranks by MaxGM, GOT-10k by AO, VOT-LT by F)
    curve_dtype: CurveDtype = "float64"   # "float32": pytracking keeps per-sequence curves and their mean in float32
    missing: MissingRule = "zeros"        # --allow-missing: "zeros" (all-zero prediction) | "exclude" (for all)
    speed: SpeedRule = "none"             # "none" | "sequence_mean" (got10k OTB) | "pooled" (GOT-10k)
    # -- long-term -----------------------------------------------------------------------------------------------
    iou_threshold: float = 0.5            # OxUvA true-positive IoU (>=)
    time_bucket: int = 900                # OxUvA: 30 s at 30 fps
    bootstrap_trials: int = 0             # OxUvA --bootstrap_trials (0: off)
    lt_thresholds: LTThresholds = "vot"   # VOT-LT: "vot" | "pysot"
    lt_resolution: int = 100
    variants: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self):
        check_fields(self)

    def for_benchmark(self, benchmark: str | None) -> "Protocol":
        """The toolkit's rules for this benchmark (pytracking's dataset string, got10k's Experiment class)."""
        if benchmark:
            for bench, proto in self.variants:
                if bench == benchmark.lower():
                    return get_protocol(proto)
        return self

    def with_options(self, **changes) -> "Protocol":
        return replace(self, **changes)

    def fingerprint(self) -> str:
        """Stable hash of every convention field (a cache key component)."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()[:16]

    def to_json(self) -> dict:
        """Every field's value (the ``protocol_fields`` block of ``evaluate --json``)."""
        return json.loads(json.dumps(asdict(self), default=str))


@functools.lru_cache(maxsize=1)
def _field_types() -> dict:
    return typing.get_type_hints(Protocol)


def allowed_values(name: str) -> tuple | None:
    """The declared values of a ``Literal`` field (of its items, for a tuple field); None for free fields."""
    t = _field_types()[name]
    if typing.get_origin(t) is tuple:
        t = typing.get_args(t)[0]
    return typing.get_args(t) if typing.get_origin(t) is Literal else None


def check_fields(protocol: "Protocol") -> None:
    """Raise a one-line `UserError` for the first field whose value is not one it allows."""
    from globaltrack.errors import UserError

    for f in fields(protocol):
        value = getattr(protocol, f.name)
        allowed = allowed_values(f.name)
        if allowed is not None:
            items = value if isinstance(value, tuple) else (value,)
            bad = [v for v in items if v not in allowed]
            if bad or (isinstance(value, tuple) and not value):
                raise UserError(f"protocol {protocol.name}: field '{f.name}' cannot be {bad[0] if bad else '()'!r}; "
                                f"allowed: {', '.join(map(str, allowed))}")
        elif f.name in ("precision_score", "norm_precision_score") and not _SCORE_RULE.match(str(value)):
            raise UserError(f"protocol {protocol.name}: field '{f.name}' cannot be {value!r}; allowed: mean, trapz, "
                            f"at:<threshold>")
        elif f.name in _NUMBER_RANGES:
            low, high = _NUMBER_RANGES[f.name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or \
                    (high is not None and value > high):
                raise UserError(f"protocol {protocol.name}: field '{f.name}' cannot be {value!r}; allowed: a number "
                                f"from {low}" + (f" to {high}" if high is not None else " up"))


def register_protocol(protocol: Protocol, aliases: tuple[str, ...] = ()) -> Protocol:
    PROTOCOLS.register(protocol.name, description=protocol.description, aliases=aliases)(lambda p=protocol: p)
    return protocol


def get_protocol(name: "str | Protocol") -> Protocol:
    if isinstance(name, Protocol):
        return name
    return PROTOCOLS.get(name).factory()


def override(protocol: Protocol, options: dict[str, str]) -> Protocol:
    """A copy of ``protocol`` with fields set from strings (CLI ``--set FIELD=VALUE``), typed like the defaults;
    the name gets a ``+field=value`` suffix so caches and reports keep them apart."""
    from globaltrack.errors import UserError

    known = {f.name: f for f in fields(Protocol)}
    changes = {}
    for k, v in options.items():
        if k not in known or k in ("name", "variants"):
            raise UserError(f"unknown protocol field '{k}'; fields: "
                            f"{', '.join(sorted(set(known) - {'name', 'variants'}))}")
        current = getattr(protocol, k)
        try:
            if isinstance(current, bool):
                if v.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(v)
                changes[k] = v.lower() in ("true", "1", "yes")
            elif isinstance(current, int):
                changes[k] = int(v)
            elif isinstance(current, float):
                changes[k] = float(v)
            elif isinstance(current, tuple):
                changes[k] = tuple(x.strip() for x in v.split(",") if x.strip())
            else:
                changes[k] = v
        except ValueError:
            raise UserError(f"protocol field '{k}' expects a {type(current).__name__}, got '{v}'") from None
    suffix = "".join(f"+{k}={v}" for k, v in sorted(options.items()))
    return replace(protocol, name=protocol.name + suffix, **changes)

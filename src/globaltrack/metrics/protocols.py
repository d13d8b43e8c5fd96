"""Protocols: the conventions of each official toolkit as data (spec/metrics.md sections 1-9, checklist 13).

A `Protocol` is a small frozen dataclass; metric code reads its fields and never a benchmark's name. Some toolkits
change rules per dataset (pytracking's ``dataset`` string, got10k's Experiment classes); those are separate
protocols listed in ``variants`` (benchmark name -> protocol name) and picked by `Protocol.for_benchmark`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, asdict, replace
import hashlib
import json

from globaltrack.registry import Registry

PROTOCOLS = Registry("protocol", "globaltrack.metrics.toolkits")


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str = ""
    source: str = ""                      # where the rules come from (repo, file)
    family: str = "ope"                   # "ope" (success/precision curves) | "oxuva" | "vot-lt"
    # -- boxes ---------------------------------------------------------------------------------------------------
    iou: str = "continuous"               # "continuous" | "inclusive" (+1 pixel) | "raster" (VOT)
    iou_eps: bool = False                 # got10k: union + machine eps
    iou_clip: bool = False                # got10k, pysot: clip IoU to [0, 1]
    round_coords: bool = False            # TrackingNet: np.round every coordinate first
    bounds: str = "none"                  # "none" | "image" (GOT-10k clip to [0,W]x[0,H]) | "unit" (OxUvA)
    # -- frames --------------------------------------------------------------------------------------------------
    first_frame: str = "gt"               # "gt" (replace by GT, count) | "as_is" | "drop"
    ope_start: bool = False               # OTB MATLAB OPE: start at the first frame not in metadata["init_omit"]
    carry_forward: str = "none"           # "none" | "matlab" (NaN/w<=0/h<=0) | "pytracking" (w==0/h==0; raise on NaN/neg)
    length: str = "truncate_or_error"     # | "truncate_or_pad_zeros" | "truncate_both" | "pad_nan" | "equal"
    valid_gt: str = "all4"                # "all4" (x,y,w,h > 0) | "wh" (w,h > 0) | "nonnan" | "none"
    visibility: str = "absent"            # where absence comes from: Sequence.absent | "cover" (metadata cover > 0)
    absent: str = "fail"                  # Sequence.absent frames: "fail" (kept in denominator) | "exclude" | "evaluate"
    invalid_denominator: bool = True      # invalid-GT frames stay in the denominator (as failures / -1 codes)
    invalid_center: str = "success"       # centre error on invalid GT: "success" (-1) | "fail" (Inf)
    invalid_norm_center: str = "success"
    absent_center: str = "fail"           # centre error on absent frames
    absent_norm_center: str = "fail"
    center_mask: str = "box"              # "box": validity rule above | "center_positive" (pysot: GT centre > 0)
    norm_center: str = "gt_wh"            # see boxes.normalized_center_error
    # -- grids, operators, scores --------------------------------------------------------------------------------
    success_grid: str = "success21_numpy"
    success_op: str = ">"
    precision_grid: str = "precision51"
    norm_grid: str = "norm51"
    auc: str = "mean"                     # "mean" | "trapz"
    precision_score: str = "at:20"
    norm_precision_score: str = "at:0.2"
    aggregation: str = "sequence_mean"    # | "frame_pooled" (GOT-10k)
    drop_empty_sequences: bool = False    # MATLAB plot_draw_save: drop sequences whose curve sums to <= eps
    metrics: tuple[str, ...] = ("auc", "precision", "norm_precision", "sr50")
    primary_metric: str = "auc"           # the ranking key (OxUvA ranks by MaxGM, GOT-10k by AO, VOT-LT by F)
    curve_dtype: str = "float64"          # "float32": pytracking keeps per-sequence curves and their mean in float32
    missing: str = "zeros"                # --allow-missing: "zeros" (all-zero prediction) | "exclude" (for all)
    speed: str = "none"                   # "none" | "sequence_mean" (got10k OTB) | "pooled" (GOT-10k)
    # -- long-term -----------------------------------------------------------------------------------------------
    iou_threshold: float = 0.5            # OxUvA true-positive IoU (>=)
    time_bucket: int = 900                # OxUvA: 30 s at 30 fps
    bootstrap_trials: int = 0             # OxUvA --bootstrap_trials (0: off)
    lt_thresholds: str = "vot"            # VOT-LT: "vot" | "pysot"
    lt_resolution: int = 100
    variants: tuple[tuple[str, str], ...] = field(default=())

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
        d = asdict(self)
        return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def register_protocol(protocol: Protocol, aliases: tuple[str, ...] = ()) -> Protocol:
    PROTOCOLS.register(protocol.name, description=protocol.description, aliases=aliases)(lambda p=protocol: p)
    return protocol


def get_protocol(name: "str | Protocol") -> Protocol:
    if isinstance(name, Protocol):
        return name
    return PROTOCOLS.get(name).factory()


def protocol_names() -> list[str]:
    return PROTOCOLS.names()


def override(protocol: Protocol, options: dict[str, str]) -> Protocol:
    """A copy of ``protocol`` with fields set from strings (CLI ``--set FIELD=VALUE``), typed like the defaults;
    the name gets a ``+field=value`` suffix so caches and reports keep them apart."""
    from dataclasses import fields

    from globaltrack.errors import UserError

    known = {f.name: f for f in fields(Protocol)}
    changes = {}
    for k, v in options.items():
        if k not in known or k in ("name", "variants"):
            raise UserError(f"unknown protocol field '{k}'; fields: {', '.join(sorted(set(known) - {'variants'}))}")
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

"""GlobalTrack (Huang, Zhao, Huang, AAAI 2020): the QG-RCNN model, its tracker and the official checkpoint.

Modules: ``config`` (r50_fpn, tiny), ``anchors`` and ``ops`` (mmdetection v1 conventions on torchvision ops),
``modulators`` (QG-RPN, QG-RCNN), ``heads`` (``QueryGuidedRPN``, ``QueryGuidedRoIHeads`` on torchvision's matcher,
sampler and box coder), ``model`` (``GlobalTrackModel``: composition, inference and ``forward_train``),
``preprocess``, ``checkpoint`` (official <-> ours), ``coco_init`` (torchvision's COCO detector as a start),
``tracker``.

Importing this package does not import torch: it only registers the trackers ``globaltrack`` (top-1 QG-RCNN
detection) and ``globaltrack-qgrpn`` (top-1 QG-RPN proposal, no QG-RCNN).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from globaltrack.errors import UserError
from globaltrack.trackers import register_tracker

# the default model: config lite0_fpn (ImageNet EfficientNet-Lite0 + FPN + QG-RPN/QG-RCNN) trained on real photographs
DEFAULT_WEIGHTS_NAME = "globaltrack_lite0_real.pth"
DEFAULT_CONFIG = "lite0_fpn"
DEFAULT_TRAIN_CONFIG = "lite0-real"
_KNOWN_OPTIONS = ("weights", "config", "device", "dtype", "batch", "threshold", "threads", "proposals", "scale",
                  "query_flip", "query_zooms", "refine", "refine_top", "distractors", "target_fit")


def shipped_weights_dir() -> Path:
    """``src/globaltrack/data/weights``: the shipped weights, their training logs and the evidence report (the one
    spelling of this folder; training and evidence code should take it from here)."""
    try:
        from importlib.resources import files

        return Path(str(files("globaltrack").joinpath("data", "weights")))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - fall back to the source tree
        return Path(__file__).resolve().parents[2] / "data" / "weights"


def default_weights_path() -> Path:
    """``src/globaltrack/data/weights/globaltrack_lite0_real.pth`` (written by ``globaltrack train --config lite0-real``)."""
    return shipped_weights_dir() / DEFAULT_WEIGHTS_NAME


def _torch_missing() -> str:
    for mod in ("torch", "torchvision"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed"
    return ""


def _available() -> tuple[bool, str]:
    missing = _torch_missing()
    if missing:
        return False, missing
    if not default_weights_path().is_file():
        return False, (f"default weights missing: run `globaltrack train --config {DEFAULT_TRAIN_CONFIG}` or pass "
                       "--opt weights=PATH")
    return True, ""


def check_options(options: dict) -> None:
    """What the runner checks before any worker starts (fast, no torch): option names, and that a weights file
    given is there and looks like a checkpoint (`probe_checkpoint`)."""
    unknown = [k for k in options if k not in _KNOWN_OPTIONS]
    if unknown:
        raise UserError(f"unknown GlobalTrack option '{unknown[0]}'; known: {', '.join(_KNOWN_OPTIONS)}")
    if options.get("weights") not in (None, ""):
        from globaltrack.trackers.globaltrack.checkpoint import probe_checkpoint

        probe_checkpoint(options["weights"])


def _make(source: str, options: dict):
    check_options(options)
    missing = _torch_missing()
    if missing:
        raise UserError(f"GlobalTrack needs PyTorch: {missing}")
    options = dict(options)
    weights = options.pop("weights", None)
    if weights is None:
        weights = default_weights_path()
        if not weights.is_file():
            raise UserError(f"GlobalTrack's default weights {weights} are missing: run `globaltrack train "
                            f"--config {DEFAULT_TRAIN_CONFIG}` to create them, or pass weights=PATH (our format or "
                            "the official qg_rcnn_r50_fpn_coco_got10k_lasot.pth)")
        options.setdefault("config", DEFAULT_CONFIG)
    from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker

    return GlobalTrackTracker(weights=weights, source=source, **options)


@register_tracker("globaltrack", description="GlobalTrack: top-1 QG-RCNN detection over the whole frame "
                  "(options weights, config, device, dtype, batch, threshold, threads, proposals, scale, "
                  "query_flip, query_zooms, refine, refine_top, distractors, target_fit)",
                  available=_available, check_options=check_options)
def make_globaltrack(**options):
    return _make("rcnn", options)


@register_tracker("globaltrack-qgrpn", description="GlobalTrack ablation: top-1 QG-RPN proposal, no QG-RCNN",
                  available=_available, check_options=check_options)
def make_globaltrack_qgrpn(**options):
    return _make("rpn", options)

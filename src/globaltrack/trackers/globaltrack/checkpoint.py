"""Reading, converting and writing GlobalTrack weights (spec 4).

Two formats are recognised by their keys:

- **official**: the mmcv checkpoint released with huanglianghua/GlobalTrack
  (``qg_rcnn_r50_fpn_coco_got10k_lasot.pth``): ``{'state_dict': ..., 'meta': ...}`` with mmdetection v1 names
  (``backbone.layer1.0.conv1.weight``, ``neck.lateral_convs.0.conv.weight``, ``rpn_head.rpn_cls.weight``,
  ``bbox_head.fc_cls.weight``, ``rpn_modulator.*``, ``rcnn_modulator.*``), possibly ``module.``-prefixed (DDP),
  374 tensors including BatchNorm ``num_batches_tracked``. Always config ``r50_fpn``.
- **ours**: ``{'format': FORMAT, 'config': ModelConfig dict, 'state_dict': ...}`` with the keys documented in
  ``model.py`` (torchvision's Faster R-CNN names + the official modulator names). A bare state dict with our keys
  is accepted too; its config is then inferred from the tensors.

``OFFICIAL_RULES`` is the whole mapping; it agrees with the third column of ``globaltrack_official_keys.tsv``.
Every official tensor must map to one of ours with the same shape; anything missing, unexpected or mis-shaped is a
``UserError`` naming the tensor (``num_batches_tracked``, unused at inference, may be absent and is then zero).
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from globaltrack.errors import UserError

FORMAT = "globaltrack/qg_rcnn-v1"

# (official regex, our replacement), applied in order; the first match wins
OFFICIAL_RULES: list[tuple[str, str]] = [
    (r"^backbone\.(.*)$", r"backbone.body.\1"),
    (r"^neck\.lateral_convs\.(\d+)\.conv\.(weight|bias)$", r"backbone.fpn.inner_blocks.\1.0.\2"),
    (r"^neck\.fpn_convs\.(\d+)\.conv\.(weight|bias)$", r"backbone.fpn.layer_blocks.\1.0.\2"),
    (r"^rpn_head\.rpn_conv\.(weight|bias)$", r"rpn.head.conv.0.0.\1"),
    (r"^rpn_head\.rpn_cls\.(weight|bias)$", r"rpn.head.cls_logits.\1"),
    (r"^rpn_head\.rpn_reg\.(weight|bias)$", r"rpn.head.bbox_pred.\1"),
    (r"^bbox_head\.shared_fcs\.0\.(weight|bias)$", r"roi_heads.box_head.fc6.\1"),
    (r"^bbox_head\.shared_fcs\.1\.(weight|bias)$", r"roi_heads.box_head.fc7.\1"),
    (r"^bbox_head\.fc_cls\.(weight|bias)$", r"roi_heads.box_predictor.cls_score.\1"),
    (r"^bbox_head\.fc_reg\.(weight|bias)$", r"roi_heads.box_predictor.bbox_pred.\1"),
    (r"^(rpn_modulator\.(proj_modulator|proj_out)\.\d+\.(weight|bias))$", r"\1"),
    (r"^(rcnn_modulator\.(proj_z|proj_x|proj_out)\.(weight|bias))$", r"\1"),
]
_COMPILED = [(re.compile(p), r) for p, r in OFFICIAL_RULES]
_OFFICIAL_PREFIXES = ("neck.", "rpn_head.", "bbox_head.")


def official_to_ours(name: str) -> str | None:
    """Our key for an official tensor name, or None when no rule covers it."""
    for pattern, repl in _COMPILED:
        if pattern.match(name):
            return pattern.sub(repl, name)
    return None


def _strip_module(sd: dict) -> dict:
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def is_official(sd: dict) -> bool:
    return any(k.startswith(_OFFICIAL_PREFIXES) for k in sd) or any(
        k.startswith("backbone.") and not k.startswith(("backbone.body.", "backbone.fpn.")) for k in sd)


# torch.save's legacy (pre-1.6) format starts with the pickled magic number 0x1950a86a20f9469cfc6c
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
NOT_A_CHECKPOINT = "is corrupt or not a PyTorch checkpoint"


def probe_checkpoint(path) -> Path:
    """Check, without importing torch and in milliseconds, that ``path`` looks like a file `torch.save` wrote: it
    exists, is not empty, and is a complete zip archive holding ``data.pkl`` or starts with the legacy format's
    magic number. Anything else is one `UserError` naming the file, before any worker is started."""
    import zipfile

    path = Path(path).expanduser()
    if not path.exists():
        raise UserError("weights file not found", path)
    if path.is_dir():
        raise UserError("weights path is a folder; give the checkpoint file (.pth)", path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(len(_LEGACY_MAGIC))
    except OSError as err:
        raise UserError(f"cannot read weights file ({err.strerror})", path) from None
    if size == 0:
        raise UserError(f"weights file is empty (0 bytes): it {NOT_A_CHECKPOINT}", path)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise UserError(f"weights file {NOT_A_CHECKPOINT} (its zip archive is incomplete: a truncated copy?)",
                            path) from None
        if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            raise UserError(f"weights file {NOT_A_CHECKPOINT} (a zip archive without data.pkl)", path)
        return path
    if head == _LEGACY_MAGIC:
        return path
    raise UserError(f"weights file {NOT_A_CHECKPOINT} (neither torch.save's zip format nor its legacy format)", path)


def safe_load(path):
    """``torch.load(path, weights_only=True)``: tensors, dicts, lists and plain values only. A file that needs
    anything else (arbitrary classes, code) is refused, never unpickled in full: a weights file must not run code."""
    import torch

    path = probe_checkpoint(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - whatever the unpickler says, this file cannot be used as weights
        lines = [x.strip() for x in str(err).splitlines() if x.strip()]
        blocked = next((x for x in lines if "GLOBAL" in x), None)
        if blocked is not None:
            # torch's own advice (weights_only=False) would run code from the file: never taken here
            raise UserError(f"weights file refused: it {NOT_A_CHECKPOINT} of tensors and plain values "
                            f"({blocked.rstrip('.')}); loading it would run code from the file", path) from None
        detail = f"{type(err).__name__}: {lines[0][:160]}" if lines else type(err).__name__
        raise UserError(f"weights file {NOT_A_CHECKPOINT} ({detail})", path) from None


def read_checkpoint(path) -> tuple[dict, dict]:
    """Load a weights file -> (state dict with ``module.`` stripped, the rest of the file's top-level dict)."""
    import torch

    obj = safe_load(path)
    if not isinstance(obj, dict):
        raise UserError(f"expected a dict of tensors or a checkpoint dict, found {type(obj).__name__}", path)
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):
        sd, meta = obj["state_dict"], {k: v for k, v in obj.items() if k != "state_dict"}
    elif "model" in obj and isinstance(obj["model"], dict):
        sd, meta = obj["model"], {k: v for k, v in obj.items() if k != "model"}
    else:
        sd, meta = obj, {}
    if not all(isinstance(v, torch.Tensor) for v in sd.values()):
        bad = next(k for k, v in sd.items() if not isinstance(v, torch.Tensor))
        raise UserError(f"'{bad}' in the state dict is not a tensor", path)
    return _strip_module(sd), meta


def expected_state(config) -> dict:
    """Our model's key -> shape for a config, built on the meta device (no memory, no initialisation cost)."""
    import torch

    from globaltrack.trackers.globaltrack.model import GlobalTrackModel

    with torch.device("meta"):
        model = GlobalTrackModel(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def convert_official(sd: dict, source: str | Path = "<official checkpoint>") -> dict:
    """Official names -> ours, checked against the ``r50_fpn`` model: every tensor accounted for."""
    import torch

    expected = expected_state("r50_fpn")
    out: dict = {}
    for name, tensor in sd.items():
        ours = official_to_ours(name)
        if ours is None or ours not in expected:
            raise UserError(f"unexpected tensor '{name}' {list(tensor.shape)} in the official checkpoint "
                            "(no counterpart in GlobalTrack r50_fpn)", source)
        if tuple(tensor.shape) != expected[ours]:
            raise UserError(f"tensor '{name}' has shape {list(tensor.shape)}, expected {list(expected[ours])} "
                            f"(our '{ours}')", source)
        out[ours] = tensor
    _fill_bn_counters(out, expected, torch)
    missing = [k for k in expected if k not in out]
    if missing:
        raise UserError(f"{len(missing)} tensor(s) missing from the official checkpoint, first: "
                        f"'{_official_name(missing[0])}'", source)
    return out


def _official_name(ours: str) -> str:
    """Best-effort inverse mapping, for error messages."""
    inverse = [
        (r"^backbone\.body\.(.*)$", r"backbone.\1"),
        (r"^backbone\.fpn\.inner_blocks\.(\d+)\.0\.(.*)$", r"neck.lateral_convs.\1.conv.\2"),
        (r"^backbone\.fpn\.layer_blocks\.(\d+)\.0\.(.*)$", r"neck.fpn_convs.\1.conv.\2"),
        (r"^rpn\.head\.conv\.0\.0\.(.*)$", r"rpn_head.rpn_conv.\1"),
        (r"^rpn\.head\.cls_logits\.(.*)$", r"rpn_head.rpn_cls.\1"),
        (r"^rpn\.head\.bbox_pred\.(.*)$", r"rpn_head.rpn_reg.\1"),
        (r"^roi_heads\.box_head\.fc6\.(.*)$", r"bbox_head.shared_fcs.0.\1"),
        (r"^roi_heads\.box_head\.fc7\.(.*)$", r"bbox_head.shared_fcs.1.\1"),
        (r"^roi_heads\.box_predictor\.cls_score\.(.*)$", r"bbox_head.fc_cls.\1"),
        (r"^roi_heads\.box_predictor\.bbox_pred\.(.*)$", r"bbox_head.fc_reg.\1"),
    ]
    for p, r in inverse:
        if re.match(p, ours):
            return re.sub(p, r, ours)
    return ours


def _fill_bn_counters(out: dict, expected: dict, torch) -> None:
    """``num_batches_tracked`` (PyTorch >= 0.4.1 checkpoints) is unused with frozen BN; absent ones become 0."""
    for k, shape in expected.items():
        if k.endswith("num_batches_tracked") and k not in out:
            out[k] = torch.zeros(shape, dtype=torch.long)


def infer_config(sd: dict, meta: dict):
    """The ModelConfig of our-format weights: stored in the file, else inferred from the tensors."""
    from globaltrack.trackers.globaltrack.config import ModelConfig, get_config

    stored = meta.get("config")
    if isinstance(stored, dict):
        return ModelConfig.from_dict(stored)
    if isinstance(stored, str):
        return get_config(stored)
    overrides = {"modulate": "rpn_modulator.proj_out.0.weight" in sd}
    name = "r50_fpn" if "backbone.body.layer1.0.conv3.weight" in sd else "tiny"
    if name == "tiny":
        overrides["backbone_norm"] = "batchnorm" if "backbone.body.bn1.running_mean" in sd else "groupnorm"
    return get_config(name, **overrides)


def check_state_dict(sd: dict, config, source="<weights>") -> dict:
    """Our-format state dict against a config: missing, unexpected or mis-shaped tensors are errors."""
    import torch

    expected = expected_state(config)
    sd = dict(sd)
    _fill_bn_counters(sd, expected, torch)
    unexpected = [k for k in sd if k not in expected]
    if unexpected:
        raise UserError(f"unexpected tensor '{unexpected[0]}' ({len(unexpected)} in all) for GlobalTrack config "
                        f"'{config.name}' (modulate={config.modulate})", source)
    missing = [k for k in expected if k not in sd]
    if missing:
        raise UserError(f"tensor '{missing[0]}' missing ({len(missing)} in all) for GlobalTrack config "
                        f"'{config.name}' (modulate={config.modulate})", source)
    for k, shape in expected.items():
        if tuple(sd[k].shape) != shape:
            raise UserError(f"tensor '{k}' has shape {list(sd[k].shape)}, expected {list(shape)} for config "
                            f"'{config.name}'", source)
    return sd


def load_weights(path, config=None):
    """Read a weights file of either format -> (our state dict, ModelConfig, format name)."""
    from globaltrack.trackers.globaltrack.config import get_config

    sd, meta = read_checkpoint(path)
    if is_official(sd):
        if config is not None and get_config(config).name != "r50_fpn":
            raise UserError(f"an official GlobalTrack checkpoint needs config=r50_fpn, not {config}", path)
        cfg = get_config("r50_fpn") if config is None else get_config(config)
        return convert_official(sd, path), cfg, "official"
    cfg = infer_config(sd, meta)
    if config is not None and get_config(config).name != cfg.name:
        raise UserError(f"these weights are for GlobalTrack config '{cfg.name}', not '{config}'", path)
    return check_state_dict(sd, cfg, path), cfg, "ours"


def load_model(path, config=None):
    """A ``GlobalTrackModel`` in eval mode with the weights of ``path`` (either format)."""
    import torch

    from globaltrack.trackers.globaltrack.model import GlobalTrackModel

    sd, cfg, _ = load_weights(path, config)
    # assign=True adopts the stored tensors as they are: fp16/bf16 weight files would give a half-precision model,
    # so floating tensors are brought to float32 here (the tracker's dtype option casts later if asked).
    sd = {k: (v.float() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in sd.items()}
    with torch.device("meta"):
        model = GlobalTrackModel(cfg)
    model.load_state_dict(sd, strict=True, assign=True)
    model.anchor_generator = type(model.anchor_generator)(cfg.anchor_strides, cfg.anchor_scales, cfg.anchor_ratios)
    return model.eval()


def checkpoint_bytes(state_dict: dict, config, **meta) -> bytes:
    import torch

    from globaltrack.trackers.globaltrack.config import get_config

    cfg = get_config(config)
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "config": cfg.to_dict(), "state_dict": dict(state_dict), **meta}, buf)
    return buf.getvalue()


def save_checkpoint(model_or_state, path, config=None, **meta) -> Path:
    """Write our format atomically: ``{'format', 'config', 'state_dict', **meta}`` (meta: plain values only)."""
    from globaltrack._io import atomic_write_bytes

    if hasattr(model_or_state, "state_dict"):
        config = model_or_state.config if config is None else config
        state = {k: v.detach().cpu() for k, v in model_or_state.state_dict().items()}
    else:
        state = model_or_state
        if config is None:
            raise ValueError("save_checkpoint needs config= when given a bare state dict")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, checkpoint_bytes(state, config, **meta))
    return path


def convert_checkpoint_file(src, dst) -> tuple[int, int]:
    """Official file -> our format at ``dst``. Returns (tensors read, tensors written)."""
    sd, meta = read_checkpoint(src)
    if not is_official(sd):
        raise UserError("not an official GlobalTrack (mmdetection v1) checkpoint: no neck./rpn_head./bbox_head. "
                        "tensors", src)
    ours = convert_official(sd, src)
    info = {}
    if isinstance(meta.get("meta"), dict):
        info = {k: v for k, v in meta["meta"].items() if isinstance(v, (str, int, float))}
    save_checkpoint(ours, dst, config="r50_fpn", source=str(src), official_meta=info)
    return len(sd), len(ours)

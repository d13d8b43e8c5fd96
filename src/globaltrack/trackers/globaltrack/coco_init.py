"""Start GlobalTrack r50_fpn from torchvision's COCO Faster R-CNN, as the paper starts from a COCO detector (spec 2.1).

``globaltrack train --config r50-official-coco --init torchvision-coco[:PATH]`` reads the weights of
``torchvision.models.detection.fasterrcnn_resnet50_fpn`` (``FasterRCNN_ResNet50_FPN_Weights.COCO_V1``) from PATH or
from the user's torch hub cache (``$TORCH_HOME/hub/checkpoints/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth``, where
torchvision's own loader caches it on a machine with internet). Nothing is ever downloaded here.

What maps, and how (``map_torchvision_coco``):

- **names**: our r50_fpn state dict uses torchvision's Faster R-CNN names (``model.py``), so backbone (ResNet body +
  FPN), RPN head and box head (fc6, fc7) map one to one. torchvision's COCO file stores ``FrozenBatchNorm2d`` buffers
  (no ``num_batches_tracked``); our BatchNorm layers keep their zero counters and, as in the paper's config
  (``norm_eval=True``, ``frozen_stages=1``), run on their running statistics, with the stem and layer1 frozen.
- **RPN anchor channels**: torchvision's RPN head predicts, for cell anchor ``a`` of its ``AnchorGenerator``,
  objectness channel ``a`` and deltas ``4a..4a+3`` = (dx, dy, dw, dh); mmdet v1 the same layout for its own cell
  anchors. The cell anchors are matched by width and height (both libraries list ratios 0.5, 1, 2 of one scale,
  so the permutation is the identity with torchvision 0.29; it is computed, not assumed).
- **RPN box deltas**: torchvision centres its anchors on the corner of a feature cell (centre 0, width x2 - x1),
  mmdet v1 on the cell (centre (s-1)/2 inclusive, i.e. s/2 in continuous coordinates, width x2 - x1 + 1): the same
  widths and heights at every level, centres s/2 apart. The head is shared by the levels, so the shift is folded
  into the dx/dy biases: ``b_dx -= (s/2) / w`` (per anchor shape, one value for all levels by least squares in
  pixels; the residual, ~0.03 px at P2, is reported). dw/dh need nothing: the sizes agree.
- **box predictor**: COCO's 91-class ``cls_score`` / ``bbox_pred`` cannot be the official 2-class (background,
  object; class-specific deltas, rows 4..7 the object's) head. How the official start checkpoint got its 2-class
  head is undocumented (GlobalTrack issue #16, unanswered), so no COCO class is picked: the predictor starts as a
  2-class mmdet v1 model starts, ``BBoxHead.init_weights`` (normal std 0.01 / 0.001, zero biases), reported as
  re-initialised. fc6/fc7 (the shared 2-fc head) keep their COCO weights.
- **modulators** (``rpn_modulator.*``, ``rcnn_modulator.*``): not in a detector; kept at their official
  initialisation (normal std 0.01).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from globaltrack.errors import UserError

SPEC_PREFIX = "torchvision-coco"
_PREDICTOR = ("roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.cls_score.bias",
              "roi_heads.box_predictor.bbox_pred.weight", "roi_heads.box_predictor.bbox_pred.bias")


def is_torchvision_coco_spec(spec) -> bool:
    return isinstance(spec, str) and (spec == SPEC_PREFIX or spec.startswith(SPEC_PREFIX + ":"))


def coco_weights_filename() -> str:
    """The file name torchvision gives the COCO_V1 weights (from its weights enum; no network)."""
    from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights

    return FasterRCNN_ResNet50_FPN_Weights.COCO_V1.url.rsplit("/", 1)[-1]


def torch_cache_dir() -> Path:
    """torch's cache folder by its documented rule: ``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``, else
    ``~/.cache/torch``. Only a folder name: the COCO file is looked for there and read if present."""
    import os

    if os.environ.get("TORCH_HOME"):
        return Path(os.environ["TORCH_HOME"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "torch"


def resolve_coco_weights(spec: str) -> Path:
    """``torchvision-coco:PATH`` -> PATH; ``torchvision-coco`` -> the torch hub cache file. Never downloads."""
    if not is_torchvision_coco_spec(spec):
        raise UserError(f"expected torchvision-coco[:PATH], got '{spec}'")
    if spec.startswith(SPEC_PREFIX + ":"):
        path = Path(spec[len(SPEC_PREFIX) + 1:]).expanduser()
        if not path.is_file():
            raise UserError("torchvision COCO Faster R-CNN weights not found", path)
        return path
    path = torch_cache_dir() / "hub" / "checkpoints" / coco_weights_filename()
    if not path.is_file():
        raise UserError(f"torchvision's COCO Faster R-CNN weights are not in the torch hub cache ({path}); nothing "
                        "is downloaded here: pass --init torchvision-coco:PATH with a copy of the file")
    return path


@dataclass
class InitReport:
    """What ``map_torchvision_coco`` did, tensor by tensor."""

    source: str
    mapped: list[str] = field(default_factory=list)          # copied from the file (RPN head possibly adjusted)
    reinitialised: list[str] = field(default_factory=list)   # in both, shapes differ: mmdet v1 init
    kept: list[str] = field(default_factory=list)            # not in the file: the model's own init
    unused: list[str] = field(default_factory=list)          # in the file, no counterpart in the model
    anchor_permutation: list[int] = field(default_factory=list)
    rpn_dxdy_shift: list[tuple[float, float]] = field(default_factory=list)  # per cell anchor, added to the biases
    rpn_residual_px: float = 0.0                              # largest centre error the shared shift leaves

    def lines(self) -> list[str]:
        def group(names):
            out: dict[str, int] = {}
            for n in names:
                key = ".".join(n.split(".")[:2])
                out[key] = out.get(key, 0) + 1
            return ", ".join(f"{k} {v}" for k, v in sorted(out.items())) or "none"

        return [
            f"torchvision COCO Faster R-CNN weights: {self.source}",
            f"  mapped {len(self.mapped)} tensors ({group(self.mapped)})",
            f"  RPN: anchor channel permutation {self.anchor_permutation} (torchvision -> mmdet v1 cell anchors); "
            f"dx/dy biases shifted by {[(round(a, 5), round(b, 5)) for a, b in self.rpn_dxdy_shift]} for v1's "
            f"cell-centred anchors (largest residual {self.rpn_residual_px:.3f} px)",
            f"  re-initialised {len(self.reinitialised)} (mmdet v1 init, shapes differ): "
            f"{', '.join(self.reinitialised) or 'none'}",
            f"  kept at the model's init {len(self.kept)} ({group(self.kept)})",
            f"  unused from the file {len(self.unused)}: {', '.join(self.unused[:6]) or 'none'}"
            + (" ..." if len(self.unused) > 6 else ""),
        ]


def _cell_anchors_v1(model):
    return [c.clone() for c in model.anchor_generator.cells]


def _cell_anchors_torchvision(num_levels: int, scales, ratios, strides):
    """torchvision's default Faster R-CNN cell anchors (sizes 32..512 = 8 x stride, ratios 0.5/1/2)."""
    from torchvision.models.detection.anchor_utils import AnchorGenerator as TVAnchorGenerator

    sizes = tuple(tuple(float(s * sc) for sc in scales) for s in strides)
    gen = TVAnchorGenerator(sizes, (tuple(ratios),) * num_levels)
    return [c.clone() for c in gen.cell_anchors]


def rpn_conversion(model):
    """(permutation, per-anchor (dx, dy) bias shifts, largest residual in px) taking torchvision's RPN head outputs
    to mmdet v1's for this model's anchors. ``perm[a_v1] = a_tv``."""
    import torch

    cfg = model.config
    v1 = _cell_anchors_v1(model)
    tv = _cell_anchors_torchvision(len(cfg.anchor_strides), cfg.anchor_scales, cfg.anchor_ratios, cfg.anchor_strides)
    num = v1[0].shape[0]
    perm = None
    for lv1, ltv in zip(v1, tv):
        wh_v1 = torch.stack([lv1[:, 2] - lv1[:, 0] + 1, lv1[:, 3] - lv1[:, 1] + 1], 1)  # inclusive sizes
        wh_tv = torch.stack([ltv[:, 2] - ltv[:, 0], ltv[:, 3] - ltv[:, 1]], 1)
        p = [int((wh_tv - wh_v1[a]).abs().sum(1).argmin()) for a in range(num)]
        if sorted(p) != list(range(num)):
            raise UserError("cannot match torchvision's RPN cell anchors to mmdet v1's (different anchor shapes)")
        if perm is not None and p != perm:
            raise UserError("torchvision's RPN cell-anchor order differs between levels; one shared head cannot "
                            "be mapped")
        perm = p
    shifts, residual = [], 0.0
    for a in range(num):
        rows = []
        for lv1, ltv in zip(v1, tv):
            b1, bt = lv1[a].double(), ltv[perm[a]].double()
            w1, h1 = float(b1[2] - b1[0] + 1), float(b1[3] - b1[1] + 1)
            c1 = ((b1[0] + b1[2]) / 2 + 0.5, (b1[1] + b1[3]) / 2 + 0.5)  # v1 centre, continuous coordinates
            ct = ((bt[0] + bt[2]) / 2, (bt[1] + bt[3]) / 2)
            # tv centre + w * dx_tv == v1 centre + w * dx_v1  =>  dx_v1 = dx_tv + (ct - c1) / w
            rows.append((w1, h1, float(ct[0] - c1[0]) / w1, float(ct[1] - c1[1]) / h1))
        # one shift per anchor for all levels: least squares in pixels (weights w^2)
        sx = sum(w * w * d for w, _, d, _ in rows) / sum(w * w for w, _, _, _ in rows)
        sy = sum(h * h * d for _, h, _, d in rows) / sum(h * h for _, h, _, _ in rows)
        residual = max([residual] + [abs(w * (sx - dx)) for w, _, dx, _ in rows]
                       + [abs(h * (sy - dy)) for _, h, _, dy in rows])
        shifts.append((sx, sy))
    return perm, shifts, residual


def map_torchvision_coco(tv_state: dict, model, source: str = "<torchvision COCO weights>"):
    """torchvision ``fasterrcnn_resnet50_fpn`` state dict -> (state dict for ``model.load_state_dict(strict=False)``,
    ``InitReport``). ``model`` is a GlobalTrack r50_fpn ``GlobalTrackModel`` (only its names, shapes and config are
    used)."""
    import torch

    cfg = model.config
    if cfg.backbone != "resnet50":
        raise UserError(f"torchvision's COCO Faster R-CNN is a ResNet-50 FPN: use a r50_fpn model, not "
                        f"'{cfg.name}'")
    own = model.state_dict()
    report = InitReport(source=str(source))
    out: dict = {}
    for name, tensor in tv_state.items():
        if name not in own:
            report.unused.append(name)
        elif tuple(tensor.shape) != tuple(own[name].shape):
            if name in _PREDICTOR:
                report.reinitialised.append(name)
            else:
                raise UserError(f"tensor '{name}' has shape {list(tensor.shape)} in the file, {list(own[name].shape)} "
                                "in the model", source)
        else:
            out[name] = tensor.detach().clone().to(own[name].dtype)
            report.mapped.append(name)
    needed = [k for k in own if k.startswith(("backbone.", "rpn.", "roi_heads.box_head."))
              and not k.endswith("num_batches_tracked")]
    missing = [k for k in needed if k not in out]
    if missing:
        raise UserError(f"not a torchvision Faster R-CNN ResNet-50 FPN state dict: '{missing[0]}' missing "
                        f"({len(missing)} in all)", source)
    report.kept = [k for k in own if k not in out and k not in report.reinitialised]

    perm, shifts, residual = rpn_conversion(model)
    report.anchor_permutation, report.rpn_dxdy_shift, report.rpn_residual_px = perm, shifts, residual
    idx = torch.tensor(perm)
    out["rpn.head.cls_logits.weight"] = out["rpn.head.cls_logits.weight"][idx].clone()
    out["rpn.head.cls_logits.bias"] = out["rpn.head.cls_logits.bias"][idx].clone()
    idx4 = torch.cat([torch.arange(4 * p, 4 * p + 4) for p in perm])
    out["rpn.head.bbox_pred.weight"] = out["rpn.head.bbox_pred.weight"][idx4].clone()
    bias = out["rpn.head.bbox_pred.bias"][idx4].clone()
    for a, (sx, sy) in enumerate(shifts):
        bias[4 * a] += sx
        bias[4 * a + 1] += sy
    out["rpn.head.bbox_pred.bias"] = bias

    # the 2-class predictor: mmdet v1 BBoxHead.init_weights (see the module docstring)
    gen = torch.Generator().manual_seed(0)
    for name in report.reinitialised:
        shape, dtype = own[name].shape, own[name].dtype
        if name.endswith("bias"):
            out[name] = torch.zeros(shape, dtype=dtype)
        else:
            std = 0.01 if "cls_score" in name else 0.001
            out[name] = (torch.randn(shape, generator=gen) * std).to(dtype)
    return out, report


def read_torchvision_coco(path) -> dict:
    """The state dict of a torchvision detection weights file (``torch.save(model.state_dict())``)."""
    from globaltrack.trackers.globaltrack.checkpoint import read_checkpoint

    sd, _ = read_checkpoint(path)
    return sd


def load_torchvision_coco(model, spec: str, log=print) -> tuple[list[str], list[str]]:
    """``--init torchvision-coco[:PATH]``: map the COCO detector onto ``model`` in place, print the report;
    returns (model tensors not taken from the file, file tensors unused) like ``load_init``."""
    path = resolve_coco_weights(spec)
    mapped, report = map_torchvision_coco(read_torchvision_coco(path), model, path)
    model.load_state_dict(mapped, strict=False)
    if log is not None:
        for line in report.lines():
            log(line)
    return sorted(report.kept + report.reinitialised), sorted(report.unused + report.reinitialised)


__all__ = ["InitReport", "coco_weights_filename", "is_torchvision_coco_spec", "load_torchvision_coco",
           "map_torchvision_coco", "resolve_coco_weights", "rpn_conversion"]

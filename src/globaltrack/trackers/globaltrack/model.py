"""GlobalTrack's QG-RCNN detector, built from torchvision's parts plus the two modulators.

Parts (torchvision): ResNet body + ``FeaturePyramidNetwork`` with ``LastLevelMaxPool`` (``BackboneWithFPN``),
``RPNHead``, ``TwoMLPHead``, ``FastRCNNPredictor``, ``roi_align``, ``nms``. The glue (anchors, proposals, RoI level
mapping, decoding, losses) follows mmdetection v1.0rc0 as vendored by huanglianghua/GlobalTrack, with the +1
conventions of spec 1.11 (see ``ops.py`` and ``anchors.py``).

State-dict keys (stable; ``checkpoint.py`` maps the official names onto them)::

    backbone.body.{conv1,bn1,layerL.B.*}          ResNet (r50_fpn: BatchNorm2d, buffers incl. num_batches_tracked;
                                                  tiny: GroupNorm under the same `bn*` names)
    backbone.fpn.inner_blocks.{0..3}.0.*          FPN lateral 1x1 convs      (official neck.lateral_convs.i.conv)
    backbone.fpn.layer_blocks.{0..3}.0.*          FPN output 3x3 convs       (official neck.fpn_convs.i.conv)
    rpn.head.conv.0.0.*, rpn.head.cls_logits.*, rpn.head.bbox_pred.*          (official rpn_head.rpn_{conv,cls,reg})
    roi_heads.box_head.fc6.*, roi_heads.box_head.fc7.*                        (official bbox_head.shared_fcs.{0,1})
    roi_heads.box_predictor.cls_score.*, roi_heads.box_predictor.bbox_pred.*  (official bbox_head.fc_{cls,reg})
    rpn_modulator.proj_modulator.{0..4}.*, rpn_modulator.proj_out.{0..4}.*    (official names; absent if modulate=False)
    rcnn_modulator.proj_{z,x,out}.*                                           (official names; absent if modulate=False)

These are torchvision's ``fasterrcnn_resnet50_fpn`` names for the detector, so its weights would load as well.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.rpn import RPNHead
from torchvision.models.resnet import BasicBlock, resnet50
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from globaltrack.trackers.globaltrack.anchors import AnchorGenerator
from globaltrack.trackers.globaltrack.config import ModelConfig, ProposalConfig, get_config
from globaltrack.trackers.globaltrack.modulators import QueryGuidedRCNNModulator, QueryGuidedRPNModulator
from globaltrack.trackers.globaltrack.ops import (batched_nms_v1, bbox2delta, box_iou_v1, delta2bbox,
                                                  multilevel_roi_align, nms_v1)


def _norm_layer(norm: str):
    if norm == "batchnorm":
        return nn.BatchNorm2d
    if norm == "groupnorm":
        return lambda channels: nn.GroupNorm(min(8, channels), channels)
    raise ValueError(f"unknown backbone_norm {norm!r}")


class SmallResNet(nn.Module):
    """A ResNet-18-like body of torchvision ``BasicBlock``s with chosen widths, named like torchvision's ResNet."""

    def __init__(self, widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1), stem_width: int = 16, norm: str = "batchnorm"):
        super().__init__()
        norm_layer = _norm_layer(norm)
        self.conv1 = nn.Conv2d(3, stem_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = stem_width
        for i, (width, n) in enumerate(zip(widths, blocks)):
            stride = 1 if i == 0 else 2
            layers = []
            for b in range(n):
                s = stride if b == 0 else 1
                down = None
                if s != 1 or inplanes != width:
                    down = nn.Sequential(nn.Conv2d(inplanes, width, 1, stride=s, bias=False), norm_layer(width))
                layers.append(BasicBlock(inplanes, width, s, down, norm_layer=norm_layer))
                inplanes = width
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def build_backbone(cfg: ModelConfig) -> BackboneWithFPN:
    if cfg.backbone == "resnet50":
        if cfg.backbone_norm != "batchnorm":
            raise ValueError("the resnet50 backbone uses BatchNorm (as the official checkpoint)")
        body = resnet50(weights=None)  # no download; weights come from a checkpoint
        in_channels = [256, 512, 1024, 2048]
    elif cfg.backbone == "small_resnet":
        body = SmallResNet(cfg.backbone_widths, cfg.backbone_blocks, cfg.stem_width, cfg.backbone_norm)
        in_channels = list(cfg.backbone_widths)
    elif cfg.backbone == "efficientnet_lite0":
        from globaltrack.trackers.globaltrack.efficientnet import backbone_with_fpn

        return backbone_with_fpn(cfg.fpn_channels)
    else:
        raise ValueError(f"unknown backbone {cfg.backbone!r}")
    return_layers = {f"layer{i + 1}": str(i) for i in range(4)}
    return BackboneWithFPN(body, return_layers, in_channels, cfg.fpn_channels, extra_blocks=LastLevelMaxPool())


class _Container(nn.Module):
    """Holds sub-modules under the names torchvision's Faster R-CNN uses (``rpn.head``, ``roi_heads.box_head``)."""

    def __init__(self, **modules: nn.Module):
        super().__init__()
        for name, module in modules.items():
            setattr(self, name, module)


@dataclass
class QueryEmbedding:
    """What tracking needs of the query, computed once at ``init``: its 7x7 RoI feature, the 5 QG-RPN kernels
    ((Q, C, 1, 1) each) and the QG-RCNN ``proj_z(z_roi)`` (Q, C, 7, 7). Kernels are None for modulate=False."""

    z_roi: torch.Tensor
    rpn_kernels: list[torch.Tensor] | None
    rcnn_query: torch.Tensor | None


@dataclass
class Detections:
    """Ranked boxes (inclusive x1, y1, x2, y2 in original image coordinates) and scores, best first."""

    boxes: torch.Tensor
    scores: torch.Tensor


def total_loss(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """mmdet ``parse_losses``: the sum of every entry whose key contains 'loss' (all weights 1.0)."""
    return sum(v for k, v in losses.items() if "loss" in k)


class GlobalTrackModel(nn.Module):
    """QG-RCNN (or the plain detector with ``modulate=False``). See the module docstring for the state-dict keys."""

    def __init__(self, config: str | ModelConfig = "tiny", **overrides):
        super().__init__()
        cfg = get_config(config, **overrides)
        self.config = cfg
        channels = cfg.fpn_channels
        num_anchors = len(cfg.anchor_scales) * len(cfg.anchor_ratios)
        self.backbone = build_backbone(cfg)
        self.rpn = _Container(head=RPNHead(channels, num_anchors))
        self.roi_heads = _Container(
            box_head=TwoMLPHead(channels * cfg.roi_size ** 2, cfg.representation_size),
            box_predictor=FastRCNNPredictor(cfg.representation_size, 2),  # 0 = background, 1 = object
        )
        if cfg.modulate:
            self.rpn_modulator = QueryGuidedRPNModulator(channels, len(cfg.anchor_strides), cfg.roi_size)
            self.rcnn_modulator = QueryGuidedRCNNModulator(channels)
        self.anchor_generator = AnchorGenerator(cfg.anchor_strides, cfg.anchor_scales, cfg.anchor_ratios)
        self._init_box_head()
        self._freeze_stages()

    # ----------------------------------------------------------------------------------------------- setup
    def _init_box_head(self) -> None:
        """mmdet v1 ``BBoxHead.init_weights``: fc_cls normal(0.01), fc_reg normal(0.001), zero biases."""
        pred = self.roi_heads.box_predictor
        nn.init.normal_(pred.cls_score.weight, 0, 0.01)
        nn.init.normal_(pred.bbox_pred.weight, 0, 0.001)
        nn.init.zeros_(pred.cls_score.bias)
        nn.init.zeros_(pred.bbox_pred.bias)

    def _frozen_modules(self) -> list[nn.Module]:
        """mmdet ResNet ``_freeze_stages``: -1 nothing, 0 the stem, k the stem and layer1..k."""
        body = self.backbone.body
        if hasattr(self.backbone, "frozen_modules"):  # efficientnet_lite0: its own stage layout
            return self.backbone.frozen_modules(self.config.frozen_stages)
        if self.config.frozen_stages < 0:
            return []
        mods: list[nn.Module] = [body.conv1, body.bn1]
        for i in range(1, self.config.frozen_stages + 1):
            mods.append(getattr(body, f"layer{i}"))
        return mods

    def _freeze_stages(self) -> None:
        """mmdet ResNet ``frozen_stages=1``: the stem and layer1 get no gradients and stay in eval mode."""
        for m in self._frozen_modules():
            for p in m.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode:
            for m in self._frozen_modules():
                m.eval()
            if self.config.norm_eval:  # mmdet ``norm_eval=True``: BN always uses running statistics
                for m in self.backbone.body.modules():
                    if isinstance(m, nn.modules.batchnorm._BatchNorm):
                        m.eval()
        return self

    # ----------------------------------------------------------------------------------------------- stages
    def extract_features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """(N, 3, H, W) normalised, padded images -> [P2, P3, P4, P5, P6]."""
        return list(self.backbone(images).values())

    def _roi_align(self, features, rois):
        c = self.config
        return multilevel_roi_align(features[: len(c.roi_strides)], rois, c.roi_size, c.roi_strides,
                                    c.roi_sampling_ratio, c.finest_scale)

    def embed_query(self, features: list[torch.Tensor], boxes: torch.Tensor,
                    batch_index: torch.Tensor | None = None) -> QueryEmbedding:
        """Query RoI features at (Q, 4) inclusive boxes (from image ``batch_index[q]``) and the modulator kernels."""
        if batch_index is None:
            batch_index = torch.zeros(boxes.shape[0], device=boxes.device)
        boxes = boxes.float()
        rois = torch.cat([batch_index.to(boxes.dtype).view(-1, 1), boxes], dim=1)
        z_roi = self._roi_align(features, rois)
        if not self.config.modulate:
            return QueryEmbedding(z_roi, None, None)
        return QueryEmbedding(z_roi, self.rpn_modulator.kernels(z_roi), self.rcnn_modulator.query(z_roi))

    def rpn_forward(self, features: list[torch.Tensor], kernels: list[torch.Tensor] | None):
        """Objectness logits [(N, A, H, W)] and deltas [(N, 4A, H, W)] per level; modulated when kernels are given."""
        if kernels is not None:
            features = self.rpn_modulator(features, kernels)
        return self.rpn.head(features)

    def _flat_rpn(self, objectness, deltas):
        """Per-level head outputs -> (N, sum HWA) logits and (N, sum HWA, 4) deltas in the anchors' (H, W, A) order."""
        logits, regs = [], []
        for o, d in zip(objectness, deltas):
            n, a, h, w = o.shape
            logits.append(o.permute(0, 2, 3, 1).reshape(n, -1))
            regs.append(d.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, 4))
        return torch.cat(logits, 1), torch.cat(regs, 1)

    def propose(self, objectness, deltas, image_sizes, proposal_cfg: ProposalConfig):
        """mmdet v1 ``RPNHead.get_bboxes``: per level top ``nms_pre``, decode and clip, NMS, keep ``nms_post``;
        then the global top ``max_num``. Returns per image (boxes (P, 4) inclusive, sigmoid scores (P,))."""
        sizes = [(o.shape[-2], o.shape[-1]) for o in objectness]
        anchors = self.anchor_generator(sizes, objectness[0].device)
        num_anchors = self.anchor_generator.num_anchors
        results = []
        for i in range(objectness[0].shape[0]):
            boxes_l, scores_l, levels_l = [], [], []
            for lvl, (o, d, a) in enumerate(zip(objectness, deltas, anchors)):
                s = o[i].detach().permute(1, 2, 0).reshape(-1).float().sigmoid()
                h, w = o.shape[-2:]
                dl = d[i].detach().view(num_anchors, 4, h, w).permute(2, 3, 0, 1).reshape(-1, 4).float()
                if s.numel() > proposal_cfg.nms_pre:
                    s, idx = s.topk(proposal_cfg.nms_pre)
                    dl, a = dl[idx], a[idx]
                boxes_l.append(delta2bbox(a, dl, max_shape=image_sizes[i]))
                scores_l.append(s)
                levels_l.append(torch.full_like(s, lvl, dtype=torch.long))
            boxes, scores, levels = torch.cat(boxes_l), torch.cat(scores_l), torch.cat(levels_l)
            keep = batched_nms_v1(boxes, scores, levels, proposal_cfg.nms_thr)  # sorted by score, best first
            if proposal_cfg.nms_post < proposal_cfg.nms_pre:
                kept_levels = levels[keep]
                rank = torch.zeros_like(kept_levels)
                for lvl in range(len(objectness)):
                    m = kept_levels == lvl
                    rank[m] = torch.arange(int(m.sum()), device=rank.device)
                keep = keep[rank < proposal_cfg.nms_post]
            keep = keep[: proposal_cfg.max_num]
            results.append((boxes[keep], scores[keep]))
        return results

    def rcnn_forward(self, features, rois, rcnn_query: torch.Tensor | None):
        """(R, 5) RoIs on the raw search FPN -> class logits (R, 2) and deltas (R, 8); ``rcnn_query`` is
        ``proj_z(z_roi)`` broadcastable to (R, C, 7, 7), or None for the unmodulated detector."""
        x = self._roi_align(features, rois)
        if rcnn_query is not None:
            x = self.rcnn_modulator(x, rcnn_query)
        return self.roi_heads.box_predictor(self.roi_heads.box_head(x))

    # ----------------------------------------------------------------------------------------------- inference
    @torch.no_grad()
    def detect(self, images: torch.Tensor, image_sizes, scales, query: QueryEmbedding | None = None,
               source: str = "rcnn") -> list[Detections]:
        """Test-time QG-RCNN (``simple_test_bboxes``, spec 1.12) or, with ``source="rpn"``, the QG-RPN proposals.

        ``query`` holds one query (kernels of batch 1), shared by all N frames. Boxes come back divided by each
        frame's scale (original coordinates), inclusive xyxy, ranked by score.
        """
        cfg = self.config
        if cfg.modulate and query is None:
            raise ValueError("a query-guided model needs the query embedding (embed_query)")
        features = self.extract_features(images)
        objectness, deltas = self.rpn_forward(features, query.rpn_kernels if query is not None else None)
        proposals = self.propose(objectness, deltas, image_sizes, cfg.test_proposals)
        if source == "rpn":
            return [Detections(b / float(s), sc) for (b, sc), s in zip(proposals, scales)]
        if source != "rcnn":
            raise ValueError(f"source must be 'rcnn' or 'rpn', not {source!r}")
        rois = torch.cat([torch.cat([b.new_full((b.shape[0], 1), float(i)), b], 1)
                          for i, (b, _) in enumerate(proposals)])
        cls_logits, box_deltas = self.rcnn_forward(features, rois.float(),
                                                   query.rcnn_query if query is not None else None)
        out = []
        start = 0
        for i, (boxes, _) in enumerate(proposals):
            n = boxes.shape[0]
            probs = F.softmax(cls_logits[start:start + n].float(), dim=1)[:, 1]
            dets = delta2bbox(boxes, box_deltas[start:start + n, 4:8].float(), cfg.rcnn_stds, image_sizes[i])
            dets = dets / float(scales[i])
            start += n
            valid = probs > cfg.test_score_thr
            dets, probs = dets[valid], probs[valid]
            keep = nms_v1(dets, probs, cfg.test_nms_thr)[: cfg.test_max_per_img]
            out.append(Detections(dets[keep], probs[keep]))
        return out

    # ----------------------------------------------------------------------------------------------- training
    def forward(self, *args, **kwargs):
        return self.forward_train(*args, **kwargs)

    def forward_train(self, query_images: torch.Tensor, query_boxes, search_images: torch.Tensor, search_boxes,
                      single_query: bool = False, search_sizes=None) -> dict[str, torch.Tensor]:
        """The cross-query loss (spec 2.4-2.5).

        ``query_boxes[i]`` and ``search_boxes[i]`` are (M_i, 4) inclusive xyxy tensors in resized coordinates;
        instance j of the query matches instance j of the search image. For every (pair i, instance j) -- at most
        ``max_instances`` per pair, or one random instance with ``single_query`` -- the search FPN is modulated by
        query j and the RPN and RCNN losses are computed with only instance j as ground truth; every loss is then
        averaged over the M queries of its pair (L = 1/M sum_k L(query k)), and the pairs' losses are averaged
        (the official 4 GPUs x 1 pair with DDP gradient averaging).

        With ``modulate=False`` (plain detector ablation) each pair counts once, with all its search instances as
        ground truth (class-agnostic Faster R-CNN), since without a query there is nothing to tell instances apart.

        ``search_sizes``: resized, unpadded (h, w) per pair (anchors outside it are ignored and proposals clipped to
        it); defaults to the padded size. Returns ``loss_rpn_cls``, ``loss_rpn_bbox``, ``loss_cls``, ``loss_bbox``,
        ``acc``; ``total_loss`` sums the losses.
        """
        cfg = self.config
        device = search_images.device
        batch = search_images.shape[0]
        if search_sizes is None:
            search_sizes = [tuple(search_images.shape[-2:])] * batch
        queries: list[tuple[int, int]] = []  # (pair index, instance index)
        for i in range(batch):
            m = min(len(query_boxes[i]), len(search_boxes[i]))
            if m == 0:
                continue
            instances = list(range(m))
            if m > cfg.max_instances:
                instances = sorted(random.sample(instances, cfg.max_instances))
            if single_query:
                instances = [random.choice(instances)]
            queries += [(i, j) for j in instances]
        if not queries:
            raise ValueError("forward_train needs at least one pair with a query box and a search box")

        x_feats = self.extract_features(search_images)
        if cfg.modulate:
            pair_index = torch.tensor([i for i, _ in queries], device=device)
            z_feats = self.extract_features(query_images)
            zboxes = torch.stack([query_boxes[i][j] for i, j in queries]).to(device, torch.float32)
            query = self.embed_query(z_feats, zboxes, pair_index)
            gts = [search_boxes[i][j:j + 1].to(device).float() for i, j in queries]
            objectness, deltas = self.rpn_forward([f[pair_index] for f in x_feats], query.rpn_kernels)
        else:
            pairs = sorted({i for i, _ in queries})
            pair_index = torch.tensor(pairs, device=device)
            query = None
            gts = [search_boxes[i].to(device).float() for i in pairs]
            objectness, deltas = self.rpn_forward([f[pair_index] for f in x_feats], None)
        sizes = [search_sizes[int(i)] for i in pair_index]
        # L = 1/M sum_k L(query k) per pair (spec 2.4); pairs then averaged, as DDP averages one pair per GPU
        counts = torch.bincount(pair_index, minlength=batch).to(torch.float32)
        weights = 1.0 / (counts[pair_index] * (counts > 0).sum())
        rpn_cls, rpn_reg = self._rpn_loss(objectness, deltas, gts, sizes)
        proposals = self.propose(objectness, deltas, sizes, cfg.train_proposals)
        rcnn_cls, rcnn_reg, acc = self._rcnn_loss(x_feats, proposals, gts, pair_index, query)
        return {"loss_rpn_cls": (rpn_cls * weights).sum(), "loss_rpn_bbox": (rpn_reg * weights).sum(),
                "loss_cls": (rcnn_cls * weights).sum(), "loss_bbox": (rcnn_reg * weights).sum(),
                "acc": (acc * weights).sum().detach() * 100.0}

    def _sample(self, assigned: torch.Tensor, num: int, pos_fraction: float):
        """mmdet v1 ``RandomSampler``: up to num*pos_fraction positives, negatives fill up to num."""
        pos = torch.nonzero(assigned > 0).flatten()
        neg = torch.nonzero(assigned == 0).flatten()
        max_pos = int(num * pos_fraction)
        if pos.numel() > max_pos:
            pos = pos[torch.randperm(pos.numel(), device=pos.device)[:max_pos]]
        max_neg = num - pos.numel()
        if neg.numel() > max_neg:
            neg = neg[torch.randperm(neg.numel(), device=neg.device)[:max_neg]]
        return pos, neg

    @staticmethod
    def _assign(ious: torch.Tensor, pos_iou: float, neg_iou: float, min_pos_iou: float) -> torch.Tensor:
        """mmdet v1 ``MaxIoUAssigner`` on (G, N) IoUs: -1 ignore, 0 negative, g+1 positive for gt g;
        each gt's best candidates (ties included) are positive when their IoU >= min_pos_iou."""
        n = ious.shape[1]
        assigned = torch.full((n,), -1, dtype=torch.long, device=ious.device)
        if n == 0:
            return assigned
        max_iou, argmax = ious.max(dim=0)
        assigned[(max_iou >= 0) & (max_iou < neg_iou)] = 0
        pos = max_iou >= pos_iou
        assigned[pos] = argmax[pos] + 1
        gt_max, _ = ious.max(dim=1)
        for g in range(ious.shape[0]):
            if gt_max[g] >= min_pos_iou:
                assigned[ious[g] == gt_max[g]] = g + 1
        return assigned

    def _rpn_loss(self, objectness, deltas, gts, sizes):
        """Anchor targets (spec 2.5): anchors leaving the resized image ignored, IoU 0.7 / 0.3 / min 0.3, 256 samples
        half positive, BCE + smooth L1 (beta 1/9) both normalised by the sampled count, summed over levels.
        Returns per-query (classification, regression) loss vectors."""
        cfg = self.config
        anchors = torch.cat(self.anchor_generator([o.shape[-2:] for o in objectness], objectness[0].device))
        logits, regs = self._flat_rpn(objectness, deltas)
        logits, regs = logits.float(), regs.float()  # losses in float32 also under autocast
        cls_losses, reg_losses = [], []
        for q, gt in enumerate(gts):
            h, w = sizes[q]
            inside = (anchors[:, 0] >= 0) & (anchors[:, 1] >= 0) & (anchors[:, 2] < w) & (anchors[:, 3] < h)
            idx = torch.nonzero(inside).flatten()
            a = anchors[idx]
            assigned = self._assign(box_iou_v1(gt, a), cfg.rpn_pos_iou, cfg.rpn_neg_iou, cfg.rpn_min_pos_iou)
            pos, neg = self._sample(assigned, cfg.rpn_batch, cfg.rpn_pos_fraction)
            n_samples = max(pos.numel() + neg.numel(), 1)
            sampled = torch.cat([pos, neg])
            labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]).to(logits.dtype)
            cls = F.binary_cross_entropy_with_logits(logits[q, idx[sampled]], labels, reduction="sum")
            targets = bbox2delta(a[pos], gt[assigned[pos] - 1])
            reg = F.smooth_l1_loss(regs[q, idx[pos]], targets, beta=cfg.rpn_smooth_l1_beta, reduction="sum")
            cls_losses.append(cls / n_samples)
            reg_losses.append(reg / n_samples)
        return torch.stack(cls_losses), torch.stack(reg_losses)

    def _rcnn_loss(self, x_feats, proposals, gts, pair_index, query: QueryEmbedding | None):
        """RoI targets (spec 2.5): gt added as a proposal, IoU 0.5, 512 RoIs 25% positive; CE averaged over the
        sampled RoIs, smooth L1 (beta 1) on the object-class deltas (stds 0.1, 0.1, 0.2, 0.2) averaged over all
        sampled RoIs. Returns per-query (classification, regression, accuracy) vectors."""
        cfg = self.config
        rois_l, labels_l, targets_l, owner_l = [], [], [], []
        for q, ((boxes, _), gt) in enumerate(zip(proposals, gts)):
            candidates = torch.cat([gt, boxes.to(gt.dtype)])
            assigned = self._assign(box_iou_v1(gt, candidates), cfg.rcnn_iou, cfg.rcnn_iou, cfg.rcnn_iou)
            pos, neg = self._sample(assigned, cfg.rcnn_batch, cfg.rcnn_pos_fraction)
            sampled = candidates[torch.cat([pos, neg])]
            labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
            targets = torch.zeros_like(sampled)
            targets[: pos.numel()] = bbox2delta(candidates[pos], gt[assigned[pos] - 1], cfg.rcnn_stds)
            rois_l.append(torch.cat([sampled.new_full((sampled.shape[0], 1), float(pair_index[q])), sampled], 1))
            labels_l.append(labels)
            targets_l.append(targets)
            owner_l.append(torch.full_like(labels, q))
        rois, labels, targets, owner = (torch.cat(rois_l), torch.cat(labels_l), torch.cat(targets_l),
                                        torch.cat(owner_l))
        rcnn_query = query.rcnn_query[owner] if query is not None else None
        cls_logits, box_deltas = self.rcnn_forward(x_feats, rois.float(), rcnn_query)
        cls_logits, box_deltas = cls_logits.float(), box_deltas.float()
        n_queries = len(gts)
        counts = torch.bincount(owner, minlength=n_queries).clamp(min=1).to(cls_logits.dtype)
        ce = F.cross_entropy(cls_logits, labels, reduction="none")
        is_pos = labels > 0
        reg = F.smooth_l1_loss(box_deltas[:, 4:8], targets, beta=1.0, reduction="none").sum(1) * is_pos
        correct = (cls_logits.argmax(1) == labels).to(cls_logits.dtype)

        def per_query_mean(v):
            return torch.zeros(n_queries, dtype=v.dtype, device=v.device).index_add(0, owner, v) / counts

        return per_query_mean(ce), per_query_mean(reg), per_query_mean(correct)


def build_model(config: str | ModelConfig = "tiny", **overrides) -> GlobalTrackModel:
    return GlobalTrackModel(config, **overrides)

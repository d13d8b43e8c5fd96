"""GlobalTrack's QG-RCNN detector, composed as torchvision's Faster R-CNN plus the two modulators.

``GlobalTrackModel`` = backbone (torchvision ResNet body + ``FeaturePyramidNetwork`` with ``LastLevelMaxPool``,
``BackboneWithFPN``) + ``QueryGuidedRPN`` (``rpn``) + ``QueryGuidedRoIHeads`` (``roi_heads``) + the modulators
(``rpn_modulator``, ``rcnn_modulator``). The heads (``heads.py``) use torchvision's ``RPNHead``, ``TwoMLPHead``,
``FastRCNNPredictor``, ``Matcher``, ``BalancedPositiveNegativeSampler`` and ``BoxCoder``, with mmdetection v1.0rc0's
conventions (as vendored by huanglianghua/GlobalTrack, spec 1.11) as small shims (``heads.py``, ``ops.py``,
``anchors.py``). This module holds the composition, the query embedding, inference and the cross-query loss.

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
from torch import nn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.rpn import RPNHead
from torchvision.models.resnet import BasicBlock, resnet50
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from globaltrack.trackers.globaltrack.anchors import AnchorGenerator
from globaltrack.trackers.globaltrack.config import ModelConfig, ProposalConfig, get_config
from globaltrack.trackers.globaltrack.heads import FoldedQuery, QueryGuidedRoIHeads, QueryGuidedRPN
from globaltrack.trackers.globaltrack.modulators import QueryGuidedRCNNModulator, QueryGuidedRPNModulator


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

        return backbone_with_fpn(cfg.fpn_channels, cfg.frozen_stages)
    else:
        raise ValueError(f"unknown backbone {cfg.backbone!r}")
    return_layers = {f"layer{i + 1}": str(i) for i in range(4)}
    return BackboneWithFPN(body, return_layers, in_channels, cfg.fpn_channels, extra_blocks=LastLevelMaxPool())


# how many of a frame's best detections are re-scored against the first frame's look-alikes and by the first-frame
# fit (the AR@10 list; the rest keep their order below them): pooling 10 RoIs and the box head for 10 x 3 look-alike
# queries cost ~5 ms a frame on the 2-core CPU (bench/globaltrack.py --lookalikes 3), the fit's pass over 10 ~4 ms
RESCORED_TOP = 10


@dataclass
class QueryEmbedding:
    """What tracking needs of the query, computed once at ``init``: its 7x7 RoI feature, the 5 QG-RPN kernels
    ((Q, C, 1, 1) each) and the QG-RCNN ``proj_z(z_roi)`` (Q, C, 7, 7). Kernels are None for modulate=False.
    ``rcnn_folded``: for inference, QG-RCNN's modulation folded into fc6 (``QueryGuidedRoIHeads.fold_query``)."""

    z_roi: torch.Tensor
    rpn_kernels: list[torch.Tensor] | None
    rcnn_query: torch.Tensor | None
    rcnn_folded: FoldedQuery | None = None
    # not official: ``proj_z`` of the first frame's look-alikes, (D, C, 7, 7) (``QueryGuidedRoIHeads.contrast``)
    distractors: torch.Tensor | None = None
    # not official: the sequence's correction (dw, db) of QG-RCNN's class logit, fitted on the first frame
    # (``target_fit``, ``QueryGuidedRoIHeads.correct``)
    fit: tuple[torch.Tensor, torch.Tensor] | None = None


@dataclass
class Detections:
    """Ranked boxes (inclusive x1, y1, x2, y2 in original image coordinates) and scores, best first."""

    boxes: torch.Tensor
    scores: torch.Tensor
    # the presence score where it is not ``scores[0]``: with a first-frame fit, the best score before the fit
    # re-ranked the list (``detect``); the fit picks the box, QG-RCNN's own score says whether the target is present
    presence: float | None = None


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
        anchors = AnchorGenerator(cfg.anchor_strides, cfg.anchor_scales, cfg.anchor_ratios)
        self.rpn = QueryGuidedRPN(RPNHead(channels, num_anchors), anchors, cfg)
        self.roi_heads = QueryGuidedRoIHeads(
            TwoMLPHead(channels * cfg.roi_size ** 2, cfg.representation_size),
            FastRCNNPredictor(cfg.representation_size, 2),  # 0 = background, 1 = object
            cfg)
        if cfg.modulate:
            self.rpn_modulator = QueryGuidedRPNModulator(channels, len(cfg.anchor_strides), cfg.roi_size)
            self.rcnn_modulator = QueryGuidedRCNNModulator(channels)
        self._init_box_head()
        self._freeze_stages()

    @property
    def config(self) -> ModelConfig:
        return self._config

    @config.setter
    def config(self, cfg: ModelConfig) -> None:
        """Replacing the config (e.g. fewer test proposals) reaches the heads' matchers, samplers and thresholds."""
        self._config = cfg
        for head in ("rpn", "roi_heads"):
            if head in self._modules:
                self._modules[head].configure(cfg)

    @property
    def anchor_generator(self) -> AnchorGenerator:
        """The RPN's mmdet v1 anchors (``rpn.anchor_generator``)."""
        return self.rpn.anchor_generator

    @anchor_generator.setter
    def anchor_generator(self, generator: AnchorGenerator) -> None:
        self.rpn.anchor_generator = generator

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

    def embed_query(self, features: list[torch.Tensor], boxes: torch.Tensor,
                    batch_index: torch.Tensor | None = None) -> QueryEmbedding:
        """Query RoI features at (Q, 4) inclusive boxes (from image ``batch_index[q]``) and the modulator kernels."""
        return self.embed_query_roi(self.query_roi(features, boxes, batch_index))

    def query_roi(self, features: list[torch.Tensor], boxes: torch.Tensor,
                  batch_index: torch.Tensor | None = None) -> torch.Tensor:
        """The (Q, C, 7, 7) RoI features of the query boxes."""
        if batch_index is None:
            batch_index = torch.zeros(boxes.shape[0], device=boxes.device)
        boxes = boxes.float()
        rois = torch.cat([batch_index.to(boxes.dtype).view(-1, 1), boxes], dim=1)
        return self.roi_heads.box_roi_pool(features, rois)

    def embed_query_roi(self, z_roi: torch.Tensor, fold: bool = False) -> QueryEmbedding:
        """The modulator kernels of query RoI features (any RoI feature: the tracker may pass a mean of several).
        ``fold``: also fold QG-RCNN's modulation into the box head for ``detect`` (one query; inference only: the
        folded weights do not follow later changes to the model's parameters)."""
        if not self.config.modulate:
            return QueryEmbedding(z_roi, None, None)
        rcnn_query = self.rcnn_modulator.query(z_roi)
        folded = self.roi_heads.fold_query(rcnn_query, self.rcnn_modulator) if fold else None
        return QueryEmbedding(z_roi, self.rpn_modulator.kernels(z_roi), rcnn_query, folded)

    def rpn_forward(self, features: list[torch.Tensor], kernels: list[torch.Tensor] | None):
        """Objectness logits [(N, A, H, W)] and deltas [(N, 4A, H, W)] per level; modulated when kernels are given."""
        return self.rpn(features, kernels, getattr(self, "rpn_modulator", None))

    def propose(self, objectness, deltas, image_sizes, proposal_cfg: ProposalConfig):
        """The RPN's proposals per image (``QueryGuidedRPN.propose``)."""
        return self.rpn.propose(objectness, deltas, image_sizes, proposal_cfg)

    def rcnn_forward(self, features, rois, rcnn_query: torch.Tensor | FoldedQuery | None):
        """(R, 5) RoIs on the raw search FPN -> class logits (R, 2) and deltas (R, 8) (``QueryGuidedRoIHeads``)."""
        return self.roi_heads(features, rois, rcnn_query, getattr(self, "rcnn_modulator", None))

    # ----------------------------------------------------------------------------------------------- inference
    @torch.no_grad()
    def detect(self, images: torch.Tensor, image_sizes, scales, query: QueryEmbedding | None = None,
               source: str = "rcnn", proposal_cfg: ProposalConfig | None = None,
               refine_passes: int | None = None, refine_top: int | None = None,
               distractor_weight: float | None = None) -> list[Detections]:
        """Test-time QG-RCNN (``simple_test_bboxes``, spec 1.12) or, with ``source="rpn"``, the QG-RPN proposals.

        ``query`` holds one query (kernels of batch 1), shared by all N frames; ``proposal_cfg`` replaces the
        config's ``test_proposals`` for this call (a tracker's ``proposals`` option), ``refine_passes`` and
        ``refine_top`` its ``test_refine_passes`` and ``test_refine_top`` (the ``refine`` and ``refine_top``
        options; ``QueryGuidedRoIHeads.refine``), ``distractor_weight`` its ``test_distractor_weight`` (used when the
        query carries look-alikes; ``QueryGuidedRoIHeads.contrast``); a query with a first-frame ``fit`` has its top
        detections re-scored by it last (``QueryGuidedRoIHeads.correct``), and its ``Detections.presence`` is the
        best score before that. Boxes come back divided by each frame's scale (original coordinates), inclusive
        xyxy, ranked by score (the refined ones first).
        """
        cfg = self.config
        if cfg.modulate and query is None:
            raise ValueError("a query-guided model needs the query embedding (embed_query)")
        features = self.extract_features(images)
        objectness, deltas = self.rpn_forward(features, query.rpn_kernels if query is not None else None)
        proposals = self.propose(objectness, deltas, image_sizes, proposal_cfg or cfg.test_proposals)
        if source == "rpn":
            return [Detections(b / float(s), sc) for (b, sc), s in zip(proposals, scales)]
        if source != "rcnn":
            raise ValueError(f"source must be 'rcnn' or 'rpn', not {source!r}")
        rois = torch.cat([torch.cat([b.new_full((b.shape[0], 1), float(i)), b], 1)
                          for i, (b, _) in enumerate(proposals)])
        rcnn_query = None if query is None else (
            query.rcnn_folded if query.rcnn_folded is not None else query.rcnn_query)
        cls_logits, box_deltas = self.rcnn_forward(features, rois.float(), rcnn_query)
        dets = self.roi_heads.postprocess(cls_logits, box_deltas, proposals, image_sizes, scales)
        dets = self.roi_heads.refine(
            features, dets, image_sizes, scales, rcnn_query, getattr(self, "rcnn_modulator", None),
            cfg.test_refine_passes if refine_passes is None else int(refine_passes),
            cfg.test_refine_top if refine_top is None else int(refine_top))
        if query is not None and query.distractors is not None:
            dets = self.roi_heads.contrast(
                features, dets, scales, query.distractors, self.rcnn_modulator,
                cfg.test_distractor_weight if distractor_weight is None else float(distractor_weight), RESCORED_TOP)
        if query is None or query.fit is None:
            return [Detections(b, sc) for b, sc in dets]
        # why the presence score stays the one before the fit: on coco128 val2017 the fitted scores tell present
        # from absent worse (balanced accuracy 0.748 against 0.779); the fit is fitted on one frame to rank, not to
        # be calibrated across frames
        presence = [float(sc[0]) if sc.shape[0] else None for _, sc in dets]
        dets = self.roi_heads.correct(features, dets, scales, rcnn_query, getattr(self, "rcnn_modulator", None),
                                      query.fit, RESCORED_TOP)
        return [Detections(b, sc, p) for (b, sc), p in zip(dets, presence)]

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
            # the pair's other instances: QG-RCNN's distractor negatives for query j (rcnn_distractor_copies)
            others = [torch.cat([search_boxes[i][:j], search_boxes[i][j + 1:]]).to(device).float() for i, j in queries]
            objectness, deltas = self.rpn_forward([f[pair_index] for f in x_feats], query.rpn_kernels)
        else:
            pairs = sorted({i for i, _ in queries})
            pair_index = torch.tensor(pairs, device=device)
            query = None
            gts = [search_boxes[i].to(device).float() for i in pairs]
            others = None
            objectness, deltas = self.rpn_forward([f[pair_index] for f in x_feats], None)
        sizes = [search_sizes[int(i)] for i in pair_index]
        # L = 1/M sum_k L(query k) per pair (spec 2.4); pairs then averaged, as DDP averages one pair per GPU
        counts = torch.bincount(pair_index, minlength=batch).to(torch.float32)
        weights = 1.0 / (counts[pair_index] * (counts > 0).sum())
        rpn_cls, rpn_reg = self.rpn.loss(objectness, deltas, gts, sizes)
        proposals = self.rpn.propose(objectness, deltas, sizes, cfg.train_proposals)
        rcnn_cls, rcnn_reg, acc = self.roi_heads.loss(x_feats, proposals, gts, pair_index,
                                                      query.rcnn_query if query is not None else None,
                                                      getattr(self, "rcnn_modulator", None), others)
        return {"loss_rpn_cls": (rpn_cls * weights).sum(), "loss_rpn_bbox": (rpn_reg * weights).sum(),
                "loss_cls": (rcnn_cls * weights).sum(), "loss_bbox": (rcnn_reg * weights).sum(),
                "acc": (acc * weights).sum().detach() * 100.0}

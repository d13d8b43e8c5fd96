"""GlobalTrack's detector heads, composed as torchvision's Faster R-CNN is: a query-guided RPN (torchvision's
``RegionProposalNetwork`` role) and query-guided RoI heads (``RoIHeads``), each on torchvision's ``Matcher``,
``BalancedPositiveNegativeSampler`` and ``BoxCoder``. mmdetection v1's conventions are the small shims below:

- ``V1Matcher``: torchvision's ``Matcher`` (IoU >= high positive, < low negative, between ignored) with v1's
  ``MaxIoUAssigner`` low-quality rule: a gt's best candidates (ties included) become positive only when that best IoU
  is at least ``min_pos_iou``, and later gts win (torchvision: always, for the candidate's argmax gt).
  The quality matrix is v1's +1 IoU (``ops.box_iou_v1``).
- ``V1BoxCoder``: torchvision's ``BoxCoder`` interface (weights = 1 / v1 stds) with v1's ``delta2bbox`` /
  ``bbox2delta`` arithmetic: +1 widths, dw/dh clamped on both sides, optional clip to [0, w-1] x [0, h-1]. (The
  +1 shim around torchvision's own decoder agrees to 6e-5 px only; detections must equal the official ones.)
- the sampler is torchvision's as it is: v1's ``RandomSampler`` draws the same distribution (up to
  ``num * pos_fraction`` positives, negatives fill up), only from another random stream.

The modulators stay top-level modules of the model (their state-dict names are the official ones), and the heads
take them as arguments: ``QueryGuidedRPN(features, kernels, modulator)``, ``QueryGuidedRoIHeads(features, rois,
query, modulator)``. With no query (``modulate=False``) both are the plain Faster R-CNN heads.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher

from globaltrack.trackers.globaltrack.config import ModelConfig, ProposalConfig
from globaltrack.trackers.globaltrack.ops import (batched_nms_v1, bbox2delta, box_iou_v1, delta2bbox,
                                                  multilevel_roi_align, nms_v1)


class V1Matcher(Matcher):
    """torchvision ``Matcher`` with mmdet v1 ``MaxIoUAssigner`` semantics (see the module docstring). Returns, per
    candidate, the matched gt index, ``BELOW_LOW_THRESHOLD`` (-1, negative) or ``BETWEEN_THRESHOLDS`` (-2, ignored)."""

    def __init__(self, pos_iou: float, neg_iou: float, min_pos_iou: float):
        super().__init__(pos_iou, neg_iou, allow_low_quality_matches=True)
        self.min_pos_iou = float(min_pos_iou)

    def __call__(self, match_quality_matrix: torch.Tensor) -> torch.Tensor:
        if match_quality_matrix.shape[1] == 0:  # no candidate (e.g. no anchor inside a tiny image): nothing to match
            return torch.zeros(0, dtype=torch.long, device=match_quality_matrix.device)
        return super().__call__(match_quality_matrix)

    def set_low_quality_matches_(self, matches, all_matches, match_quality_matrix):
        gt_max, _ = match_quality_matrix.max(dim=1)
        for g in range(match_quality_matrix.shape[0]):  # in gt order: a later gt takes a shared best candidate
            if gt_max[g] >= self.min_pos_iou:
                matches[match_quality_matrix[g] == gt_max[g]] = g


def _rerank_top(top_boxes, top_scores, rest_boxes, rest_scores):
    """Test-time re-ranking (``refine``, ``contrast``): the top detections sorted by their new scores (stable), then
    the rest in their order, scores capped at the lowest new one, so the list stays ranked by score (AR@k sorts by
    score). Scores come back in ``rest_scores``' dtype."""
    order = torch.argsort(top_scores, descending=True, stable=True)
    score = top_scores[order].to(rest_scores.dtype)
    return (torch.cat([top_boxes[order], rest_boxes]),
            torch.cat([score, torch.clamp(rest_scores, max=float(score[-1]))]))


def _top_rois(dets, scales, top: int):
    """``[(image, n)]`` for each image with detections (n = its top ``top``) and their (R, 5) RoIs in network
    coordinates (the boxes times the image's scale), images in order."""
    tops = [(i, min(int(top), b.shape[0])) for i, (b, _) in enumerate(dets) if b.shape[0]]
    if not tops:
        return tops, None
    rois = torch.cat([torch.cat([dets[i][0].new_full((n, 1), float(i)), dets[i][0][:n] * float(scales[i])], 1)
                      for i, n in tops])
    return tops, rois.float()


def _rescore_top(dets, tops, new_scores):
    """``dets`` with each listed image's top n re-scored by ``new_scores(image, n, start)`` (``start``: the image's
    first row in ``_top_rois``' RoIs) and re-ranked (``_rerank_top``)."""
    out, start = list(dets), 0
    for i, n in tops:
        boxes, scores = dets[i]
        out[i] = _rerank_top(boxes[:n], new_scores(i, n, start), boxes[n:], scores[n:])
        start += n
    return out


def sampling_labels(matches: torch.Tensor) -> torch.Tensor:
    """Matcher output -> the sampler's labels: gt g -> g + 1 (positive), negative -> 0, ignored -> -1."""
    labels = matches + 1
    labels[matches == Matcher.BELOW_LOW_THRESHOLD] = 0
    labels[matches == Matcher.BETWEEN_THRESHOLDS] = -1
    return labels


def sample(sampler: BalancedPositiveNegativeSampler, labels: torch.Tensor):
    """(positive indices, negative indices) drawn by torchvision's sampler from one candidate set's labels."""
    pos_mask, neg_mask = sampler([labels])
    return torch.nonzero(pos_mask[0]).flatten(), torch.nonzero(neg_mask[0]).flatten()


class V1BoxCoder(BoxCoder):
    """torchvision ``BoxCoder`` with mmdet v1 arithmetic; ``weights`` = 1 / v1 target stds ((10, 10, 5, 5) for
    stds (0.1, 0.1, 0.2, 0.2))."""

    def __init__(self, weights=(1.0, 1.0, 1.0, 1.0)):
        super().__init__(tuple(float(w) for w in weights))
        self.stds = tuple(1.0 / float(w) for w in weights)

    def encode_single(self, reference_boxes: torch.Tensor, proposals: torch.Tensor) -> torch.Tensor:
        """Deltas of ``proposals`` towards ``reference_boxes`` (the gt), inclusive boxes (v1 ``bbox2delta``)."""
        return bbox2delta(proposals, reference_boxes, self.stds)

    def decode_single(self, rel_codes: torch.Tensor, boxes: torch.Tensor, max_shape=None) -> torch.Tensor:
        """v1 ``delta2bbox``; ``max_shape`` = (h, w) clips to [0, w-1] x [0, h-1]."""
        return delta2bbox(boxes, rel_codes, self.stds, max_shape)


class QueryGuidedRPN(nn.Module):
    """QG-RPN (spec 1.4-1.6, 2.5): the shared RPN head on the (modulated) FPN maps, v1 proposals, v1 anchor targets.

    ``head`` is torchvision's ``RPNHead`` (state-dict ``rpn.head.*``); anchors are mmdet v1's (``anchors.py``)."""

    def __init__(self, head: nn.Module, anchor_generator, cfg: ModelConfig):
        super().__init__()
        self.head = head
        self.anchor_generator = anchor_generator
        self.configure(cfg)

    def configure(self, cfg: ModelConfig) -> None:
        """Matcher, sampler and coder for a config (the model calls this whenever its config is replaced)."""
        self.cfg = cfg
        self.box_coder = V1BoxCoder((1.0, 1.0, 1.0, 1.0))
        self.proposal_matcher = V1Matcher(cfg.rpn_pos_iou, cfg.rpn_neg_iou, cfg.rpn_min_pos_iou)
        self.fg_bg_sampler = BalancedPositiveNegativeSampler(cfg.rpn_batch, cfg.rpn_pos_fraction)

    def forward(self, features: list[torch.Tensor], kernels: list[torch.Tensor] | None = None, modulator=None):
        """Objectness logits [(N, A, H, W)] and deltas [(N, 4A, H, W)] per level; the maps are modulated by the
        query's ``kernels`` first when given (QG-RPN), else the plain RPN."""
        if kernels is not None:
            features = modulator(features, kernels)
        return self.head(features)

    @staticmethod
    def flatten(objectness, deltas):
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
            deltas_l, anchors_l, scores_l, levels_l = [], [], [], []
            for lvl, (o, d, a) in enumerate(zip(objectness, deltas, anchors)):
                s = o[i].detach().permute(1, 2, 0).reshape(-1).float().sigmoid()
                h, w = o.shape[-2:]
                dl = d[i].detach().view(num_anchors, 4, h, w).permute(2, 3, 0, 1).reshape(-1, 4).float()
                if s.numel() > proposal_cfg.nms_pre:
                    s, idx = s.topk(proposal_cfg.nms_pre)
                    dl, a = dl[idx], a[idx]
                deltas_l.append(dl)
                anchors_l.append(a)
                scores_l.append(s)
                levels_l.append(torch.full_like(s, lvl, dtype=torch.long))
            # decoded once for all levels (element-wise: the same boxes as level by level, fewer operations)
            boxes = self.box_coder.decode_single(torch.cat(deltas_l), torch.cat(anchors_l), max_shape=image_sizes[i])
            scores, levels = torch.cat(scores_l), torch.cat(levels_l)
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

    def loss(self, objectness, deltas, gts, sizes):
        """Anchor targets (spec 2.5): anchors leaving the resized image ignored, IoU 0.7 / 0.3 / min 0.3, 256 samples
        half positive, BCE + smooth L1 (beta 1/9) both normalised by the sampled count, summed over levels.
        Returns per-query (classification, regression) loss vectors."""
        cfg = self.cfg
        anchors = torch.cat(self.anchor_generator([o.shape[-2:] for o in objectness], objectness[0].device))
        logits, regs = self.flatten(objectness, deltas)
        logits, regs = logits.float(), regs.float()  # losses in float32 also under autocast
        cls_losses, reg_losses = [], []
        for q, gt in enumerate(gts):
            h, w = sizes[q]
            inside = (anchors[:, 0] >= 0) & (anchors[:, 1] >= 0) & (anchors[:, 2] < w) & (anchors[:, 3] < h)
            idx = torch.nonzero(inside).flatten()
            a = anchors[idx]
            matches = self.proposal_matcher(box_iou_v1(gt, a))
            pos, neg = sample(self.fg_bg_sampler, sampling_labels(matches))
            n_samples = max(pos.numel() + neg.numel(), 1)
            sampled = torch.cat([pos, neg])
            labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]).to(logits.dtype)
            cls = F.binary_cross_entropy_with_logits(logits[q, idx[sampled]], labels, reduction="sum")
            targets = self.box_coder.encode_single(gt[matches[pos]], a[pos])
            reg = F.smooth_l1_loss(regs[q, idx[pos]], targets, beta=cfg.rpn_smooth_l1_beta, reduction="sum")
            cls_losses.append(cls / n_samples)
            reg_losses.append(reg / n_samples)
        return torch.stack(cls_losses), torch.stack(reg_losses)


@dataclass
class FoldedQuery:
    """One query's QG-RCNN modulation folded into the box head's fc6 (``QueryGuidedRoIHeads.fold_query``): the
    first box-head layer is then ``relu(weight @ x + bias)``, ``x`` the (C, k, k) RoI feature read in (k, k, C)
    order: the order the CPU's RoI pooling writes (``ops._roi_align_gathered``), so that reading needs no copy."""

    weight: torch.Tensor
    bias: torch.Tensor


class QueryGuidedRoIHeads(nn.Module):
    """QG-RCNN (spec 1.7-1.12, 2.5): v1 RoIAlign of the proposals on the raw search FPN, the query modulation, the
    2-fc box head and 2-class predictor (torchvision ``TwoMLPHead`` / ``FastRCNNPredictor``, state-dict
    ``roi_heads.box_head.*`` / ``roi_heads.box_predictor.*``), v1 test-time decoding and NMS, v1 RoI targets."""

    def __init__(self, box_head: nn.Module, box_predictor: nn.Module, cfg: ModelConfig):
        super().__init__()
        self.box_head = box_head
        self.box_predictor = box_predictor
        self.configure(cfg)

    def configure(self, cfg: ModelConfig) -> None:
        """Matcher, sampler and coder for a config (the model calls this whenever its config is replaced)."""
        self.cfg = cfg
        self.box_coder = V1BoxCoder(tuple(1.0 / s for s in cfg.rcnn_stds))
        self.proposal_matcher = V1Matcher(cfg.rcnn_iou, cfg.rcnn_iou, cfg.rcnn_iou)
        self.fg_bg_sampler = BalancedPositiveNegativeSampler(cfg.rcnn_batch, cfg.rcnn_pos_fraction)

    def box_roi_pool(self, features, rois):
        """mmdet v1 ``SingleRoIExtractor`` on P2..P5 (``ops.multilevel_roi_align``)."""
        c = self.cfg
        return multilevel_roi_align(features[: len(c.roi_strides)], rois, c.roi_size, c.roi_strides,
                                    c.roi_sampling_ratio, c.finest_scale)

    def forward(self, features, rois, query: torch.Tensor | FoldedQuery | None = None, modulator=None):
        """(R, 5) RoIs -> class logits (R, 2) and deltas (R, 8); ``query`` is ``proj_z(z_roi)`` broadcastable to
        (R, C, 7, 7) (QG-RCNN), a ``FoldedQuery`` of one query (the same computation, ``fold_query``), or None for
        the plain box head."""
        return self.box_predictor(self.head_features(features, rois, query, modulator))

    def head_features(self, features, rois, query: torch.Tensor | FoldedQuery | None = None, modulator=None):
        """The box head's output (fc7 after its ReLU), (R, representation): what the 2-class predictor scores."""
        x = self.box_roi_pool(features, rois)
        if isinstance(query, FoldedQuery):
            x = F.relu(F.linear(x.permute(0, 2, 3, 1).flatten(1), query.weight, query.bias))
            return F.relu(self.box_head.fc7(x))
        if query is not None:
            x = modulator(x, query)
        return self.box_head(x)

    def refine(self, features, dets, image_sizes, scales, query, modulator, passes: int, top: int):
        """Not official (``ModelConfig.test_refine_passes`` / ``test_refine_top``): each image's ``top`` best
        detections (``postprocess``'s, original coordinates) through the class-1 box regression ``passes`` more
        times, each pass pooling the RoI at the box the last one gave (iterative box regression). They are scored by
        the geometric mean of their first score and the one QG-RCNN gives the box the last pass starts from,
        re-ranked by it, and followed by the image's other detections in their order, their scores capped at the
        lowest refined one (so the list stays ranked by score: AR@k sorts by score)."""
        tops = [(i, b[:top] * float(scales[i])) for i, (b, _) in enumerate(dets) if b.shape[0]]
        if passes < 1 or top < 1 or not tops:
            return dets
        index = torch.cat([b.new_full((b.shape[0], 1), float(i)) for i, b in tops])
        boxes = torch.cat([b for _, b in tops])
        for _ in range(passes):
            logits, deltas = self(features, torch.cat([index, boxes], 1), query, modulator)
            start, decoded = 0, []
            for i, b in tops:  # decoded and clipped per image (its own size)
                n = b.shape[0]
                decoded.append(self.box_coder.decode_single(deltas[start:start + n, 4:8].float(),
                                                            boxes[start:start + n], image_sizes[i]))
                start += n
            boxes = torch.cat(decoded)
        last = F.softmax(logits.float(), dim=1)[:, 1]
        out, start = list(dets), 0
        for i, b in tops:
            n = b.shape[0]
            first_boxes, first_scores = dets[i]
            score = torch.sqrt(first_scores[:n].float() * last[start:start + n])
            out[i] = _rerank_top(boxes[start:start + n] / float(scales[i]), score, first_boxes[n:], first_scores[n:])
            start += n
        return out

    def query_scores(self, features, rois, queries: torch.Tensor, modulator) -> torch.Tensor:
        """Class-1 probabilities of (R, 5) RoIs under each of Q queries ``proj_z(z_roi)`` (Q, C, k, k): (Q, R). The
        RoIs are pooled and projected once for all queries (the modulation is ``proj_out(proj_x(x) * z)``)."""
        x = modulator.proj_x(self.box_roi_pool(features, rois))
        u = modulator.proj_out((x.unsqueeze(0) * queries.unsqueeze(1)).flatten(0, 1))
        logits, _ = self.box_predictor(self.box_head(u))
        return F.softmax(logits.float(), dim=1)[:, 1].view(queries.shape[0], -1)

    def contrast(self, features, dets, scales, distractors: torch.Tensor | None, modulator, weight: float,
                 top: int):
        """Not official (``ModelConfig.test_distractor_weight``): each image's ``top`` best detections are re-scored
        ``score - weight * max_d p_d``, where p_d is the QG-RCNN probability of the box under look-alike query d
        (``distractors``: their ``proj_z``, (D, C, k, k)), and re-ranked; the image's other detections follow in their
        order, scores capped at the lowest re-scored one (the list stays ranked by score, as ``refine`` leaves it)."""
        if distractors is None or distractors.shape[0] == 0 or weight <= 0:
            return dets
        tops, rois = _top_rois(dets, scales, top)
        if not tops:
            return dets
        confusion = self.query_scores(features, rois, distractors, modulator).max(0).values
        return _rescore_top(dets, tops,
                            lambda i, n, start: dets[i][1][:n].float() - weight * confusion[start:start + n])

    def correct(self, features, dets, scales, query: torch.Tensor | FoldedQuery, modulator, fit, top: int):
        """Not official (``ModelConfig.test_target_fit``): each image's ``top`` best detections are re-scored
        ``sigmoid(logit(score) + fc7 . dw + db)``, ``fit = (dw, db)`` the sequence's correction of the class logit
        fitted on its first frame (``target_fit.fit_logit_correction``), ``fc7`` the box head's output at the
        detection's box under the target query; then re-ranked as ``contrast`` does."""
        if fit is None:
            return dets
        tops, rois = _top_rois(dets, scales, top)
        if not tops:
            return dets
        dw, db = fit
        correction = self.head_features(features, rois, query, modulator).float() @ dw.float() + db.float()

        def rescored(i, n, start):
            s = dets[i][1][:n].float().clamp(1e-6, 1 - 1e-6)
            return torch.sigmoid(torch.log(s) - torch.log1p(-s) + correction[start:start + n])

        return _rescore_top(dets, tops, rescored)

    def fold_query(self, query: torch.Tensor, modulator) -> FoldedQuery:
        """QG-RCNN's modulation and the box head's first layer, for one query, as one linear map of the RoI feature.

        Why: ``fc6(flatten(proj_out(proj_x(x) * z)))`` is linear in the RoI feature ``x`` (no activation until after
        fc6; the product is element-wise by the fixed query ``z = proj_z(z_roi)``), so for a tracked sequence it is
        a single (representation, C*k*k) matrix: the 3x3 ``proj_x`` over 150 RoIs cost more than fc6 itself. Here
        fc6's weight is carried back through ``proj_out`` (a 1x1 conv: a channel mix), the product (a scaling by
        ``z``) and ``proj_x`` (a 3x3 conv, padding 1: its adjoint is the transposed conv); the biases collect into
        one. The same logits as the unfolded path to float32 rounding (a test checks); folding in float64 instead
        changed nothing measurable and cost ~100 MB more peak memory.
        """
        if query.shape[0] != 1:
            raise ValueError(f"fold_query folds one query, got {query.shape[0]}")
        fc6 = self.box_head.fc6
        c, k = query.shape[1], query.shape[-1]
        w6 = fc6.weight.float().view(-1, c, k * k)  # (D, C, k*k): fc6 reads the (C, k, k) map flattened
        w_out, b_out = modulator.proj_out.weight.float()[:, :, 0, 0], modulator.proj_out.bias.float()
        w_x, b_x = modulator.proj_x.weight.float(), modulator.proj_x.bias.float()
        back_out = torch.einsum("dop,oc->dcp", w6, w_out)  # fc6 o proj_out, on u = proj_x(x) * z
        bias = fc6.bias.float() + torch.einsum("dop,o->d", w6, b_out)
        back_z = back_out * query.float().view(1, c, k * k)  # ... o (times z), on proj_x(x)
        bias = bias + torch.einsum("dcp,c->d", back_z, b_x)
        # ... o proj_x, in slices of fc6's rows (bounds the transposed conv's buffers)
        back_z = back_z.view(-1, c, k, k)
        weight = torch.cat([F.conv_transpose2d(part, w_x, padding=w_x.shape[-1] // 2) for part in back_z.split(32)])
        weight = weight.permute(0, 2, 3, 1).flatten(1).contiguous()  # (D, k, k, C): see FoldedQuery
        return FoldedQuery(weight.to(fc6.weight.dtype), bias.to(fc6.bias.dtype))

    def postprocess(self, cls_logits, box_deltas, proposals, image_sizes, scales):
        """``simple_test_bboxes`` (spec 1.12): softmax, class-1 deltas decoded and clipped, divided by the scale,
        score > thr, NMS, top ``test_max_per_img``. Returns per image (boxes, scores) ranked."""
        cfg = self.cfg
        out = []
        start = 0
        for i, (boxes, _) in enumerate(proposals):
            n = boxes.shape[0]
            probs = F.softmax(cls_logits[start:start + n].float(), dim=1)[:, 1]
            dets = self.box_coder.decode_single(box_deltas[start:start + n, 4:8].float(), boxes, image_sizes[i])
            dets = dets / float(scales[i])
            start += n
            valid = probs > cfg.test_score_thr
            dets, probs = dets[valid], probs[valid]
            keep = nms_v1(dets, probs, cfg.test_nms_thr)[: cfg.test_max_per_img]
            out.append((dets[keep], probs[keep]))
        return out

    def distractor_rois(self, gt: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
        """The other instances' boxes and ``rcnn_distractor_copies`` jittered copies of each (centre moved up to
        10% of the side, sides scaled x0.9..1.1), keeping those below the positive IoU with the query's own box."""
        n = self.cfg.rcnn_distractor_copies
        if others.numel() == 0:
            return others.reshape(0, 4)
        boxes = [others]
        wh = others[:, 2:] - others[:, :2] + 1
        for _ in range(n):
            shift = (torch.rand_like(wh) * 0.2 - 0.1) * wh
            half = wh * (0.9 + 0.2 * torch.rand_like(wh)) / 2
            centre = (others[:, :2] + others[:, 2:]) / 2 + shift
            boxes.append(torch.cat([centre - half, centre + half], 1))
        boxes = torch.cat(boxes)
        return boxes[box_iou_v1(gt, boxes)[0] < self.cfg.rcnn_iou]

    def loss(self, features, proposals, gts, pair_index, query: torch.Tensor | None, modulator=None,
             distractors=None):
        """RoI targets (spec 2.5): gt added as a proposal, IoU 0.5, 512 RoIs 25% positive; CE averaged over the
        sampled RoIs, smooth L1 (beta 1) on the object-class deltas (stds 0.1, 0.1, 0.2, 0.2) averaged over all
        sampled RoIs. ``query[q]`` belongs to query q. Returns per-query (classification, regression, accuracy).

        ``distractors[q]``: the pair's other instances, (K, 4), used when ``rcnn_distractor_copies`` > 0. Why: a
        tracker's top-1 fails on look-alikes (the other jogger), yet QG-RCNN meets them in training only when one of
        the ~300 proposals of the query-guided RPN -- which is itself trained to score them as background -- lands
        there and is drawn among the sampled negatives; adding them always makes every query's loss rank its own
        instance above its co-instances."""
        rois_l, labels_l, targets_l, owner_l = [], [], [], []
        for q, ((boxes, _), gt) in enumerate(zip(proposals, gts)):
            candidates = torch.cat([gt, boxes.to(gt.dtype)])
            matches = self.proposal_matcher(box_iou_v1(gt, candidates))
            pos, neg = sample(self.fg_bg_sampler, sampling_labels(matches))
            sampled = candidates[torch.cat([pos, neg])]
            labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
            if distractors is not None and self.cfg.rcnn_distractor_copies > 0:
                extra = self.distractor_rois(gt, distractors[q].to(gt.dtype))
                sampled = torch.cat([sampled, extra])
                labels = torch.cat([labels, labels.new_zeros(extra.shape[0])])
            targets = torch.zeros_like(sampled)
            targets[: pos.numel()] = self.box_coder.encode_single(gt[matches[pos]], candidates[pos])
            rois_l.append(torch.cat([sampled.new_full((sampled.shape[0], 1), float(pair_index[q])), sampled], 1))
            labels_l.append(labels)
            targets_l.append(targets)
            owner_l.append(torch.full_like(labels, q))
        rois, labels, targets, owner = (torch.cat(rois_l), torch.cat(labels_l), torch.cat(targets_l),
                                        torch.cat(owner_l))
        per_roi_query = query[owner] if query is not None else None
        cls_logits, box_deltas = self(features, rois.float(), per_roi_query, modulator)
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


__all__ = ["FoldedQuery", "QueryGuidedRPN", "QueryGuidedRoIHeads", "V1BoxCoder", "V1Matcher", "sample",
           "sampling_labels"]

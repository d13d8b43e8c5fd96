"""The GlobalTrack tracker (``trackers/global_track.py`` of huanglianghua/GlobalTrack, spec 3).

The first frame is the query; every later frame is searched whole (resized to fit the config's image scale) and
the top-1 QG-RCNN detection is the output: no motion model, no smoothing, no use of earlier frames. Query
features and modulator kernels are computed once in ``init`` (the official code recomputes them every frame with
identical results), and QG-RCNN's modulation is folded into the box head's first layer there
(``QueryGuidedRoIHeads.fold_query``: the same scores to float32 rounding, a fifth less time per frame).
``present = score >= threshold`` (0.84, the paper's OxUvA setting; the code has no presence logic). Frames are
independent given the query, so ``track_batch`` runs several in one forward pass.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import warnings

import numpy as np

from globaltrack.errors import UserError
from globaltrack.trackers.base import Prediction, Tracker

DTYPES = ("float32", "bfloat16", "float16")


def _parse_bool(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@functools.lru_cache(maxsize=2)
def _inference_model(path: str, mtime_ns: int, size: int, config: str | None, device: str):
    """The model of a weights file, loaded once per process: the runner builds a tracker per sequence, and the
    model holds no per-sequence state (the query lives in the tracker), so reading, converting and fusing the file
    again for each of LaSOT's 280 sequences would be wasted. Keyed by the file's identity (path, mtime, size), so a
    file rewritten in place is read again."""
    import torch

    from globaltrack.trackers.globaltrack.checkpoint import load_model
    from globaltrack.trackers.globaltrack.traced_backbone import trace_backbone

    model = load_model(path, config)
    if hasattr(model.backbone, "fuse_for_inference"):  # our own copy: fold frozen BatchNorms (speed)
        model.backbone.fuse_for_inference()
    model = model.eval().to(torch.device(device))
    trace_backbone(model, device)  # CPU: a frozen graph of backbone + FPN (speed; same features to rounding)
    return model


def _count_option(name: str, value, low: int, high: int) -> int:
    try:
        n = int(value)
    except ValueError:
        n = low - 1
    if not low <= n <= high:
        raise UserError(f"GlobalTrack option {name} must be a whole number from {low} to {high}, not '{value}'")
    return n


def _weight_option(name: str, value, high: float) -> float:
    try:
        weight = float(value)
    except ValueError:
        weight = -1.0
    if not 0.0 <= weight <= high:  # also refuses nan
        raise UserError(f"GlobalTrack option {name} must be a weight from 0 to {high:g} (0: off), not '{value}'")
    return weight


def _with_test_options(config, proposals, scale, query_flip=None, query_zooms=None, refine=None, refine_top=None,
                       distractors=None, target_fit=None):
    """``config`` with the tracker's ``proposals`` (a count), ``scale`` (``WxH`` or a pair), ``query_flip`` (a
    boolean), ``query_zooms`` (comma-separated factors), ``refine`` (a count of passes), ``refine_top`` (a count
    of detections), ``distractors`` (a weight, 0..10) and ``target_fit`` (an L2 weight, 0..1000) options applied."""
    if distractors is not None:
        config = dataclasses.replace(config, test_distractor_weight=_weight_option("distractors", distractors, 10))
    if target_fit is not None:
        config = dataclasses.replace(config, test_target_fit=_weight_option("target_fit", target_fit, 1000))
    if refine is not None:
        config = dataclasses.replace(config, test_refine_passes=_count_option("refine", refine, 0, 10))
    if refine_top is not None:
        config = dataclasses.replace(config, test_refine_top=_count_option("refine_top", refine_top, 1, 100))

    if query_zooms is not None:
        try:
            zooms = tuple(float(v) for v in str(query_zooms).replace(";", ",").split(",") if v.strip())
        except ValueError:
            zooms = ()
        if not zooms or not all(0.25 <= z <= 4 for z in zooms):
            raise UserError(f"GlobalTrack option query_zooms must be factors in 0.25..4 separated by commas (e.g. "
                            f"0.8,1,1.25), not '{query_zooms}'")
        config = dataclasses.replace(config, test_query_zooms=zooms)
    if query_flip is not None:
        flag = str(query_flip).strip().lower()
        if flag not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise UserError(f"GlobalTrack option query_flip must be 1 or 0 (true/false), not '{query_flip}'")
        config = dataclasses.replace(config, test_query_flip=_parse_bool(flag))
    if proposals is not None:
        n = _count_option("proposals", proposals, 1, 100_000)
        config = dataclasses.replace(config, test_proposals=dataclasses.replace(
            config.test_proposals, nms_pre=n, nms_post=n, max_num=n))
    if scale is not None:
        parts = str(scale).lower().replace(",", "x").split("x") if not isinstance(scale, (tuple, list)) else scale
        try:
            w, h = (int(v) for v in parts)
        except (TypeError, ValueError):
            w = h = 0
        if w < 32 or h < 32:
            raise UserError(f"GlobalTrack option scale must be WxH with sides of at least 32, not '{scale}'")
        config = dataclasses.replace(config, test_image_scale=(max(w, h), min(w, h)))
    return config


# the first frame's look-alikes (``ModelConfig.test_distractor_weight``): detections of the query in its own frame
# that the classifier calls the target (probability >= 0.5, its decision point) but that overlap the target box by
# IoU < 0.3 (not a part of it), the best few (each adds a query to score against)
DISTRACTOR_MIN_SCORE = 0.5
DISTRACTOR_MAX_IOU = 0.3
DISTRACTOR_QUERIES = 3


def _mirror(image, box):
    """The horizontally flipped frame and the box in it (``query_flip``). The mirror's RoI feature enters the mean
    as pooled (not flipped back): a target averaged with its own mirror image is a template for both facings, as
    the training's independent query and search flips demand."""
    return np.ascontiguousarray(image[:, ::-1]), np.array([image.shape[1] - box[0] - box[2], box[1], box[2], box[3]])


def _zoom(image, box, factor: float):
    """The frame zoomed by ``factor`` about the target's centre, same size (cropped, or mean-grey around it), and
    the box in it (``query_zooms``); factor 1 is the frame itself."""
    if factor == 1.0:
        return image, box
    import cv2

    from globaltrack.trackers.globaltrack.preprocess import MEAN

    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    # x' = factor * (x - x0) with x0 = cx * (1 - 1/factor): the centre stays where it is
    x0, y0 = cx * (1 - 1 / factor), cy * (1 - 1 / factor)
    warp = np.array([[factor, 0, -x0 * factor], [0, factor, -y0 * factor]], dtype=np.float64)
    h, w = image.shape[:2]
    zoomed = cv2.warpAffine(image, warp, (w, h), flags=cv2.INTER_LINEAR,
                            borderValue=tuple(int(round(m)) for m in MEAN))
    return zoomed, np.array([(box[0] - x0) * factor, (box[1] - y0) * factor, box[2] * factor, box[3] * factor])


class GlobalTrackTracker(Tracker):
    """Options (strings from the CLI are accepted): ``weights`` (path, our or the official format), ``config``
    (``tiny`` | ``r50_fpn``; default: the one stored in / inferred from the weights), ``device`` (cpu | cuda),
    ``dtype`` (float32 | bfloat16 | float16, via autocast), ``batch`` (frames per forward pass in
    ``track_batch``), ``threshold`` (presence threshold on the top-1 score), ``source`` (rcnn | rpn: rpn reports
    the top-1 QG-RPN proposal, the ``globaltrack-qgrpn`` ablation), ``threads`` (torch CPU threads for this process;
    on a loaded machine 1 thread can be much faster than several, whose OpenMP workers wait for each other),
    ``proposals`` (how many QG-RPN proposals QG-RCNN scores per frame; default: the weights' config; the official
    code's 1000, where the box head's cost grows with the count), ``scale`` (``WxH``: the size frames are fit to
    before the network; default: the weights' config), ``query_flip`` (true: the query is the mean of the target's
    RoI feature and its mirror image's, see ``ModelConfig.test_query_flip``), ``query_zooms`` (``0.8,1,1.25``: the
    query is also the mean over these zooms of the first frame about the target, ``ModelConfig.test_query_zooms``),
    ``refine`` (N: the best ``refine_top`` detections through QG-RCNN's box regression N more times and re-ranked,
    ``ModelConfig.test_refine_passes``; 0: the official boxes and scores), ``distractors`` (a weight: the first
    frame's look-alikes as negative queries, ``ModelConfig.test_distractor_weight``; 0: off), ``target_fit`` (an
    L2 weight: a correction of the class logit fitted on the first frame, ``ModelConfig.test_target_fit``; 0: off);
    these default to the weights' config."""

    name = "globaltrack"
    is_deterministic = True

    def __init__(self, weights=None, config=None, device="cpu", dtype="float32", batch=8, threshold=None,
                 source="rcnn", model=None, threads=None, proposals=None, scale=None, query_flip=None,
                 query_zooms=None, refine=None, refine_top=None, distractors=None, target_fit=None):
        import torch

        from globaltrack.trackers.globaltrack.checkpoint import probe_checkpoint

        if str(dtype) not in DTYPES:
            raise UserError(f"dtype must be one of {', '.join(DTYPES)}, not '{dtype}'")
        if str(source) not in ("rcnn", "rpn"):
            raise UserError(f"source must be 'rcnn' or 'rpn', not '{source}'")
        device = str(device)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise UserError("device=cuda requested but CUDA is not available here")
        try:
            self.device = torch.device(device)
        except RuntimeError as err:
            raise UserError(f"bad device '{device}': {err}") from err
        try:
            self.batch = max(int(batch), 1)
            self._threshold_option = None if threshold is None else float(threshold)
        except ValueError as err:
            raise UserError(f"bad GlobalTrack option: {err}") from err
        if threads is not None:
            try:
                torch.set_num_threads(max(int(threads), 1))
            except ValueError as err:
                raise UserError(f"bad GlobalTrack option threads={threads!r}") from err
        self.dtype = getattr(torch, str(dtype))
        if self.dtype != torch.float32 and self.device.type == "cpu":
            # autocast on a CPU without native bfloat16/float16 kernels converts around every op: measured 1.5 s
            # against 52 ms per 640x360 frame for the default model on the 2-core machine
            warnings.warn(f"GlobalTrack dtype={dtype} on the CPU is usually far slower than float32 (about 30x here); "
                          "reduced precision is meant for CUDA", stacklevel=2)
        self.source = str(source)
        if model is None:
            if weights is None:
                raise UserError("GlobalTrack needs weights=PATH")
            path = probe_checkpoint(weights).resolve()
            stat = path.stat()
            model = _inference_model(str(path), stat.st_mtime_ns, stat.st_size,
                                     None if config is None else str(config), str(self.device))
        self.model = model.eval().to(self.device)
        # the tracker's own copy: the model is shared by every tracker of the process (_inference_model), so the
        # per-tracker test-time options live here and reach the model as arguments, never by changing its config
        self.config = _with_test_options(self.model.config, proposals, scale, query_flip, query_zooms, refine,
                                         refine_top, distractors, target_fit)
        # the weights' own presence threshold (stored in their config) unless the user gives one
        self.threshold = (self._threshold_option if self._threshold_option is not None
                          else float(getattr(self.config, "presence_threshold", 0.84)))
        self._query = None
        self._last_box = None

    # ------------------------------------------------------------------------------------------------ helpers
    def _autocast(self):
        import torch

        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def _prepare(self, images):
        from globaltrack.trackers.globaltrack.preprocess import pad_batch, preprocess_image

        prepared = [preprocess_image(im, self.config.test_image_scale or self.config.image_scale) for im in images]
        tensor = pad_batch([p.tensor for p in prepared], self.config.size_divisor).to(self.device)
        return prepared, tensor

    def _detect(self, images, source):
        import torch

        if self._query is None and self.config.modulate:
            raise RuntimeError("call init(image, box) before update/track_batch/candidates")
        out = []
        for start in range(0, len(images), self.batch):
            chunk = images[start:start + self.batch]
            prepared, tensor = self._prepare(chunk)
            with torch.no_grad(), self._autocast():
                dets = self.model.detect(tensor, [p.image_size for p in prepared], [p.scale for p in prepared],
                                         self._query, source=source, proposal_cfg=self.config.test_proposals,
                                         refine_passes=self.config.test_refine_passes,
                                         refine_top=self.config.test_refine_top,
                                         distractor_weight=self.config.test_distractor_weight)
            out += dets
        return out

    # ------------------------------------------------------------------------------------------------ interface
    def init(self, image, box) -> None:
        import torch

        box = np.asarray(box, dtype=np.float64).reshape(4)
        if not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            raise ValueError(f"GlobalTrack needs a non-empty initial box, got {box.tolist()}")
        self._query = None
        with torch.no_grad(), self._autocast():
            # QG-RCNN folded into fc6 (speed)
            self._query = self.model.embed_query_roi(self._query_feature(image, box), fold=True)
        if self.config.modulate and (self.config.test_distractor_weight > 0 or self.config.test_target_fit > 0):
            # the first frame's detections under the target query, before any re-scoring: where its look-alikes
            # come from and the fit's hardest negatives
            first = self._detect([image], "rcnn")[0]
            if self.config.test_distractor_weight > 0:
                self._query = dataclasses.replace(self._query, distractors=self._lookalikes(image, box, first))
            if self.config.test_target_fit > 0:
                self._query = dataclasses.replace(self._query, fit=self._first_frame_fit(image, box, first))
        self._last_box = box.copy()

    def _query_feature(self, image, box):
        """The mean RoI feature of ``box`` over the query's views (the one view itself for the official query);
        both modulators are linear in it, so the kernels of the mean are the mean of the views' kernels."""
        views = [(image, box)]  # the official query: the target in the first frame
        if self.config.modulate:
            views = [_zoom(image, box, z) for z in self.config.test_query_zooms]
            if self.config.test_query_flip:
                views += [_mirror(im, b) for im, b in views]
        return sum(self._query_roi(im, b) for im, b in views) / len(views)

    def _lookalikes(self, image, box, det):
        """``proj_z`` of the first frame's look-alikes (``DISTRACTOR_*``) among its detections ``det``, each over
        the query's views; None when there are none."""
        import torch

        from globaltrack.trackers.globaltrack.ops import box_iou_v1
        from globaltrack.trackers.globaltrack.preprocess import xywh_to_xyxy, xyxy_to_xywh

        boxes = det.boxes.float().cpu()
        overlap = box_iou_v1(boxes, torch.as_tensor(xywh_to_xyxy(box), dtype=torch.float32))[:, 0]
        keep = (det.scores.float().cpu() >= DISTRACTOR_MIN_SCORE) & (overlap < DISTRACTOR_MAX_IOU)
        if not keep.any():
            return None
        chosen = xyxy_to_xywh(boxes[keep][:DISTRACTOR_QUERIES].numpy())
        with torch.no_grad(), self._autocast():
            return torch.cat([self.model.rcnn_modulator.query(self._query_feature(image, b)) for b in chosen])

    def _first_frame_fit(self, image, box, det):
        """The sequence's correction ``(dw, db)`` of QG-RCNN's class logit (``target_fit``), fitted on the first
        frame: the target against its detections ``det`` and random boxes, features under the target query; None
        where nothing in the frame is away from the target (a target filling the frame: nothing to tell it from)."""
        import torch

        from globaltrack.trackers.globaltrack.preprocess import xywh_to_xyxy
        from globaltrack.trackers.globaltrack.target_fit import first_frame_samples, fit_logit_correction

        prepared, tensor = self._prepare([image])
        scale = prepared[0].scale
        pos, neg = first_frame_samples(xywh_to_xyxy(box)[0] * scale, prepared[0].image_size, det.boxes * scale)
        if neg.shape[0] == 0:
            return None
        boxes = torch.cat([pos, neg]).to(self.device)
        rois = torch.cat([boxes.new_zeros((boxes.shape[0], 1)), boxes], 1)
        heads = self.model.roi_heads
        with torch.no_grad(), self._autocast():
            query = self._query.rcnn_folded
            features = heads.head_features(self.model.extract_features(tensor), rois, query,
                                           self.model.rcnn_modulator)
            logits, _ = heads.box_predictor(features)
        labels = torch.cat([torch.ones(pos.shape[0]), torch.zeros(neg.shape[0])])
        dw, db = fit_logit_correction(features.cpu(), (logits[:, 1] - logits[:, 0]).cpu(), labels,
                                      self.config.test_target_fit)
        return dw.to(self.device), db.to(self.device)

    def _query_roi(self, image, box):
        """The query RoI feature of ``box`` (x, y, w, h) in ``image``."""
        import torch

        from globaltrack.trackers.globaltrack.preprocess import xywh_to_xyxy

        prepared, tensor = self._prepare([image])
        xyxy = xywh_to_xyxy(box) * prepared[0].scale
        xyxy[:, 0::2] = np.clip(xyxy[:, 0::2], 0, tensor.shape[3] - 1)
        xyxy[:, 1::2] = np.clip(xyxy[:, 1::2], 0, tensor.shape[2] - 1)
        boxes = torch.as_tensor(xyxy, dtype=torch.float32, device=self.device)
        return self.model.query_roi(self.model.extract_features(tensor), boxes)

    def _prediction(self, det) -> Prediction:
        from globaltrack.trackers.globaltrack.preprocess import xyxy_to_xywh

        if det.boxes.shape[0] == 0:
            return Prediction(self._last_box.copy(), score=0.0, present=False)
        box = xyxy_to_xywh(det.boxes[0].float().cpu().numpy())[0]
        score = float(det.scores[0]) if det.presence is None else det.presence
        self._last_box = box
        return Prediction(box, score=score, present=score >= self.threshold)

    def update(self, image) -> Prediction:
        return self._prediction(self._detect([image], self.source)[0])

    def track_batch(self, images) -> list[Prediction]:
        """N frames, ``batch`` per forward pass; the same results as N ``update`` calls."""
        return [self._prediction(d) for d in self._detect(list(images), self.source)]

    def candidates(self, image, k: int = 10, source: str | None = None):
        """The top-k QG-RCNN detections (``source="rcnn"``) or QG-RPN proposals (``"rpn"``): boxes (K, 4) xywh in
        original image coordinates and scores (K,), best first."""
        from globaltrack.trackers.globaltrack.preprocess import xyxy_to_xywh

        det = self._detect([image], source or self.source)[0]
        boxes = det.boxes[: int(k)].float().cpu().numpy()
        scores = det.scores[: int(k)].float().cpu().numpy().astype(np.float64)
        return xyxy_to_xywh(boxes) if len(boxes) else np.zeros((0, 4)), scores

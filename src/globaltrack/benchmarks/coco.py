"""COCO ``instances_*.json`` as training pairs for GlobalTrack (not a tracking benchmark, so not registered).

GlobalTrack trains its query-guided RPN and RCNN on COCO images too, pairing an instance with itself in the same
image (Huang et al., AAAI 2020, §4.1). `load_coco_instances` returns, per image, its path and the boxes worth
querying: crowd regions (``iscrowd == 1``) and boxes smaller than ``min_size`` pixels on a side are skipped, as are
images left with no box.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from globaltrack.errors import AnnotationError, UserError


def load_coco_instances(annotation_json: str | Path, image_dir: str | Path, *, min_size: float = 2.0
                        ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(image_path, boxes (M, 4) float64 x,y,w,h, category_ids (M,) int64), ...]`` in the JSON's image order."""
    annotation_json = Path(annotation_json)
    image_dir = Path(image_dir)
    if not image_dir.is_dir():
        raise UserError("COCO image folder not found", image_dir)
    try:
        data = json.loads(annotation_json.read_text())
    except FileNotFoundError:
        raise UserError("COCO annotation file not found", annotation_json) from None
    except json.JSONDecodeError as err:
        raise AnnotationError(f"not valid JSON: {err.msg}", annotation_json, err.lineno) from None
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise AnnotationError("not a COCO instances file (needs 'images' and 'annotations')", annotation_json)
    per_image: dict[int, list[tuple[list[float], int]]] = {}
    for k, ann in enumerate(data["annotations"]):
        try:
            if ann.get("iscrowd", 0):
                continue
            x, y, w, h = (float(v) for v in ann["bbox"])
            image_id, cat = ann["image_id"], int(ann["category_id"])
        except (KeyError, TypeError, ValueError):
            raise AnnotationError(f"annotation #{k} (id {ann.get('id', '?') if isinstance(ann, dict) else '?'}) "
                                  f"lacks a valid bbox/image_id/category_id", annotation_json) from None
        if w < min_size or h < min_size:
            continue
        per_image.setdefault(image_id, []).append(([x, y, w, h], cat))
    out = []
    for img in data["images"]:
        anns = per_image.get(img.get("id"))
        if not anns:
            continue
        boxes = np.asarray([a[0] for a in anns], dtype=np.float64).reshape(-1, 4)
        cats = np.asarray([a[1] for a in anns], dtype=np.int64)
        out.append((str(image_dir / img["file_name"]), boxes, cats))
    return out

"""Still-image detection sets in the two formats users hold most often, as ``ImagePairs`` items.

- **YOLO text** (ultralytics / darknet layout): ``<root>/images/<split>/<stem>.jpg`` with
  ``<root>/labels/<split>/<stem>.txt``, one row ``class cx cy w h`` per object, all four normalised to 0..1 by the
  image's width and height (``<root>/images/`` + ``<root>/labels/`` without a split folder works too). An image
  without a label file has no objects; a label file without its image is skipped.
- **Pascal VOC xml**: ``<root>/Annotations/*.xml`` (or ``annotations/``) beside ``JPEGImages/`` (or ``images/``);
  ``<bndbox>`` corners are 1-based and inclusive, so x = xmin - 1 and w = xmax - xmin + 1. Objects marked
  ``<difficult>1</difficult>`` are left out, as mmdetection's VOC loader ignores them.

Items are dicts ``{"path", "boxes" (N, 4) x, y, w, h in pixels, "labels" [class names]}``. A malformed row or file
raises a ``UserError`` naming the file (and line).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from globaltrack.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG")


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header (no decoding)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except OSError as err:
        raise UserError(f"cannot read image: {err}", path) from err


def _find_image(folder: Path, stem: str) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        p = folder / f"{stem}{suffix}"
        if p.is_file():
            return p
    return None


def read_yolo_labels(path: Path, width: int, height: int, names: list[str] | None = None):
    """One YOLO label file -> (boxes (N, 4) xywh pixels, class labels)."""
    boxes, labels = [], []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 5:
            raise UserError(f"expected 'class cx cy w h', got {line.strip()!r}", path, lineno)
        try:
            cls = int(float(parts[0]))
            cx, cy, w, h = (float(v) for v in parts[1:5])
        except ValueError as err:
            raise UserError(f"not a number in {line.strip()!r}", path, lineno) from err
        if not all(np.isfinite([cx, cy, w, h])) or w < 0 or h < 0:
            raise UserError(f"bad box {line.strip()!r}", path, lineno)
        boxes.append([(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height])
        labels.append(names[cls] if names and 0 <= cls < len(names) else str(cls))
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4), labels


def yolo_class_names(root: Path) -> list[str] | None:
    """Class names from ``<root>/*.yaml`` (``names:`` as a list or an ``index: name`` mapping), if any."""
    for cfg in sorted(Path(root).glob("*.yaml")):
        names: dict[int, str] = {}
        in_names = False
        for line in cfg.read_text().splitlines():
            if line.strip().startswith("names:"):
                in_names = True
                rest = line.split(":", 1)[1].strip()
                if rest.startswith("["):
                    return [n.strip().strip("'\"") for n in rest.strip("[]").split(",")]
                continue
            if in_names:
                if not line.startswith((" ", "\t", "-")):
                    break
                key, _, value = line.strip().partition(":")
                if value and key.strip().isdigit():
                    names[int(key)] = value.strip().strip("'\"")
                elif key.startswith("-"):
                    names[len(names)] = key[1:].strip().strip("'\"")
        if names:
            return [names[i] for i in sorted(names)]
    return None


def load_yolo(root, split: str | None = None) -> list[dict]:
    """Every image of a YOLO-format set (one split, or all images when ``split`` is None and there are no split
    folders) with its boxes."""
    root = Path(root)
    images = root / "images" / split if split else root / "images"
    labels = root / "labels" / split if split else root / "labels"
    if not images.is_dir():
        raise UserError("no YOLO image folder (expected images/<split>/ beside labels/<split>/)", images)
    names = yolo_class_names(root)
    items = []
    for img in sorted(p for p in images.iterdir() if p.suffix in IMAGE_SUFFIXES):
        label = labels / f"{img.stem}.txt"
        width, height = _image_size(img)
        if label.is_file():
            boxes, classes = read_yolo_labels(label, width, height, names)
        else:
            boxes, classes = np.zeros((0, 4)), []
        items.append({"path": str(img), "boxes": boxes, "labels": classes, "size": (width, height)})
    return items


def read_voc_xml(path: Path, keep_difficult: bool = False):
    """One VOC annotation -> (filename, (width, height) or None, boxes (N, 4) xywh pixels, class names)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise UserError(f"malformed VOC xml: {err}", path) from err
    filename = (root.findtext("filename") or "").strip()
    size = root.find("size")
    wh = None
    if size is not None and size.findtext("width") and size.findtext("height"):
        wh = (int(float(size.findtext("width"))), int(float(size.findtext("height"))))
    boxes, names = [], []
    for obj in root.iter("object"):
        if not keep_difficult and (obj.findtext("difficult") or "0").strip() == "1":
            continue
        bb = obj.find("bndbox")
        if bb is None:
            raise UserError(f"object '{obj.findtext('name')}' has no <bndbox>", path)
        try:
            x1, y1, x2, y2 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError) as err:
            raise UserError(f"bad <bndbox> of object '{obj.findtext('name')}'", path) from err
        if x2 < x1 or y2 < y1:
            raise UserError(f"<bndbox> with xmax < xmin or ymax < ymin ({x1}, {y1}, {x2}, {y2})", path)
        boxes.append([x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1])
        names.append((obj.findtext("name") or "").strip())
    return filename, wh, np.asarray(boxes, dtype=np.float64).reshape(-1, 4), names


def _first_dir(root: Path, *names: str) -> Path | None:
    for n in names:
        if (root / n).is_dir():
            return root / n
    return None


def load_voc(root, image_set: str | None = None) -> list[dict]:
    """Every annotated image of a VOC-layout set; ``image_set`` picks ``ImageSets/Main/<image_set>.txt``."""
    root = Path(root)
    ann_dir = _first_dir(root, "Annotations", "annotations")
    img_dir = _first_dir(root, "JPEGImages", "images", "Images")
    if ann_dir is None or img_dir is None:
        raise UserError("not a VOC layout (expected Annotations/ and JPEGImages/, or annotations/ and images/)",
                        root)
    xmls = sorted(ann_dir.glob("*.xml"))
    if image_set:
        listing = root / "ImageSets" / "Main" / f"{image_set}.txt"
        if not listing.is_file():
            raise UserError("image set list not found", listing)
        wanted = {line.split()[0] for line in listing.read_text().splitlines() if line.strip()}
        xmls = [x for x in xmls if x.stem in wanted]
    items = []
    for xml in xmls:
        filename, wh, boxes, names = read_voc_xml(xml)
        img = img_dir / filename if filename and (img_dir / filename).is_file() else _find_image(img_dir, xml.stem)
        if img is None:
            continue  # an annotation without its image
        items.append({"path": str(img), "boxes": boxes, "labels": names, "size": wh or _image_size(img)})
    return items


def load_detection_set(fmt: str, root, split: str | None = None) -> list[dict]:
    if fmt == "yolo":
        return load_yolo(root, split)
    if fmt == "voc":
        return load_voc(root, split)
    raise UserError(f"unknown detection set format '{fmt}' (known: yolo, voc)")


__all__ = ["load_yolo", "load_voc", "load_detection_set", "read_yolo_labels", "read_voc_xml", "yolo_class_names"]

"""COCO instances as training pairs: crowd and tiny boxes skipped."""
import json

import numpy as np
import pytest

from globaltrack.benchmarks.coco import load_coco_instances
from globaltrack.errors import AnnotationError


def test_load_coco_instances(tmp_path):
    (tmp_path / "images").mkdir()
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}, {"id": 3, "file_name": "c.jpg"}],
        "annotations": [
            {"id": 10, "image_id": 1, "bbox": [1, 2, 30, 40], "category_id": 5, "iscrowd": 0},
            {"id": 11, "image_id": 1, "bbox": [5, 5, 1, 40], "category_id": 5, "iscrowd": 0},    # tiny
            {"id": 12, "image_id": 1, "bbox": [0, 0, 50, 50], "category_id": 7, "iscrowd": 1},   # crowd
            {"id": 13, "image_id": 2, "bbox": [3, 4, 10.5, 12], "category_id": 9},
            {"id": 14, "image_id": 3, "bbox": [3, 4, 10, 12], "category_id": 9, "iscrowd": 1},   # only crowd
        ],
        "categories": [{"id": 5}, {"id": 7}, {"id": 9}],
    }
    ann = tmp_path / "instances_val.json"
    ann.write_text(json.dumps(data))
    out = load_coco_instances(ann, tmp_path / "images")
    assert [p.rsplit("/", 1)[1] for p, _, _ in out] == ["a.jpg", "b.jpg"]
    assert np.array_equal(out[0][1], [[1, 2, 30, 40]]) and out[0][2].tolist() == [5]
    assert out[1][1].tolist() == [[3, 4, 10.5, 12]] and out[1][2].tolist() == [9]


def test_bad_coco_file(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "x.json").write_text('{"images": [], "annotations": [{"image_id": 1}]}')
    with pytest.raises(AnnotationError, match="x.json: annotation #0"):
        load_coco_instances(tmp_path / "x.json", tmp_path / "images")

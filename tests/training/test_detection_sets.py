"""YOLO-txt and VOC-xml pair sources, and the scale/crop augmentation that keeps instance k the same object."""
import numpy as np
import pytest
from PIL import Image

from globaltrack.errors import UserError
from globaltrack.training.detection_sets import load_voc, load_yolo
from globaltrack.training.image_augment import scale_crop
from globaltrack.training.pairs import ImagePairs, Pair


def _image(path, w=200, h=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(path)


def test_yolo_rows_are_normalised_centres(tmp_path):
    _image(tmp_path / "images" / "train" / "a.jpg")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("3 0.5 0.5 0.2 0.4\n0 0.1 0.2 0.1 0.2\n")
    (tmp_path / "data.yaml").write_text("names:\n  0: person\n  1: x\n  2: y\n  3: zebra\n")
    _image(tmp_path / "images" / "train" / "b.jpg")  # no label file: no objects
    items = load_yolo(tmp_path, "train")
    assert [len(i["boxes"]) for i in items] == [2, 0]
    np.testing.assert_allclose(items[0]["boxes"][0], [80, 30, 40, 40])
    assert items[0]["labels"] == ["zebra", "person"]
    assert len(ImagePairs(items)) == 1


def test_yolo_bad_row_names_file_and_line(tmp_path):
    _image(tmp_path / "images" / "a.jpg")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.5 oops 0.2 0.2\n")
    with pytest.raises(UserError, match=r"a\.txt:2"):
        load_yolo(tmp_path)


def test_voc_corners_are_one_based_inclusive(tmp_path):
    _image(tmp_path / "JPEGImages" / "x.jpg")
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "x.xml").write_text(
        "<annotation><filename>x.jpg</filename><size><width>200</width><height>100</height></size>"
        "<object><name>cell</name><difficult>0</difficult><bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax>"
        "<ymax>60</ymax></bndbox></object>"
        "<object><name>cell</name><difficult>1</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>"
        "<ymax>5</ymax></bndbox></object></annotation>")
    items = load_voc(tmp_path)
    np.testing.assert_allclose(items[0]["boxes"], [[10, 20, 30, 40]])
    (tmp_path / "Annotations" / "y.xml").write_text("<annotation><object>")
    with pytest.raises(UserError, match=r"y\.xml"):
        load_voc(tmp_path)


def test_scale_crop_keeps_instances_paired():
    img = np.zeros((200, 300, 3), np.uint8)
    boxes = np.array([[10, 10, 49, 49], [200, 100, 279, 179]], np.float32)
    img[10:50, 10:50] = 255
    img[100:180, 200:280] = 128
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = scale_crop(Pair(img, boxes, img.copy(), boxes.copy()), rng)
        assert len(p.query_boxes) == len(p.search_boxes) >= 1
        for qb, sb in zip(p.query_boxes, p.search_boxes):
            # the same object in both: its mean colour identifies it
            q = p.query_image[int(qb[1]):int(qb[3]) + 1, int(qb[0]):int(qb[2]) + 1].mean()
            s = p.search_image[int(sb[1]):int(sb[3]) + 1, int(sb[0]):int(sb[2]) + 1].mean()
            assert abs(q - s) < 40

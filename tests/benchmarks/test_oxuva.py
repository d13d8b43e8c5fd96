"""OxUvA with the real dev annotations and task lists, in the release and the repository layouts."""
import csv

import numpy as np
import pytest

from globaltrack.benchmarks import load_sequences
from globaltrack.benchmarks.oxuva import OxUvA
from globaltrack.errors import AnnotationError


@pytest.fixture
def ox(shared):
    return shared / "data" / "annotations" / "oxuva"


@pytest.fixture
def release_root(ox, tmp_path, link):
    link(ox / "tasks", tmp_path / "oxuva" / "tasks")
    link(ox / "dev.csv", tmp_path / "oxuva" / "annotations" / "dev.csv")
    return tmp_path / "oxuva"


def _csv(path):
    with open(path, newline="") as f:
        return [r for r in csv.reader(f) if r]


def test_dev_tasks_and_labels(release_root, ox):
    seqs = load_sequences("oxuva", str(release_root))
    tasks = _csv(ox / "tasks" / "dev.csv")
    assert [s.name for s in seqs] == [f"{t[0]}_{t[1]}" for t in tasks] and len(seqs) == 200
    labels = _csv(ox / "dev.csv")
    init = {(t[0], t[1]): int(t[2]) for t in tasks}
    after_init = [r for r in labels if int(r[6]) > init[(r[0], r[1])]]
    # every label but the init frame's is scored (oxuva make_task_from_track)
    assert sum(len(s.metadata["label_frames"]) for s in seqs) == len(after_init) == len(labels) - 200
    assert sum(int(s.absent.sum()) for s in seqs) == sum(r[7] == "absent" for r in after_init)
    seq = seqs[0]
    t = tasks[0]
    assert len(seq.ground_truth) == int(t[3]) - int(t[2]) + 1
    assert seq.metadata["box_units"] == "normalized" and seq.frames == []
    xmin, xmax, ymin, ymax = map(float, t[4:8])
    assert seq.ground_truth[0] == pytest.approx([xmin, ymin, xmax - xmin, ymax - ymin])
    assert np.isnan(seq.ground_truth[1:30]).all()  # unlabelled frames are unknown
    assert OxUvA.default_protocol == "oxuva" and seq.metadata["benchmark"] == "oxuva"
    alias = f"{t[0]}_{t[1]}_frames[{int(t[2]):06d}:{int(t[3]) + 1:06d}]"  # pytracking's name (spec §2.5)
    assert load_sequences("oxuva", str(release_root), names=[alias])[0].name == seq.name


def test_repository_layout_and_pixel_boxes(ox, tmp_path, link, write_images):
    root = tmp_path / "repo"
    link(ox / "tasks", root / "dataset" / "tasks")
    link(ox / "dev.csv", root / "dataset" / "annotations" / "dev.csv")
    task = _csv(ox / "tasks" / "dev.csv")[0]
    video, init = task[0], int(task[2])
    write_images(root / "images" / "dev" / video, [f"{init:06d}.jpeg"], size=(640, 360))
    seq = load_sequences("oxuva", str(root), names=[f"{task[0]}_{task[1]}"])[0]
    assert seq.metadata["image_size"] == (640, 360) and seq.metadata["box_units"] == "pixels"
    xmin, xmax, ymin, ymax = map(float, task[4:8])
    assert seq.ground_truth[0] == pytest.approx([xmin * 640, ymin * 360, (xmax - xmin) * 640, (ymax - ymin) * 360])
    assert seq.frames[0].endswith(f"dev/{video}/{init:06d}.jpeg") and len(seq.frames) == len(seq.ground_truth)
    lf = seq.metadata["label_frames"]
    present = seq.metadata["label_present"]
    boxes = seq.metadata["label_boxes"]
    k = int(np.flatnonzero(present)[0])
    b = boxes[k]
    assert seq.ground_truth[lf[k] - init] == pytest.approx([b[0] * 640, b[2] * 360, (b[1] - b[0]) * 640,
                                                           (b[3] - b[2]) * 360])


def test_test_split_has_tasks_only(release_root, ox):
    seqs = load_sequences("oxuva", str(release_root), split="test")
    assert len(seqs) == len(_csv(ox / "tasks" / "test.csv")) == 166
    assert all(len(s.metadata["label_frames"]) == 0 for s in seqs)
    assert all(not np.isnan(s.ground_truth[0]).any() and np.isnan(s.ground_truth[1:]).all() for s in seqs)


def test_bad_rows_name_file_and_line(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "dev.csv").write_text("vid0,obj0,0,90,0.1,0.2,0.3,0.4\nvid1,obj0,0,x,0.1,0.2,0.3,0.4\n")
    with pytest.raises(AnnotationError, match=r"tasks/dev.csv:2: non-numeric value 'x' in column 4"):
        load_sequences("oxuva", str(tmp_path))
    (tmp_path / "tasks" / "dev.csv").write_text("vid0,obj0,0,90,0.1,0.2,0.3\n")
    with pytest.raises(AnnotationError, match=r"tasks/dev.csv:1: expected 8 columns"):
        load_sequences("oxuva", str(tmp_path))

"""Each submission server builds, validates and reads back its own files (one module each under
results/servers/); the registry finds them by benchmark name and alias."""
from __future__ import annotations

import numpy as np
import pytest

from globaltrack.errors import UserError
from globaltrack.results.servers import SERVERS, get_server
from globaltrack.results.servers._common import ExpectedSequence, Problems
from globaltrack.results.store import ResultStore, SequenceResult

BOXES = np.array([[10.0, 20.0, 30.0, 40.0], [11.25, 21.5, 29.0, 41.0], [12.0, 22.0, 28.5, 39.75]])


def _store(tmp_path, runs=("T",)):
    store = ResultStore(tmp_path)
    for k, run in enumerate(runs):
        store.write("b", run, "seq1", SequenceResult(BOXES + k, scores=np.array([1.0, 0.8, 0.4]),
                                                     present=np.array([True, True, False]),
                                                     times=np.array([0.5, 0.01, 0.02])))
    return store


def test_registry_knows_every_server():
    assert {"trackingnet", "got10k", "oxuva", "lasot", "tlp", "synthetic"} <= set(SERVERS.names())
    assert get_server("got-10k").name == "got10k" and get_server("trackingnet").official_count == 511
    with pytest.raises(UserError, match="unknown submission format 'nope'"):
        get_server("nope")


@pytest.mark.parametrize("name", ["trackingnet", "lasot", "tlp", "synthetic"])
def test_box_file_servers_round_trip(tmp_path, name):
    server = get_server(name)
    expected = {"seq1": ExpectedSequence("seq1", frames=3)}
    files = server.build(_store(tmp_path), "b", ["T"], expected)
    assert list(files) == ["seq1.txt"]
    problems = Problems()
    server.validate(files, expected, problems)
    assert problems.lines == []
    back = server.read(files)["seq1"].boxes
    assert np.allclose(back, BOXES, atol=0.005 if name == "trackingnet" else 5e-5)   # %.2f / %.4f


def test_got10k_round_trip_with_repeated_runs_and_times(tmp_path):
    server = get_server("got10k")
    expected = {"seq1": ExpectedSequence("seq1", frames=3)}
    files = server.build(_store(tmp_path, ("r1", "r2")), "b", ["r1", "r2"], expected)
    assert sorted(files) == ["seq1/seq1_001.txt", "seq1/seq1_002.txt", "seq1/seq1_time.txt"]
    problems = Problems()
    server.validate(files, expected, problems)
    assert problems.lines == []
    second = server.read(files, repetition=2)["seq1"]
    assert np.allclose(second.boxes, BOXES + 1, atol=5e-4) and np.allclose(second.times, [0.5, 0.01, 0.02])


def test_oxuva_round_trip(tmp_path):
    server = get_server("oxuva")
    expected = {"vid_obj": ExpectedSequence("vid_obj", frames=3, frame_numbers=[30, 31, 32], video="vid",
                                            object="obj", init_frame=30, last_frame=32, image_size=(100, 200))}
    store = ResultStore(tmp_path)
    store.write("b", "T", "vid_obj", SequenceResult(BOXES, scores=np.array([1.0, 0.8, 0.4]),
                                                    present=np.array([True, True, False])))
    files = server.build(store, "b", ["T"], expected)
    problems = Problems()
    server.validate(files, expected, problems)
    assert problems.lines == []
    back = server.read(files)["vid_obj"]          # the init frame is not part of a submission
    assert np.allclose(back.boxes, BOXES[1:] / [100, 200, 100, 200], atol=1e-6)
    assert back.present.tolist() == [True, False] and np.allclose(back.scores, [0.8, 0.4])

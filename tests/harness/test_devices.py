"""Multi-device inference placement (issue 12 part 4), on the CPU with a fake device list: one worker per device,
never two sequences on one device at once, longest sequences first, the device index outside the resume key."""
import threading
import time

import pytest

from globaltrack.errors import UserError
from globaltrack.harness.devices import device_options, parse_device_list
from globaltrack.harness.runner import run_trackers
from globaltrack.results.store import ResultStore
from globaltrack.trackers import register_tracker
from globaltrack.trackers.diagnostic import StaticTracker

EVENTS: list = []
_LOCK = threading.Lock()


class _DeviceRecorder(StaticTracker):
    """Records (event, device, sequence length, time) for init and for its last frame; sleeps a little per frame so
    that jobs overlap."""

    def __init__(self, device, **options):
        super().__init__()
        self.device = device

    def set_sequence(self, sequence):
        self._n = len(sequence)
        with _LOCK:
            EVENTS.append(("start", self.device, self._n, time.perf_counter()))
        self._seen = 1

    def update(self, image):
        time.sleep(0.002)
        self._seen += 1
        if self._seen == self._n:
            with _LOCK:
                EVENTS.append(("end", self.device, self._n, time.perf_counter()))
        return super().update(image)


register_tracker("test-device-recorder", test_only=True)(lambda **o: _DeviceRecorder(**o))


def test_parse_devices_and_gpu_defaults():
    assert parse_device_list("cuda:0,cuda:1") == ["cuda:0", "cuda:1"]
    assert parse_device_list(gpus=3) == ["cuda:0", "cuda:1", "cuda:2"]
    assert parse_device_list() is None
    for bad in ("cuda:0,cuda:0", "gpu:1", "cuda:0,cpu", "cuda"):
        with pytest.raises(UserError):
            parse_device_list(bad)
    assert device_options(["cuda:0", "cuda:1"], {"batch": "4"}) == {"device": "cuda", "dtype": "bfloat16",
                                                                    "batch": "4"}
    assert device_options(["cpu", "cpu"], {}) == {"device": "cpu"}


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_one_worker_per_fake_device_longest_first(tiny_sequences, tmp_path, backend):
    import dataclasses

    # sequences of different lengths: cut the tiny ones to 30, 24, 18, 12 frames
    seqs = [dataclasses.replace(s, frames=s.frames[:n], ground_truth=s.ground_truth[:n],
                                absent=s.absent[:n] if getattr(s, "absent", None) is not None else None)
            for s, n in zip(tiny_sequences, (12, 30, 18, 24))]
    fake = ["fake:0", "fake:1"]
    EVENTS.clear()
    store = ResultStore(tmp_path)
    summary = run_trackers([("test-device-recorder", {"device": "fake"})], seqs, "synthetic", store, quiet=True,
                           backend=backend, devices=fake)
    assert summary.ok and len(summary.done["test-device-recorder"]) == 4
    if backend == "loky":  # worker processes: the events stay there; results and manifest tell the placement
        m = store.read_manifest("synthetic", "test-device-recorder")
        assert m["run"]["jobs"] == 2 and m["run"]["devices"] == fake
        return
    starts = [e for e in EVENTS if e[0] == "start"]
    assert {e[1] for e in starts} == set(fake)            # every job got a real device, never the kind "fake"
    assert {e[2] for e in starts[:2]} == {30, 24}         # the two longest start first, one on each device
    assert {starts[0][1], starts[1][1]} == set(fake)
    # never two sequences on one device at the same time
    ends = {e[2]: e[3] for e in EVENTS if e[0] == "end"}
    for dev in fake:
        spans = sorted((s[3], ends[s[2]]) for s in starts if s[1] == dev)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    # the resume key holds the options as given (device kind), not the index: a rerun on other devices reuses all
    again = run_trackers([("test-device-recorder", {"device": "fake"})], seqs, "synthetic", store, quiet=True,
                         backend=backend, devices=["fake:7", "fake:8"])
    assert len(again.skipped["test-device-recorder"]) == 4


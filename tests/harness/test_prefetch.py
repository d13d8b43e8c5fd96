import threading
import time

import numpy as np
import pytest

from globaltrack.errors import UserError
from globaltrack.harness.prefetch import FramePrefetcher, decode_frame


def test_frames_come_in_order_and_decoded_ahead_within_the_bound():
    decoded = []

    def decode(i):
        decoded.append(i)
        return np.full((2, 2, 3), i, np.uint8)

    with FramePrefetcher(range(20), depth=3, decode=decode) as frames:
        it = iter(frames)
        assert int(next(it)[0, 0, 0]) == 0
        time.sleep(0.2)
        # one frame consumed, at most `depth` in the queue and one being put: never the whole sequence
        assert len(decoded) <= 1 + 3 + 1
        rest = [int(f[0, 0, 0]) for f in it]
    assert rest == list(range(1, 20))


def test_decode_error_is_raised_at_its_frame():
    def decode(i):
        if i == 2:
            raise UserError("cannot decode frame", f"f{i}.jpg")
        return i

    got = []
    with pytest.raises(UserError, match="f2.jpg"):
        with FramePrefetcher(range(5), decode=decode) as frames:
            for f in frames:
                got.append(f)
    assert got == [0, 1]


def test_close_stops_the_thread_when_the_consumer_stops_early():
    before = threading.active_count()
    p = FramePrefetcher(range(1000), depth=2, decode=lambda i: i)
    with p as frames:
        next(iter(frames))
    assert not p._thread.is_alive()
    assert threading.active_count() == before


def test_unreadable_and_missing_frames_are_user_errors_naming_the_file(tmp_path):
    bad = tmp_path / "00000001.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match=r"00000001.jpg: cannot decode frame"):
        decode_frame(bad)
    with pytest.raises(UserError, match=r"missing.jpg: frame file is missing"):
        decode_frame(tmp_path / "missing.jpg")

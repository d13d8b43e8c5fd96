"""Frame prefetching: a background thread decodes frames ahead of the tracker into a bounded queue.

Decoding (JPEG -> RGB array) then overlaps with tracking instead of adding to it, and the per-frame times the runner
records measure the tracker alone. The queue is bounded (``depth`` frames) so a fast decoder never holds a whole
sequence in memory. PIL releases the GIL while decoding, so the thread runs truly alongside the tracker.
"""
from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import Callable, Iterator, Sequence as _Seq

import numpy as np

from globaltrack.errors import FrameError
from globaltrack.sequence import read_image

_END = object()


def decode_frame(path: str | Path) -> np.ndarray:
    """`read_image`, with an unreadable file reported as a `FrameError` naming the file."""
    try:
        return read_image(path)
    except FileNotFoundError:
        raise FrameError("frame file is missing", path) from None
    except Exception as err:  # PIL.UnidentifiedImageError, truncated files, permission errors
        try:
            empty = os.path.getsize(path) == 0
        except OSError:
            empty = False
        if empty:
            raise FrameError("frame file is empty (0 bytes)", path) from None
        raise FrameError(f"cannot decode frame ({type(err).__name__}: {err})", path) from None


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class FramePrefetcher:
    """Iterate decoded frames of ``paths`` in order, decoding up to ``depth`` frames ahead in a daemon thread.

    Use as a context manager (or call `close`) so that stopping early (a tracker failure) stops the thread.
    A decoding error is raised by the iterator at the frame where it happened.
    """

    def __init__(self, paths: _Seq[str | Path], depth: int = 8,
                 decode: Callable[[str | Path], np.ndarray] = decode_frame):
        self.paths = list(paths)
        self.depth = max(1, int(depth))
        self.decode = decode
        self._queue: queue.Queue = queue.Queue(maxsize=self.depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="frame-prefetch", daemon=True)
        self._started = False

    def _put(self, item) -> bool:
        # Poll the stop flag while the queue is full, so `close` never leaves the thread blocked forever.
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        for path in self.paths:
            if self._stop.is_set():
                return
            try:
                item = self.decode(path)
            except BaseException as err:  # hand every error to the consumer, who raises it in its own thread
                self._put(_Failure(err))
                return
            if not self._put(item):
                return
        self._put(_END)

    def __iter__(self) -> Iterator[np.ndarray]:
        if not self._started:
            self._started = True
            self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def close(self) -> None:
        self._stop.set()
        if self._started:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FramePrefetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Resume keys: a sequence's result is reused only when it was produced under the same content key.

The key hashes what the result depends on: the tracker name, its options, the package version and the sequence's
annotation (`Sequence.annotation_key`: ground truth, absence flags, frame count). A result whose key file is missing
(the run was killed before it finished, or it failed) or differs is recomputed. The result store writes the key
last, so a key on disk always describes a complete result.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from globaltrack import __version__
from globaltrack.results.store import ResultStore
from globaltrack.sequence import Sequence


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _option_value(value: Any) -> str:
    """An option's part of the key. A value naming a file (weights, ONNX models) also contributes the file's content
    hash: retrained weights written to the same path must not be mistaken for the ones a result was produced with."""
    text = str(value)
    try:
        p = Path(text)
        if p.is_file():
            st = p.stat()
            return f"{text}#sha1={_file_digest(str(p.resolve()), st.st_size, st.st_mtime_ns)}"
    except (OSError, ValueError):
        pass
    return text


def content_key(tracker: str, options: Mapping[str, Any], sequence: Sequence, version: str = __version__) -> str:
    """The content key of (tracker, options, sequence) under package ``version``."""
    payload = {
        "tracker": tracker.lower(),
        "options": {str(k): _option_value(v) for k, v in sorted(options.items())},
        "version": version,
        "annotation": sequence.annotation_key(),
    }
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def is_complete(store: ResultStore, benchmark: str, tracker: str, sequence: str, key: str) -> bool:
    """True when the stored result of ``sequence`` exists and was produced under ``key``."""
    return store.box_path(benchmark, tracker, sequence).is_file() and \
        store.read_key(benchmark, tracker, sequence) == key


def discard(store: ResultStore, benchmark: str, tracker: str, sequence: str) -> None:
    """Remove a sequence's stored result (key first, so nothing is ever left looking complete)."""
    for path in (store.key_path(benchmark, tracker, sequence), store.box_path(benchmark, tracker, sequence),
                 store.sidecar_path(benchmark, tracker, sequence)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass

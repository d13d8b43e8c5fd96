"""Progress of a run: one tqdm bar counting frames (done/total, frames per second, ETA).

Silent with ``quiet`` or when stderr is not a terminal (CI logs, pipes), so logs hold only the final summary.
The bar advances per finished sequence: workers run in other processes (or machines), and a finished sequence is
the unit the runner learns about.
"""
from __future__ import annotations

import sys


class RunProgress:
    def __init__(self, total_frames: int, description: str = "tracking", quiet: bool = False, stream=None):
        stream = sys.stderr if stream is None else stream
        self.enabled = not quiet and hasattr(stream, "isatty") and stream.isatty()
        self._bar = None
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=int(total_frames), desc=description, unit="frame", unit_scale=True,
                             dynamic_ncols=True, file=stream, smoothing=0.1)

    def advance(self, frames: int, failed: int = 0, last: str | None = None) -> None:
        if self._bar is None:
            return
        postfix = {}
        if failed:
            postfix["failed"] = failed
        if last:
            postfix["last"] = last
        if postfix:
            self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(int(frames))

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "RunProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def plural(n: int, noun: str) -> str:
    """``1 sequence``, ``2 sequences``; ``box`` -> ``boxes``: every count a user reads goes through here."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}{'es' if noun.endswith(('x', 's')) else 's'}"

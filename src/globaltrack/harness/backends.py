"""Parallel backends for the runner, all through joblib so the runner's code is the same for each.

- ``loky`` (default): worker processes on this machine (``jobs`` of them); ``jobs=1`` runs in this process.
- ``threading``: worker threads (useful for trackers that release the GIL, e.g. torch or OpenCV ones).
- ``dask``: an existing Dask cluster, through joblib's dask backend (``scheduler="tcp://HOST:PORT"`` or a
  ``dask.distributed.Client``). Workers must see the dataset's frame paths; results come back to this process,
  which writes them, so the workers need no access to the results folder.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from globaltrack.errors import UserError

BACKENDS = ("loky", "threading", "dask")


def check_backend(backend: str, jobs: int, scheduler: Any = None) -> tuple[str, int]:
    """Validate the backend arguments (before a run writes anything); returns the normalised backend and jobs."""
    backend = (backend or "loky").lower()
    if backend not in BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(BACKENDS)}")
    if jobs is None:
        jobs = 1
    jobs = int(jobs)
    if jobs == 0 or jobs < -1:
        raise UserError(f"--jobs must be a positive number (or -1 for all cores), got {jobs}")
    if backend != "dask" and scheduler is not None:
        raise UserError("--scheduler only applies to --backend dask")
    if backend == "dask" and scheduler is None:
        raise UserError("--backend dask needs --scheduler tcp://HOST:PORT (the address of a running Dask scheduler)")
    return backend, jobs


@contextlib.contextmanager
def parallel_backend(backend: str = "loky", jobs: int = 1, scheduler: Any = None) -> Iterator[dict[str, Any]]:
    """Configure joblib for ``backend``; yields the keyword arguments for `joblib.Parallel` and a description."""
    import joblib

    backend, jobs = check_backend(backend, jobs, scheduler)
    if backend != "dask":
        with joblib.parallel_config(backend=backend, n_jobs=jobs):
            yield {"n_jobs": jobs, "describe": f"{backend} x{jobs}"}
        return

    try:
        from dask.distributed import Client
    except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
        raise UserError(f"--backend dask needs dask.distributed ({err})") from None
    own_client = not isinstance(scheduler, Client)
    if own_client:
        try:
            client = Client(scheduler, timeout="10s", set_as_default=True)
        except (OSError, TimeoutError, ValueError) as err:
            raise UserError(f"cannot connect to the Dask scheduler at {scheduler} ({err})") from None
    else:
        client = scheduler
    try:
        address = getattr(client.scheduler, "address", str(scheduler))
        # n_jobs=-1: as many concurrent tasks as the cluster has worker threads; --jobs N caps it.
        with joblib.parallel_config(backend="dask", n_jobs=jobs if jobs > 1 else -1, client=client):
            yield {"n_jobs": jobs if jobs > 1 else -1, "describe": f"dask at {address}"}
    except BaseException:
        # A run stopped early (user error, Ctrl-C) leaves tasks in flight; the client logs warnings and tracebacks
        # about them while closing, which would bury the one-line error.
        with _quiet_dask_logs():
            if own_client:
                client.close()
        raise
    else:
        if own_client:
            client.close()


@contextlib.contextmanager
def _quiet_dask_logs():
    import logging

    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)

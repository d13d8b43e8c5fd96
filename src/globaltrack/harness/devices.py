"""Placing tracker workers on devices: ``globaltrack run --devices cuda:0,cuda:1`` (or ``--gpus N``).

One worker per device. The runner sends sequences longest first; each job takes a free device from a pool of
device tokens when it starts and gives it back when it ends, so the N workers hold the N devices, never two jobs on
one device, and whichever device frees first takes the next-longest sequence (greedy longest-processing-time
balancing; a fresh tracker is built per sequence anyway). The pool is a ``queue.Queue`` for workers in this
process (threads, or one job) and a ``multiprocessing.Manager`` queue for loky worker processes.

With ``--backend dask`` there is no pool: every task asks for ``device=cuda``, i.e. the GPU its own worker's machine
gives it (``CUDA_VISIBLE_DEVICES`` per Dask worker, as ``dask-cuda`` sets it).

The device index is not part of a result's resume key: the run options carry the device kind (``device=cuda``),
and the worker swaps in ``cuda:k`` when the tracker is built, so a rerun on other GPUs reuses finished sequences.
GlobalTrack has no temporal state, so on GPUs the defaults are ``dtype=bfloat16`` and ``batch=8`` (frames per forward
pass); options given explicitly win.
"""
from __future__ import annotations

import contextlib
import queue as queue_module
from dataclasses import replace
from typing import Any, Callable, Iterator

from globaltrack.errors import UserError

GPU_DEFAULTS = {"dtype": "bfloat16", "batch": "8"}


def parse_device_list(devices: str | None = None, gpus: int | None = None) -> list[str] | None:
    """``--devices cuda:0,cuda:1`` / ``--devices cpu,cpu`` / ``--devices 2`` or ``--gpus 2`` (= cuda:0,cuda:1) -> a
    device list; None if neither. The one parser of device lists (``run`` and ``train``)."""
    if devices and gpus:
        raise UserError("give --devices or --gpus, not both")
    if devices and str(devices).strip().isdigit():
        devices, gpus = None, int(str(devices).strip())
    if gpus is not None and not devices:
        if int(gpus) < 1:
            raise UserError(f"--gpus must be at least 1, got {gpus}")
        return [f"cuda:{i}" for i in range(int(gpus))]
    if not devices:
        return None
    out = [d.strip() for d in str(devices).split(",") if d.strip()]
    for d in out:
        kind, _, index = d.partition(":")
        if kind not in ("cuda", "cpu") or (kind == "cuda" and not index.isdigit()) or (kind == "cpu" and index):
            raise UserError(f"--devices: '{d}' is not cuda:N or cpu")
    if len({d.split(':')[0] for d in out}) > 1:
        raise UserError("--devices must be all cuda:N or all cpu")
    cuda = [d for d in out if d.startswith("cuda")]
    if len(set(cuda)) != len(cuda):
        raise UserError("--devices lists a GPU twice")
    return out


def device_kind(devices: list[str]) -> str:
    return devices[0].split(":")[0]


def check_devices_available(devices: list[str]) -> None:
    """CUDA devices must exist here (Dask workers check their own)."""
    if device_kind(devices) != "cuda":
        return
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        raise UserError("--devices cuda:N needs PyTorch") from None
    if not torch.cuda.is_available():
        raise UserError("--devices/--gpus asks for CUDA GPUs but CUDA is not available here")
    count = torch.cuda.device_count()
    missing = [d for d in devices if int(d.split(":")[1]) >= count]
    if missing:
        raise UserError(f"--devices: {missing[0]} does not exist ({count} GPU(s) visible)")


def device_options(devices: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """Tracker options for a device run: ``device`` = the device kind (part of the resume key), and on GPUs the
    bf16 / batch-8 defaults unless given."""
    out = dict(options)
    out.setdefault("device", device_kind(devices))
    if device_kind(devices) == "cuda":
        for k, v in GPU_DEFAULTS.items():
            out.setdefault(k, v)
    return out


class OnDevice:
    """A picklable wrapper of a runner task: take a device token, build the tracker on it, give the token back.

    ``fn(spec, sequence, *args)`` is ``runner.track_sequence``; ``spec.options['device']`` becomes the token."""

    def __init__(self, fn: Callable[..., Any], tokens):
        self.fn = fn
        self.tokens = tokens

    def __call__(self, spec, sequence, *args, **kwargs):
        device = self.tokens.get()
        try:
            placed = replace(spec, options={**spec.options, "device": device})
            return self.fn(placed, sequence, *args, **kwargs)
        finally:
            self.tokens.put(device)


@contextlib.contextmanager
def device_pool(devices: list[str], processes: bool) -> Iterator[Any]:
    """A queue holding one token per device: in this process, or served by a manager to worker processes."""
    if not processes:
        q: Any = queue_module.Queue()
        for d in devices:
            q.put(d)
        yield q
        return
    import multiprocessing

    manager = multiprocessing.Manager()
    try:
        q = manager.Queue()
        for d in devices:
            q.put(d)
        yield q
    finally:
        manager.shutdown()


__all__ = ["GPU_DEFAULTS", "OnDevice", "check_devices_available", "device_kind", "device_options", "device_pool",
           "parse_device_list"]


@contextlib.contextmanager
def placed(fn: Callable[..., Any], devices: list[str] | None, processes: bool) -> Iterator[Callable[..., Any]]:
    """``fn`` itself without devices, else ``fn`` wrapped to run each job on a free device of ``devices``."""
    if not devices:
        yield fn
        return
    with device_pool(devices, processes) as tokens:
        yield OnDevice(fn, tokens)

"""Multi-process training with ``torch.distributed`` DistributedDataParallel (the official run: 4 GPUs x 1 pair).

Two ways in, one code path:

- ``torchrun --nproc_per_node N -m globaltrack train ...``: torchrun sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``;
  ``setup`` joins the group (NCCL on CUDA, gloo on the CPU) and rank r trains on ``cuda:LOCAL_RANK``.
- ``globaltrack train --devices cuda:0,cuda:1`` (or ``cpu,cpu``): ``launch`` starts one process per device itself.

What DDP changes in the training loop (``train.py`` calls the hooks below):

- **batches**: ``--batch-size`` stays the global number of pairs per step; every rank takes its share of each global
  batch (``shard``: pairs ``rank::world``), so N processes see exactly the pairs one process would, in the same
  steps. Each rank's loss averages its pairs and DDP averages the gradients over ranks: with equal shares that is
  the average over all pairs of the step, as one process computes it (and as the official 4 x 1 run does).
- **rank 0 alone writes**: checkpoints, the log and the plot (``main_process_only``), and prints; logged losses are
  averaged over ranks first (``average``).
- **resume**: every rank reads ``latest.pth`` (model and optimizer) before the model is wrapped, so all ranks
  continue from the same state; the pair order is a function of (seed, epoch, index), so they continue on the
  pairs they would have seen.
- **precision**: bf16 autocast on CUDA (losses are computed in float32 by the model), float32 on the CPU.
"""
from __future__ import annotations

import contextlib
import functools
import os
import socket
from dataclasses import dataclass, replace

from globaltrack.errors import UserError


def _initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def is_main_process() -> bool:
    """True outside distributed runs and on rank 0."""
    if not _initialized():
        return True
    import torch.distributed as dist

    return dist.get_rank() == 0


def main_process_only(fn):
    """Run ``fn`` on rank 0 only (mmcv's ``master_only``): files are written by one process."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_main_process():
            return fn(*args, **kwargs)
        return None

    return wrapper


def backend_for(device_type: str) -> str:
    return "nccl" if device_type == "cuda" else "gloo"


@dataclass
class DistContext:
    """Where this process stands: rank, world size, its device; hooks for the training loop."""

    rank: int
    world_size: int
    device: object  # torch.device
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.world_size:
            raise UserError(f"--batch-size {batch_size} is the global number of pairs per step and must be a "
                            f"multiple of the {self.world_size} processes (the official run: 4 GPUs x 1 pair = 4)")

    def wrap(self, model):
        """The model DDP-wrapped when there are several processes (called after any weights are loaded)."""
        if not self.distributed:
            return model
        import warnings

        from torch.nn.parallel import DistributedDataParallel

        # The backbone runs in channels_last, so kernel gradients come in that layout while DDP's buckets are
        # contiguous. For depthwise kernels (C, 1, 3, 3) only a size-1 dimension's stride differs (same bytes); for
        # the FPN's 3x3 kernels DDP copies each gradient into its bucket (~10 MB a step by their sizes, against a
        # ~0.6 s step). torch warns about it in four raw lines per rank, which say nothing a user can act on.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def shard(self, chunk: list[int]) -> list[int]:
        """This rank's pairs of one global batch: ``chunk[rank::world]``. A short last batch of an epoch repeats
        its pairs so that no rank is left without one (equal shares keep the gradient average exact)."""
        if not self.distributed:
            return chunk
        if len(chunk) < self.world_size:
            chunk = [chunk[i % len(chunk)] for i in range(self.world_size)]
        return chunk[self.rank::self.world_size]

    def autocast(self):
        """bf16 autocast on CUDA; nothing on the CPU (bf16 matmuls there are slow and change the float32 results)."""
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)

    def average(self, logged: dict[str, float]) -> dict[str, float]:
        """Logged scalars averaged over ranks (rank 0's log shows the whole step)."""
        if not self.distributed:
            return logged
        import torch
        import torch.distributed as dist

        keys = sorted(logged)
        t = torch.tensor([float(logged[k]) for k in keys], dtype=torch.float64,
                         device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t)
        t /= self.world_size
        return {**logged, **{k: float(v) for k, v in zip(keys, t.tolist())}}

    def any(self, flag: bool) -> bool:
        """True on every rank when it is True on any (decisions such as a time limit must be the same everywhere,
        or the ranks still stepping would wait for the stopped one forever)."""
        if not self.distributed:
            return bool(flag)
        import torch
        import torch.distributed as dist

        t = torch.tensor([1.0 if flag else 0.0], device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            if self.device.type == "cuda":
                dist.barrier(device_ids=[self.device.index])
            else:
                dist.barrier()

    def main_first(self, fn):
        """``fn()`` on rank 0 first, then on the others (e.g. generating a dataset folder they all read)."""
        if self.is_main:
            out = fn()
            self.barrier()
            return out
        self.barrier()
        return fn()

    def close(self) -> None:
        if self.owns_group and _initialized():
            import torch.distributed as dist

            dist.destroy_process_group()


def _device_for(device: str, local_rank: int, distributed: bool):
    import torch

    spec = str(device)
    if spec == "cuda" and distributed:
        spec = f"cuda:{local_rank}"
    dev = torch.device(spec)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {device} but no CUDA GPU is available (use --device cpu)")
        torch.cuda.set_device(dev.index if dev.index is not None else 0)
        if dev.index is None:
            dev = torch.device("cuda", 0)
    return dev


def setup(device: str = "cpu") -> DistContext:
    """Join the process group that torchrun (or ``launch``) describes in the environment, if any.

    Single process: rank 0 of 1 on ``device``. Under torchrun (``WORLD_SIZE`` > 1): ``device`` "cuda" becomes
    ``cuda:LOCAL_RANK``; the group uses NCCL on CUDA and gloo otherwise. A group already initialised by the caller
    is used as it is (and left open)."""
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if _initialized():
        world, rank = dist.get_world_size(), dist.get_rank()
        return DistContext(rank, world, _device_for(device, local_rank, world > 1))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(0, 1, _device_for(device, 0, False))
    dev = _device_for(device, local_rank, True)
    dist.init_process_group(backend_for(dev.type), init_method="env://")
    return DistContext(dist.get_rank(), dist.get_world_size(), dev, owns_group=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, devices: list[str], fn, cfg, args: tuple, kwargs: dict):
    import torch.distributed as dist

    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    device = devices[rank]
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group(backend_for(dev.type), init_method="env://", rank=rank, world_size=world)
    try:
        fn(replace(cfg, device=device), *args, **kwargs)
    finally:
        dist.destroy_process_group()


def launch(fn, cfg, devices: list[str], *args, **kwargs) -> None:
    """Run ``fn(cfg_with_device, *args, **kwargs)`` in one process per device (``--devices``), as torchrun would.
    ``fn`` must be importable (spawned processes pickle it by name)."""
    import torch.multiprocessing as mp

    if len(devices) == 1:
        fn(replace(cfg, device=devices[0]), *args, **kwargs)
        return
    mp.start_processes(_worker, args=(len(devices), free_port(), list(devices), fn, cfg, args, kwargs),
                       nprocs=len(devices), start_method="spawn", join=True)


__all__ = ["DistContext", "backend_for", "free_port", "is_main_process", "launch", "main_process_only",
           "setup"]

"""GlobalTrack training speed: seconds per iteration of a named training config, the step's CPU paths side by side.

    python bench/train_speed.py                          # lite0-real, 3 rounds of 40 iterations per path
    python bench/train_speed.py --iters 60 --rounds 4

One process of the config's layout (``lite0-real``: each of its two DDP processes trains one pair a step on one
thread), the config's model, data and lr. Every round runs each path from the same initial weights and optimizer
state on the same pairs (loaded before timing, so data loading is not in the figures), the paths alternated so that
a change of the machine's load falls on all. The paths: the former step (torchvision's RoIAlign, the eager frozen
stages), with the gathered RoIAlign (``ops.GATHERED_TRAINING``), and also with the frozen stages as one graph
(``frozen_prefix.ENABLED``). Prints the median seconds per iteration of each path, their ratios, the schedule's
length at that rate (DDP adds its all-reduce), and the largest difference of the first iterations' losses from the
former path's (float32 rounding: all compute the same values).
"""
from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time
from pathlib import Path

# `python bench/train_speed.py` puts bench/ first on sys.path, where globaltrack.py would shadow the package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

# (ops.GATHERED_TRAINING, frozen_prefix.ENABLED): the former training step, then each change added
PATHS = {"former": (False, False), "+ gathered RoIAlign": (True, False), "+ frozen-stage graph": (True, True)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="lite0-real")
    ap.add_argument("--iters", type=int, default=40, help="timed iterations per path and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3, help="untimed iterations before each path's timed ones")
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from globaltrack.trackers.globaltrack import frozen_prefix, ops
    from globaltrack.training.train import batch_losses, build_model, build_pairs, get_train_config, sum_losses

    cfg = get_train_config(args.config, **({"data_root": args.data_root} if args.data_root else {}))
    torch.set_num_threads(cfg.threads or torch.get_num_threads())
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, plain_rpn=cfg.plain_rpn, **dict(cfg.model_overrides))
    model.train()
    data = build_pairs(cfg, Path("work_dirs") / "bench-train-speed")
    data.set_epoch(0)
    processes = max(1, len([d for d in cfg.devices.split(",") if d]))
    per_process = cfg.batch_size // processes
    order = np.random.default_rng([cfg.seed, 0]).permutation(cfg.pairs_per_epoch)
    steps = args.warmup + args.iters
    batches = [[data[int(i)] for i in order[k * per_process:(k + 1) * per_process]] for k in range(steps)]
    initial = copy.deepcopy(model.state_dict())
    params = [p for p in model.parameters() if p.requires_grad]

    def run(path: tuple[bool, bool]) -> tuple[list[float], list[float]]:
        ops.GATHERED_TRAINING, frozen_prefix.ENABLED = path
        random.seed(cfg.seed)  # forward_train's draw of 8 instances, and the samplers: the same for both paths
        torch.manual_seed(cfg.seed)
        model.load_state_dict(initial)
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        times, losses = [], []
        for k, pairs in enumerate(batches):
            t0 = time.perf_counter()
            total, logged = sum_losses(batch_losses(model, pairs, model.config, "cpu"))
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            if k >= args.warmup:
                times.append(time.perf_counter() - t0)
            losses.append(logged["loss"])
        return times, losses

    times = {name: [] for name in PATHS}
    first_losses = {}
    for r in range(args.rounds):
        for name, path in (PATHS.items() if r % 2 == 0 else reversed(PATHS.items())):
            t, losses = run(path)
            times[name] += t
            first_losses.setdefault(name, losses[:3])
            print(f"round {r + 1} {name}: {statistics.median(t):.3f} s/it (median of {len(t)})", flush=True)
    iterations = cfg.epochs * -(-cfg.pairs_per_epoch // cfg.batch_size)
    print(f"\n{args.config}: one process, {per_process} pair(s) a step, {torch.get_num_threads()} thread(s); "
          f"{args.rounds} rounds x {args.iters} iterations per path")
    print(f"{'path':<22} {'s/it median':>12} {'mean':>8} {'schedule (' + str(iterations) + ' it)':>22}")
    medians = {}
    for name, t in times.items():
        medians[name] = statistics.median(t)
        print(f"{name:<22} {medians[name]:>12.3f} {statistics.mean(t):>8.3f} "
              f"{medians[name] * iterations / 60:>18.1f} min")
    former = medians["former"]
    for name, m in medians.items():
        print(f"{name}: {m / former:.3f} of the former median")
    if processes > 1:
        # the processes' pairs of one step are consecutive here: a step lasts as long as its slowest process
        first = -args.warmup % processes  # the first timed iteration that starts a step
        for name, t in times.items():
            rounds = [t[r * args.iters:(r + 1) * args.iters] for r in range(args.rounds)]
            steps = [max(rt[k:k + processes]) for rt in rounds for k in range(first, len(rt) - processes + 1,
                                                                              processes)]
            if not steps:
                continue
            print(f"{name}: a {processes}-process step, its slowest pair without the all-reduce: mean "
                  f"{statistics.mean(steps):.3f} s ({statistics.mean(steps) * iterations / 60:.1f} min)")
    a = first_losses["former"]
    diff = max(abs(x - y) for b in first_losses.values() for x, y in zip(a, b))
    print(f"first {len(a)} losses, largest difference from the former path's: {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""GlobalTrack speed: frames per second and peak memory, ``update`` one frame at a time vs ``track_batch``.

    python bench/globaltrack.py                  # tiny and r50_fpn at 640x360 and 1333x800 on the CPU (2 threads)
    python bench/globaltrack.py --shipped-only   # the default GlobalTrack vs CSRT and NanoTrack, 640x360
    python bench/globaltrack.py --shipped-only --repeat 5   # the same, medians of 5 alternated rounds
    python bench/globaltrack.py --shipped-only --variant proposals=300   # and the default with other options, beside it
    python bench/globaltrack.py --shipped-only --interleaved --frames-shipped 200   # one process, updates in turn
    python bench/globaltrack.py --cuda           # r50_fpn at 1333x800 on CUDA: fp32 update, bf16 update, bf16 batched

Random weights (speed does not depend on them). The network input is the stated size: frames are generated at that
size and the config's image scale is set to it, so there is no resize. Each measurement runs in a fresh process so
that its peak resident memory (ru_maxrss; on CUDA, torch's peak allocated memory) is its own. One warm-up frame is
not timed. On a shared machine wall time depends on the load: the process CPU time per frame is printed too.
Peak memory on the CPU is the process's peak RSS, torch and the model included. Also prints the time of one ``tiny``
training step on a pair of 320x240 images (one query).
Keep it short: a few frames each.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import queue as queue_module
import resource
import sys
import time
from pathlib import Path

# `python bench/globaltrack.py` puts bench/ first on sys.path, where this file would shadow the `globaltrack` package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def _measure(config, width, height, mode, frames, batch, device, dtype, threads, queue):
    import dataclasses

    import numpy as np
    import torch

    from globaltrack.trackers.globaltrack.model import GlobalTrackModel
    from globaltrack.trackers.globaltrack.tracker import GlobalTrackTracker

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if device == "cuda":
        torch.backends.cudnn.benchmark = True  # one input size throughout
    model = GlobalTrackModel(config).eval()
    model.config = dataclasses.replace(model.config, image_scale=(max(width, height), min(width, height)))
    tracker = GlobalTrackTracker(model=model, device=device, dtype=dtype, batch=batch)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(frames + 1)]
    tracker.init(images[0], [width * 0.4, height * 0.4, width * 0.1, height * 0.15])
    tracker.update(images[0])  # warm-up
    if device == "cuda" and mode != "update":
        tracker.track_batch(images[1:1 + batch])  # warm-up at the batch size (cuDNN picks its kernels per shape)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start, cpu_start = time.perf_counter(), time.process_time()
    if mode == "update":
        for im in images[1:]:
            tracker.update(im)
    else:
        tracker.track_batch(images[1:])
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    cpu_per_frame = (time.process_time() - cpu_start) / frames
    if device == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2 ** 20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((frames / elapsed, cpu_per_frame, peak_mb))


def _measure_shipped(name, options, width, height, frames, threads, copies, queue):
    """A registered tracker as users get it (the default GlobalTrack: its shipped weights, its own resizing and
    BatchNorm folding), ``update`` frame by frame on the same frames for every tracker."""
    from globaltrack.trackers import create_tracker

    _set_threads(threads)
    tracker = create_tracker(name, **options)
    images, box = _moving_block(width, height, frames, copies)
    tracker.init(images[0], box)
    tracker.update(images[1])  # warm-up
    start, cpu_start = time.perf_counter(), time.process_time()
    for im in images[1:]:
        tracker.update(im)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((frames / elapsed, (time.process_time() - cpu_start) / frames, peak_mb))


def _set_threads(threads: int) -> None:
    """The thread count for torch and OpenCV (CSRT's and NanoTrack's runtime) alike."""
    import torch

    torch.set_num_threads(threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass


def _moving_block(width, height, frames, copies: int = 0):
    """frames + 1 textured frames with a moving bright block (so the trackers have something to follow), and the
    block's box in the first; ``copies`` still copies of the block below it (look-alikes: with them the default
    GlobalTrack scores every frame's top detections against their queries, ``distractors``)."""
    import numpy as np

    base = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    bw, bh = int(width * 0.1), int(height * 0.15)
    for k in range(copies):
        x, y = int(width * (0.05 + 0.3 * (k % 3))), int(height * (0.75 if k < 3 else 0.05))
        base[y:y + bh, x:x + bw] = 255
    images = []
    for i in range(frames + 1):
        im = base.copy()
        x, y = int(width * 0.3 + 2 * i), int(height * 0.4)
        im[y:y + bh, x:x + bw] = 255  # the same pixels as before at 640x360
        images.append(im)
    return images, [width * 0.3, height * 0.4, width * 0.1, height * 0.15]


def _measure_interleaved(trackers, width, height, frames, threads, copies, queue):
    """All ``trackers`` ((name, options) pairs) in one process, ``update`` called frame by frame in turn (the order
    rotating every frame), so that a change of the machine's speed falls on all of them alike; per tracker the
    median seconds of an ``update``."""
    import statistics

    from globaltrack.trackers import create_tracker

    _set_threads(threads)
    images, box = _moving_block(width, height, frames, copies)
    made = [create_tracker(name, **options) for name, options in trackers]
    for tracker in made:
        tracker.init(images[0], box)
        tracker.update(images[1])  # warm-up
    times = [[] for _ in made]
    for i, im in enumerate(images[1:]):
        for k in [(i + j) % len(made) for j in range(len(made))]:
            start = time.perf_counter()
            made[k].update(im)
            times[k].append(time.perf_counter() - start)
    queue.put([statistics.median(t) for t in times])


def interleaved_rows(threads: int, frames: int, nanotrack_models: str | None, variants=(), copies: int = 0):
    """``shipped_rows``' trackers timed in one process, their updates interleaved (``_measure_interleaved``): rows
    of (label, frames/s of the median update). No peak memory: the trackers share the process."""
    trackers = _shipped_trackers(nanotrack_models, variants)
    medians = _in_child(_measure_interleaved, trackers, 640, 360, frames, threads, copies)
    return [(_label(name, options), 1.0 / m) for (name, options), m in zip(trackers, medians)]


def _shipped_trackers(nanotrack_models: str | None, variants=()):
    trackers = [("globaltrack", {})] + [("globaltrack", dict(v)) for v in variants] + [("csrt", {})]
    if nanotrack_models:
        trackers.append(("nanotrack", {"models": nanotrack_models}))
    return trackers


def _label(name, options):
    return name + "".join(f" {k}={v}" for k, v in options.items() if name == "globaltrack")


def shipped_rows(threads: int, frames: int, nanotrack_models: str | None, variants=(), repeat: int = 1,
                 copies: int = 0):
    """The default GlobalTrack, each variant of it (a dict of its options), CSRT and NanoTrack: one row each, the
    median over ``repeat`` rounds (each round measures every tracker once, so all of them meet the same spells of
    load on a shared machine, where one run can be ~2x slower than the next)."""
    import statistics

    runs: dict[str, list] = {}
    for round_ in range(max(int(repeat), 1)):
        for name, options in _shipped_trackers(nanotrack_models, variants):
            fps, cpu, peak = _in_child(_measure_shipped, name, options, 640, 360, frames, threads, copies)
            label = _label(name, options)
            runs.setdefault(label, []).append((fps, cpu, peak))
            prefix = f"  round {round_ + 1}: " if repeat > 1 else "  "
            print(f"{prefix}{label} 640x360 update -> {fps:.2f} fps, peak {peak:.0f} MB", flush=True)
    return [(label, statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs), max(r[2] for r in rs))
            for label, rs in runs.items()]


def _train_step(threads, steps, queue):
    import numpy as np
    import torch

    from globaltrack.trackers.globaltrack.model import GlobalTrackModel, total_loss
    from globaltrack.trackers.globaltrack.preprocess import preprocess_batch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GlobalTrackModel("tiny").train()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    q = preprocess_batch([image], [np.array([[100, 80, 50, 40]])], scale=model.config.image_scale)
    s = preprocess_batch([image], [np.array([[110, 85, 50, 40]])], scale=model.config.image_scale)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.005, momentum=0.9)
    times = []
    for _ in range(steps + 2):
        t = time.perf_counter()
        loss = total_loss(model.forward_train(q.images, q.boxes, s.images, s.boxes, search_sizes=s.image_sizes))
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    queue.put(float(np.median(times[2:])))


def _in_child(target, *args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except queue_module.Empty:
            if not proc.is_alive():
                raise RuntimeError(f"benchmark process {target.__name__}{args[:-1]} died (exit {proc.exitcode})")
    proc.join()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cuda", action="store_true",
                        help="measure r50_fpn at 1333x800 on CUDA instead: fp32 update, bf16 update, bf16 batched "
                             "(goal: >= 60 frames/s batched on an H100-class GPU; paper: ~6 on a TITAN X)")
    parser.add_argument("--frames-cuda", type=int, default=64)
    parser.add_argument("--batch-cuda", type=int, default=8)
    parser.add_argument("--frames-r50", type=int, default=4)
    parser.add_argument("--frames-tiny", type=int, default=16)
    parser.add_argument("--frames-shipped", type=int, default=40)
    parser.add_argument("--nanotrack", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "weights"
                                                   / "nanotrack_v2"), help="NanoTrack v2 ONNX folder")
    parser.add_argument("--shipped-only", action="store_true",
                        help="only the default GlobalTrack vs CSRT and NanoTrack on 640x360 frames")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the shipped comparison, the trackers alternated in each; the table shows "
                             "medians (a shared machine's speed varies from run to run)")
    parser.add_argument("--interleaved", action="store_true",
                        help="with --shipped-only: all trackers in one process, their updates frame by frame in "
                             "turn (ratios that a shared machine's changing speed leaves alone; no peak memory)")
    parser.add_argument("--lookalikes", type=int, default=0, choices=range(0, 7), metavar="0..6",
                        help="this many still copies of the tracked block in every frame (the default GlobalTrack "
                             "then re-scores its top detections against them: the distractors option's cost)")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE[,KEY=VALUE]",
                        help="also measure the default GlobalTrack with these options (e.g. proposals=300)")
    args = parser.parse_args(argv)
    try:
        variants = [dict(kv.split("=", 1) for kv in v.split(",")) for v in args.variant]
    except ValueError:
        parser.error("--variant takes KEY=VALUE pairs separated by commas")

    nanotrack = args.nanotrack if Path(args.nanotrack).is_dir() else None
    if args.interleaved:
        print(f"default GlobalTrack vs CSRT and NanoTrack, 640x360 frames, {args.threads} threads, one process, "
              f"{args.frames_shipped} frames, the updates interleaved:")
        rows = interleaved_rows(args.threads, args.frames_shipped, nanotrack, variants, args.lookalikes)
        print("| tracker | fps (median update) | ms/frame |\n|---|---|---|")
        for name, fps in rows:
            print(f"| {name} | {fps:.1f} | {1000 / fps:.1f} |")
        print("GlobalTrack / " + ", ".join(f"{n}: {rows[0][1] / f:.2f}x" for n, f in rows[1:]), flush=True)
        return 0
    if not args.cuda:  # the CPU comparison with CSRT and NanoTrack
        print(f"default GlobalTrack (shipped weights, its own resizing) vs CSRT and NanoTrack, 640x360 frames, "
              f"{args.threads} threads:")
        shipped = shipped_rows(args.threads, args.frames_shipped, nanotrack, variants, args.repeat, args.lookalikes)
        if args.repeat > 1:
            print(f"medians over {args.repeat} rounds (peak: the largest):")
        print("| tracker | fps | wall ms/frame | process CPU s/frame | peak MB |\n|---|---|---|---|---|")
        for name, fps, cpu, peak in shipped:
            print(f"| {name} | {fps:.1f} | {1000 / fps:.0f} | {cpu:.3f} | {peak:.0f} |")
        gt = shipped[0][1]
        print("GlobalTrack / " + ", ".join(f"{n}: {gt / f:.2f}x" for n, f, _, _ in shipped[1:]), flush=True)
        if args.shipped_only:
            return 0

    rows = []
    plan = []
    if args.cuda:
        import torch

        if not torch.cuda.is_available():
            print(f"bench/globaltrack.py --cuda: CUDA is not available here (torch {torch.__version__}, "
                  f"{torch.cuda.device_count()} GPUs); nothing measured", file=sys.stderr)
            return 2
        print(f"GPU: {torch.cuda.get_device_name(0)}", flush=True)
        n, b = args.frames_cuda, args.batch_cuda
        plan.append(("r50_fpn", 1333, 800, "update", n, 1, "cuda", "float32"))
        plan.append(("r50_fpn", 1333, 800, "update", n, 1, "cuda", "bfloat16"))
        plan.append(("r50_fpn", 1333, 800, "track_batch", n, b, "cuda", "bfloat16"))
    else:
        for config, frames, batch in (("tiny", args.frames_tiny, 8), ("r50_fpn", args.frames_r50, 4)):
            sizes = ((320, 240), (640, 360), (1333, 800)) if config == "tiny" else ((640, 360), (1333, 800))
            for width, height in sizes:
                plan.append((config, width, height, "update", frames, 1, "cpu", "float32"))
                plan.append((config, width, height, "track_batch", frames, batch, "cpu", "float32"))
    for config, width, height, mode, frames, batch, device, dtype in plan:
        fps, cpu, peak = _in_child(_measure, config, width, height, mode, frames, batch, device, dtype, args.threads)
        rows.append((config, f"{width}x{height}", device, dtype, mode, batch, frames, fps, cpu, peak))
        print(f"  {rows[-1][:7]} -> {fps:.2f} fps, peak {peak:.0f} MB", flush=True)

    print()
    print("| config | input | device | dtype | mode | batch | frames | fps | wall ms/frame | process CPU s/frame "
          "| peak MB |")
    print("|" + "---|" * 11)
    for config, size, device, dtype, mode, batch, frames, fps, cpu, peak in rows:
        print(f"| {config} | {size} | {device} | {dtype} | {mode} | {batch} | {frames} | {fps:.2f} | "
              f"{1000 / fps:.0f} | {cpu:.2f} | {peak:.0f} |")
    if args.cuda:
        base = rows[0][7]
        for row in rows[1:]:
            print(f"{row[3]} {row[4]} (batch {row[5]}) / fp32 update: {row[7] / base:.2f}x")
        print(f"bf16 batched: {rows[-1][7]:.1f} frames/s (goal >= 60 on an H100-class GPU): "
              f"{'met' if rows[-1][7] >= 60 else 'NOT met'}")
        return 0
    step = _in_child(_train_step, args.threads, 10)
    print(f"\ntiny training step (pair of 320x240 images, one query, forward+backward+SGD, {args.threads} threads): "
          f"{step * 1000:.0f} ms (median of 10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

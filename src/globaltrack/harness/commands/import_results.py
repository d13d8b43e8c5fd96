"""`globaltrack import`: bring published raw results into the results folder (ResultStore layout)."""
from __future__ import annotations

from globaltrack.harness.cli import add_common_options, register_command


@register_command("import", description="import published raw results (otb-mat, pytracking, got10k, pysot, "
                                        "lasot, otb-json, oxuva) into the results folder")
class ImportResults:
    @staticmethod
    def add_arguments(parser):
        add_common_options(parser, root=True)
        parser.add_argument("--tracker", "-t", required=True, help="name to store the results under")
        parser.add_argument("--format", "-f", required=True, dest="format",
                            help="otb-mat | pytracking | got10k | pysot | lasot | otb-json | oxuva")
        parser.add_argument("--annos", help="annotation folder when it differs from --root (OTB anno_TB100, "
                                            "LaSOT toolkit annos/)")
        parser.add_argument("--sequences", help="comma-separated sequence names: import only these")
        parser.add_argument("--repetition", type=int, default=1, help="got10k: which run _00r to import")
        parser.add_argument("--source-tracker", help="otb-mat: the tracker suffix of <seq>_<Tracker>.mat")
        parser.add_argument("src", help="folder with the published files")

    @staticmethod
    def run(args) -> int:
        from globaltrack.errors import UserError
        if not args.benchmark:
            raise UserError("--benchmark is required")
        only = None
        if args.sequences:
            from globaltrack.harness.cli import split_list

            only = split_list([args.sequences])
        report = import_results(args.benchmark, args.tracker, args.format, args.src, results=args.results,
                                root=args.root, split=args.split, annos=args.annos, repetition=args.repetition,
                                source_tracker=args.source_tracker, only=only)
        print(f"imported {report['imported']} sequences of '{args.tracker}' ({args.format}) into "
              f"{report['folder']}")
        for n in report["notes"]:
            print("  " + n)
        return 0


_PYTRACKING_PREFIXES = ("uav", "nfs", "tpl")


def _oxuva_to_frames(raw, seq):
    """Per-frame pixel boxes from OxUvA's sparse normalised predictions: frame i uses the latest prediction at or
    before it (OxUvA's time alignment); frame 0 is the init box."""
    import numpy as np

    from globaltrack.errors import UserError

    size = seq.metadata.get("image_size")
    if seq.metadata.get("box_units") == "normalized":
        size = (1.0, 1.0)
    if size is None:
        raise UserError(f"sequence '{seq.name}' has no image size: cannot convert OxUvA normalised boxes")
    w, h = float(size[0]), float(size[1])
    init = int(seq.metadata.get("init_frame", 0))
    n = len(seq.ground_truth)
    frames = np.asarray(raw.info["frames"]) - init
    order = np.argsort(frames, kind="stable")
    frames, b = frames[order], raw.boxes[order] * [w, h, w, h]
    pres, sc = raw.present[order], raw.scores[order]
    idx = np.searchsorted(frames, np.arange(n), side="right") - 1
    boxes = np.where(idx[:, None] >= 0, b[np.maximum(idx, 0)], np.nan)
    present = np.where(idx >= 0, pres[np.maximum(idx, 0)], False)
    scores = np.where(idx >= 0, sc[np.maximum(idx, 0)], np.nan)
    boxes[0], present[0], scores[0] = seq.ground_truth[0], True, np.nan
    return boxes, present, scores


def import_results(benchmark, tracker, fmt, src, results="results", root=None, split=None, repetition=1,
                   source_tracker=None, sequences=None, annos=None, only=None) -> dict:
    """Read ``src`` in format ``fmt`` and write it as ``<results>/<benchmark>/<tracker>/`` with ``imported.json``.

    With ``root`` (or ``sequences``) the file names are matched to the benchmark's official names whatever the
    toolkit's spelling (case, ``Jogging.1``/``Jogging_1``/``Jogging-1``); duplicates are errors. A file of an official
    sequence that is not under ``root`` (a partial dataset) is skipped and counted in one note; a file that is no
    sequence of the benchmark at all is named in its own note. ``only``: sequence names to import (others skipped).
    """
    import datetime
    import json
    from pathlib import Path

    from globaltrack._io import atomic_write_text
    from globaltrack.errors import UserError
    from globaltrack.results.formats import canonical_name, read_results
    from globaltrack.results.store import ResultStore, SequenceResult

    from globaltrack.benchmarks import get_benchmark
    from globaltrack.scoring.evaluate import canonical_benchmark

    benchmark = canonical_benchmark(benchmark)      # the folder `globaltrack run` and `evaluate` use
    raws = read_results(fmt, src, tracker=source_tracker or tracker, repetition=repetition)
    if not raws:
        raise UserError(f"no {fmt} result files found", src)
    not_on_disk: set[str] = set()
    if sequences is None and (root is not None or annos is not None):
        adapter = get_benchmark(benchmark, root, split, annotations_only=True, **({"annos": annos} if annos else {}))
        sequences = adapter.load()
        not_on_disk = {canonical_name(n) for n in getattr(adapter, "missing", [])}
    if only is not None and sequences is not None:
        keep = {canonical_name(n) for n in only}
        sequences = [s for s in sequences if canonical_name(s.name) in keep
                     or keep & {canonical_name(a) for a in s.metadata.get("aliases", ())}]
    by_canon = {}
    if sequences is not None:
        for s in sequences:
            by_canon[canonical_name(s.name)] = s
            for a in s.metadata.get("aliases", ()):
                by_canon.setdefault(canonical_name(a), s)
    notes, seen = [], {}
    skipped_absent: list[str] = []
    store = ResultStore(results)
    written = 0
    for raw in raws:
        key = canonical_name(raw.sequence)
        if key in seen:
            raise UserError(f"two source files map to sequence '{raw.sequence}': {seen[key]} and {raw.sequence}",
                            src)
        seen[key] = raw.sequence
        seq = by_canon.get(key)
        if seq is None and key.split("-", 1)[0] in _PYTRACKING_PREFIXES:
            seq = by_canon.get(key.split("-", 1)[1])     # pytracking's uav_bike1, nfs_<name>, tpl_<name>
        if sequences is not None and seq is None and fmt == "oxuva":
            seq = next((s for s in sequences if canonical_name(s.name).startswith(key + "-")), None)
        if sequences is not None and seq is None:
            if only is not None or key in not_on_disk:
                skipped_absent.append(raw.sequence)     # official, just not under --root (or not asked for)
            else:
                notes.append(f"{raw.sequence}: not a sequence of {benchmark}; skipped")
            continue
        name = seq.name if seq is not None else raw.sequence
        boxes, present, scores = raw.boxes, raw.present, raw.scores
        if fmt == "oxuva":
            if seq is None:
                raise UserError("importing OxUvA predictions needs --root (image sizes and init frames)")
            boxes, present, scores = _oxuva_to_frames(raw, seq)
        seq_start = int(seq.metadata.get("start_frame", 1)) if seq is not None else 1
        if raw.start_frame != 1 or seq_start != 1:
            offset = seq_start - raw.start_frame
            if seq is not None and offset > 0 and len(boxes) == len(seq.ground_truth) + offset:
                # e.g. a tracker run on Tiger1 from frame 1 while the benchmark's OPE starts at frame 6
                boxes = boxes[offset:]
                present = None if present is None else present[offset:]
                scores = None if scores is None else scores[offset:]
                notes.append(f"{name}: results start at frame {raw.start_frame}, the sequence at {seq_start}: "
                             f"{offset} leading rows dropped")
            elif offset:
                notes.append(f"{name}: results start at frame {raw.start_frame}, the sequence at {seq_start}")

        if seq is not None and len(boxes) != len(seq.ground_truth):
            notes.append(f"{name}: {len(boxes)} rows, ground truth {len(seq.ground_truth)}")
        times = raw.times if raw.times is None or len(raw.times) == len(boxes) else None
        store.write(benchmark, tracker, name, SequenceResult(boxes, scores=scores, present=present, times=times))
        written += 1
    if skipped_absent:
        why = "not selected by --sequences" if only is not None else "official sequences not under --root"
        notes.insert(0, f"{len(skipped_absent)} result files skipped: {why} (e.g. "
                        f"{', '.join(sorted(skipped_absent)[:5])})")
    if sequences is not None:
        missing = sorted(s.name for s in sequences if canonical_name(s.name) not in seen)
        if missing:
            notes.append(f"{len(missing)} benchmark sequences have no source file: {', '.join(missing[:10])}"
                         + (" ..." if len(missing) > 10 else ""))
    meta = {"source": str(Path(src).resolve()), "format": fmt, "sequences": written, "notes": notes,
            "imported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if fmt == "got10k":
        meta["repetition"] = repetition
    atomic_write_text(store.tracker_dir(benchmark, tracker) / "imported.json", json.dumps(meta, indent=2))
    return {"imported": written, "folder": str(store.tracker_dir(benchmark, tracker)), "notes": notes}

"""GOT-10k test server (spec/metrics.md section 1.3, got10k ``experiments/got10k.py``): ``<seq>/<seq>_001.txt``
(``_002``, ``_003`` for repeated runs: several trackers given = repeated runs) with comma-separated ``%.3f`` rows
(got10k ``_record``; got10k #21: space-separated files fail without a message) and ``<seq>/<seq>_time.txt`` (one
comma-separated ``%.8f`` column per run, one row per frame, from the sidecar's per-frame times); the sequence folders
at the zip root (got10k #3)."""
from __future__ import annotations

import math
import re

import numpy as np

from globaltrack.results.servers import register_server
from globaltrack.results.servers._common import SubmissionServer, box_rows, check_rows, parse_box, text_of, where

_BOX = re.compile(r"^(?P<seq>[^/]+)/(?P=seq)_(?P<run>\d{3})\.txt$")
_TIME = re.compile(r"^(?P<seq>[^/]+)/(?P=seq)_time\.txt$")


def _parse_time(fields, row):
    try:
        vals = [float(f) for f in fields]
    except ValueError:
        return ["non-numeric time"]
    if any(not math.isfinite(v) for v in vals):
        return ["NaN or infinite time (no per-frame time was recorded)"]
    return ["negative time"] if any(v < 0 for v in vals) else []


@register_server("got10k", split="test", official_count=180, aliases=("got-10k",),
                 description="GOT-10k server (zip of <seq>/<seq>_00r.txt + _time.txt)")
class GOT10kServer(SubmissionServer):
    box_format = "%.3f"
    repeated_runs = True

    def build(self, store, benchmark, runs, expected):
        from globaltrack.results.store import read_if_present

        files = {}
        for name in expected:
            times = []
            for r, tracker in enumerate(runs, 1):
                res = read_if_present(store, benchmark, tracker, name)
                if res is None:
                    continue
                files[f"{name}/{name}_{r:03d}.txt"] = box_rows(res.boxes, self.box_format)
                times.append(res.times if res.times is not None else np.full(len(res.boxes), np.nan))
            if times:
                n = max(len(t) for t in times)
                cols = np.full((n, len(times)), np.nan)
                for j, t in enumerate(times):
                    cols[:len(t), j] = t
                # NaN (no time recorded) stays 'nan' so validation names the sequence rather than inventing a time
                files[f"{name}/{name}_time.txt"] = "".join(
                    ",".join("nan" if math.isnan(v) else "%.8f" % v for v in row) + "\n" for row in cols).encode()
        return files

    @staticmethod
    def _at_root(files, problems):
        members = sorted(files)
        if members and all(m.count("/") >= 2 for m in members):
            top = {m.split("/", 1)[0] for m in members}
            problems.add("submission", "zip root", f"the sequence folders are inside {', '.join(sorted(top))}/; zip "
                                                   "the contents of the tracker folder, not the folder (got10k #3)")
            if len(top) == 1:
                prefix = top.pop() + "/"
                files = {m[len(prefix):]: v for m, v in files.items()}
        return files

    @staticmethod
    def _members(files, problems):
        runs: dict[str, dict[int, str]] = {}
        times: dict[str, str] = {}
        for m in sorted(files):
            if (mt := _BOX.match(m)):
                runs.setdefault(mt["seq"], {})[int(mt["run"])] = m
            elif (mt := _TIME.match(m)):
                times[mt["seq"]] = m
            else:
                seq = m.split("/", 1)[0] if "/" in m else m.rsplit(".", 1)[0]
                problems.add(seq, m, "unexpected file (expected <seq>/<seq>_001.txt and <seq>/<seq>_time.txt)")
        return runs, times

    def validate(self, files, expected, problems):
        files = self._at_root(files, problems)
        runs, times = self._members(files, problems)
        self.check_names(set(runs) | set(times), expected, problems)
        counts = {len(r) for r in runs.values()}
        if len(counts) > 1:
            problems.add("submission", "", f"sequences have different numbers of runs ({sorted(counts)})")
        for seq in sorted(set(runs) | set(times)):
            exp = (expected or {}).get(seq)
            seq_runs = runs.get(seq, {})
            if not seq_runs:
                problems.add(seq, "", f"no result file {seq}/{seq}_001.txt")
            elif sorted(seq_runs) != list(range(1, len(seq_runs) + 1)):
                problems.add(seq, "", f"runs must be numbered _001.._{len(seq_runs):03d}, found "
                                      f"{', '.join(f'_{r:03d}' for r in sorted(seq_runs))}")
            n_rows = set()
            for r in sorted(seq_runs):
                text = text_of(files[seq_runs[r]], seq, seq_runs[r], problems)
                if text is None:
                    continue
                n = check_rows(seq, seq_runs[r], text, 4, parse_box, problems)
                n_rows.add(n)
                if exp is not None and exp.frames is not None and n != exp.frames:
                    problems.add(seq, seq_runs[r], f"{n} rows, expected {exp.frames} (one per frame)")
            if seq not in times:
                problems.add(seq, "", f"no time file {seq}/{seq}_time.txt")
                continue
            member = times[seq]
            text = text_of(files[member], seq, member, problems)
            if text is None:
                continue
            ncols = max(1, len(seq_runs))
            first = text.splitlines()[0] if text.strip() else ""
            cols = len(first.split(",")) if first else ncols
            if cols not in (1, ncols):
                problems.add(seq, member, f"{cols} columns; expected one per run ({ncols})")
                ncols = cols
            elif cols == 1:
                ncols = 1
            n = check_rows(seq, member, text, ncols, _parse_time, problems)
            want = exp.frames if exp is not None and exp.frames is not None else (n_rows.pop() if len(n_rows) == 1
                                                                                    else None)
            if want is not None and n != want:
                problems.add(seq, member, f"{n} rows, expected {want} (one time per frame)")

    def read(self, files, root=None, repetition: int = 1):
        """Run ``repetition`` of each sequence (sequences in name order), with its column of the time file."""
        from globaltrack.results.formats import RawResult
        from globaltrack.results.servers._common import Problems
        from globaltrack.textio import parse_box_bytes, parse_numeric_table

        problems = Problems()
        files = self._at_root(files, problems)
        runs, times = self._members(files, problems)
        out = {}
        for seq in sorted(runs):
            member = runs[seq].get(repetition)
            if member is None:
                continue
            r = out[seq] = RawResult(seq, parse_box_bytes(files[member], where(root, member)))
            if seq in times:
                table = parse_numeric_table(files[times[seq]], where(root, times[seq]), None)
                if table.ndim == 2 and table.shape[1] >= repetition:
                    r.times = table[:, repetition - 1]
        return out

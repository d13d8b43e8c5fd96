"""OxUvA (spec/metrics.md section 5.1, oxuva ``io_pred.py``; section 2.4 pytracking's writer): a zip of
``<video>_<object>.csv`` per task, no header, columns ``video,object,frame_num,present,score,xmin,xmax,ymin,ymax``
normalised by the image size and clipped to [0, 1], the init frame omitted, ``present`` from the sidecar; the CSVs at
the zip root or under one folder."""
from __future__ import annotations

import math

import numpy as np

from globaltrack.errors import AnnotationError, UserError
from globaltrack.results.servers import register_server
from globaltrack.results.servers._common import SubmissionServer, check_rows, flat_members, text_of, where

COLUMNS = ("video", "object", "frame_num", "present", "score", "xmin", "xmax", "ymin", "ymax")
TRUE = {"t", "true", "y", "yes", "1"}     # oxuva io_pred._parse_bool
FALSE = {"f", "false", "n", "no", "0"}


@register_server("oxuva", split="test", official_count=166, description="OxUvA server (zip of task CSVs)")
class OxUvAServer(SubmissionServer):
    box_format = "%.6f"

    def build(self, store, benchmark, runs, expected):
        from globaltrack.results.store import read_if_present

        files = {}
        for name, exp in expected.items():
            res = read_if_present(store, benchmark, runs[0], name)
            if res is None:
                continue
            if exp.image_size is None:
                raise UserError(f"{name}: image size unknown (no frames and no width/height in the sequence "
                                "metadata); OxUvA boxes are normalised by it")
            if exp.video is None or exp.object is None:
                raise UserError(f"{name}: the OxUvA video/object ids are unknown (sequence metadata 'video', "
                                "'object')")
            width, height = exp.image_size
            n = len(res.boxes)
            numbers = exp.frame_numbers or [int(exp.init_frame or 0) + i for i in range(n)]
            present = np.ones(n, bool) if res.present is None else res.present
            scores = np.ones(n) if res.scores is None else res.scores
            lines = []
            for i in range(1, min(n, len(numbers))):   # the init frame (row 0) is not a prediction
                x, y, w, h = res.boxes[i]
                xmin, xmax = np.clip([x / width, (x + w) / width], 0.0, 1.0)
                ymin, ymax = np.clip([y / height, (y + h) / height], 0.0, 1.0)
                lines.append(f"{exp.video},{exp.object},{int(numbers[i])},{'true' if present[i] else 'false'},"
                             + ",".join(self.box_format % v for v in (scores[i], xmin, xmax, ymin, ymax)) + "\n")
            files[f"{exp.submission_name}.csv"] = "".join(lines).encode()
        return files

    @staticmethod
    def _members(files, problems) -> dict[str, str]:
        return flat_members(files, problems, ".csv", "<video>_<object>.csv", one_folder_ok=True)

    def validate(self, files, expected, problems):
        if expected is not None:   # adapters may name a task differently; the file is <video>_<object>.csv
            expected = {e.submission_name: e for e in expected.values()}
        found = self._members(files, problems)
        self.check_names(set(found), expected, problems)
        for name, member in sorted(found.items()):
            exp = (expected or {}).get(name)
            text = text_of(files[member], name, member, problems)
            if text is None:
                continue
            first = text.splitlines()[0].split(",") if text.strip() else []
            if first and first[0].strip().lower() in ("video", "video_id"):
                problems.add(name, member, "row 1: header row; write none (the README's video_id/object_id header "
                                           "makes the official reader fail)")
                text = "\n".join(text.splitlines()[1:])
            rows = check_rows(name, member, text, len(COLUMNS), _row_checker(exp), problems)
            if exp is not None and exp.frames is not None and rows != exp.frames - 1:
                problems.add(name, member, f"{rows} rows, expected {exp.frames - 1} (every frame after the init "
                                           "frame)")

    def read(self, files, root=None):
        """``{<video>_<object>: RawResult}`` with boxes normalised (x, y, w, h in [0, 1]) and ``info['frames']`` the
        absolute frame numbers; the importer turns them into per-frame pixel boxes once it knows the sequence."""
        from globaltrack.results.formats import RawResult
        from globaltrack.results.servers._common import Problems

        out = {}
        for name, member in self._members(files, Problems()).items():
            d = parse_rows(files[member].decode("utf-8-sig").splitlines(), where(root, member))
            out[name] = RawResult(name, d["boxes_norm"], scores=d["scores"], present=d["present"],
                                  info={"frames": d["frames"], "normalised": True})
        return out


def parse_rows(lines: list[str], path) -> dict[str, np.ndarray]:
    """The rows of one prediction CSV as oxuva ``io_pred.py`` reads them: header optional (taken as header only when
    its set of names equals the expected set), ``present`` accepts t/true/y/yes/1 and f/false/n/no/0; ``path`` names
    the file in errors."""
    import csv

    rows = [r for r in csv.reader(lines) if r]
    if rows and {c.strip() for c in rows[0]} == set(COLUMNS):
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    else:
        header = list(COLUMNS)
    idx = {k: header.index(k) for k in COLUMNS}
    frames, present, score, boxes = [], [], [], []
    for i, r in enumerate(rows, 1):
        try:
            frames.append(int(r[idx["frame_num"]]))
            p = r[idx["present"]].strip().lower()
            if p not in TRUE | FALSE:
                raise ValueError(f"present must be true/false, got '{p}'")
            present.append(p in TRUE)
            score.append(float(r[idx["score"]]) if r[idx["score"]].strip() else np.nan)
            x0, x1 = float(r[idx["xmin"]]), float(r[idx["xmax"]])
            y0, y1 = float(r[idx["ymin"]]), float(r[idx["ymax"]])
            boxes.append([x0, y0, x1 - x0, y1 - y0])
        except (ValueError, IndexError) as e:
            raise AnnotationError(f"bad OxUvA prediction row: {e}", path, i) from None
    return {"frames": np.asarray(frames, int), "present": np.asarray(present, bool),
            "scores": np.asarray(score, float), "boxes_norm": np.asarray(boxes, float).reshape(-1, 4)}


def _row_checker(exp):
    frames_seen: list[int] = []

    def parse(fields, row):
        out = []
        if exp is not None and exp.video is not None and fields[0] != str(exp.video):
            out.append(f"video '{fields[0]}', expected '{exp.video}'")
        if exp is not None and exp.object is not None and fields[1] != str(exp.object):
            out.append(f"object '{fields[1]}', expected '{exp.object}'")
        try:
            frame = int(fields[2])
        except ValueError:
            return out + [f"frame_num '{fields[2]}' is not an integer"]
        if frames_seen and frame <= frames_seen[-1]:
            out.append(f"frame_num {frame} not after the previous row's {frames_seen[-1]}")
        frames_seen.append(frame)
        if exp is not None and exp.init_frame is not None and frame <= int(exp.init_frame):
            out.append(f"frame_num {frame}: the init frame ({exp.init_frame}) and earlier must be omitted")
        if exp is not None and exp.last_frame is not None and frame > int(exp.last_frame):
            out.append(f"frame_num {frame} after the task's last frame {exp.last_frame}")
        flag = fields[3].strip().lower()
        if flag not in TRUE | FALSE:
            return out + [f"present '{fields[3]}' is not true/false"]
        try:
            score, xmin, xmax, ymin, ymax = (float(f) for f in fields[4:])
        except ValueError:
            return out + ["non-numeric score or coordinate"]
        if flag in TRUE:
            if math.isnan(score):
                out.append("NaN score on a present prediction (the post-hoc curve raises)")
            coords = (xmin, xmax, ymin, ymax)
            if any(not math.isfinite(v) for v in coords):
                out.append("NaN or infinite coordinate")
            elif any(v < 0 or v > 1 for v in coords):
                out.append("coordinate outside [0, 1] (normalise by the image size and clip)")
            elif xmax < xmin or ymax < ymin:
                out.append(f"negative size (xmin {fields[5]} > xmax {fields[6]} or ymin > ymax)")
        return out

    return parse

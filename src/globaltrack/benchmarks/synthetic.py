"""`synthetic`: a procedural long-term tracking benchmark written to disk in the LaSOT layout.

Every sequence shows several textured instances of one shape class moving over a cluttered, textured background.
Instance 0 is the target (``groundtruth.txt``); the others are look-alike distractors (same shape, other texture and
colour) or objects of other classes. Sequences carry the situations long-term tracking is about:

- ``absence``: the target leaves the view or goes fully behind a foreground occluder for tens to hundreds of frames;
- ``cut``: abrupt jumps (camera cuts): the background view and every object move at once;
- ``distractor``: look-alike instances of the target's class;
- ``scale_change``: the target's size changes by a factor of up to ~3 over the sequence.

The layout is LaSOT's (``<root>/<class>/<class>-<n>/img/00000001.jpg``, ``groundtruth.txt`` with ``x,y,w,h`` rows and
0,0,0,0 when absent, one-line comma-separated ``full_occlusion.txt`` / ``out_of_view.txt``, ``nlp.txt``), so every
later stage (runner, LaSOT protocol, reports) runs its real code path. Extra files per sequence:
``instances.json`` (every instance's track, used by GlobalTrack's cross-query training loss) and
``attributes.json``. ``synthetic.json`` at the root records the generation parameters; it is written last, so its
presence marks a complete dataset.

Everything is deterministic given ``(seed, split, sequence index)``; the ``train`` and ``test`` splits draw from
different random streams even with the same seed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from globaltrack._io import atomic_write_text
from globaltrack.benchmarks import Benchmark, register_benchmark
from globaltrack.errors import AnnotationError, UserError
from globaltrack.sequence import Sequence
from globaltrack.textio import parse_numeric_table

GENERATOR_VERSION = 1
SPLITS = ("train", "test")
_SPLIT_STREAM = {"train": 1, "test": 2}
SHAPES = ("disc", "square", "triangle", "star", "cross", "diamond", "hexagon", "ring")
TEXTURES = ("stripes", "checker", "dots", "blotches", "rings", "gradient")
ATTRIBUTES = ("absence", "cut", "distractor", "scale_change")
_SPRITE = 96          # sprites are rendered once at this resolution, then resized per frame
_RAMP = 12            # frames spent walking out of / back into view around an absence


# ----------------------------------------------------------------------------------------------- drawing helpers
def _shape_mask(kind: str, size: int = _SPRITE):
    """An 'L' mask of a shape touching all four borders of a size x size square (so its box is the sprite box)."""
    from PIL import Image, ImageDraw

    m = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(m)
    s = size - 1
    c = s / 2.0
    if kind == "disc":
        d.ellipse([0, 0, s, s], fill=255)
    elif kind == "square":
        d.rectangle([0, 0, s, s], fill=255)
    elif kind == "triangle":
        d.polygon([(c, 0), (s, s), (0, s)], fill=255)
    elif kind == "star":
        pts = []
        for i in range(10):
            r = c if i % 2 == 0 else c * 0.45
            a = -np.pi / 2 + i * np.pi / 5
            pts.append((c + r * np.cos(a), c + r * np.sin(a)))
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        # stretch the star to touch every border
        pts = [((x - min(xs)) / (max(xs) - min(xs)) * s, (y - min(ys)) / (max(ys) - min(ys)) * s) for x, y in pts]
        d.polygon(pts, fill=255)
    elif kind == "cross":
        t = s * 0.32
        d.rectangle([c - t, 0, c + t, s], fill=255)
        d.rectangle([0, c - t, s, c + t], fill=255)
    elif kind == "diamond":
        d.polygon([(c, 0), (s, c), (c, s), (0, c)], fill=255)
    elif kind == "hexagon":
        d.polygon([(s * 0.25, 0), (s * 0.75, 0), (s, c), (s * 0.75, s), (s * 0.25, s), (0, c)], fill=255)
    elif kind == "ring":
        d.ellipse([0, 0, s, s], fill=255)
        d.ellipse([s * 0.3, s * 0.3, s * 0.7, s * 0.7], fill=0)
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    return m


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, 3).astype(np.float32)


def _texture(rng: np.random.Generator, kind: str, h: int, w: int, c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """An (h, w, 3) uint8 texture blending two colours with a pattern: what separates look-alike instances."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = float(rng.uniform(6, 18))
    if kind == "stripes":
        a = rng.uniform(0, np.pi)
        t = (np.sin(2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / period) > 0).astype(np.float32)
    elif kind == "checker":
        t = ((np.floor(xx / period) + np.floor(yy / period)) % 2).astype(np.float32)
    elif kind == "dots":
        t = ((((xx % period) - period / 2) ** 2 + ((yy % period) - period / 2) ** 2) < (period * 0.3) ** 2)
        t = t.astype(np.float32)
    elif kind == "rings":
        r = np.hypot(xx - w / 2, yy - h / 2)
        t = (np.sin(2 * np.pi * r / period) > 0).astype(np.float32)
    elif kind == "gradient":
        a = rng.uniform(0, 2 * np.pi)
        g = xx * np.cos(a) + yy * np.sin(a)
        t = (g - g.min()) / max(float(np.ptp(g)), 1e-6)
    else:  # blotches: upsampled coarse noise
        t = _smooth_noise(rng, h, w, cells=int(rng.integers(3, 7)))[..., 0]
        t = (t > 0.5).astype(np.float32) * 0.8 + t * 0.2
    img = c1[None, None] * (1 - t[..., None]) + c2[None, None] * t[..., None]
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int = 6, channels: int = 1) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a coarse random grid upsampled bicubically."""
    from PIL import Image

    out = []
    for _ in range(channels):
        coarse = (rng.random((cells, cells)) * 255).astype(np.uint8)
        out.append(np.asarray(Image.fromarray(coarse).resize((w, h), Image.BICUBIC), dtype=np.float32) / 255.0)
    return np.stack(out, axis=-1)


def _sprite(rng: np.random.Generator, shape: str, texture: str, c1, c2):
    """An RGBA sprite: textured shape on transparent ground."""
    from PIL import Image

    rgb = Image.fromarray(_texture(rng, texture, _SPRITE, _SPRITE, c1, c2))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(_shape_mask(shape))
    return rgba


def _background(rng: np.random.Generator, w: int, h: int):
    """A cluttered canvas larger than the view: smooth colour noise plus many textured and solid shapes, some of
    them of the target's shape classes, so the target is not found by colour or shape alone."""
    from PIL import Image

    base = _smooth_noise(rng, h, w, cells=int(rng.integers(4, 9)), channels=3)
    tint = rng.uniform(40, 200, 3)
    img = np.clip(base * rng.uniform(80, 180) + tint[None, None] - 60, 0, 255)
    img += rng.normal(0, 8, img.shape)
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    n_clutter = int(rng.integers(25, 45) * (w * h) / (480 * 360))
    for _ in range(max(n_clutter, 8)):
        size = int(rng.uniform(0.04, 0.2) * min(w, h)) + 4
        aw, ah = size, max(4, int(size * rng.uniform(0.5, 2.0)))
        kind = SHAPES[int(rng.integers(len(SHAPES)))]
        tex = TEXTURES[int(rng.integers(len(TEXTURES)))]
        sp = _sprite(rng, kind, tex, _random_colour(rng), _random_colour(rng)).resize((aw, ah))
        # clutter is partly transparent or dim so it stays background-like rather than a second target set
        alpha = np.asarray(sp.getchannel("A"), dtype=np.float32) * rng.uniform(0.35, 0.9)
        sp.putalpha(Image.fromarray(alpha.astype(np.uint8)))
        canvas.paste(sp, (int(rng.integers(0, w - aw)), int(rng.integers(0, h - ah))), sp)
    return canvas


# ---------------------------------------------------------------------------------------------- motion helpers
def _random_walk(rng, n, W, H, sizes, speed, start=None):
    """Centres (n, 2) of a damped random walk bouncing inside the view; ``sizes`` (n, 2) keeps the box inside."""
    pos = np.array(start if start is not None else [rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H])
    vel = rng.normal(0, speed, 2)
    out = np.zeros((n, 2))
    for t in range(n):
        vel = 0.92 * vel + rng.normal(0, speed * 0.35, 2)
        norm = np.hypot(*vel)
        if norm > 2.5 * speed:
            vel *= 2.5 * speed / norm
        pos = pos + vel
        for k, lim in ((0, W), (1, H)):
            half = sizes[t, k] / 2
            if pos[k] < half:
                pos[k], vel[k] = half, abs(vel[k])
            elif pos[k] > lim - half:
                pos[k], vel[k] = lim - half, -abs(vel[k])
        out[t] = pos
    return out


def _interpolate(out, a, b, p, q):
    """Linearly move ``out[a:b]`` from point p to point q."""
    if b <= a:
        return
    for i, t in enumerate(range(a, b)):
        f = (i + 1) / (b - a + 1)
        out[t] = (1 - f) * np.asarray(p) + f * np.asarray(q)


def _segments(rng, frames, count, min_len, max_len, forbid=()):
    """Non-overlapping [start, end) segments inside [15, frames-15), apart from each other and from ``forbid``."""
    segs: list[tuple[int, int]] = []
    for _ in range(50 * count):
        if len(segs) == count:
            break
        length = int(rng.integers(min_len, max_len + 1))
        lo, hi = 15 + _RAMP, frames - length - _RAMP - 5
        if hi <= lo:
            continue
        s = int(rng.integers(lo, hi))
        e = s + length
        if (all(e + 2 * _RAMP < a or s > b + 2 * _RAMP for a, b in segs)
                and all(e + _RAMP < a or s > b + _RAMP for a, b in forbid)):
            segs.append((s, e))
    if not segs and forbid:  # short sequences: an absence matters more than keeping it away from a cut
        return _segments(rng, frames, count, min_len, max_len)
    return sorted(segs)


def _clip_box(box, W, H):
    x, y, w, h = box
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x2 <= x1 or y2 <= y1:
        return None
    return [x1, y1, x2 - x1, y2 - y1]


def _inside(box, outer):
    return (box[0] >= outer[0] and box[1] >= outer[1] and box[0] + box[2] <= outer[0] + outer[2]
            and box[1] + box[3] <= outer[1] + outer[3])


# ---------------------------------------------------------------------------------------------- one sequence
def _plan_sequence(rng: np.random.Generator, index: int, frames: int, W: int, H: int) -> dict[str, Any]:
    """Decide attributes and every instance's per-frame box; no pixels yet."""
    # Attributes: a fixed pattern over the sequence index guarantees every attribute occurs in any set of >= 4
    # sequences; the random draw adds variety on top.
    attrs = {
        "absence": index % 2 == 0 or rng.random() < 0.3,
        "cut": index % 4 in (1, 2) or rng.random() < 0.25,
        "distractor": index % 4 != 3 or rng.random() < 0.5,
        "scale_change": index % 3 == 0 or rng.random() < 0.4,
    }
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    aspect = float(rng.uniform(0.6, 1.6))  # w / h, shared by the class's instances
    n_alike = int(rng.integers(2, 4)) if attrs["distractor"] else 0
    n_other = int(rng.integers(1, 3))
    other_shapes = [s for s in SHAPES if s != shape]
    # instance 0 is the target
    classes = [shape] * (1 + n_alike) + [other_shapes[int(rng.integers(len(other_shapes)))] for _ in range(n_other)]
    aspects = [aspect] * (1 + n_alike) + [float(rng.uniform(0.6, 1.6)) for _ in range(n_other)]

    cut_frames = sorted(int(c) for c in rng.choice(np.arange(25, frames - 20), size=int(rng.integers(1, 3)),
                                                   replace=False)) if attrs["cut"] and frames > 60 else []
    if attrs["cut"] and not cut_frames:
        attrs["cut"] = False

    absences: list[tuple[int, int, str]] = []
    if attrs["absence"]:
        max_len = max(20, min(160, frames // 3))
        count = int(rng.integers(1, 3)) if frames >= 200 else 1
        segs = _segments(rng, frames, count, 20, max_len, forbid=[(c, c) for c in cut_frames])
        first = "out_of_view" if rng.random() < 0.5 else "full_occlusion"
        other = "full_occlusion" if first == "out_of_view" else "out_of_view"
        absences = [(s, e, first if i % 2 == 0 else other) for i, (s, e) in enumerate(segs)]
        if not absences:
            attrs["absence"] = False

    # sizes (n, 2) per instance: base size times a scale curve
    t = np.arange(frames)
    instances = []
    base_min = 0.14 * min(W, H)
    for k, (cls, asp) in enumerate(zip(classes, aspects)):
        area = (rng.uniform(1.0, 2.0) * base_min) ** 2
        w0, h0 = np.sqrt(area * asp), np.sqrt(area / asp)
        if k == 0 and attrs["scale_change"]:
            lo, hi = rng.uniform(0.55, 0.8), rng.uniform(1.3, 1.8)
            phase, period = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.5) * frames
            scale = lo + (hi - lo) * (0.5 + 0.5 * np.sin(2 * np.pi * t / period + phase))
        else:
            scale = 1 + 0.08 * np.sin(2 * np.pi * t / rng.uniform(60, 200) + rng.uniform(0, 6.3))
        sizes = np.stack([w0 * scale, h0 * scale], axis=1)
        speed = rng.uniform(0.8, 2.5) * W / 320
        centres = _random_walk(rng, frames, W, H, sizes, speed)
        for c in cut_frames:  # a cut: every object restarts somewhere else
            centres[c:] = _random_walk(rng, frames - c, W, H, sizes[c:], speed)
        instances.append({"class": cls, "sizes": sizes, "centres": centres, "sprite_seed": int(rng.integers(2**31))})

    # target absences override the target's path
    occluders = []
    tgt = instances[0]
    for s, e, kind in absences:
        c, sz = tgt["centres"], tgt["sizes"]
        if kind == "out_of_view":
            side = int(rng.integers(4))
            big = sz[s - 1:e + 1].max(axis=0)  # the largest size in the segment keeps the box fully outside
            exit_pt = _offscreen(c[s - _RAMP], big, side, W, H)
            back_side = int(rng.integers(4))
            entry_pt = _offscreen(c[min(e + _RAMP, frames - 1)], big, back_side, W, H)
            _interpolate(c, s - _RAMP, s, c[s - _RAMP - 1], exit_pt)
            c[s:e] = exit_pt
            c[e - 1] = entry_pt
            _interpolate(c, e, min(e + _RAMP, frames), entry_pt, c[min(e + _RAMP, frames - 1)])
        else:
            lo, hi = max(s - _RAMP, 0), min(e + _RAMP, frames)
            big = sz[lo:hi].max(axis=0)
            occ_size = big * rng.uniform(1.5, 1.9)
            centre = np.clip(c[s], occ_size / 2, [W - occ_size[0] / 2, H - occ_size[1] / 2])
            jitter = (occ_size - big) / 2 * 0.5
            _interpolate(c, s - _RAMP, s, c[s - _RAMP - 1], centre)
            c[s:e] = centre + rng.uniform(-1, 1, (e - s, 2)) * jitter * 0.3
            _interpolate(c, e, hi, c[e - 1], c[hi - 1] if hi < frames else c[e - 1])
            occluders.append({"box": [float(centre[0] - occ_size[0] / 2), float(centre[1] - occ_size[1] / 2),
                                      float(occ_size[0]), float(occ_size[1])],
                              "frames": [int(max(s - 3 * _RAMP, 1)), int(min(e + 3 * _RAMP, frames))],  # never on frame 0: the query
                              "seed": int(rng.integers(2**31))})

    return {"attributes": attrs, "shape": shape, "instances": instances, "occluders": occluders,
            "absences": absences, "cuts": cut_frames, "z_order": [int(i) for i in rng.permutation(len(instances))],
            "camera_seed": int(rng.integers(2**31))}


def _offscreen(centre, size, side, W, H):
    """A point just outside the view on ``side`` (0 left, 1 right, 2 top, 3 bottom), near ``centre``."""
    x, y = float(np.clip(centre[0], 0, W)), float(np.clip(centre[1], 0, H))
    if side == 0:
        return np.array([-size[0] / 2 - 4, y])
    if side == 1:
        return np.array([W + size[0] / 2 + 4, y])
    if side == 2:
        return np.array([x, -size[1] / 2 - 4])
    return np.array([x, H + size[1] / 2 + 4])


def _render_sequence(plan: dict[str, Any], seq_dir: Path, frames: int, W: int, H: int) -> None:
    """Draw the frames and write every annotation file of one sequence."""
    from PIL import Image

    cam_rng = np.random.default_rng(plan["camera_seed"])
    cw, ch = int(W * 1.6), int(H * 1.6)
    canvas = _background(cam_rng, cw, ch)
    sprites = []
    descriptions = []
    used = set()
    for inst in plan["instances"]:
        srng = np.random.default_rng(inst["sprite_seed"])
        # look-alikes differ in texture and colour: draw a texture not used yet when possible
        choices = [t for t in TEXTURES if t not in used] or list(TEXTURES)
        tex = choices[int(srng.integers(len(choices)))]
        used.add(tex)
        c1, c2 = _random_colour(srng), _random_colour(srng)
        sprites.append(_sprite(srng, inst["class"], tex, c1, c2))
        descriptions.append({"class": inst["class"], "texture": tex, "colours": [c1.astype(int).tolist(),
                                                                                c2.astype(int).tolist()]})
    occ_imgs = []
    for occ in plan["occluders"]:
        orng = np.random.default_rng(occ["seed"])
        ow, oh = max(int(round(occ["box"][2])), 2), max(int(round(occ["box"][3])), 2)
        occ_imgs.append(Image.fromarray(_texture(orng, TEXTURES[int(orng.integers(len(TEXTURES)))], oh, ow,
                                                 _random_colour(orng), _random_colour(orng))))

    # camera: slow pan over the canvas; a cut jumps to a new view
    cam = np.array([cam_rng.uniform(0, cw - W), cam_rng.uniform(0, ch - H)])
    cam_vel = cam_rng.normal(0, 0.4, 2)
    cuts = set(plan["cuts"])

    n_inst = len(plan["instances"])
    boxes = np.zeros((n_inst, frames, 4))
    visible = np.zeros((n_inst, frames))
    img_dir = seq_dir / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    full_occ = np.zeros(frames, dtype=int)
    out_view = np.zeros(frames, dtype=int)
    for t in range(frames):
        if t in cuts:
            cam = np.array([cam_rng.uniform(0, cw - W), cam_rng.uniform(0, ch - H)])
        cam_vel = 0.95 * cam_vel + cam_rng.normal(0, 0.1, 2)
        cam = np.clip(cam + cam_vel, 0, [cw - W, ch - H])
        frame = canvas.crop((int(cam[0]), int(cam[1]), int(cam[0]) + W, int(cam[1]) + H))
        active_occ = [(o, im) for o, im in zip(plan["occluders"], occ_imgs) if o["frames"][0] <= t < o["frames"][1]]
        for k in range(n_inst):
            inst = plan["instances"][k]
            w, h = (max(int(round(v)), 4) for v in inst["sizes"][t])
            x, y = int(round(inst["centres"][t][0] - w / 2)), int(round(inst["centres"][t][1] - h / 2))
            boxes[k, t] = (x, y, w, h)
            clipped = _clip_box((x, y, w, h), W, H)
            frac = 0.0 if clipped is None else (clipped[2] * clipped[3]) / float(w * h)
            if any(_inside((x, y, w, h), o["box"]) for o, _ in active_occ):
                frac = 0.0
                if k == 0:
                    full_occ[t] = 1
            elif clipped is None and k == 0:
                out_view[t] = 1
            visible[k, t] = frac
        for k in plan["z_order"]:
            x, y, w, h = (int(v) for v in boxes[k, t])
            if _clip_box((x, y, w, h), W, H) is not None:
                sp = sprites[k].resize((w, h), Image.BILINEAR)
                frame.paste(sp, (x, y), sp)
        for o, im in active_occ:
            frame.paste(im, (int(round(o["box"][0])), int(round(o["box"][1]))))
        frame.save(img_dir / f"{t + 1:08d}.jpg", quality=90)

    # ground truth of the target: the visible part of its box, 0,0,0,0 when absent (LaSOT's convention)
    gt_lines = []
    for t in range(frames):
        if full_occ[t] or out_view[t]:
            gt_lines.append("0,0,0,0")
        else:
            x, y, w, h = _clip_box(boxes[0, t], W, H)
            gt_lines.append(f"{int(x)},{int(y)},{int(w)},{int(h)}")
    atomic_write_text(seq_dir / "groundtruth.txt", "\n".join(gt_lines) + "\n")
    atomic_write_text(seq_dir / "full_occlusion.txt", ",".join(str(v) for v in full_occ) + "\n")
    atomic_write_text(seq_dir / "out_of_view.txt", ",".join(str(v) for v in out_view) + "\n")
    d0 = descriptions[0]
    atomic_write_text(seq_dir / "nlp.txt", f"the {d0['texture']} {d0['class']}\n")
    inst_json = []
    for k in range(n_inst):
        tracks = []
        for t in range(frames):
            c = _clip_box(boxes[k, t], W, H)
            tracks.append(None if c is None or visible[k, t] == 0 else [int(v) for v in c])
        inst_json.append({"id": k, **descriptions[k], "target": k == 0,
                          "look_alike": k > 0 and plan["instances"][k]["class"] == plan["shape"],
                          "boxes": tracks, "visible": [round(float(v), 3) for v in visible[k]]})
    atomic_write_text(seq_dir / "instances.json", json.dumps({"instances": inst_json}, separators=(",", ":")))
    attrs = dict(plan["attributes"])
    atomic_write_text(seq_dir / "attributes.json", json.dumps({
        "attributes": attrs, "cuts": plan["cuts"],
        # absence runs as the flags say (1-based inclusive), not as planned: a target can also wander under an
        # occluder outside the planned segment
        "absences": _runs(full_occ, "full_occlusion") + _runs(out_view, "out_of_view"),
        "absent_frames": int((full_occ | out_view).sum())}, indent=1))


def _runs(flags: np.ndarray, kind: str) -> list[dict[str, Any]]:
    """Runs of 1s in a flag array as ``{"start", "end", "kind"}`` with 1-based inclusive frame numbers."""
    runs, start = [], None
    for t, f in enumerate(list(flags) + [0]):
        if f and start is None:
            start = t
        elif not f and start is not None:
            runs.append({"start": start + 1, "end": t, "kind": kind})
            start = None
    return runs


# ---------------------------------------------------------------------------------------------- public API
def _params(seed, split, sequences, frames, size) -> dict[str, Any]:
    return {"generator_version": GENERATOR_VERSION, "seed": int(seed), "split": split, "sequences": int(sequences),
            "frames": int(frames), "size": [int(size[0]), int(size[1])]}


def _is_complete(out: Path, params: dict[str, Any]) -> bool:
    meta = out / "synthetic.json"
    if not meta.is_file():
        return False
    try:
        stored = json.loads(meta.read_text())
    except ValueError:
        return False
    if {k: stored.get(k) for k in params} != params:
        return False
    for name in stored.get("names", []):
        d = out / name.split("-")[0] / name
        if not (d / "groundtruth.txt").is_file() or not (d / "img" / f"{params['frames']:08d}.jpg").is_file():
            return False
    return True


def generate(out_dir, seed: int = 0, split: str = "test", sequences: int = 8, frames: int = 300,
             size: tuple[int, int] = (320, 240), quiet: bool = True) -> Path:
    """Write a synthetic dataset in the LaSOT layout to ``out_dir`` and return it.

    Does nothing when ``out_dir`` already holds a complete dataset generated with the same parameters.
    """
    if split not in SPLITS:
        raise UserError(f"synthetic split must be one of {', '.join(SPLITS)}, got '{split}'")
    W, H = int(size[0]), int(size[1])
    if W < 64 or H < 48:
        raise UserError(f"synthetic frame size {W}x{H} is too small (minimum 64x48)")
    if frames < 30:
        raise UserError(f"synthetic sequences need at least 30 frames, got {frames}")
    if sequences < 1:
        raise UserError("synthetic needs at least one sequence")
    out = Path(out_dir)
    params = _params(seed, split, sequences, frames, (W, H))
    if _is_complete(out, params):
        return out
    out.mkdir(parents=True, exist_ok=True)
    stale = out / "synthetic.json"
    if stale.exists():
        stale.unlink()
    names = []
    per_class: dict[str, int] = {}
    for i in range(sequences):
        rng = np.random.default_rng([int(seed), _SPLIT_STREAM[split], i])
        plan = _plan_sequence(rng, i, frames, W, H)
        per_class[plan["shape"]] = per_class.get(plan["shape"], 0) + 1
        name = f"{plan['shape']}-{per_class[plan['shape']]}"
        seq_dir = out / plan["shape"] / name
        if seq_dir.exists():
            import shutil

            shutil.rmtree(seq_dir)
        _render_sequence(plan, seq_dir, frames, W, H)
        names.append(name)
        if not quiet:
            print(f"  {name}: {', '.join(k for k, v in plan['attributes'].items() if v) or 'plain'}", flush=True)
    # LaSOT's toolkit lists its split in testing_set.txt / training_set.txt; write the same list for tools that read it
    list_name = "testing_set.txt" if split == "test" else "training_set.txt"
    atomic_write_text(out / list_name, "\n".join(names) + "\n")
    atomic_write_text(stale, json.dumps({**params, "names": names}, indent=1))
    return out


# ---------------------------------------------------------------------------------------------- reading
def _read_flags(path: Path, n: int) -> np.ndarray:
    try:
        text = path.read_text().strip().replace("\n", ",")
    except FileNotFoundError:
        raise AnnotationError("flag file not found", path) from None
    vals = [v for v in text.split(",") if v.strip() != ""]
    try:
        arr = np.array([int(float(v)) for v in vals], dtype=int)
    except ValueError as err:
        raise AnnotationError(f"bad flag value ({err})", path, 1) from None
    if len(arr) != n:
        raise AnnotationError(f"{len(arr)} flags for {n} ground-truth rows", path, 1)
    return arr.astype(bool)


def read_groundtruth(path: Path) -> np.ndarray:
    """The x,y,w,h rows of ``groundtruth.txt`` (errors name the file and line)."""
    return parse_numeric_table(path.read_bytes(), path, 4)


def read_instances(seq: Sequence) -> list[dict[str, Any]]:
    """Every instance's track of a synthetic sequence (``boxes[t]`` is x,y,w,h or None when not visible)."""
    path = Path(seq.metadata["path"]) / "instances.json"
    return json.loads(path.read_text())["instances"]


@register_benchmark("synthetic", description="procedural long-term benchmark (absences, cuts, look-alikes), "
                                             "LaSOT layout; write one with `globaltrack synth`")
class SyntheticBenchmark(Benchmark):
    """Reads a dataset written by :func:`generate`. A root holds one split (``synthetic.json`` says which); a root
    holding ``train/`` and ``test/`` subfolders serves both."""

    default_protocol = "lasot"
    splits = SPLITS
    default_split = "test"

    def __init__(self, root, split: str | None = None, **options: Any):
        super().__init__(root, split=split, **options)
        self._split_given = split is not None

    def _dataset_root(self) -> tuple[Path, dict[str, Any]]:
        if self.root is None:
            raise UserError("synthetic needs --root (write a dataset with `globaltrack synth --out DIR`)")
        root = Path(self.root)
        for cand in (root / self.split, root):
            meta = cand / "synthetic.json"
            if meta.is_file():
                info = json.loads(meta.read_text())
                if cand == root and self._split_given and info.get("split") != self.split:
                    raise UserError(f"{root} holds the synthetic '{info.get('split')}' split, not '{self.split}'",
                                    str(meta))
                return cand, info
        raise UserError(f"no synthetic dataset at {root} (missing synthetic.json; generation incomplete?). "
                        f"Write one with `globaltrack synth --out {root}`")

    def check(self) -> list[str]:
        try:
            root, info = self._dataset_root()
        except UserError as err:
            return [str(err)]
        problems = []
        for name in info.get("names", []):
            d = root / name.split("-")[0] / name
            for f in ("groundtruth.txt", "full_occlusion.txt", "out_of_view.txt"):
                if not (d / f).is_file():
                    problems.append(f"{d / f}: missing")
            if len(list((d / "img").glob("*.jpg"))) != info["frames"]:
                problems.append(f"{d / 'img'}: expected {info['frames']} frames")
        return problems

    def load(self) -> list[Sequence]:
        return self.load_selected(None)

    def load_selected(self, names: list[str] | None = None, errors: str = "raise") -> list[Sequence]:
        """Read the sequences called ``names`` (all when None) one by one; see `Benchmark.load_selected`."""
        root, info = self._dataset_root()
        official = list(info["names"])
        if names:
            unknown = [n for n in names if n not in official]
            if unknown:
                from globaltrack.benchmarks._common import unknown_names_message

                raise UserError(unknown_names_message(unknown, f"synthetic split '{info.get('split', self.split)}'"))
        seqs = []
        for name in (list(dict.fromkeys(names)) if names else official):
            try:
                seqs.append(self._read(root, info, name))
            except UserError as err:
                if errors == "raise":
                    raise
                seqs.append(Sequence.unreadable(name, err))
        return seqs

    @staticmethod
    def _read(root: Path, info: dict[str, Any], name: str) -> Sequence:
        d = root / name.split("-")[0] / name
        gt_path = d / "groundtruth.txt"
        if not gt_path.is_file():
            raise AnnotationError("ground-truth file not found", gt_path)
        gt = read_groundtruth(gt_path)
        absent = _read_flags(d / "full_occlusion.txt", len(gt)) | _read_flags(d / "out_of_view.txt", len(gt))
        frames = sorted(str(p) for p in (d / "img").glob("*.jpg"))
        if len(frames) != len(gt):
            raise AnnotationError(f"{len(frames)} frames but {len(gt)} ground-truth rows", gt_path)
        extra = json.loads((d / "attributes.json").read_text()) if (d / "attributes.json").is_file() else {}
        return Sequence(
            name=name, frames=frames, ground_truth=gt, absent=absent,
            attributes={k: bool(v) for k, v in extra.get("attributes", {}).items()},
            metadata={"class": name.split("-")[0], "path": str(d), "benchmark": "synthetic",
                      "protocol": "lasot", "resolution": tuple(info["size"]), "split": info["split"],
                      "cuts": extra.get("cuts", []), "absences": extra.get("absences", []),
                      "seed": info["seed"]})


__all__ = ["generate", "SyntheticBenchmark", "read_instances", "read_groundtruth", "ATTRIBUTES", "SHAPES"]

"""TraX server: lets the VOT toolkit (``vot test``, ``vot evaluate``) drive any registered tracker.

    python -m globaltrack.interop.trax_server NAME [--opt KEY=VALUE ...]

The toolkit starts this process (protocol ``traxpython`` in ``trackers.ini``, written by `globaltrack vot-setup`)
and talks TraX over its standard streams, through the ``vot-trax`` package's ``trax.Server`` (the same API as the
toolkit's own ``vot.tracker.dummy``). Per the TraX protocol (Čehovin, "TraX: The visual Tracking eXchange
Protocol and Library", Neurocomputing 2017):

- the server accepts rectangles (the client converts polygon ground truth such as VOT's ``bag`` to their bounding
  rectangle) and images as file paths (decoded RGB with `globaltrack.sequence.read_image`);
- each reply carries the predicted rectangle and the property ``confidence`` = `Prediction.score` (1 on the
  initialisation frame): the VOT long-term analyses (``average_tpr``, ``pr_curve``, ``f_curve``) read exactly this
  property (``vot/analysis/longterm.py``). A tracker that says the target is absent (``present=False``) reports
  its score, which our baselines set to 0 (see `globaltrack.trackers.opencv_trackers`).

The tracker is built before the TraX handshake, so a construction error (missing weights, bad option) ends the
process with one line on stderr, which the toolkit shows in its tracker log.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m globaltrack.interop.trax_server",
                                     description="serve a registered globaltrack tracker over TraX (VOT toolkit)")
    parser.add_argument("tracker", help="registered tracker name (see `globaltrack trackers`)")
    parser.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE", help="tracker option")
    args = parser.parse_args(argv)
    options = {}
    for pair in args.opt:     # KEY=VALUE, as `globaltrack run --opt` takes them (no import of the CLI: no cycle)
        if "=" not in pair:
            parser.error(f"--opt expects KEY=VALUE, got '{pair}'")
        key, value = pair.split("=", 1)
        options[key.strip()] = value.strip()
    return args.tracker, options


def _box_of(region) -> np.ndarray:
    """x, y, w, h of a TraX region (rectangle; a polygon gives its bounding rectangle)."""
    from trax import Region

    if region.type == Region.RECTANGLE:
        return np.asarray(region.bounds(), dtype=np.float64)
    if region.type == Region.POLYGON:
        pts = np.asarray(list(region), dtype=np.float64).reshape(-1, 2)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return np.array([x0, y0, x1 - x0, y1 - y0])
    raise ValueError(f"unsupported TraX region type '{region.type}'")


def _image_of(request_images):
    from trax import Image

    from globaltrack.sequence import read_image

    image = request_images.get("color") if isinstance(request_images, dict) else request_images
    if image is None:
        raise ValueError("TraX request without a color image")
    if image.type() != Image.PATH:
        raise ValueError(f"unsupported TraX image type '{image.type()}' (the server asks for file paths)")
    return read_image(image.path())


def _reply(box, confidence: float):
    from trax import Rectangle

    x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    return [(Rectangle.create(x, y, w, h), {"confidence": f"{float(confidence):.6g}"})]


def serve(tracker) -> int:
    """Answer TraX requests with ``tracker`` until the client quits. Returns the number of frames served."""
    from trax import Image, Region, Server, TraxStatus

    frames = 0
    with Server([Region.RECTANGLE], [Image.PATH], tracker_name=getattr(tracker, "name", "globaltrack"),
                tracker_family="globaltrack") as server:
        while True:
            request = server.wait()
            if request.type in (TraxStatus.QUIT, TraxStatus.ERROR):
                break
            image = _image_of(request.image)
            if request.type == TraxStatus.INITIALIZE:
                region, _properties = request.objects[0]
                box = _box_of(region)
                tracker.init(image, box)
                server.status(_reply(box, 1.0))
            else:
                pred = tracker.update(image)
                server.status(_reply(pred.box, pred.score))
            frames += 1
    return frames


def main(argv=None) -> int:
    from globaltrack.errors import UserError
    from globaltrack.trackers import create_tracker

    argv = sys.argv[1:] if argv is None else list(argv)
    name, options = parse_args(argv)
    try:
        tracker = create_tracker(name, **options)
    except UserError as err:
        print(f"globaltrack trax_server: error: {err}", file=sys.stderr)
        return 2
    serve(tracker)
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the VOT toolkit
    sys.exit(main())

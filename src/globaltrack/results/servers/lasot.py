"""LaSOT (spec/metrics.md section 3; the toolkit's ``calc_seq_err_robust.m`` reads ``<seq>.txt`` with dlmread):
``<seq>.txt`` per sequence, ``x,y,w,h`` rows, one per frame; at the root or under one folder (the toolkit's
``<tracker>_tracking_result/``), as a zip or a folder."""
from __future__ import annotations

from globaltrack.results.servers import register_server
from globaltrack.results.servers._common import BoxFileServer


@register_server("lasot", split="test", official_count=280, description="LaSOT toolkit result files")
class LaSOTServer(BoxFileServer):
    box_format = "%.4f"

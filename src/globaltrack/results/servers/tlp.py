"""TLP: ``<seq>.txt`` per sequence, ``x,y,w,h`` rows, one per frame, as the LaSOT toolkit reads them (the TLP
evaluation code reads the same per-sequence boxes)."""
from __future__ import annotations

from globaltrack.results.servers import register_server
from globaltrack.results.servers._common import BoxFileServer


@register_server("tlp", split="test", official_count=50, description="TLP result files")
class TLPServer(BoxFileServer):
    box_format = "%.4f"

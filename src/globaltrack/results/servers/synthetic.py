"""The synthetic benchmark, laid out like LaSOT, is exported as LaSOT would be (no official sequence count)."""
from __future__ import annotations

from globaltrack.results.servers import register_server
from globaltrack.results.servers._common import BoxFileServer


@register_server("synthetic", split="test", official_count=None, description="LaSOT-style files (synthetic)")
class SyntheticServer(BoxFileServer):
    box_format = "%.4f"

"""One module per benchmark submission server: what it accepts, built, validated and read back in one place.

A server registers itself in its own module::

    @register_server("trackingnet", split="test", official_count=511)
    class TrackingNetServer(SubmissionServer): ...

and implements `SubmissionServer.build` (result store -> ``{member: bytes}``), `validate` (``{member: bytes}`` ->
problem lines) and `read` (``{member: bytes}`` -> per-sequence results). Adding a server touches one module and its
test; `globaltrack.results.export` and `globaltrack.results.validate` only look servers up by benchmark name.
"""
from __future__ import annotations

from globaltrack.registry import Registry

SERVERS = Registry("submission format", "globaltrack.results.servers")


def register_server(name: str, *, split: str = "test", official_count: int | None = None,
                    aliases: tuple[str, ...] = (), description: str = ""):
    def deco(cls):
        cls.name, cls.split, cls.official_count = name, split, official_count
        SERVERS.register(name, description=description, aliases=aliases)(cls)
        return cls
    return deco


def get_server(benchmark: str):
    """The server (an instance) for a benchmark name or alias; a UserError lists the known ones."""
    return SERVERS.get(benchmark).factory()


__all__ = ["SERVERS", "register_server", "get_server"]

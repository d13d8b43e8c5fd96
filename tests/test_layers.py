"""No import cycles between the top-level packages of globaltrack (layers import downward only).

Every ``import globaltrack.X...`` / ``from globaltrack.X... import`` in the source, at module level or inside a
function, is an edge package -> X. The graph of packages must have no cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "globaltrack"

TOLERATED: set[tuple[str, str]] = set()  # no edge is excused


# The CLI commands are the top layer: they drive training (globaltrack.training), which itself runs trackers through
# the harness's runner. So harness/commands/ is a node of its own above everything, not part of `harness`.
COMMANDS = "harness.commands"


def _package(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    if rel[:2] == ("harness", "commands"):
        return COMMANDS
    return rel[0][:-3] if len(rel) == 1 else rel[0]


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        src = _package(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "globaltrack"]
            for name in names:
                parts = name.split(".")
                if parts[0] == "globaltrack" and len(parts) > 1:
                    dst = COMMANDS if parts[1:3] == ["harness", "commands"] else parts[1]
                    known = dst == COMMANDS or (SRC / dst).is_dir() or (SRC / f"{dst}.py").is_file()
                    if dst != src and known:
                        graph.setdefault(src, set()).add(dst)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    out, seen = [], set()
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cyc = path + [start]
                    key = frozenset(zip(cyc, cyc[1:]))
                    if key not in seen:
                        seen.add(key)
                        out.append(cyc)
                elif nxt not in path:
                    stack.append((nxt, path + [nxt]))
    return out


def test_no_import_cycle_between_packages():
    graph = import_graph()
    for a, b in TOLERATED:
        graph.get(a, set()).discard(b)
    # the entry points import everything; nothing imports them back
    for top in ("__main__",):
        graph.pop(top, None)
    assert _cycles(graph) == []


def test_the_graph_sees_real_edges():
    graph = import_graph()
    assert "metrics" in graph["scoring"] and "results" in graph["scoring"] and "textio" in graph["benchmarks"]
    assert "results" not in graph.get("benchmarks", set()) and "harness" not in graph.get("interop", set())


def test_only_the_cli_sits_above_training():
    graph = import_graph()
    assert "training" in graph[COMMANDS] and "harness" in graph["training"]
    importers = {src for src, deps in graph.items() if COMMANDS in deps}
    assert importers <= {"__main__", "harness"}, importers  # the CLI (harness/cli.py) finds its commands
    assert "training" not in graph.get("harness", set()) and "training" not in graph.get("trackers", set())

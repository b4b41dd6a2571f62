"""No import cycles inside ``pipeline.ingest`` (module-level or deferred imports alike)."""

from __future__ import annotations

import ast
from pathlib import Path

import pipeline.ingest

PACKAGE = Path(pipeline.ingest.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt] if nxt in stack else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*stack, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_ingest_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "pipeline.ingest.spyndex_bridge" in graph["pipeline.ingest.indices"]  # the graph sees the imports
    assert "pipeline.ingest.indices" not in graph["pipeline.ingest.spyndex_bridge"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_cycle_detector_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]

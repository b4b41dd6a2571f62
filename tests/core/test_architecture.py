"""Import structure (issue 15): dependencies point one way and nothing forms a cycle.

The import graph is read from the source with :mod:`ast` (module-level, function-level and
``TYPE_CHECKING`` imports all count: a local import that hides a cycle is still a cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pipeline"

#: Which top-level parts of ``pipeline`` each part may import (besides itself). The domain core and
#: the common helpers import no stage; stages import the core, the common helpers and the stages
#: listed here (by their public modules); ``batch`` and ``demo`` orchestrate every stage.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": {"errors"},
    "common": {"errors", "config"},
    "core": {"errors", "common"},
    "testing": {"errors", "common", "core", "config", "simulate", "flight", "mavlink", "ingest", "detection",
                "outputs", "search"},
    "analysis": {"errors", "common", "core"},
    "simulate": {"errors", "common", "core", "config", "ingest"},
    "flight": {"errors", "common", "core", "config"},
    "mavlink": {"errors", "common", "core", "config", "flight"},
    "search": {"errors", "common", "core", "config", "flight", "mavlink"},
    "ingest": {"errors", "common", "core", "config"},
    "mosaic": {"errors", "common", "core", "config", "ingest"},
    "detection": {"errors", "common", "core", "config", "ingest"},
    "outputs": {"errors", "common", "core", "config", "ingest", "detection", "analysis"},
    "scout": {"errors", "common", "core", "config", "detection", "outputs"},
    "batch": {"errors", "common", "core", "config", "ingest", "detection", "outputs", "analysis", "mosaic",
              "simulate"},
    "demo": {"errors", "common", "core", "config", "simulate", "flight", "mavlink", "ingest", "detection",
             "outputs", "search", "batch", "analysis", "mosaic", "scout"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            for alias in node.names:  # ``from pipeline.x import module``
                yield f"{target}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    """``module -> pipeline modules it imports`` for every module of the package."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {t for t in _imports(path, name) if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _part(module: str) -> str:
    """The layer of a module: ``pipeline.<part>...``; each stage's ``demo`` module (its step of
    ``shimanto demo``) belongs to the demo layer, not to its stage."""
    parts = module.split(".")
    if len(parts) > 2 and parts[-1] == "demo":
        return "demo"
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycles() -> None:
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_dependencies_point_one_way() -> None:
    problems = []
    for module, targets in sorted(import_graph().items()):
        part = _part(module)
        if not part:
            continue
        allowed = ALLOWED.get(part)
        assert allowed is not None, f"{module}: part {part!r} of pipeline is not in the layering table"
        for target in sorted(targets):
            other = _part(target)
            if other and other != part and other not in allowed:
                problems.append(f"{module} imports {target} ({part} may not depend on {other})")
    assert not problems, "\n".join(problems)


def test_no_stage_imports_another_stages_private_module() -> None:
    problems = [
        f"{module} imports private {target}"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if _part(target) != _part(module) and any(p.startswith("_") and p != "__init__" for p in target.split("."))
    ]
    assert not problems, "\n".join(problems)


def test_product_code_does_not_import_test_helpers() -> None:
    problems = [
        f"{module} imports {target}"
        for module, targets in sorted(import_graph().items())
        if _part(module) not in ("testing",)
        for target in sorted(targets)
        if _part(target) == "testing"
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", ["pipeline.core.fields", "pipeline.core.flight", "pipeline.core.mission",
                                    "pipeline.core.survey"])
def test_core_nouns_do_no_io(module: str) -> None:
    """Only ``pipeline.core.io`` of the core touches files, rasters or the network."""
    path = PACKAGE / Path(*module.split(".")[1:]).with_suffix(".py")
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    banned = {"rasterio", "json", "os", "shutil", "urllib", "socket", "pymavlink", "mlflow", "torch"}
    imported = {n.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for n in
                (a.name for a in node.names)}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module}
    assert not imported & banned, f"{module} imports {sorted(imported & banned)}"
    assert "open(" not in source and "read_text" not in source and "write_text" not in source

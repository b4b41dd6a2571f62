"""Fingerprints that decide whether a flight's stage must run again.

A stage's fingerprint is the SHA-256 of its name, its command line (paths
made relative), the content of every input file, its params.yaml sections and
its code version: a hash of the source of the packages the stage runs (e.g.
``pipeline/ingest`` for indices), the foundation (``pipeline/common`` …) and,
transitively, every ``pipeline`` module they import. A change in an unrelated
package (say flight planning) reruns nothing.
Unchanged fingerprint ⇒ the stage is skipped.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipeline.common.hashing import feed_file


def file_digest(path: Path) -> str:
    """SHA-256 hex digest of a file's content (streamed in 1 MiB chunks)."""
    return str(feed_file(hashlib.sha256(), path).hexdigest())


def tree_digest(paths: Iterable[Path]) -> str:
    """Digest over files and folders, in the order given (every file below a folder, sorted).

    Names enter relative to each path's parent and the order is the caller's,
    never the absolute paths', so the digest does not change when the flights'
    root or the run's output folder is moved or renamed.
    """
    h = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if any(part.startswith(".") for part in f.relative_to(path.parent).parts):
                continue
            h.update(str(f.relative_to(path.parent)).encode())
            h.update(file_digest(f).encode() if f.exists() else b"missing")
    return h.hexdigest()


PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Always part of every stage's code: the foundation every command uses.
FOUNDATION: tuple[str, ...] = ("pipeline/common", "pipeline/errors.py", "pipeline/config.py", "pipeline/__init__.py")


def _imported_pipeline_modules(source: Path) -> set[str]:
    """``pipeline.x.y`` modules a source file imports (static scan, any nesting level)."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "pipeline" or n.startswith("pipeline.")}


def _module_file(name: str, root: Path) -> Path | None:
    base = root / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def code_files(packages: Iterable[str], root: Path = PROJECT_ROOT) -> list[Path]:
    """Source files a stage's results depend on.

    Every ``.py`` file of ``pipeline/<package>`` for each package, the
    :data:`FOUNDATION`, and, transitively, every ``pipeline`` module those
    files import (so a change in a helper another package provides counts).
    """
    seeds: list[Path] = []
    for entry in (*FOUNDATION, *(f"pipeline/{p}" for p in packages)):
        path = root / entry
        seeds += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []
    seen: set[Path] = set()
    todo = list(seeds)
    while todo:
        src = todo.pop()
        if src in seen:
            continue
        seen.add(src)
        for module in _imported_pipeline_modules(src):
            found = _module_file(module, root)
            if found is not None and found not in seen:
                todo.append(found)
    return sorted(seen)


def code_version(packages: Iterable[str] = ("batch", "ingest", "detection", "outputs"),
                 root: Path = PROJECT_ROOT) -> str:
    """Hash of the source files :func:`code_files` lists for ``packages`` (16 hex digits).

    Computed afresh on every call (a few milliseconds): the main process of a
    run computes it once per stage and sends it to the workers, so one run
    has one code version per stage even if files change meanwhile.
    """
    h = hashlib.sha256()
    for src in code_files(packages, root):
        h.update(src.relative_to(root).as_posix().encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


def stage_fingerprint(
    stage: str, argv: Iterable[str], inputs: Iterable[Path], params: Mapping[str, Any], code: str
) -> str:
    """The fingerprint of one stage run (see module docstring)."""
    doc = {
        "stage": stage,
        "argv": list(argv),
        "inputs": tree_digest([p for p in inputs if p.exists()]),
        "params": json.loads(json.dumps(params, default=str, sort_keys=True)),
        "code": code,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


#: Files of a run that legitimately differ between runs (timings, ran/skipped statuses).
VOLATILE_OUTPUTS: frozenset[str] = frozenset({"run_summary.json"})


def output_manifest(out: Path) -> dict[str, str]:
    """What "identical outputs" means for a reprocessing run: relative path → SHA-256 of every file.

    Two runs are identical when their manifests are equal: the same set of
    files (temporary ``.``-prefixed leftovers count as files, so a stale one
    breaks identity) with the same content, except :data:`VOLATILE_OUTPUTS`
    at the top of ``out``. ``_stage.json`` markers are included; their
    fingerprints depend on the code version, so identity is defined for one
    code version.
    """
    return {
        p.relative_to(out).as_posix(): file_digest(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.relative_to(out).as_posix() not in VOLATILE_OUTPUTS
    }

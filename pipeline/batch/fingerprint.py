"""Fingerprints that decide whether a flight's stage must run again.

A stage's fingerprint is the SHA-256 of its name, its command line (paths
made relative), the content of every input file, its parameters and the code
version (a hash of the ``pipeline`` package's source files and ``cli.py``).
Unchanged fingerprint ⇒ the stage is skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 hex digest of a file's content (streamed in 1 MiB chunks)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(paths: Iterable[Path]) -> str:
    """Digest over files and folders (every file below a folder, sorted by path)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if any(part.startswith(".") for part in f.relative_to(path.parent).parts):
                continue
            h.update(str(f.relative_to(path.parent)).encode())
            h.update(file_digest(f).encode() if f.exists() else b"missing")
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the pipeline's source (``pipeline/**/*.py`` and ``cli.py``)."""
    root = Path(__file__).resolve().parents[2]
    sources = [*sorted((root / "pipeline").rglob("*.py")), root / "cli.py"]
    h = hashlib.sha256()
    for src in sources:
        if src.is_file():
            h.update(str(src.relative_to(root)).encode())
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

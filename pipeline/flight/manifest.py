"""A planned survey's files as one set: ``NAME.manifest.json`` lists every file of the current plan.

Re-planning into the same folder replaces the set: sortie files that the previous
manifest listed and the new plan no longer has (``NAME.sortie-3.plan`` of an earlier,
longer plan) are removed, so no pilot can pick them up; files the previous manifest did
not list are never touched. ``fly upload`` calls :func:`check_listed` and refuses a
sortie file that the manifest beside it does not list, naming the current plan.

Manifest layout (JSON)::

    {"manifest": 1, "plan": NAME, "sorties": K, "files": ["NAME.plan", ...]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.common.atomic import atomic_write_json
from pipeline.flight.errors import MissionFileError

MANIFEST_VERSION = 1
_SORTIE = re.compile(r"^(?P<name>.+)\.sortie-(?P<k>\d+)\.(?:plan|waypoints)$")


class StalePlanFileError(MissionFileError):
    """A sortie file that is not part of its plan's current file set."""


def manifest_path(folder: Path, name: str) -> Path:
    """``folder/NAME.manifest.json``."""
    return folder / f"{name}.manifest.json"


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or None when absent or unreadable."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("files"), list) else None


def write_manifest(folder: Path, name: str, written: Sequence[Path], sorties: int) -> Path:
    """Write the manifest of the set ``written`` and remove the previous set's files it no longer lists."""
    path = manifest_path(folder, name)
    previous = read_manifest(path)
    files = [p.name for p in written]
    atomic_write_json(path, {"manifest": MANIFEST_VERSION, "plan": name, "sorties": sorties, "files": files})
    if previous is not None:
        for old in previous["files"]:
            stale = folder / str(old)
            if str(old) not in files and _SORTIE.match(str(old)) and stale.parent == folder and stale.is_file():
                stale.unlink()
    return path


def check_listed(path: Path) -> None:
    """Refuse a ``NAME.sortie-K`` file that ``NAME.manifest.json`` beside it does not list.

    Raises:
        StalePlanFileError: no manifest beside the sortie file, or the manifest does not list it.
    """
    match = _SORTIE.match(path.name)
    if match is None:
        return
    name = match.group("name")
    manifest_file = manifest_path(path.parent, name)
    manifest = read_manifest(manifest_file)
    if manifest is None:
        raise StalePlanFileError(f"{path}: sortie file without {manifest_file.name} beside it, so it cannot be "
                                 f"told apart from a stale one; re-plan with 'shimanto plan survey ... --name {name}'")
    if path.name not in manifest["files"]:
        current = [f for f in manifest["files"] if str(f).endswith(".plan")]
        raise StalePlanFileError(f"{path}: not part of the current plan {name!r} ({manifest.get('sorties', '?')} "
                                 f"sortie(s): {', '.join(map(str, current))}); it is left from an earlier plan, "
                                 "upload one of those instead")

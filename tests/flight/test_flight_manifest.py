"""A plan's files form one set listed in NAME.manifest.json; re-planning removes only its own stale sortie files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.flight.manifest import StalePlanFileError, check_listed, write_manifest


def _touch(folder: Path, *names: str) -> list[Path]:
    paths = [folder / n for n in names]
    for p in paths:
        p.write_text("x", encoding="utf-8")
    return paths


def test_replanning_removes_the_previous_sets_sortie_files_only(tmp_path: Path) -> None:
    first = _touch(tmp_path, "f.plan", "f.sortie-1.plan", "f.sortie-2.plan", "f.sortie-3.plan", "f.sortie-3.waypoints")
    write_manifest(tmp_path, "f", first, 3)
    user_file = _touch(tmp_path, "f.sortie-9.plan")[0]  # not ours: never listed by a manifest
    second = _touch(tmp_path, "f.plan", "f.sortie-1.plan", "f.sortie-2.plan")
    write_manifest(tmp_path, "f", second, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "f.manifest.json", "f.plan", "f.sortie-1.plan", "f.sortie-2.plan", "f.sortie-9.plan"]
    doc = json.loads((tmp_path / "f.manifest.json").read_text())
    assert doc == {"manifest": 1, "plan": "f", "sorties": 2, "files": ["f.plan", "f.sortie-1.plan", "f.sortie-2.plan"]}
    check_listed(tmp_path / "f.sortie-2.plan")
    check_listed(tmp_path / "f.plan")
    with pytest.raises(StalePlanFileError, match="not part of the current plan 'f'"):
        check_listed(user_file)


def test_names_with_japanese_and_markup_characters(tmp_path: Path) -> None:
    name = "四万十 <東> & 'a'"
    files = _touch(tmp_path, f"{name}.plan", f"{name}.sortie-1.plan")
    write_manifest(tmp_path, name, files, 1)
    check_listed(tmp_path / f"{name}.sortie-1.plan")
    with pytest.raises(StalePlanFileError):
        check_listed(_touch(tmp_path, f"{name}.sortie-2.plan")[0])

"""Flight discovery, stage lists and fingerprints."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.batch.discover import discover_flights
from pipeline.batch.fingerprint import stage_fingerprint, tree_digest
from pipeline.batch.stages import parse_stages
from pipeline.errors import InputError, SceneNotFoundError, UnknownNameError


def test_discover_follows_the_folder_convention(tmp_path: Path) -> None:
    for name in ("kubokawa-east_20260612_rededge-mx", "kubokawa-east_20260601_rededge-mx", "notes",
                 "bad_20261340_p4m", "a_20260701_p4m"):
        (tmp_path / name).mkdir()
    (tmp_path / "readme.txt").write_text("x")
    found = discover_flights(tmp_path)
    assert [f.flight_id for f in found.flights] == [
        "a_20260701_p4m", "kubokawa-east_20260601_rededge-mx", "kubokawa-east_20260612_rededge-mx"]
    assert found.flights[1].date == date(2026, 6, 1) and found.flights[1].sensor == "rededge-mx"
    reasons = dict((p.name, r) for p, r in found.ignored)
    assert "not a valid YYYYMMDD" in reasons["bad_20261340_p4m"]
    assert "does not follow" in reasons["notes"]
    with pytest.raises(SceneNotFoundError):
        discover_flights(tmp_path / "missing")


def test_parse_stages_checks_names_and_requirements() -> None:
    assert parse_stages("publish,indices") == ("indices", "publish")
    with pytest.raises(UnknownNameError, match="expected one of"):
        parse_stages("indices,segment")
    with pytest.raises(InputError, match="'report' needs 'predict'"):
        parse_stages("indices,report")


def test_fingerprint_changes_with_content_not_mtime(tmp_path: Path) -> None:
    f = tmp_path / "scene.tif"
    f.write_bytes(b"abc")
    fp1 = stage_fingerprint("indices", ["indices", "x"], [f], {"a": 1}, "code1")
    f.write_bytes(b"abc")  # same content, new mtime
    assert stage_fingerprint("indices", ["indices", "x"], [f], {"a": 1}, "code1") == fp1
    f.write_bytes(b"abd")
    assert stage_fingerprint("indices", ["indices", "x"], [f], {"a": 1}, "code1") != fp1
    assert stage_fingerprint("indices", ["indices", "x"], [f], {"a": 2}, "code1") != stage_fingerprint(
        "indices", ["indices", "x"], [f], {"a": 1}, "code1")
    assert stage_fingerprint("indices", ["indices", "x"], [f], {}, "code2") != stage_fingerprint(
        "indices", ["indices", "x"], [f], {}, "code1")
    d = tmp_path / "model"
    d.mkdir()
    (d / "w.bin").write_bytes(b"1")
    before = tree_digest([d])
    (d / "w.bin").write_bytes(b"2")
    assert tree_digest([d]) != before


def test_tree_digest_does_not_depend_on_where_the_folders_are(tmp_path: Path) -> None:
    def layout(root_name: str, out_name: str) -> list[Path]:
        scene = tmp_path / root_name / "kubokawa_20260601_p4m" / "scene.tif"
        stats = tmp_path / out_name / "flights" / "kubokawa_20260601_p4m" / "indices"
        scene.parent.mkdir(parents=True)
        stats.mkdir(parents=True)
        scene.write_bytes(b"scene")
        (stats / "field_stats.csv").write_text("field_id,index,mean\n")
        return [scene, stats]

    # root sorts before out in one run and after it in the other: the digest must not care
    assert tree_digest(layout("a-root", "m-out")) == tree_digest(layout("z-root", "b-out"))

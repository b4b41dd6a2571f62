"""Output folders are never someone else's data (issue 12, item 1).

Every command that writes a folder goes through :func:`pipeline.common.atomic.atomic_dir` (or
``claim_output_folder`` for commands that add files): a non-empty folder it did not write is refused
with one line (exit 2) and left exactly as it was; a folder the same command wrote is replaced; the
swap leaves no moment without either folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.common import atomic
from pipeline.common.atomic import OUTPUT_MARKER, atomic_dir, exchange_paths, output_owner
from pipeline.errors import OutputExistsError
from pipeline.testing.toysurvey import ToySpec, make_toy_survey


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    survey = make_toy_survey(tmp_path_factory.mktemp("toy") / "survey", ToySpec(seed=1, grid=2))
    meta = json.loads((survey / "survey.json").read_text(encoding="utf-8"))
    (survey / "survey.json").write_text(json.dumps({**meta, "date": "2026-07-15"}), encoding="utf-8")
    pred = survey.parent / "pred"
    pred.mkdir()
    (pred / "hotspots.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    return survey


def _user_folder(path: Path) -> Path:
    """A folder holding a user's own work (a name with Japanese text, < & and quotes)."""
    path.mkdir(parents=True)
    (path / "田んぼのメモ <&'\">.txt").write_text("大事なメモ", encoding="utf-8")
    (path / "photos").mkdir()
    (path / "photos" / "IMG_0001.JPG").write_bytes(b"\xff\xd8jpeg")
    return path


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _commands(toy: Path, out: Path) -> dict[str, list[str]]:
    return {
        "indices": ["indices", str(toy / "scene.tif"), "--sensor", "rededge-mx", "--indices", "ndvi",
                    "--out", str(out)],
        "simulate survey": ["simulate", "survey", "--out", str(out), "--seed", "1", "--hectares", "0.2",
                            "--gsd-cm", "50"],
        "train": ["train", str(toy), "--out", str(out), "--epochs", "1"],
        "timeseries": ["timeseries", str(toy), "--out", str(out)],
        "publish": ["publish", str(toy), "--out", str(out)],
        "report": ["report", str(toy), "--indices", str(toy), "--predictions", str(toy.parent / "pred"),
                   "--out", str(out)],
        "demo": ["demo", "--out", str(out), "--quick"],
    }


COMMANDS = ["indices", "simulate survey", "train", "timeseries", "publish", "report", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_users_folder_is_refused_and_kept(command: str, toy: Path, tmp_path: Path, run_cli,
                                           capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = _user_folder(tmp_path / "Documents")
    before = _snapshot(out)
    capsys.readouterr()
    assert run_cli(_commands(toy, Path("Documents"))[command]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "'Documents'" in err[0] and "--overwrite" in err[0] and "田んぼのメモ" in err[0]
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Documents"], "nothing written beside it"


def test_rerun_replaces_own_output_and_overwrite_replaces_a_foreign_one(toy: Path, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "idx"
    argv = _commands(toy, out)["indices"]
    assert run_cli(argv) == 0
    assert output_owner(out) == "indices"
    (out / "ndvi.tif").write_bytes(b"stale")
    assert run_cli(argv) == 0  # the same command's folder: replaced
    assert (out / "ndvi.tif").read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    foreign = _user_folder(tmp_path / "mine")
    assert run_cli([*_commands(toy, foreign)["indices"], "--overwrite"]) == 0
    assert output_owner(foreign) == "indices" and not (foreign / "photos").exists()
    assert run_cli(_commands(toy, out)["timeseries"]) == 2, "another command's output is not replaced silently"
    assert output_owner(out) == "indices"


def test_a_file_is_never_replaced_by_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "result"
    target.write_text("user file")
    with pytest.raises(OutputExistsError, match="is a file"), atomic_dir(target, "test", overwrite=True):
        pass
    assert target.read_text() == "user file"


def test_swap_has_no_gap_and_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    final = tmp_path / "out"
    with atomic_dir(final, "test") as tmp:
        (tmp / "a.txt").write_text("old")
    if not exchange_paths(tmp_path / "out", tmp_path / "out"):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    moves: list[tuple[str, str]] = []
    synced: list[int] = []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (moves.append((str(a), str(b))), real_replace(a, b))[1])
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    with atomic_dir(final, "test") as tmp:
        (tmp / "a.txt").write_text("new")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("b")
    assert not [m for m in moves if m[0] == str(final)], "the old folder was moved away before the new one arrived"
    assert (final / "a.txt").read_text() == "new" and (final / OUTPUT_MARKER).is_file()
    assert len(synced) >= 6  # 3 files (a, b, marker), 2 folders, the parent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

"""The ``search`` demo stage and the ``search secret`` command."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pipeline.config import load_params
from pipeline.demo import DemoContext
from pipeline.search.demo import riverside_area, run
from pipeline.search.tokens import read_secret


def test_demo_plans_three_drones_along_the_river(tmp_path: Path) -> None:
    files = run(DemoContext(out=tmp_path, seed=7, params=load_params(), quick=True))
    stage = tmp_path / "search"
    assert all(f.is_file() and f.is_relative_to(stage) for f in files)
    summary = json.loads((stage / "plan" / "plan.json").read_text())
    assert 30.0 <= summary["area_ha"] <= 60.0
    assert summary["drones"] == 3 and summary["pattern"] == "creeping-line"
    assert summary["coverage_pct"] >= 99.0 and summary["imbalance_max_over_min"] <= 1.2
    secret_path = stage / "stream.secret"
    assert stat.S_IMODE(secret_path.stat().st_mode) == 0o600
    secret = read_secret(secret_path)
    for path in files:
        assert secret not in path.read_bytes()
    board = json.loads((stage / "plan" / "board.json").read_text())
    assert board["sectors"][0]["links"]["hls"].startswith("http://localhost:8080/hls/s1.m3u8?token=")
    sheet = (stage / "plan" / "pilot-sheets.html").read_text(encoding="utf-8")
    assert "rtmp://localhost:1935/live/s1?token=" in sheet and "publish" not in json.dumps(board)
    lon, lat = riverside_area().centroid.coords[0]
    assert abs(lat - 33.21) < 0.02 and abs(lon - 133.13) < 0.02
    # a second run reuses the secret, so pilots' links stay valid across re-plans
    run(DemoContext(out=tmp_path, seed=7, params=load_params(), quick=True))
    assert read_secret(secret_path) == secret


@pytest.mark.system
def test_demo_screenshot_of_the_board(tmp_path: Path) -> None:
    from pipeline.search.demo import find_chromium, screenshot_board

    if find_chromium() is None:
        pytest.skip("needs 'chromium' (Debian package chromium; install with: bash .ci/system-deps.sh)")
    run(DemoContext(out=tmp_path, seed=7, params=load_params(), quick=True))
    png = tmp_path / "search" / "board.png"
    assert screenshot_board(tmp_path / "search" / "plan" / "board.html", png) == [png]
    from PIL import Image

    with Image.open(png) as img:
        assert img.size == (1400, 1000)
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # a drawn page, not a blank one


def test_demo_says_how_to_view_the_board_without_chromium(tmp_path: Path, monkeypatch, capsys) -> None:
    import pipeline.search.demo as demo

    monkeypatch.setattr(demo, "find_chromium", lambda: None)
    page = tmp_path / "board.html"
    page.write_text("<!DOCTYPE html><title>x</title>")
    assert demo.screenshot_board(page, tmp_path / "board.png") == []
    err = capsys.readouterr().err
    assert "Chromium is not installed" in err and page.resolve().as_uri() in err
    assert not (tmp_path / "board.png").exists()


def test_secret_command_refuses_to_overwrite(run_cli, tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.secret"
    assert run_cli(["search", "secret", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    assert run_cli(["search", "secret", str(path)]) == 2
    assert "exists" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_params_section_is_validated(tmp_path: Path) -> None:
    import pytest

    from pipeline.errors import ConfigError
    from pipeline.search.config import search_params

    bad = tmp_path / "params.yaml"
    bad.write_text("search:\n  speed_m_s: -1\n  side_overlap: 2\n  colours: [red]\n")
    with pytest.raises(ConfigError) as err:
        search_params(load_params(bad))
    assert "speed_m_s" in str(err.value) and "side_overlap" in str(err.value) and "colours" in str(err.value)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("search:\n  altitude: 10\n")
    with pytest.raises(ConfigError, match="altitude"):
        search_params(load_params(unknown))
    assert search_params(load_params()).max_height_agl_m <= 150.0


def test_serve_refuses_a_secret_inside_the_served_folder(run_cli, tmp_path: Path, capsys) -> None:
    board = tmp_path / "plan"
    board.mkdir()
    assert run_cli(["search", "secret", str(board / "stream.secret")]) == 0
    assert run_cli(["search", "serve", "--board", str(board), "--secret-file", str(board / "stream.secret"),
                    "--work", str(tmp_path / "srv"), "--duration", "1"]) == 2
    assert "inside the served board folder" in capsys.readouterr().err

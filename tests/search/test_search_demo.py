"""The ``search`` demo stage and the ``search secret`` command."""

from __future__ import annotations

import json
import stat
from pathlib import Path

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
    assert board["sectors"][0]["links"]["publish"].startswith("rtmp://localhost:1935/live/s1?token=")
    lon, lat = riverside_area().centroid.coords[0]
    assert abs(lat - 33.21) < 0.02 and abs(lon - 133.13) < 0.02
    # a second run reuses the secret, so pilots' links stay valid across re-plans
    run(DemoContext(out=tmp_path, seed=7, params=load_params(), quick=True))
    assert read_secret(secret_path) == secret


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

"""``shimanto plan survey`` / ``plan check``: exit codes, error lines, outputs (in-process CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import mapping

from cli import main
from pipeline.flight.qgc import read_mission_file
from pipeline.testing.flight_fields import polygon_ll


@pytest.fixture
def boundary(tmp_path: Path) -> Path:
    field = polygon_ll([(0, 0), (250, 0), (250, 80), (120, 160), (0, 160)])
    path = tmp_path / "fields.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "paddy"}, "geometry": mapping(field)}]}))
    return path


def test_survey_writes_all_outputs(boundary: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main(["plan", "survey", str(boundary), "--camera", "rededge-mx", "--gsd-cm", "5", "--front-overlap", "0.75",
               "--side-overlap", "0.7", "--out", str(out), "--name", "p1", "--home", "33.1999,133.1399",
               "--date", "2026-07-01"])
    assert rc == 0, capsys.readouterr().err
    summary = json.loads((out / "p1.summary.json").read_text())
    for key in ("altitude_agl_m", "gsd_cm", "camera_orientation", "lane_spacing_m", "trigger_distance_m",
                "photo_count", "flight_distance_m", "flight_time_s", "sorties", "issues"):
        assert key in summary
    assert summary["gsd_cm"] == pytest.approx(5.0) and summary["camera_orientation"] == "landscape"
    plan = read_mission_file(out / "p1.plan")
    wpl = read_mission_file(out / "p1.waypoints")
    assert len(plan.items) == len(wpl.items) and plan.items[0].command == 22 and plan.items[-1].command == 20
    assert sum(i.command == 206 for i in plan.items) >= 2
    kinds = {f["properties"]["kind"] for f in json.loads((out / "p1.geojson").read_text())["features"]}
    assert {"flight_path", "photo_centre", "footprint"} <= kinds
    assert "fly between" in capsys.readouterr().out


def test_altitude_200_is_refused_naming_150(boundary: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main(["plan", "survey", str(boundary), "--camera", "rededge-mx", "--altitude", "200", "--out", str(out),
               "--name", "high"])
    err = capsys.readouterr().err
    assert rc == 3 and "150 m" in err and err.startswith("error:")
    assert not out.exists()


def test_bad_inputs_exit_with_reasons(boundary: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["plan", "survey", str(boundary), "--camera", "nope", "--gsd-cm", "5", "--out", str(tmp_path / "o")])
    assert rc == 2 and "rededge-mx" in capsys.readouterr().err
    rc = main(["plan", "survey", str(boundary), "--camera", "p4m", "--out", str(tmp_path / "o")])
    assert rc == 2 and "exactly one of altitude" in capsys.readouterr().err
    rc = main(["plan", "survey", str(boundary), "--camera", "p4m", "--altitude", "50", "--home", "north",
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "LAT,LON" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_check_prints_every_issue(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_dir / "data/flight-plans/ardupilot/KalaupapaCanyonRun_mission.txt"
    rc = main(["plan", "check", str(path), "--date", "2026-07-01", "--max-distance-m", "1000"])
    captured = capsys.readouterr()
    assert rc == 3
    assert "agl-limit" in captured.err and "vlos-distance" in captured.err
    assert "imaging-window" in captured.out
    good = shared_dir / "data/flight-plans/ardupilot/copter_mission_CHIAI.txt"
    assert main(["plan", "check", str(good)]) == 0
    assert main(["plan", "check", str(shared_dir / "data/flight-plans/mavsdk/LICENSE.md")]) == 2


def test_kml_boundary_and_check_with_dem(shared_dir: Path, tmp_path: Path) -> None:
    kml = shared_dir / "data/flight-plans/qgroundcontrol/PolygonAreaTest.kml"
    out = tmp_path / "kml"
    assert main(["plan", "survey", str(kml), "--camera", "p4m", "--altitude", "60", "--angle", "30", "--out", str(out),
                 "--name", "area"]) == 0
    summary = json.loads((out / "area.summary.json").read_text())
    assert summary["grid_angle_deg_qgc"] == {"Untitled Polygon": 30.0}
    # a plan written by us, checked again against a DEM it lies outside of: refused with the reason
    dem = shared_dir / "data/dem/srtm_bigtujunga30m_utm11.tif"
    assert main(["plan", "check", str(out / "area.plan"), "--dem", str(dem)]) == 3


def test_demo_stage_plans_simulated_fields(tmp_path: Path) -> None:
    from pipeline.config import load_params
    from pipeline.demo import DemoContext
    from pipeline.flight.demo import run

    fields = polygon_ll([(0, 0), (90, 0), (90, 60), (0, 60)])
    survey = tmp_path / "survey"
    survey.mkdir()
    (survey / "fields.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"field_id": "F01"}, "geometry": mapping(fields)}]}))
    (survey / "survey.json").write_text(json.dumps({"date": "2026-07-01"}))
    paths = run(DemoContext(out=tmp_path, seed=7, params=load_params(), quick=True))
    names = {p.name for p in paths}
    assert {"survey.plan", "survey.waypoints", "survey.geojson", "survey.summary.json"} <= names
    summary = json.loads((tmp_path / "flight_plan" / "survey.summary.json").read_text())
    assert summary["camera"] == "rededge-mx" and summary["gsd_cm"] == pytest.approx(5.0)

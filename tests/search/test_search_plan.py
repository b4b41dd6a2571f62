"""``shimanto search plan`` end to end: files, coverage, balance, terrain, limits and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Polygon, shape

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for
from pipeline.core.mission import Cmd
from pipeline.flight.qgc import read_plan, read_waypoints
from pipeline.flight.terrain import load_dem
from pipeline.search.config import SearchParams
from pipeline.search.layout import footprint_coverage
from pipeline.search.plan_io import read_area
from pipeline.search.planner import PlanRequest, plan_search


def _plan_cli(run_cli: Callable[[list[str]], int], area: Path, out: Path, *extra: str) -> int:
    return run_cli(["search", "plan", str(area), "--out", str(out), *extra])


@pytest.mark.parametrize("pattern", ["parallel", "creeping-line"])
def test_plan_writes_one_mission_per_drone(run_cli, make_area, tmp_path: Path, pattern: str) -> None:
    out = tmp_path / "plan"
    assert _plan_cli(run_cli, make_area(), out, "--pattern", pattern, "--drones", "3",
                     "--camera", "h20t-thermal", "--target", "person") == 0
    summary = json.loads((out / "plan.json").read_text())
    assert summary["coverage_pct"] >= 99.0
    assert summary["imbalance_max_over_min"] <= 1.2
    assert summary["height_agl_m"] <= 150.0
    for sid in ("s1", "s2", "s3"):
        mission = read_plan(out / f"{sid}.plan")
        wpl = read_waypoints(out / f"{sid}.waypoints")
        sector = json.loads((out / f"{sid}.json").read_text())
        assert len(mission.items) == len(wpl.items) == sector["waypoints"] + 3
        assert mission.items[0].command == int(Cmd.NAV_TAKEOFF)
        assert mission.items[-1].command == int(Cmd.NAV_RETURN_TO_LAUNCH)
        assert all(i.alt <= 150.0 for i in mission.items)
        assert sector["coverage_pct"] >= 99.0 and sector["batteries"] >= 1
    geo = json.loads((out / "search.geojson").read_text())
    roles = [f["properties"]["role"] for f in geo["features"]]
    assert roles.count("sector") == 3 and roles.count("track") == 3
    for feat in geo["features"]:
        if feat["properties"]["role"] in ("sector", "track"):
            assert {"sector", "drone", "pattern", "colour"} <= set(feat["properties"])
            assert feat["properties"]["pattern"] == pattern


def test_planned_tracks_cover_the_area_in_wgs84_files(run_cli, make_area, tmp_path: Path) -> None:
    """Coverage recomputed from the written .plan files, independent of the planner's own figure."""
    area_path = make_area()
    out = tmp_path / "plan"
    assert _plan_cli(run_cli, area_path, out, "--drones", "2") == 0
    summary = json.loads((out / "plan.json").read_text())
    polygon, _ = read_area(area_path)
    crs = utm_crs_for(polygon.centroid.x, polygon.centroid.y)
    area = reproject_geometry(polygon, WGS84, crs)
    from pipeline.search.patterns import SearchPath

    paths = []
    for sid in ("s1", "s2"):
        items = [i for i in read_plan(out / f"{sid}.plan").items if i.command == int(Cmd.NAV_WAYPOINT)]
        pts = [reproject_geometry(shape({"type": "Point", "coordinates": (i.lon, i.lat)}), WGS84, crs) for i in items]
        xy = tuple((p.x, p.y) for p in pts)
        # the file does not say which segments are legs: count every segment flown at search height
        paths.append(SearchPath(xy, tuple(True for _ in xy[1:])))
    cover = footprint_coverage(area, paths, summary["swath_m"])
    assert cover >= 0.99


def _write_slope_dem(path: Path, polygon: Polygon, rise_per_m: float = 0.08) -> Path:
    crs = utm_crs_for(polygon.centroid.x, polygon.centroid.y)
    minx, miny, maxx, maxy = reproject_geometry(polygon, WGS84, crs).bounds
    pad, res = 800.0, 10.0
    w, h = int((maxx - minx + 2 * pad) / res), int((maxy - miny + 2 * pad) / res)
    x = np.arange(w) * res
    y = np.arange(h)[:, None] * res
    z = 100.0 + rise_per_m * x + 30.0 * np.sin(y / 150.0) + 0.0 * y
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs.to_wkt(),
                       transform=from_origin(minx - pad, maxy + pad, res, res), nodata=-9999.0) as ds:
        ds.write(z.astype("float32"), 1)
    return path


def test_terrain_following_keeps_height_above_ground(run_cli, make_area, tmp_path: Path) -> None:
    area_path = make_area()
    polygon, _ = read_area(area_path)
    dem = _write_slope_dem(tmp_path / "dem.tif", polygon)
    out = tmp_path / "plan"
    assert _plan_cli(run_cli, area_path, out, "--drones", "2", "--dem", str(dem)) == 0
    summary = json.loads((out / "plan.json").read_text())
    assert summary["terrain"] == "dem"
    height = summary["height_agl_m"]
    for sector in summary["sectors"]:
        lo, hi = sector["height_agl_range_m"]
        assert height - 3.5 <= lo <= hi <= height + 3.5 <= 150.0
    # waypoint altitudes (relative to launch) follow the ground: they differ by tens of metres
    alts = [i.alt for i in read_plan(out / "s1.plan").items if i.command == int(Cmd.NAV_WAYPOINT)]
    assert max(alts) - min(alts) > 20.0


@pytest.mark.shared
def test_terrain_following_on_real_steep_dem(shared_dir: Path) -> None:
    """The SRTM DEM of Big Tujunga (median slope 22 deg): heights above ground stay within the tolerance."""
    dem = load_dem(shared_dir / "data" / "dem" / "srtm_bigtujunga30m_utm11.tif")
    cx, cy = dem.transform @ (dem.elevation_m.shape[1] / 2, dem.elevation_m.shape[0] / 2)
    local = Polygon([(cx - 400, cy - 250), (cx + 400, cy - 250), (cx + 400, cy + 250), (cx - 400, cy + 250)])
    area = reproject_geometry(local, dem.crs, WGS84)
    assert isinstance(area, Polygon)
    plan = plan_search(PlanRequest(area, "tujunga", "parallel", 2, "m3t-thermal", "person"), SearchParams(),
                       dem.ground_fn)
    for sector in plan.sectors:
        lo, hi = sector.agl_range_m
        assert plan.geometry.height_agl_m - 4.0 <= lo and hi <= plan.geometry.height_agl_m + 4.0
        assert hi <= 150.0
    assert plan.coverage >= 0.99


def test_datum_patterns_plan_around_the_datum(run_cli, make_area, tmp_path: Path) -> None:
    out = tmp_path / "sq"
    assert _plan_cli(run_cli, make_area(), out, "--pattern", "expanding-square", "--drones", "2",
                     "--datum", "33.2100,133.1300", "--radius", "250") == 0
    summary = json.loads((out / "plan.json").read_text())
    assert summary["datum"] == pytest.approx([33.21, 133.13], abs=1e-6)
    assert summary["coverage_pct"] >= 99.0
    out2 = tmp_path / "vs"
    assert _plan_cli(run_cli, make_area(), out2, "--pattern", "sector", "--drones", "3", "--radius", "300") == 0


def test_over_150_m_is_refused_without_output(run_cli, make_area, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("search:\n  max_height_agl_m: 200\n")
    out = tmp_path / "plan"
    assert _plan_cli(run_cli, make_area(), out, "--params", str(params)) == 3
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pattern", "spiral"], "creeping-line"),
        (["--camera", "gopro"], "h20t-thermal"),
        (["--target", "dog"], "person"),
        (["--drones", "0"], "--drones 0"),
        (["--speed", "50"], "--speed 50"),
        (["--datum", "north"], "LAT,LON"),
    ],
)
def test_bad_input_is_named_and_writes_nothing(run_cli, make_area, tmp_path: Path, capsys, args: list[str],
                                               message: str) -> None:
    out = tmp_path / "plan"
    assert _plan_cli(run_cli, make_area(), out, *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_self_intersecting_area_is_refused(run_cli, make_area, tmp_path: Path, capsys) -> None:
    bow = Polygon([(133.13, 33.21), (133.14, 33.22), (133.14, 33.21), (133.13, 33.22)])
    out = tmp_path / "plan"
    assert _plan_cli(run_cli, make_area(polygon=bow), out) == 2
    assert "self-intersections" in capsys.readouterr().err
    assert not out.exists()


def test_one_launch_per_drone_sets_each_mission_home(run_cli, make_area, tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan"
    launches = ["33.2075,133.1210", "33.2150,133.1390", "33.2120,133.1300"]
    args = [arg for launch in launches for arg in ("--launch", launch)]
    assert _plan_cli(run_cli, make_area(), out, "--pattern", "creeping-line", "--drones", "3", *args) == 0
    homes = set()
    for sid in ("s1", "s2", "s3"):
        sector = json.loads((out / f"{sid}.json").read_text())
        home = read_plan(out / f"{sid}.plan").home
        assert home is not None and home[:2] == pytest.approx(tuple(sector["launch"]), abs=1e-6)
        homes.add((round(home[0], 4), round(home[1], 4)))
    assert homes == {tuple(float(v) for v in launch.split(",")) for launch in launches}
    assert _plan_cli(run_cli, make_area(), tmp_path / "bad", "--drones", "3", *args[:4]) == 2
    assert "give one shared or one per drone" in capsys.readouterr().err

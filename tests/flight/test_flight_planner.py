"""The survey planner end to end: terrain (real DEMs), feet DEM, batteries, checks, coverage."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from shapely.geometry import LineString, box, mapping

from pipeline.common.geo import WGS84, reproject_geometry
from pipeline.core.mission import Cmd, Frame
from pipeline.flight.battery import Battery
from pipeline.flight.boundary import Area, Boundary, read_boundary
from pipeline.flight.cameras import get_camera
from pipeline.flight.checks import CheckSettings, check_mission, has_errors
from pipeline.flight.coverage import coverage_fraction
from pipeline.flight.planner import SurveyRequest, plan_survey
from pipeline.flight.solar import sun_elevation_deg, sun_window
from pipeline.flight.terrain import load_dem
from pipeline.testing.flight_fields import KUBOKAWA, polygon_ll

CAM = get_camera("rededge-mx")


def write_fields(path: Path, polygons: list, props: list[dict]) -> Path:
    """Write WGS84 polygons as a GeoJSON FeatureCollection."""
    feats = [{"type": "Feature", "properties": pr, "geometry": mapping(p)}
             for p, pr in zip(polygons, props, strict=True)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def _field_in_dem(dem_path: Path, cx: float, cy: float, half_w: float, half_h: float) -> Boundary:
    dem = load_dem(dem_path)
    poly = reproject_geometry(box(cx - half_w, cy - half_h, cx + half_w, cy + half_h), dem.crs, WGS84)
    return Boundary((Area("dem-field", poly),))


def test_terrain_following_over_steep_real_dem(shared_dir: Path) -> None:
    dem_path = shared_dir / "data/dem/srtm_bigtujunga30m_utm11.tif"
    boundary = _field_in_dem(dem_path, 394000.0, 3798000.0, 200.0, 150.0)
    dem = load_dem(dem_path)
    req = SurveyRequest(CAM, altitude_m=100.0, terrain_tolerance_m=3.0, angle_deg=90.0)
    plan = plan_survey(boundary, req, dem)
    flat = plan_survey(boundary, req)
    s = plan.summary
    assert s["altitude_frame"] == "amsl" and s["dem"]["elevation_unit"] == "metre"
    assert 100.0 - 3.5 <= s["agl_min_m"] <= s["agl_max_m"] <= 100.0 + 3.5 <= 150.0
    nav = [i for i in plan.mission.items if i.command == int(Cmd.NAV_WAYPOINT)]
    assert all(i.frame == int(Frame.GLOBAL) for i in nav)
    assert len(nav) > len([i for i in flat.mission.items if i.command == int(Cmd.NAV_WAYPOINT)])  # added points
    assert max(i.alt for i in nav) - min(i.alt for i in nav) > 50.0  # steep: the plan climbs with the ground
    assert not has_errors(list(plan.issues))
    # the independent checker agrees: nothing above 150 m over the DEM
    assert not [i for i in check_mission(plan.mission, CheckSettings(), dem) if i.code == "agl-limit"]


def test_terrain_frame_output(shared_dir: Path) -> None:
    dem_path = shared_dir / "data/dem/srtm_bigtujunga30m_utm11.tif"
    plan = plan_survey(_field_in_dem(dem_path, 394000.0, 3798000.0, 100.0, 100.0),
                       SurveyRequest(CAM, altitude_m=80.0, altitude_frame="terrain"), load_dem(dem_path))
    nav = [i for i in plan.mission.items if i.command == int(Cmd.NAV_WAYPOINT)]
    assert {i.frame for i in nav} == {int(Frame.GLOBAL_TERRAIN_ALT)} and {i.alt for i in nav} == {80.0}


def test_feet_dem_is_converted_to_metres(shared_dir: Path) -> None:
    dem_path = shared_dir / "data/dem/pysheds_roi.tif"
    dem = load_dem(dem_path)
    assert dem.unit == "US survey foot"
    boundary = _field_in_dem(dem_path, 5495074.0, 3796613.0, 500.0, 700.0)  # feet
    plan = plan_survey(boundary, SurveyRequest(CAM, altitude_m=90.0), dem)
    home_amsl = plan.summary["home"]["amsl_m"]
    assert 307.0 <= home_amsl <= 386.0  # 1008-1265 ft, not 1008-1265 m
    assert 85.0 <= plan.summary["agl_min_m"] <= plan.summary["agl_max_m"] <= 95.0


def test_battery_split_returns_home_with_reserve() -> None:
    boundary = Boundary((Area("big", polygon_ll([(0, 0), (900, 0), (900, 600), (0, 600)])),))
    battery = Battery(endurance_s=600.0, reserve_fraction=0.3)
    plan = plan_survey(boundary, SurveyRequest(CAM, gsd_cm=5.0, battery=battery, home=KUBOKAWA))
    sorties = plan.summary["sorties"]
    assert len(sorties) >= 3 and len(plan.sortie_missions) == len(sorties)
    assert all(s["flight_time_s"] <= battery.usable_s + 1e-6 for s in sorties)
    assert sorties[0]["first_transect"] == 1
    assert all(b["first_transect"] == a["last_transect"] + 1 for a, b in itertools.pairwise(sorties))
    assert all(m.items[-1].command == int(Cmd.NAV_RETURN_TO_LAUNCH) for m in plan.sortie_missions)
    assert all("lat" in s["resume_at"] for s in sorties)


def test_checks_return_several_problems_at_once(tmp_path: Path) -> None:
    field = polygon_ll([(0, 0), (300, 0), (300, 200), (0, 200)])
    no_fly = Area("shrine", polygon_ll([(-450, -30), (-380, -30), (-380, 30), (-450, 30)]))  # home is inside it
    req = SurveyRequest(CAM, altitude_m=160.0, home=(KUBOKAWA[0], KUBOKAWA[1] - 0.0045), angle_deg=90.0,
                        checks=CheckSettings(max_distance_m=200.0, distance_is_hard=True,
                                             flight_date=dt.date(2026, 7, 1), start_time=dt.time(21, 0)))
    plan = plan_survey(Boundary((Area("f", field),)), req, no_fly=(no_fly,))
    codes = {i.code for i in plan.issues if i.severity == "error"}
    assert {"agl-limit", "no-fly", "vlos-distance", "daylight"} <= codes
    assert any("150 m" in i.message for i in plan.issues)


def test_photos_cover_field_with_holes_and_exclusions(tmp_path: Path) -> None:
    shell = [(0, 0), (350, 0), (350, 120), (180, 120), (180, 260), (0, 260)]
    hole = [(60, 60), (120, 60), (120, 140), (60, 140)]
    path = write_fields(tmp_path / "f.geojson",
                        [polygon_ll(shell, [hole]), polygon_ll([(250, 20), (300, 20), (300, 60), (250, 60)])],
                        [{"name": "L-field"}, {"name": "barn", "role": "exclusion"}])
    boundary = read_boundary(path)
    assert [a.name for a in boundary.exclusions] == ["barn"]
    plan = plan_survey(boundary, SurveyRequest(CAM, gsd_cm=4.0, front_overlap=0.7, side_overlap=0.65))
    g = plan.geometry
    area = plan.areas_xy[0]
    assert coverage_fraction(area, list(plan.photos), g.footprint_side_m, g.footprint_front_m) >= 0.995
    assert plan.summary["photo_count"] == len(plan.photos) > 0


def test_solar_position_kochi() -> None:
    day = sun_window(33.2, 133.14, dt.date(2026, 6, 21), -0.833)
    assert day.start is not None and day.end is not None
    assert abs((day.start.hour * 60 + day.start.minute) - (4 * 60 + 58)) <= 6  # sunrise ~04:58 JST
    assert abs((day.end.hour * 60 + day.end.minute) - (19 * 60 + 22)) <= 6  # sunset ~19:22 JST
    noon = dt.datetime(2026, 6, 21, 3, 0, tzinfo=dt.UTC)  # ~12:00 JST, near local noon
    assert float(sun_elevation_deg(33.2, 133.14, noon)[0]) == pytest.approx(90 - 33.2 + 23.44, abs=1.5)


def test_transits_go_around_no_fly_zones() -> None:
    field = Area("f", polygon_ll([(0, 0), (200, 0), (200, 150), (0, 150)]))
    wall = Area("school", polygon_ll([(-120, -100), (-60, -100), (-60, 250), (-120, 250)]))
    home = polygon_ll([(-250, 60), (-249, 60), (-249, 61)]).exterior.coords[0]
    plan = plan_survey(Boundary((field,)), SurveyRequest(CAM, gsd_cm=5.0, home=(home[1], home[0])), no_fly=(wall,))
    assert not [i for i in plan.issues if i.code == "no-fly"]
    zone = reproject_geometry(wall.polygon, WGS84, plan.crs)
    assert not LineString(plan.route_xy).intersects(zone)
    assert [f.inclusion for f in plan.mission.fence_polygons] == [False]  # written as an exclusion geofence
    assert not [i for i in check_mission(plan.mission, CheckSettings()) if i.severity == "error"]


def _camera_on_legs(plan) -> list[LineString]:  # type: ignore[no-untyped-def]
    from pyproj import Transformer

    fwd = Transformer.from_crs(WGS84, plan.crs, always_xy=True)
    legs, here, on = [], None, False
    for item in plan.mission.items:
        if item.command == int(Cmd.DO_SET_CAM_TRIGG_DIST):
            on = item.params[0] > 0
        elif item.command == int(Cmd.NAV_WAYPOINT):
            pt = fwd.transform(item.lon, item.lat)
            if on and here is not None:
                legs.append(LineString([here, pt]))
            here = pt
    return legs


def test_small_hole_is_not_crossed_and_still_covered() -> None:
    pond = [(110, 70), (135, 70), (135, 95), (110, 95)]  # 25 m pond, about one lane band wide
    field = polygon_ll([(0, 0), (250, 0), (250, 170), (0, 170)], [pond])
    plan = plan_survey(Boundary((Area("paddy", field),)), SurveyRequest(CAM, gsd_cm=5.0, angle_deg=90.0))
    hole = reproject_geometry(polygon_ll(pond), WGS84, plan.crs)
    legs = _camera_on_legs(plan)
    assert legs and not any(leg.intersects(hole.buffer(-0.5)) for leg in legs)
    assert plan.summary["coverage_fraction"] >= 0.995

"""CameraCalc as QGroundControl, angles and overlaps as QGC users type them, flight time per ArduCopter phase,
photos as ArduPilot takes them. Expected values are worked out by hand from the formulas cited in the modules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pyproj import Geod, Transformer

from pipeline.common.geo import WGS84
from pipeline.core.mission import Cmd
from pipeline.errors import InputError
from pipeline.flight.boundary import Area, Boundary
from pipeline.flight.camcalc import grid_geometry, parse_overlap
from pipeline.flight.cameras import Camera
from pipeline.flight.flight_time import CopterParams, flight_phases, shot_spacing_m
from pipeline.flight.planner import SurveyRequest, plan_survey
from pipeline.testing.flight_fields import KUBOKAWA, polygon_ll

#: A custom camera with non-square pixels (Sw/Iw = 0.0015425 mm, Sh/Ih = 0.0015167 mm).
CUSTOM = Camera(name="custom", title="custom", sensor_width_mm=6.17, sensor_height_mm=4.55, image_width_px=4000,
                image_height_px=3000, focal_length_mm=4.5, min_trigger_interval_s=1.0)
GEOD = Geod(ellps="WGS84")


def test_camera_calc_footprints_are_pixels_times_gsd_as_qgc() -> None:
    # QGC CameraCalc::_recalcTriggerDistance: GSD = H·Sw·100/(Iw·f) = 50·6.17·100/(4000·4.5) = 1.7138889 cm/px
    land = grid_geometry(CUSTOM, 0.75, 0.70, altitude_m=50.0, orientation="landscape")
    assert land.gsd_cm == pytest.approx(1.7138889, rel=1e-6)
    assert land.footprint_side_m == pytest.approx(68.555556, rel=1e-6)  # 4000 px · GSD
    assert land.footprint_front_m == pytest.approx(51.416667, rel=1e-6)  # 3000 px · GSD (not 4.55·50/4.5 = 50.56)
    assert land.lane_spacing_m == pytest.approx(20.566667, rel=1e-6)
    assert land.trigger_distance_m == pytest.approx(12.854167, rel=1e-6)
    port = grid_geometry(CUSTOM, 0.75, 0.70, altitude_m=50.0, orientation="portrait")
    assert port.gsd_cm == pytest.approx(1.7138889, rel=1e-6)  # QGC uses the width in both orientations
    assert (port.footprint_side_m, port.footprint_front_m) == pytest.approx((51.416667, 68.555556), rel=1e-6)
    by_gsd = grid_geometry(CUSTOM, 0.75, 0.70, gsd_cm_px=1.7138889, orientation="portrait")
    assert by_gsd.altitude_m == pytest.approx(50.0, rel=1e-6)


def _survey_plan(tmp_path: Path) -> Path:
    lat0, lon0 = 33.2100, 133.1360
    points = []
    for k in range(3):  # three 100 m east-west transects, no turnaround
        lat = lat0 + k * 20.5667 / 111_320.0
        dlon = 100.0 / (111_320.0 * math.cos(math.radians(lat)))
        points += [[lat, lon0], [lat, lon0 + dlon]]
    items = [{"autoContinue": True, "command": 16, "doJumpId": 1, "frame": 3, "type": "SimpleItem",
              "params": [0, 0, 0, None, lat0, lon0, 50]}]
    doc = {"fileType": "Plan", "version": 1, "groundStation": "QGroundControl", "geoFence": {"version": 2},
           "rallyPoints": {"points": [], "version": 2},
           "mission": {"version": 2, "firmwareType": 3, "vehicleType": 2, "cruiseSpeed": 5, "hoverSpeed": 5,
                       "plannedHomePosition": [lat0, lon0, 210.0], "items": [{
                           "type": "ComplexItem", "complexItemType": "survey", "version": 5, "angle": 90,
                           "TransectStyleComplexItem": {
                               "CameraCalc": {"CameraName": "Custom Camera", "DistanceToSurface": 50,
                                              "FrontalOverlap": 75, "SideOverlap": 70, "FocalLength": 4.5,
                                              "SensorWidth": 6.17, "SensorHeight": 4.55, "ImageWidth": 4000,
                                              "ImageHeight": 3000, "Landscape": True, "version": 1},
                               "CameraShots": 24, "CameraTriggerInTurnAround": False, "TurnAroundDistance": 0,
                               "VisualTransectPoints": points, "Items": items, "version": 1}}]}}
    path = tmp_path / "survey <四万十> & 'q'.plan"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_plan_check_prints_each_surveys_camera_figures(tmp_path: Path, run_cli, capsys) -> None:
    assert run_cli(["plan", "check", str(_survey_plan(tmp_path))]) == 0
    out = capsys.readouterr().out
    # 3 lanes of 100 m: ceil(100 / 12.854167) = 8 photos each (QGC _recalcCameraShots)
    assert ("survey 1 (Custom Camera): distance 50.0 m, GSD 1.714 cm/px, footprint 68.56 x 51.42 m (side x front), "
            "lane spacing 20.57 m, trigger distance 12.85 m, 3 lanes, 24 photos (QGC stored 24), angle 90°") in out


@pytest.mark.parametrize(("text", "fraction", "how"), [
    ("75", 0.75, "75 read as 75 % (a value above 1 is a percent)"),
    ("75%", 0.75, "75% read as 75 %"),
    ("0.75", 0.75, "0.75 read as a fraction, 75 %"),
    ("80", 0.80, "80 read as 80 % (a value above 1 is a percent)"),
])
def test_overlaps_as_users_type_them(text: str, fraction: float, how: str) -> None:
    assert parse_overlap(text) == (pytest.approx(fraction), how)


@pytest.mark.parametrize("bad", ["96", "-5", "abc", "120%"])
def test_bad_overlaps_are_refused_with_the_value(bad: str) -> None:
    with pytest.raises(InputError, match=repr(bad).replace("%", "%")):
        parse_overlap(bad, "--side-overlap")


def _lane_bearings(plan) -> list[float]:  # type: ignore[no-untyped-def]
    """True bearings of the photographed legs (camera on), from the mission items."""
    inv = Transformer.from_crs(WGS84, WGS84, always_xy=True)
    bearings, here, on = [], None, False
    for item in plan.mission.items:
        if item.command == int(Cmd.DO_SET_CAM_TRIGG_DIST):
            on = item.params[0] > 0
        elif item.command == int(Cmd.NAV_WAYPOINT):
            lon, lat = inv.transform(item.lon, item.lat)
            if on and here is not None:
                bearings.append(GEOD.inv(here[0], here[1], lon, lat)[0] % 180.0)
            here = (lon, lat)
    return bearings


def test_angle_is_qgc_clockwise_from_true_north() -> None:
    field = Boundary((Area("paddy", polygon_ll([(0, 0), (240, 0), (240, 160), (0, 160)])),))
    plan = plan_survey(field, SurveyRequest(CUSTOM, altitude_m=50.0, angle_deg=90.0))
    assert _lane_bearings(plan) and all(b == pytest.approx(90.0, abs=0.05) for b in _lane_bearings(plan))
    assert plan.summary["grid_angle_deg_qgc"]["paddy"] == pytest.approx(90.0, abs=0.01)
    slanted = plan_survey(field, SurveyRequest(CUSTOM, altitude_m=50.0, angle_deg=30.0))
    assert all(b == pytest.approx(30.0, abs=0.05) for b in _lane_bearings(slanted))
    auto = plan_survey(field, SurveyRequest(CUSTOM, altitude_m=50.0))
    reported = auto.summary["grid_angle_deg_qgc"]["paddy"]
    assert all(min(abs(b - reported), 180 - abs(b - reported)) < 0.05 for b in _lane_bearings(auto))


def test_flight_phases_by_hand() -> None:
    ph = flight_phases([(100.0, 0.0, 30.0)], takeoff_m=30.0, speed_m_s=5.0)
    assert ph["takeoff"] == pytest.approx(30 / 2.5 + 2.5 / 1.0)
    assert ph["survey"] == pytest.approx(100 / 5 + 2 * (5 / 5 + 2.5 / 2))
    assert ph["rtl_climb"] == 0.0
    assert ph["rtl_return"] == pytest.approx(100 / 10 + 2 * (10 / 5 + 2.5 / 2))
    assert ph["rtl_loiter"] == 5.0
    assert ph["land"] == pytest.approx(20 / 1.5 + 1.5 / 1.0 + 10 / 0.5)
    assert ph["total"] == pytest.approx(95.3333, abs=1e-3)
    low = flight_phases([(100.0, 0.0, 10.0)], takeoff_m=10.0, speed_m_s=5.0)
    assert low["rtl_climb"] == pytest.approx(5 / 2.5 + 2.5)  # up to RTL_ALT 15 m first
    p = CopterParams.from_ardupilot({"WPNAV_SPEED_UP": 500, "RTL_LOIT_TIME": 0, "LAND_SPEED_HIGH": 300,
                                     "WPNAV_ACCEL": 500, "UNRELATED": 1})
    assert (p.wpnav_speed_up_m_s, p.rtl_loit_time_s, p.land_speed_high_m_s, p.wpnav_accel_m_s2) == (5, 0, 3, 5)
    assert CopterParams().overridden({"rtl_alt_m": 30}).rtl_alt_m == 30
    with pytest.raises(InputError, match="RTL_ALT"):
        CopterParams().overridden({"RTL_ALT": 30})


def test_summary_reports_the_phases_and_their_parameters() -> None:
    field = Boundary((Area("paddy", polygon_ll([(0, 0), (200, 0), (200, 120), (0, 120)])),))
    plan = plan_survey(field, SurveyRequest(CUSTOM, altitude_m=40.0, home=KUBOKAWA))
    s = plan.summary
    assert set(s["flight_phases_s"]) == {"takeoff", "survey", "rtl_climb", "rtl_return", "rtl_loiter", "land"}
    assert sum(s["flight_phases_s"].values()) == pytest.approx(s["flight_time_s"], abs=0.5)
    assert s["flight_phases_s"]["land"] == pytest.approx(30 / 1.5 + 1.5 + 10 / 0.5, abs=0.1)
    assert s["copter_params"]["rtl_loit_time_s"] == 5.0


def test_lane_end_shot_never_doubles_and_count_is_what_arducopter_takes() -> None:
    # lane lengths near a whole number of trigger distances: the old lane-end shot fell < 1 m after the last one
    field = Boundary((Area("paddy", polygon_ll([(0, 0), (231.4, 0), (231.4, 90), (0, 90)])),))
    plan = plan_survey(field, SurveyRequest(CUSTOM, altitude_m=50.0, angle_deg=90.0, home=KUBOKAWA))
    triggers = [i for i in plan.mission.items if i.command == int(Cmd.DO_SET_CAM_TRIGG_DIST)]
    starts, stops = triggers[0::2], triggers[1::2]
    assert all(t.params[0] > 0 and t.params[2] == 1.0 for t in starts)
    assert all(t.params == (0.0, 0.0, 0.0, 0.0) for t in stops)  # no lane-end shot
    gaps = [math.dist((a.x, a.y), (b.x, b.y)) for a, b in zip(plan.photos, plan.photos[1:], strict=False)]
    assert min(gaps) > 0.5 * plan.geometry.trigger_distance_m
    d_eff = shot_spacing_m(plan.geometry.trigger_distance_m, plan.summary["speed_m_s"])
    lanes = len(starts)
    per_lane = [1 + math.floor(L / d_eff - 0.5) for L in _lane_lengths(plan)]
    assert len(per_lane) == lanes and plan.summary["photo_count"] == sum(per_lane)


def _lane_lengths(plan) -> list[float]:  # type: ignore[no-untyped-def]
    fwd = Transformer.from_crs(WGS84, plan.crs, always_xy=True)
    out, here, on, start = [], None, False, None
    for item in plan.mission.items:
        if item.command == int(Cmd.DO_SET_CAM_TRIGG_DIST):
            on = item.params[0] > 0
            start = here if on else start
            if not on and start is not None and here is not None:
                out.append(math.dist(start, here))
        elif item.command == int(Cmd.NAV_WAYPOINT):
            here = fwd.transform(item.lon, item.lat)
    return out


def test_plan_survey_cli_takes_percent_overlaps_qgc_angle_and_vehicle_parameters(tmp_path: Path, run_cli,
                                                                                 capsys) -> None:
    boundary = tmp_path / "四万十 field.geojson"
    poly = polygon_ll([(0, 0), (200, 0), (200, 120), (0, 120)])
    boundary.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "paddy"}, "geometry": poly.__geo_interface__}]}), encoding="utf-8")
    args = ["plan", "survey", str(boundary), "--camera", "rededge-mx", "--altitude", "40", "--front-overlap", "80",
            "--side-overlap", "70%", "--angle", "90", "--out", str(tmp_path / "out")]
    assert run_cli([*args, "--copter-param", "RTL_LOIT_TIME=0", "--copter-param", "LAND_SPEED=100"]) == 0
    out = capsys.readouterr().out
    assert "overlaps: front 80 read as 80 % (a value above 1 is a percent), side 70% read as 70 %" in out
    assert "grid angle (QGC Survey angle, clockwise from true north): paddy 90°" in out
    summary = json.loads((tmp_path / "out" / "survey.summary.json").read_text())
    assert summary["front_overlap"] == pytest.approx(0.8) and summary["side_overlap"] == pytest.approx(0.7)
    assert summary["overlaps_understood"]["front"].startswith("80 read as 80 %")
    assert summary["flight_phases_s"]["rtl_loiter"] == 0.0
    assert summary["flight_phases_s"]["land"] == pytest.approx(30 / 1.5 + 1.5 + 10 / 1.0, abs=0.1)
    assert run_cli([*args, "--copter-param", "WPNAV_SPEED_UP"]) == 2
    assert "--copter-param 'WPNAV_SPEED_UP' is not NAME=VALUE" in capsys.readouterr().err


def test_lane_count_follows_qgc_survey_lines() -> None:
    # RedEdge-MX at 40 m, side overlap 70 %: lane spacing 10.6667 m. QGC puts lines at −1100 + k·s from the box
    # centre (w = 200 + 2000 m): for a 75 m tall box those crossing it are k = 100..106 (33.33 ... −30.67 m), 7
    # lanes, where centred lanes would need ⌈75 / 10.6667⌉ = 8.
    from pipeline.flight.cameras import get_camera

    field = Boundary((Area("paddy", polygon_ll([(0, 0), (200, 0), (200, 75), (0, 75)])),))
    plan = plan_survey(field, SurveyRequest(get_camera("rededge-mx"), altitude_m=40.0, front_overlap=0.75,
                                            side_overlap=0.70, angle_deg=90.0, home=KUBOKAWA))
    assert plan.geometry.lane_spacing_m == pytest.approx(10.6667, abs=1e-3)
    starts = [i for i in plan.mission.items if i.command == int(Cmd.DO_SET_CAM_TRIGG_DIST) and i.params[0] > 0]
    assert len(starts) == 7
    assert plan.summary["coverage_fraction"] >= 0.995

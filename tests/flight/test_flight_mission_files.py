"""QGC .plan / QGC WPL 110 writers and readers, and every real mission file in ../shared."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipeline.core.mission import Cmd, FenceCircle, FencePolygon, Frame, Mission, MissionItem
from pipeline.errors import SceneNotFoundError
from pipeline.flight.errors import MissionFileError
from pipeline.flight.qgc import read_mission_file, read_plan, read_waypoints, write_plan, write_waypoints

SAMPLE = Mission(
    items=(
        MissionItem(int(Cmd.NAV_TAKEOFF), lat=33.2, lon=133.14, alt=60.0),
        MissionItem(int(Cmd.NAV_WAYPOINT), lat=33.2010, lon=133.1410, alt=60.0),
        MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (12.0, 0.0, 1.0, 0.0)),
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL), lat=33.2020, lon=133.1410, alt=412.5),
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_TERRAIN_ALT), lat=33.2020, lon=133.1420, alt=60.0),
        MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (0.0, 0.0, 1.0, 0.0)),
        MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION)),
    ),
    home=(33.2, 133.14, 350.0),
    fence_polygons=(FencePolygon(((33.19, 133.13), (33.21, 133.13), (33.21, 133.15)), True),),
    fence_circles=(FenceCircle(33.205, 133.145, 40.0, False),),
    rally=((33.2005, 133.1405, 30.0),),
    cruise_speed_m_s=7.5,
)

SHARED_PLANS = sorted(
    p.relative_to(Path(__file__).resolve().parents[3] / "shared" / "data" / "flight-plans").as_posix()
    for p in (Path(__file__).resolve().parents[3] / "shared" / "data" / "flight-plans").rglob("*") if p.is_file()
) or ["<no shared data>"]

#: Files that must be refused, and the reason their message names.
REFUSED = {
    "mavsdk/LICENSE.md": "not a mission file",
    "mavsdk/qgroundcontrol_sample_with_survey_missing_items.plan": "no generated 'Items'",
    "mavsdk/qgroundcontrol_sample_with_survey_wrong_version.plan": "survey item version 9 is not supported",
    "mavsdk/qgroundcontrol_sample_without_mission.plan": "no 'mission' section",
    "mavsdk/qgroundcontrol_sample_wrong_mission_version.plan": "mission version 7 is not supported",
    "mavsdk/qgroundcontrol_sample_wrong_overall_version.plan": "plan file version 42 is not supported",
    "qgroundcontrol/PolygonAreaTest.kml": "KML file holds a boundary",
}


def _same(a: Mission, b: Mission) -> None:
    assert len(a.items) == len(b.items)
    for x, y in zip(a.items, b.items, strict=True):
        assert (x.command, x.frame, x.autocontinue) == (y.command, y.frame, y.autocontinue)
        assert x.params == pytest.approx(y.params) and (x.lat, x.lon, x.alt) == pytest.approx((y.lat, y.lon, y.alt))
    assert a.home == pytest.approx(b.home)


def test_plan_round_trip(tmp_path: Path) -> None:
    path = write_plan(SAMPLE, tmp_path / "m.plan")
    doc = json.loads(path.read_text())
    assert (doc["fileType"], doc["version"], doc["mission"]["version"], doc["geoFence"]["version"]) == ("Plan", 1, 2, 2)
    assert {"firmwareType", "vehicleType", "cruiseSpeed", "hoverSpeed", "plannedHomePosition"} <= set(doc["mission"])
    assert all(item["type"] == "SimpleItem" and len(item["params"]) == 7 for item in doc["mission"]["items"])
    back = read_plan(path)
    _same(SAMPLE, back)
    assert back.fence_polygons == SAMPLE.fence_polygons and back.fence_circles == SAMPLE.fence_circles
    assert back.rally == SAMPLE.rally and back.cruise_speed_m_s == 7.5


def test_waypoints_round_trip(tmp_path: Path) -> None:
    path = write_waypoints(SAMPLE, tmp_path / "m.waypoints")
    lines = path.read_text().splitlines()
    assert lines[0] == "QGC WPL 110"
    row0 = lines[1].split("\t")
    assert len(row0) == 12 and row0[0] == "0" and float(row0[8]) == pytest.approx(33.2)
    _same(SAMPLE, read_waypoints(path))
    _same(SAMPLE, read_mission_file(path))


def test_malformed_waypoints_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\n1\t0\t3\t16\t0\t0\n")
    with pytest.raises(MissionFileError, match=r"bad.txt:3: expected 12"):
        read_mission_file(bad)
    with pytest.raises(SceneNotFoundError):
        read_mission_file(tmp_path / "missing.plan")


@pytest.mark.parametrize("name", SHARED_PLANS)
def test_every_shared_file_loads_or_is_refused(shared_dir: Path, name: str) -> None:
    path = shared_dir / "data" / "flight-plans" / name
    if name in REFUSED:
        with pytest.raises(MissionFileError, match=REFUSED[name]):
            read_mission_file(path)
        return
    mission = read_mission_file(path)
    assert mission.items
    assert all(isinstance(i.command, int) for i in mission.items)


def test_shared_plans_content(shared_dir: Path) -> None:
    base = shared_dir / "data" / "flight-plans"
    survey = read_mission_file(base / "mavsdk/qgroundcontrol_sample_with_survey.plan")
    assert len(survey.items) == 13 and sum(i.command == 206 for i in survey.items) == 4
    scan = read_mission_file(base / "mavsdk/qgroundcontrol_sample_with_structured_scan.plan")
    assert sum(i.command == 206 for i in scan.items) == 4  # on/off for each of 2 layers
    assert {round(i.alt, 1) for i in scan.items if i.command == 16} == {50.0, 75.0, 125.0}
    fence = read_mission_file(base / "px4/multicopter_mission_geofence_avoid.plan")
    assert [p.inclusion for p in fence.fence_polygons] == [False, True] and len(fence.fence_circles) == 1
    digicam = read_mission_file(base / "mavsdk/qgroundcontrol_sample_with_digicam_control.plan")
    assert digicam.items[0].command == 203 and digicam.home is None
    terrain = read_mission_file(base / "qgroundcontrol/TerrainTest-ArduCopter.plan")
    assert terrain.items[5].frame == int(Frame.GLOBAL_TERRAIN_ALT) and terrain.items[5].alt == 80.0
    assert math.isnan(terrain.items[1].params[3])  # yaw null stays NaN
    old = read_mission_file(base / "qgroundcontrol/SectionTest.plan")
    assert old.items[1].lat == pytest.approx(47.63369112)
    items = read_mission_file(base / "ardupilot/MissionItemTypes_items.txt")  # '#' comments skipped
    assert len(items.items) == 27 and any(i.command == 82 for i in read_mission_file(
        base / "ardupilot/SplineTerrain_wp.txt").items)

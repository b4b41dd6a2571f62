"""Every mission file in ../shared/data/flight-plans as the MISSION_ITEM_INT list sent to an ArduPilot vehicle.

The expected lists are written out from the MAVLink definition of MISSION_ITEM_INT: seq 0 is the
home waypoint (frame 0, ArduPilot), ``current`` is 1 on seq 0 only (QGroundControl's
``PlanManager``: ``missionRequestSeq == 0``), x/y are latitude/longitude x 1e7 (rounded, as
MAVSDK's ``set_int32``) except in ``MAV_FRAME_MISSION`` (2), where they are param5/param6 as
plain integers. For the QGC sample plan and its survey the values equal MAVSDK's own
``mission_import_test.cpp`` reference items. Row layout:
``(frame, command, current, autocontinue, p1, p2, p3, p4, x, y, z)``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.flight.errors import MissionFileError
from pipeline.flight.qgc import read_mission_file
from pipeline.mavlink.wire import MissionType, WireItem, fence_to_items, mission_to_wire, plain_wire

NAN = math.nan
Row = tuple[float, ...]

EXPECTED: dict[str, list[Row]] = {
    "ardupilot/CMAC-copter-navtest.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, -353632640, 1491652350, 584.080017),
        (3, 22, 0, 1, 0, 0, 0, 0, 0, 0, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353621367, 1491652367, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353621367, 1491643998, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353623751, 1491647780, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353625084, 1491643998, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353626792, 1491647780, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353632829, 1491643998, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353638363, 1491648746, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353629437, 1491648746, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353628191, 1491648746, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353626770, 1491648746, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353626770, 1491649770, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353626124, 1491649770, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353626124, 1491648746, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353620973, 1491648746, 30),
        (3, 82, 0, 1, 0, 0, 0, 0, -353620973, 1491650999, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353626069, 1491650999, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353632632, 1491650999, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, -353632632, 1491652393, 30),
        (3, 21, 0, 1, 0, 0, 0, 1, 0, 0, 0),
    ],
    "ardupilot/KalaupapaCanyonRun_mission.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, 211656423, -1568868016, 165.25),
        (3, 84, 0, 1, 0, 0, 0, 0, 211656423, -1568868016, 50),
        (0, 31, 0, 1, 0, 200, 0, 0, 211773205, -1568829482, 600),
        (0, 31, 0, 1, 0, -150, 0, 0, 211719306, -1568800583, 180),
        (0, 178, 0, 1, 0, 22, -1, 0, 0, 0, 0),
        (0, 16, 0, 1, 0, 0, 0, 0, 211602524, -1568810219, 200),
        (0, 16, 0, 1, 0, 0, 0, 0, 211575575, -1568810219, 200),
        (0, 16, 0, 1, 0, 0, 0, 0, 211548625, -1568790954, 200),
        (0, 16, 0, 1, 0, 0, 0, 0, 211521675, -1568776506, 220),
        (0, 16, 0, 1, 0, 0, 0, 0, 211494726, -1568757242, 230),
        (0, 16, 0, 1, 0, 0, 0, 0, 211467776, -1568757243, 250),
        (0, 16, 0, 1, 0, 0, 0, 0, 211440826, -1568776509, 280),
        (0, 16, 0, 1, 0, 0, 0, 0, 211413877, -1568762061, 300),
        (0, 16, 0, 1, 0, 0, 0, 0, 211350000, -1568768000, 420),
        (0, 16, 0, 1, 0, 0, 0, 0, 211285000, -1568735000, 555),
        (0, 16, 0, 1, 0, 0, 0, 0, 211240000, -1568715000, 645),
        (0, 31, 0, 1, 0, 150, 0, 0, 211180000, -1568710000, 1120),
        (0, 178, 0, 1, 0, 25, -1, 0, 0, 0, 0),
        (0, 16, 0, 1, 0, 0, 0, 0, 211175000, -1568600000, 1120),
        (0, 16, 0, 1, 0, 0, 0, 0, 211190000, -1568470000, 900),
        (0, 16, 0, 1, 0, 0, 0, 0, 211200000, -1568350000, 730),
        (0, 16, 0, 1, 0, 0, 0, 0, 211205000, -1568268000, 570),
        (0, 16, 0, 1, 0, 0, 0, 0, 211280000, -1568272000, 450),
        (0, 16, 0, 1, 0, 0, 0, 0, 211345000, -1568305000, 380),
        (0, 16, 0, 1, 0, 0, 0, 0, 211405000, -1568352000, 330),
        (0, 16, 0, 1, 0, 0, 0, 0, 211481251, -1568357495, 300),
        (0, 16, 0, 1, 0, 0, 0, 0, 211535150, -1568357486, 250),
        (0, 16, 0, 1, 0, 0, 0, 0, 211589049, -1568333394, 220),
        (0, 16, 0, 1, 0, 0, 0, 0, 211692356, -1568338192, 200),
        (0, 16, 0, 1, 0, 0, 0, 0, 211737272, -1568579017, 180),
        (3, 16, 0, 1, 0, 0, 0, 0, 211728289, -1568868016, 70),
        (3, 85, 0, 1, 0, 0, 0, 0, 211656423, -1568868016, 0),
    ],
    "ardupilot/MissionItemTypes_items.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, -353629380, 1491650850, 585),
        (3, 22, 0, 1, 15, 0, 0, 0, -353612790, 1491642300, 40),
        (0, 178, 0, 1, 0, 20, -1, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, 0, -353557514, 1491650850, 100),
        (3, 16, 0, 1, 0, 10, 0, 0, -353494632, 1491716938, 100),
        (3, 16, 0, 1, 0, 0, 80, 0, -353557514, 1491783031, 100),
        (3, 36, 0, 1, 90, 0, 0, 0, -353674296, 1491816088, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, -353629380, 1491849130, 110),
        (3, 18, 0, 1, 2, 0, 100, 0, -353701246, 1491849139, 110),
        (3, 18, 0, 1, 1, 0, -80, 1, -353710229, 1491772027, 110),
        (0, 19, 0, 1, 22, 0, 0, 0, -353674296, 1491716945, 695),
        (3, 31, 0, 1, 0, 120, 0, 0, -353737179, 1491683899, 250),
        (3, 31, 0, 1, 0, -120, 0, 1, -353737179, 1491595769, 100),
        (3, 18, 0, 1, 1, 0, 80, 0, 0, 0, 100),
        (0, 600, 0, 1, 7, 0, 0, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, 0, -353674296, 1491551707, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, -353656330, 1491617803, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, -353710229, 1491595770, 100),
        (0, 601, 0, 1, 7, 1, 0, 0, 0, 0, 0),
        (0, 177, 0, 1, 3, 0, 0, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, 0, -353602430, 1491573743, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, -353557514, 1491617805, 90),
        (3, 16, 0, 1, 0, 0, 0, 0, -353566498, 1491551714, 90),
        (0, 177, 0, 1, 20, 1, 0, 0, 0, 0, 0),
        (0, 189, 0, 1, 0, 0, 0, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, 0, -353654670, 1491642150, 55),
        (3, 16, 0, 1, 0, 0, 0, 0, -353650090, 1491654820, 40),
        (3, 21, 0, 1, 0, 0, 0, 1, -353630410, 1491652220, 0),
    ],
    "ardupilot/SplineTerrain_wp.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, -353632620, 1491652370, 584.090027),
        (3, 22, 0, 1, 0, 0, 0, 0, -353629910, 1491651920, 50),
        (3, 82, 0, 1, 0, 0, 0, 0, -353628450, 1491656660, 50),
        (3, 16, 0, 1, 0, 0, 0, 0, -353632140, 1491659050, 50),
        (0, 20, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    ],
    "ardupilot/Terrain_ap-terrain.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, -353632620, 1491652370, 584.090027),
        (3, 22, 0, 1, 15, 0, 0, 0, 0, 0, 80),
        (10, 16, 0, 1, 0, 0, 0, 0, -353618210, 1491122380, 100),
        (10, 16, 0, 1, 0, 0, 0, 0, -353673680, 1491567780, 100),
        (0, 178, 0, 1, 0, 13, 0, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, 0, -353681220, 1491660560, 24.040001),
        (3, 16, 0, 1, 0, 0, 0, 0, -353668140, 1491658780, 28),
        (3, 21, 0, 1, 0, 0, 0, 1, -353629110, 1491652220, 0),
    ],
    "ardupilot/copter_mission_CHIAI.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, 234578220, 1202760080, 19.5),
        (3, 22, 0, 1, 0, 0, 0, 0, 234578220, 1202760080, 30),
        (3, 16, 0, 1, 0, 0, 0, 0, 234588220, 1202770080, 30),
        (0, 115, 0, 1, 180, 30, 1, 1, 0, 0, 0),
        (3, 21, 0, 1, 0, 0, 0, 0, 234578220, 1202760080, 0),
    ],
    "ardupilot/copter_terrain_mission.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, -353632620, 1491652370, 985),
        (3, 22, 0, 1, 0, 0, 0, 0, 0, 0, 25),
        (10, 16, 0, 1, 0, 0, 0, 0, 363192400, 1386499930, 25),
        (10, 16, 0, 1, 0, 0, 0, 0, 363200350, 1386602500, 25),
        (3, 20, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    ],
    "mavsdk/mission_planner_sample.txt": [
        (0, 16, 1, 1, 0, 0, 0, 0, 0, 0, 0),
        (5, 22, 0, 1, 0, 0, 0, 0, 473978101, 85455380, 15),
        (5, 16, 0, 1, 0, 0, 0, 0, 473977992, 85454669, 15),
        (5, 16, 0, 1, 0, 0, 0, 0, 473977883, 85453958, 15),
        (5, 20, 0, 1, 0, 0, 0, 0, 473977774, 85453247, 0),
    ],
    "qgroundcontrol/MissionPlanner.waypoints": [
        (0, 16, 1, 1, 0, 0, 0, 0, 476604590, -1221031670, 5.21),
        (3, 16, 0, 1, 0, 0, 0, 0, 476612980, -1221032740, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, 476610300, -1221018580, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, 476599610, -1221015250, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, 476591950, -1221033700, 100),
        (3, 16, 0, 1, 0, 0, 0, 0, 476604590, -1221055380, 100),
    ],
    "mavsdk/qgroundcontrol_sample.plan": [
        (0, 16, 1, 1, 0, 0, 0, 0, 473977507, 85456075, 488.93101752001763),
        (3, 22, 0, 1, 15, 0, 0, NAN, 473977507, 85456075, 50),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473977711, 85466122, 50),
        (2, 2000, 0, 1, 0, 0, 1, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473982738, 85466053, 50),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473982784, 85456082, 50),
        (2, 20, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    ],
    "mavsdk/qgroundcontrol_sample_with_digicam_control.plan": [
        (0, 16, 1, 1, 0, 0, 0, 0, 0, 0, 0),
        (2, 203, 0, 1, 1, 0, 0, 0, 1, 0, 0),
    ],
    "mavsdk/qgroundcontrol_sample_with_survey.plan": [
        (0, 16, 1, 1, 0, 0, 0, 0, 473980178, 85451496, 483.4261075265049),
        (2, 530, 0, 1, 0, 2, NAN, NAN, 0, 0, NAN),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473977060, 85463397, 50),
        (2, 206, 0, 1, 25, 0, 1, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473977060, 85462068, 50),
        (2, 206, 0, 1, 25, 0, 1, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473977060, 85457443, 50),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473977060, 85456115, 50),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473974811, 85456316, 50),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473974811, 85457645, 50),
        (2, 206, 0, 1, 25, 0, 1, 0, 0, 0, 0),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473974811, 85462092, 50),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473974811, 85463421, 50),
        (2, 206, 0, 1, 0, 0, 1, 0, 0, 0, 0),
    ],
    "qgroundcontrol/SectionTest.plan": [
        (0, 16, 1, 1, 0, 0, 0, 0, 476333898, -1220907630, 20),
        (3, 22, 0, 1, 0, 0, 0, NAN, 476331200, -1220907630, 20),
        (3, 16, 0, 1, 0, 0, 0, NAN, 476336911, -1220892502, 20),
        (3, 16, 0, 1, 0, 0, 0, NAN, 476334525, -1220872547, 20),
        (2, 205, 0, 1, 0, 0, 0, 0, 0, 0, 2),
        (3, 16, 0, 1, 0, 0, 0, NAN, 476326139, -1220866109, 20),
    ],
    "qgroundcontrol/TerrainTest-ArduCopter.plan": [
        (0, 16, 1, 1, 0, 0, 0, 0, 476305111, -1220863806, 9.26),
        (3, 22, 0, 1, 0, 0, 0, NAN, 476332060, -1220863806, 30),
        (3, 16, 0, 1, 0, 0, 0, NAN, 476439858, -1220663858, 60),
        (2, 178, 0, 1, 1, 10, -1, 0, 0, 0, 0),
        (0, 16, 0, 1, 0, 0, 0, NAN, 476305111, -1220463910, 159.26),
        (3, 201, 0, 1, 0, 0, 0, 0, 476035618, -1220463910, 0),
        (0, 16, 0, 1, 0, 0, 0, NAN, 476035618, -1220463910, NAN),
        (3, 19, 0, 1, 30, 0, 50, 0, 476035618, -1220863806, 100),
        (10, 16, 0, 1, 0, 0, 0, NAN, 476035618, -1221263702, 50),
        (3, 82, 0, 1, 0, 0, 0, 0, 476305111, -1221263702, 70),
        (3, 16, 0, 1, 0, 0, 0, NAN, 476529689, -1221130403, 15),
        (3, 21, 0, 1, 0, 0, 0, NAN, 476332060, -1220863806, 0),
    ],
    "px4/multicopter_mission_geofence_avoid.plan": [
        (0, 16, 1, 1, 0, 0, 0, 0, 473977444, 85455918, 489.338),
        (3, 22, 0, 1, 0, 0, 0, NAN, 473977508, 85456074, 20),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473965456, 85444908, 20),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473963513, 85391547, 20),
        (3, 16, 0, 1, 0, 0, 0, NAN, 473944660, 85405644, 20),
        (2, 20, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    ],
}
# TerrainTest-ArduCopter.plan item 6 is "calculated above terrain" (AltitudeMode 3) with no AMSL altitude stored
# (params[6] null, Altitude 80): QGC fills the AMSL value from its terrain server before sending, which a file alone
# cannot do, so the reader keeps the intent as 80 m in MAV_FRAME_GLOBAL_TERRAIN_ALT (10) instead of frame 0.
EXPECTED["qgroundcontrol/TerrainTest-ArduCopter.plan"][6] = (10, 16, 0, 1, 0, 0, 0, NAN, 476035618, -1220463910, 80)

EXPECTED_FENCE = {
    "px4/multicopter_mission_geofence_avoid.plan": [
        (0, 5002, 1, 1, 4, 0, 0, 0, 473991036, 85368519, 0),
        (0, 5002, 0, 1, 4, 0, 0, 0, 473985883, 85434353, 0),
        (0, 5002, 0, 1, 4, 0, 0, 0, 473967667, 85442537, 0),
        (0, 5002, 0, 1, 4, 0, 0, 0, 473968827, 85417818, 0),
        (0, 5001, 0, 1, 4, 0, 0, 0, 473999916, 85350477, 0),
        (0, 5001, 0, 1, 4, 0, 0, 0, 473999451, 85454451, 0),
        (0, 5001, 0, 1, 4, 0, 0, 0, 473927499, 85519770, 0),
        (0, 5001, 0, 1, 4, 0, 0, 0, 473936575, 85381246, 0),
        (0, 5004, 0, 1, 111.05361447891983, 0, 0, 0, 473953064, 85428678, 0),
    ],
}

REFUSED = [
    "mavsdk/qgroundcontrol_sample_with_survey_missing_items.plan",
    "mavsdk/qgroundcontrol_sample_with_survey_wrong_version.plan",
    "mavsdk/qgroundcontrol_sample_without_mission.plan",
    "mavsdk/qgroundcontrol_sample_wrong_mission_version.plan",
    "mavsdk/qgroundcontrol_sample_wrong_overall_version.plan",
    "qgroundcontrol/PolygonAreaTest.kml",
    "mavsdk/LICENSE.md",
]


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return bool(np.float32(a) == np.float32(b))


def _row(item: WireItem) -> Row:
    return (item.frame, item.command, item.current, item.autocontinue, item.param1, item.param2, item.param3,
            item.param4, item.x, item.y, item.z)


def _assert_rows(got: list[WireItem], expected: list[Row], name: str) -> None:
    assert [w.seq for w in got] == list(range(len(expected))), name
    for seq, (item, want) in enumerate(zip(got, expected, strict=True)):
        row = _row(item)
        assert all(_same(a, b) for a, b in zip(row, want, strict=True)), f"{name} seq {seq}: {row} != {want}"


def test_every_shared_flight_plan_is_covered(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "flight-plans"
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert on_disk == set(EXPECTED) | set(REFUSED) | {"mavsdk/qgroundcontrol_sample_with_structured_scan.plan"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_converts_to_the_mission_item_int_list_qgc_sends(shared_dir: Path, name: str) -> None:
    mission = read_mission_file(shared_dir / "data" / "flight-plans" / name)
    _assert_rows(mission_to_wire(mission, "ardupilot"), EXPECTED[name], name)


def test_px4_list_equals_mavsdk_reference_without_home(shared_dir: Path) -> None:
    name = "mavsdk/qgroundcontrol_sample.plan"
    mission = read_mission_file(shared_dir / "data" / "flight-plans" / name)
    expected = [(r[0], r[1], int(seq == 0), *r[3:]) for seq, r in enumerate(EXPECTED[name][1:])]
    _assert_rows(mission_to_wire(mission, "px4"), expected, name)


@pytest.mark.parametrize("name", sorted(EXPECTED_FENCE))
def test_geofence_converts_to_fence_items(shared_dir: Path, name: str) -> None:
    mission = read_mission_file(shared_dir / "data" / "flight-plans" / name)
    fence = plain_wire(fence_to_items(mission.fence_polygons, mission.fence_circles), int(MissionType.FENCE))
    _assert_rows(fence, EXPECTED_FENCE[name], name)


def test_structure_scan_is_regenerated_with_plain_integer_do_items(shared_dir: Path) -> None:
    name = "mavsdk/qgroundcontrol_sample_with_structured_scan.plan"
    wire = mission_to_wire(read_mission_file(shared_dir / "data" / "flight-plans" / name), "ardupilot")
    assert _row(wire[0])[:4] == (0, 16, 1, 1) and wire[0].x == 473980271  # home 47.39802707617687
    assert _row(wire[1])[:8] == (2, 530, 0, 1, 0, 2, 0, 0) or wire[1].command == 530
    do_items = [w for w in wire if w.command == 206]
    assert do_items and all(w.frame == 2 and w.x == 0 and w.y == 0 for w in do_items)
    nav = [w for w in wire[1:] if w.command == 16]
    assert nav and all(w.frame == 3 and 473_000_000 < w.x < 474_000_000 and 85_000_000 < w.y < 86_000_000 for w in nav)


@pytest.mark.parametrize("name", REFUSED)
def test_malformed_or_foreign_files_are_refused(shared_dir: Path, name: str) -> None:
    with pytest.raises(MissionFileError):
        read_mission_file(shared_dir / "data" / "flight-plans" / name)

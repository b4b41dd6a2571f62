"""The domain core's nouns: pure parsing rules and round trips (no files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from shapely.geometry import Point, box

from pipeline.common.geo import JGD2011_UTM53N
from pipeline.core.fields import Field, FieldSet, field_from_feature, fields_from_features, parse_consent
from pipeline.core.flight import Flight, flight_of, parse_flight_dir
from pipeline.errors import InputError

SQUARE = box(133.14, 33.20, 133.141, 33.201)


def test_id_rule_prefers_field_id_then_id_then_name() -> None:
    assert field_from_feature(SQUARE, {"field_id": "A", "id": 3, "name": "x"}).field_id == "A"  # type: ignore[union-attr]
    assert field_from_feature(SQUARE, {"id": 3, "name": "x"}).field_id == "3"  # type: ignore[union-attr]
    assert field_from_feature(SQUARE, {"name": " 北の田 "}).field_id == "北の田"  # type: ignore[union-attr]
    assert field_from_feature(SQUARE, {"field_id": "", "name": "n"}).field_id == "n"  # type: ignore[union-attr]


def test_every_problem_of_a_layer_is_listed_at_once() -> None:
    features = [
        (SQUARE, {"field_id": "F1", "crop": "rice"}),
        (SQUARE, {"field_id": "F1", "crop": "rice"}),
        (Point(133.1, 33.2), {"crop": "wheat", "open_data": "maybe", "planted": "July"}),
    ]
    with pytest.raises(InputError) as err:
        fields_from_features(features, source="f.geojson", require_crop=True)
    text = str(err.value)
    for part in ("feature 1 repeats field ID 'F1' of feature 0", "feature 2 has no field_id, id or name",
                 "feature 2 is a Point", "feature 2 has crop 'wheat'", "feature 2 has open_data 'maybe'",
                 "feature 2 has planted 'July'"):
        assert part in text
    assert "\n" not in text


def test_crop_synonyms_and_optional_crop() -> None:
    rice = field_from_feature(SQUARE, {"field_id": "a", "crop": "水稲"})
    ginger = field_from_feature(SQUARE, {"field_id": "b", "crop": "Ginger"})
    assert isinstance(rice, Field) and rice.crop == "rice"
    assert isinstance(ginger, Field) and ginger.crop == "ginger"
    unknown = field_from_feature(SQUARE, {"field_id": "c", "crop": "wheat"})
    assert isinstance(unknown, Field) and unknown.crop == ""
    assert field_from_feature(SQUARE, {"field_id": "c"}, require_crop=True) == [
        "has crop None; expected one of rice, ginger"]


@pytest.mark.parametrize(("value", "expected"), [
    (None, False), (True, True), ("true", True), ("はい", True), ("no", False), (1, True), (0, False),
    ("perhaps", None), (2, None),
])
def test_consent_missing_means_no(value: object, expected: bool | None) -> None:
    assert parse_consent(value) is expected


def test_field_round_trip_and_projection() -> None:
    props = {"field_id": "F1", "crop": "rice", "grower": "山田 <太郎> & 子", "planted": "2026-05-01",
             "open_data": True, "notes": "x"}
    parsed = field_from_feature(SQUARE, props)
    assert isinstance(parsed, Field)
    assert parsed.planted == dt.date(2026, 5, 1) and parsed.grower == "山田 <太郎> & 子"
    geom, out = parsed.to_feature()
    again = field_from_feature(geom, out)
    assert again == parsed
    metric = parsed.to_crs(JGD2011_UTM53N)
    assert metric.crs == JGD2011_UTM53N and metric.to_crs(JGD2011_UTM53N) is metric
    assert metric.area_m2 == pytest.approx(parsed.area_m2, rel=2e-3)  # planar UTM vs geodesic
    assert metric.wgs84.equals_exact(SQUARE, 1e-9)
    fs = FieldSet((parsed,), "x")
    assert list(fs) == [parsed] and fs.ids == ("F1",) and fs[0] is parsed and len(fs.to_crs(JGD2011_UTM53N)) == 1


def test_flight_from_folder_name_or_survey_json() -> None:
    named = parse_flight_dir(Path("raw/kubokawa-east_20260612_rededge-mx"))
    assert isinstance(named, Flight) and named.date == dt.date(2026, 6, 12) and named.sensor == "rededge-mx"
    assert Flight.from_dict(named.to_dict()) == named
    assert parse_flight_dir(Path("raw/a_20261340_x")) == "'20261340' is not a valid YYYYMMDD date"
    other = flight_of(Path("demo-output/survey"), {"date": "2026-07-01T10:30:00", "sensor": "rededge-mx"}, "s")
    assert other.date == dt.date(2026, 7, 1) and other.area == "" and other.flight_id == "survey"
    with pytest.raises(InputError, match="has no 'date'"):
        flight_of(Path("x"), {}, "survey.json")


def test_mission_round_trips_through_its_dict() -> None:
    from pipeline.core.mission import Cmd, FenceCircle, FencePolygon, Frame, Mission, MissionItem

    mission = Mission(
        items=(MissionItem(int(Cmd.NAV_TAKEOFF), alt=30.0),
               MissionItem(int(Cmd.DO_DIGICAM_CONTROL), int(Frame.MISSION), (0.0, 0.0, 0.0, 0.0)),
               MissionItem(int(Cmd.NAV_WAYPOINT), lat=33.2101, lon=133.1353, alt=60.5, autocontinue=False)),
        home=(33.21, 133.135, 230.0),
        fence_polygons=(FencePolygon(((33.0, 133.0), (33.1, 133.0), (33.1, 133.1)), inclusion=False),),
        fence_circles=(FenceCircle(33.2, 133.1, 150.0),), rally=((33.2, 133.1, 40.0),), home_source="planned",
    )
    import json

    assert Mission.from_dict(json.loads(json.dumps(mission.to_dict()))) == mission

"""Hotspots → scouting points: slivers dropped, neighbours merged, ranked, capped, stable IDs; scoring."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point, box

from pipeline.core.scouting import ScoutingPoint, feature_collection, point_id
from pipeline.detection.scouting import ScoutingRules, is_boundary_sliver, mean_width_m, select_points
from pipeline.detection.scoutscore import score_points

FIELD = box(0, 0, 100, 60)  # a 100 m x 60 m field, metres
PIXEL = 0.1


def _lonlat(p: Point) -> tuple[float, float]:
    return 133.0 + p.x * 1e-5, 33.0 + p.y * 1e-5


def _hotspot(geom, cls="blast", prob=0.8, fid="F1"):
    return geom, {"class": cls, "field_id": fid, "area_m2": geom.area, "mean_probability": prob}


def test_levee_strip_is_a_sliver_but_a_round_patch_on_the_edge_is_not():
    rules = ScoutingRules()
    strip = box(10, 0.0, 40, 0.25)  # 30 m x 25 cm along the south boundary
    assert mean_width_m(strip) == pytest.approx(0.25, rel=0.05)
    assert is_boundary_sliver(strip, FIELD, PIXEL, rules)
    round_patch = Point(50, 2).buffer(2.5)  # touches the edge band but is round and mostly inside
    assert not is_boundary_sliver(round_patch, FIELD, PIXEL, rules)
    inner_strip = box(10, 30, 40, 30.25)  # thin but in the middle of the field: kept (not an edge effect)
    assert not is_boundary_sliver(inner_strip, FIELD, PIXEL, rules)
    corner_l = box(0, 0, 20, 0.2).union(box(0, 0, 0.2, 20))  # L along two edges: thin by mean width
    assert is_boundary_sliver(corner_l, FIELD, PIXEL, rules)


def test_select_merges_neighbours_ranks_by_area_times_probability_and_caps():
    hotspots = [
        _hotspot(box(10, 0.0, 40, 0.25)),                       # 0: sliver
        _hotspot(Point(20, 30).buffer(2.0), prob=0.9),          # 1: ~12.6 m2 ...
        _hotspot(Point(25, 30).buffer(1.0), "brown_spot", 0.5),  # 2: ... 1 m gap: merged with 1
        _hotspot(Point(70, 40).buffer(3.0), prob=0.4),          # 3: ~28 m2 x 0.4 = 11.3
        _hotspot(Point(80, 15).buffer(1.5), prob=0.95),         # 4: ~7 m2 x 0.95 = 6.7
        _hotspot(Point(50, 50).buffer(0.5), prob=0.99),         # 5: 0.8 m2 < min_area_m2: never listed
        _hotspot(Point(5, 50).buffer(1.2), prob=0.7),           # 6: 4.5 m2 x 0.7 = 3.2
        _hotspot(Point(5, 5).buffer(1.0), fid="unknown"),       # 7: not in a known field: ignored
    ]
    result = select_points(hotspots, {"F1": FIELD}, "flightA", PIXEL, _lonlat, ScoutingRules(max_points=3))
    pts = result.points
    assert [p.rank for p in pts] == [1, 2, 3]
    assert [p.id for p in pts] == ["flightA:F1:1", "flightA:F1:2", "flightA:F1:3"]
    merged = pts[0]
    assert merged.hotspots == (1, 2) and merged.cls == "blast"
    a1, a2 = hotspots[1][0].area, hotspots[2][0].area
    assert merged.area_m2 == pytest.approx(a1 + a2, abs=0.01)
    assert merged.probability == pytest.approx((a1 * 0.9 + a2 * 0.5) / (a1 + a2), abs=1e-3)
    assert [p.hotspots for p in pts[1:]] == [(3,), (4,)]
    # the point lies deep inside the largest member
    lon, lat = merged.lon, merged.lat
    inside = Point((lon - 133.0) / 1e-5, (lat - 33.0) / 1e-5)
    assert hotspots[1][0].contains(inside) and inside.distance(hotspots[1][0].exterior) > 1.5
    summary = result.summary()["F1"]
    assert summary == {"hotspots": 7, "slivers": 1, "candidates": 5, "listed": 3, "not_listed": 2}
    # same input, same output (stable IDs and order)
    again = select_points(hotspots, {"F1": FIELD}, "flightA", PIXEL, _lonlat, ScoutingRules(max_points=3))
    assert again.points == pts


def test_scouting_point_feature_round_trip_and_refusals():
    p = ScoutingPoint("kubokawa_20260715", "F<1>&", 2, "blast", 0.73, 41.5, 133.1, 33.2, (4, 7))
    feat = json.loads(json.dumps(p.to_feature()))
    assert feat["properties"]["id"] == point_id("kubokawa_20260715", "F<1>&", 2) == "kubokawa_20260715:F<1>&:2"
    assert ScoutingPoint.from_feature(feat) == p
    assert feature_collection([p], flight="x")["features"][0] == p.to_feature()
    bad = {**feat, "properties": {**feat["properties"], "id": "other:F1:1"}}
    with pytest.raises(ValueError, match="differs"):
        ScoutingPoint.from_feature(bad)
    with pytest.raises(ValueError) as err:
        ScoutingPoint.from_feature({"geometry": {"type": "Polygon"}, "properties": {"rank": 1}})
    assert "Point" in str(err.value) and "'flight' missing" in str(err.value) and "'class' missing" in str(err.value)


def test_score_points_counts_the_done_when_figures():
    labels = [("F1", Point(20, 30).buffer(5.0)), ("F1", Point(80, 40).buffer(2.0)),  # 78 m2 (1.3 % of F1), 12.6 m2
              ("F1", Point(50, 10).buffer(1.0))]  # 3 m2: too small to count as a patch to reach
    points = [("F1", Point(21, 30)), ("F1", Point(85, 40)), ("F1", Point(60, 0.5))]  # near, 3 m off, edge miss
    s = score_points(points, labels, {"F1": FIELD, "F2": box(200, 0, 250, 50)})
    assert (s.points, s.points_near_disease, s.sliver_points) == (3, 1, 1)
    assert (s.patches, s.patches_reached) == (2, 2)
    assert (s.diseased_fields, s.diseased_fields_flagged, s.max_points_per_field) == (1, 1, 3)
    pooled = s + s
    assert pooled.points == 6 and pooled.rates()["points_near_disease"] == pytest.approx(1 / 3)


def test_evaluate_reports_ece_and_leaves_excluded_fields_out(tiny_model, toy_surveys, small_cfg):
    from pipeline.detection.evaluate import evaluate_surveys
    from pipeline.detection.workflow import inference_settings

    settings = inference_settings(small_cfg)
    full = evaluate_surveys(tiny_model, toy_surveys[2:], settings, 1.0, 0.01)
    part = evaluate_surveys(tiny_model, toy_surveys[2:], settings, 1.0, 0.01,
                            {toy_surveys[2].name: ["F00", "F01", "F02"]})
    assert 0.0 <= full["ece"] <= 1.0 and full["temperature"] > 0
    assert len(full["fields"]) == 9 and len(part["fields"]) == 6
    assert sum(map(sum, part["confusion_matrix"])) < sum(map(sum, full["confusion_matrix"]))


def test_a_row_of_patches_is_not_chained_into_one_far_away_stop():
    """Single-linkage merging would chain patches 4 m apart into one stop 20 m from the last of them."""
    row = [_hotspot(Point(10 + 4.5 * k, 30).buffer(1.5)) for k in range(6)]  # 1.5 m gaps, 27 m long
    result = select_points(row, {"F1": FIELD}, "f", PIXEL, _lonlat, ScoutingRules(max_points=10))
    assert len(result.points) >= 3
    for p in result.points:
        stop = Point((p.lon - 133.0) / 1e-5, (p.lat - 33.0) / 1e-5)
        assert all(stop.distance(row[i][0]) <= 5.0 + 1e-6 for i in p.hotspots)  # every member seen from the stop
    assert sorted(i for p in result.points for i in p.hotspots) == list(range(6))

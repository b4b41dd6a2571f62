"""Lawnmower geometry, holes and concave fields, and the automatic grid angle."""

from __future__ import annotations

import itertools
import math

import pytest
from shapely import affinity
from shapely.geometry import LineString, Polygon, box

from pipeline.flight.grid import lawnmower, route_points
from pipeline.flight.route import Kinematics, best_angle, path_time_s, survey_time_s


def test_rectangle_lanes_spacing_and_count() -> None:
    segs = lawnmower(box(0, 0, 300, 100), 20.0, 0.0)
    assert len(segs) == 5  # ceil(100 / 20)
    ys = sorted(s.start[1] for s in segs)
    assert [b - a for a, b in itertools.pairwise(ys)] == pytest.approx([20.0] * 4)
    assert all(abs(s.length_m - 300.0) < 1e-6 for s in segs)
    # boustrophedon: consecutive lanes alternate direction
    assert all((a.end[0] - a.start[0]) * (b.end[0] - b.start[0]) < 0 for a, b in itertools.pairwise(segs))


def test_entry_corner_nearest_home_and_turnaround() -> None:
    home = (310.0, 110.0)
    segs = lawnmower(box(0, 0, 300, 100), 20.0, 0.0, start_near=home, turnaround_m=8.0)
    assert math.dist(segs[0].start, (300.0, 90.0)) < 1e-6
    assert math.dist(segs[0].lead_in, (308.0, 90.0)) < 1e-6


def test_hole_is_never_crossed() -> None:
    field = Polygon([(0, 0), (400, 0), (400, 300), (0, 300)], [[(150, 100), (250, 100), (250, 200), (150, 200)]])
    hole = Polygon([(150, 100), (250, 100), (250, 200), (150, 200)])
    segs = lawnmower(field, 20.0, 0.0, turnaround_m=5.0)
    assert not any(LineString([s.start, s.end]).intersects(hole.buffer(-1.0)) for s in segs)
    assert not any(LineString([s.lead_in, s.lead_out]).intersects(hole.buffer(-6.0)) for s in segs)


def test_concave_u_shape_stays_in_field() -> None:
    u_shape = Polygon([(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100), (100, 300), (0, 300)])
    for angle in (0.0, 90.0, 37.0):
        segs = lawnmower(u_shape, 20.0, angle)
        for s in segs:
            line = LineString([s.start, s.end])
            # a lane covers its whole band, so it may overshoot a slanted edge by about spacing/2/tan(angle),
            # never more: it does not run across the notch of the U
            assert line.difference(u_shape.buffer(1.0)).length <= 2 * 20.0
            assert not line.intersects(box(125, 125, 175, 300))
        assert route_points(segs)


def test_keep_out_is_cut_out_of_lanes() -> None:
    field = box(0, 0, 300, 200)
    no_fly = box(120, -10, 160, 210)
    segs = lawnmower(field, 20.0, 0.0, turnaround_m=10.0, keep_out=no_fly)
    assert not any(LineString([s.lead_in, s.lead_out]).intersects(no_fly.buffer(-0.1)) for s in segs)


def test_auto_angle_follows_a_tilted_strip_and_beats_fixed() -> None:
    strip = affinity.rotate(box(0, 0, 800, 120), 30.0, origin=(0, 0))
    kin = Kinematics(speed_m_s=8.0)
    angle, t_best = best_angle(strip, 20.0, kin, home=(0.0, 0.0))
    assert min(abs(angle - 30.0), abs(angle - 210.0) % 180) < 3.0
    t_fixed = survey_time_s(lawnmower(strip, 20.0, 0.0, (0.0, 0.0)), (0.0, 0.0), kin)
    assert t_best < 0.8 * t_fixed


def test_path_time_counts_turns_and_climbs() -> None:
    kin = Kinematics(speed_m_s=10.0, climb_m_s=2.0, accel_m_s2=2.0, yaw_s=1.0)
    assert path_time_s([(0, 0), (100, 0), (200, 0)], kin) == pytest.approx(20.0)  # no turn
    assert path_time_s([(0, 0), (100, 0), (100, 100)], kin) == pytest.approx(20.0 + 6.0)  # one turn: 10/2 + 1
    assert path_time_s([(0, 0, 0), (10, 0, 100)], kin) == pytest.approx(50.0)  # climb-limited

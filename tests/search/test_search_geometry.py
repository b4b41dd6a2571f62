"""Pure geometry of the search: patterns, coverage, sector balance, optics and the 150 m limit."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from shapely.geometry import Point, Polygon, box

from pipeline.errors import InputError, SafetyLimitError, UnknownNameError
from pipeline.search.cameras import SEARCH_CAMERAS, search_camera
from pipeline.search.layout import PATTERNS, LayoutRequest, footprint_coverage, get_pattern
from pipeline.search.optics import JAPAN_MAX_AGL_M, TARGETS, get_target, search_geometry
from pipeline.search.patterns import expanding_square, long_axis_angle, sector_copies_needed, sector_search
from pipeline.search.timing import TimeModel, balanced_groups, imbalance, path_time_s, split_sorties

MODEL = TimeModel(speed_m_s=6.0, turn_s=4.0, climb_m_s=3.0, endurance_s=1500.0)


def _request(area: Polygon, drones: int = 3, spacing: float = 54.6, swath: float = 68.3,
             launches: tuple[tuple[float, float], ...] = ((-150.0, -120.0),),
             radius: float | None = None) -> LayoutRequest:
    c = area.centroid
    return LayoutRequest(area, (c.x, c.y), launches, spacing, swath, 120.0, drones, radius, MODEL)


def _areas() -> list[Polygon]:
    rng = random.Random(42)
    out = [
        Polygon([(0, 0), (1500, 200), (1600, 500), (100, 350), (-50, 200)]),  # long skewed strip
        Polygon([(0, 0), (800, 0), (800, 700), (450, 700), (450, 250), (300, 250), (300, 700), (0, 700)]),  # U
        box(0, 0, 600, 420),
    ]
    for _ in range(3):  # random star-shaped polygons
        k = rng.randint(7, 12)
        pts = []
        for i in range(k):
            a = 2 * math.pi * i / k
            r = rng.uniform(250, 600)
            pts.append((r * math.cos(a), r * math.sin(a)))
        out.append(Polygon(pts))
    return out


@pytest.mark.parametrize("pattern", ["parallel", "creeping-line"])
@pytest.mark.parametrize("area_index", range(6))
def test_area_patterns_cover_the_area(pattern: str, area_index: int) -> None:
    area = _areas()[area_index]
    assert area.is_valid
    req = _request(area)
    sectors = get_pattern(pattern).generate(req)
    assert len(sectors) == 3
    coverage = footprint_coverage(area, [s.path for s in sectors], req.swath_m)
    assert coverage >= 0.99, f"{pattern} covers only {coverage:.4f} of area {area_index}"
    # sectors tile the area: no overlap beyond slivers, union equals the area
    union_area = sum(s.region.area for s in sectors)
    assert union_area == pytest.approx(area.area, rel=1e-6)


@pytest.mark.parametrize("pattern", ["parallel", "creeping-line"])
@pytest.mark.parametrize("drones", [2, 3, 4])
def test_sector_flight_times_are_balanced(pattern: str, drones: int) -> None:
    area = _areas()[0]
    req = _request(area, drones=drones)
    times = [path_time_s(s.path, s.launch, req.height_m, MODEL) for s in get_pattern(pattern).generate(req)]
    assert len(times) == drones
    assert imbalance(times) <= 1.2, f"times {times}"


def test_creeping_line_runs_across_the_long_axis() -> None:
    strip = box(0, 0, 2000, 300)  # long axis east-west
    assert long_axis_angle(strip) % 180 == pytest.approx(0.0, abs=1e-6)
    par = get_pattern("parallel").generate(_request(strip, drones=1))[0].path
    creep = get_pattern("creeping-line").generate(_request(strip, drones=1))[0].path
    par_leg = par.legs()[0].coords
    creep_leg = creep.legs()[0].coords
    assert abs(par_leg[1][1] - par_leg[0][1]) < 1e-6  # parallel track legs run east-west
    assert abs(creep_leg[1][0] - creep_leg[0][0]) < 1e-6  # creeping line legs run north-south
    assert len(creep.legs()) > len(par.legs())


def test_expanding_square_legs_grow_by_spacing() -> None:
    s = 50.0
    path = expanding_square((0.0, 0.0), s, radius=200.0)
    lengths = [math.dist(a, b) for a, b in zip(path.points, path.points[1:], strict=False)]
    assert lengths[:6] == pytest.approx([s, s, 2 * s, 2 * s, 3 * s, 3 * s])
    assert path.points[1] == pytest.approx((0.0, s))  # first leg north
    assert path.points[2] == pytest.approx((s, s))  # then a right turn: east
    disc = Polygon([(200 * math.cos(a / 20 * math.pi), 200 * math.sin(a / 20 * math.pi)) for a in range(40)])
    assert footprint_coverage(disc, [path], swath_m=60.0, along_m=48.0) >= 0.995


def test_sector_search_has_nine_legs_of_radius_and_returns_to_datum() -> None:
    r = 300.0
    path = sector_search((10.0, 20.0), r, [0.0])
    lengths = [math.dist(a, b) for a, b in zip(path.points, path.points[1:], strict=False)]
    assert sum(lengths) == pytest.approx(9 * r)
    assert path.points[-1] == pytest.approx((10.0, 20.0), abs=1e-6)
    # radials at 0, 60, ..., 300 deg: every vertex except the datum is at distance r
    far = [p for p in path.points if math.dist(p, (10.0, 20.0)) > 1.0]
    bearings = sorted({round(math.degrees(math.atan2(p[0] - 10.0, p[1] - 20.0)) % 360) for p in far})
    assert bearings == [0, 60, 120, 180, 240, 300]
    assert sector_copies_needed(spacing=50.0, radius=300.0) == 7


def test_datum_patterns_give_every_drone_a_rotated_copy() -> None:
    area = box(-400, -400, 400, 400)
    req = _request(area, radius=250.0)
    squares = get_pattern("expanding-square").generate(req)
    firsts = [s.path.points[1] for s in squares]
    assert len({(round(x), round(y)) for x, y in firsts}) == 3
    sectors = get_pattern("sector").generate(req)
    assert footprint_coverage(sectors[0].region, [s.path for s in sectors], req.swath_m) >= 0.99


def test_one_launch_point_per_drone_goes_to_the_nearest_sector() -> None:
    strip = box(0, 0, 3000, 250)
    launches = ((2900.0, -60.0), (100.0, -60.0), (1500.0, -60.0))  # west, east and middle, given out of order
    sectors = get_pattern("creeping-line").generate(_request(strip, launches=launches))
    assert sorted(s.launch for s in sectors) == sorted(launches)
    for s in sectors:
        assert s.region.distance(Point(s.launch)) < 100.0, (s.index, s.launch, s.region.bounds)
    shared = get_pattern("creeping-line").generate(_request(strip, launches=((1500.0, -60.0),)))
    worst_shared = max(path_time_s(s.path, s.launch, 120.0, MODEL) for s in shared)
    worst_own = max(path_time_s(s.path, s.launch, 120.0, MODEL) for s in sectors)
    assert worst_own < worst_shared


def test_balanced_groups_is_optimal_on_a_small_case() -> None:
    weights = [5, 1, 1, 1, 5, 2, 2, 3]
    groups = balanced_groups(len(weights), 3, lambda a, b: float(sum(weights[a:b])))
    sums = [sum(weights[a:b]) for a, b in groups]
    assert (max(sums), min(sums)) == (7, 6)  # the best possible: total 20 in 3 contiguous groups
    assert groups[0][0] == 0 and groups[-1][1] == len(weights)
    with pytest.raises(InputError, match="at most 8 drones"):
        balanced_groups(8, 9, lambda a, b: 1.0)


def test_sorties_fit_one_battery_each() -> None:
    path = get_pattern("parallel").generate(_request(_areas()[0], drones=1))[0].path
    short = TimeModel(6.0, 4.0, 3.0, endurance_s=900.0)
    split, sorties = split_sorties(path, (-150.0, -120.0), 120.0, short)
    assert len(sorties) >= 3
    assert all(s.time_s <= 900.0 + 1e-6 for s in sorties), [s.time_s for s in sorties]
    assert sorties[0].first_point == 0 and sorties[-1].last_point == len(split.points) - 1
    assert split.length_m == pytest.approx(path.length_m)  # vertices inserted on the path, not beside it
    one, whole = split_sorties(path, (-150.0, -120.0), 120.0, TimeModel(6.0, 4.0, 3.0, endurance_s=3600.0))
    assert len(whole) == 1 and one == path
    assert all(a.last_point == b.first_point for a, b in itertools.pairwise(sorties))


def test_height_and_spacing_follow_the_pixel_criterion() -> None:
    cam = search_camera("h20t-wide")
    person = get_target("person")
    g = search_geometry(cam, person, max_height_agl_m=150.0, side_overlap=0.2)
    # 6 px across 0.5 m -> GSD 8.33 cm; H = GSD * f * W / w = 0.0833 * 4.5 * 4056 / 6.17 = 246 m -> capped at 150
    assert g.height_agl_m == pytest.approx(150.0)
    assert g.height_limited_by == "altitude-limit"
    m3t = search_geometry(search_camera("m3t-thermal"), person, 150.0, 0.2)
    # thermal 3 px across 0.5 m: H = 0.1667 * 9.1 * 640 / 7.68 = 126.4 m
    assert m3t.height_agl_m == pytest.approx(0.5 / 3 * 9.1 * 640 / 7.68, rel=1e-9)
    assert m3t.pixels_on_target == pytest.approx(3.0)
    assert m3t.spacing_m == pytest.approx(0.8 * m3t.swath_m)


@pytest.mark.parametrize("camera", SEARCH_CAMERAS)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_search_height_never_exceeds_150_m(camera: str, target: str) -> None:
    cam = search_camera(camera)
    g = search_geometry(cam, get_target(target), JAPAN_MAX_AGL_M, 0.2)
    assert 0 < g.height_agl_m <= JAPAN_MAX_AGL_M
    assert g.pixels_on_target >= get_target(target).pixels_for(cam.kind) - 1e-9
    assert g.spacing_m < g.swath_m


def test_cap_above_150_m_is_refused() -> None:
    with pytest.raises(SafetyLimitError, match="150 m limit"):
        search_geometry(search_camera("h20t-thermal"), get_target("person"), 151.0, 0.2)


def test_unknown_names_list_the_choices() -> None:
    with pytest.raises(UnknownNameError, match="creeping-line"):
        get_pattern("spiral")
    with pytest.raises(UnknownNameError, match="person"):
        get_target("dog")
    with pytest.raises(UnknownNameError, match="h20t-thermal"):
        search_camera("gopro")
    assert set(PATTERNS) == {"parallel", "creeping-line", "expanding-square", "sector"}

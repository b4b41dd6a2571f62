"""Search planning: area + pattern + drones + camera + target -> one mission per sector.

Pure apart from reading the optional DEM through the ground function given:
the area is projected to its UTM zone, the height and spacing come from
:func:`pipeline.search.optics.search_geometry`, the pattern generator lays out
one sector per drone, and each path becomes a :class:`~pipeline.core.mission.Mission`
(take-off, speed, waypoints at constant height above ground, RTL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from pyproj import CRS, Transformer
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for
from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.errors import GeoreferenceError, InputError, SafetyLimitError
from pipeline.flight.terrain import GroundFn, follow_terrain, path_agl_range
from pipeline.search.cameras import search_camera
from pipeline.search.config import SearchParams
from pipeline.search.layout import LayoutRequest, footprint_coverage, get_pattern
from pipeline.search.optics import JAPAN_MAX_AGL_M, SearchGeometry, get_target, search_geometry
from pipeline.search.patterns import Point, SearchPath
from pipeline.search.timing import Sortie, TimeModel, imbalance, split_sorties

#: Mission items before the first search waypoint (take-off, change speed); wire seq adds 1 for home.
ITEMS_BEFORE_WAYPOINTS = 2


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked for.

    Attributes:
        area: Search area, WGS84 (lon, lat).
        area_name: Display name of the area (user text; escaped wherever shown).
        pattern: Pattern registry name.
        drones: Number of drones.
        camera: Camera registry name or camera file.
        target: ``person`` or ``vehicle``.
        datum: Last known position ``(lat, lon)``; default the area centroid.
        launches: Launch points ``(lat, lon)``: none (the datum or area centroid), one shared, or one per
            drone (each sector gets the one that minimises the longest flight).
        speed_m_s: Search speed (None: the params default).
        radius_m: Datum patterns: radius to search (None: reach the whole area).
    """

    area: Polygon
    area_name: str
    pattern: str
    drones: int
    camera: str
    target: str
    datum: tuple[float, float] | None = None
    launches: tuple[tuple[float, float], ...] = ()
    speed_m_s: float | None = None
    radius_m: float | None = None


@dataclass(frozen=True)
class SectorPlan:
    """One drone's sector, path and mission."""

    sector_id: str
    name: str
    drone: str
    colour: str
    region: BaseGeometry  # projected
    path: SearchPath  # projected, search geometry before terrain densification
    waypoints: tuple[tuple[float, float, float], ...]  # (lat, lon, alt above launch m)
    launch: Point  # projected
    launch_ground_m: float | None
    mission: Mission
    time_s: float
    length_m: float
    sorties: tuple[Sortie, ...]
    coverage: float
    agl_range_m: tuple[float, float]


@dataclass(frozen=True)
class SearchPlan:
    """The whole search: geometry, sectors and figures."""

    request: PlanRequest
    crs: CRS
    area: Polygon  # projected
    datum: Point
    launches: tuple[Point, ...]
    geometry: SearchGeometry
    camera_kind: str
    sectors: tuple[SectorPlan, ...]
    coverage: float
    imbalance: float
    terrain: str
    endurance_s: float


def _validate(req: PlanRequest, params: SearchParams) -> list[str]:
    problems = []
    if not 1 <= req.drones <= len(params.colours):
        problems.append(f"--drones {req.drones} must be between 1 and {len(params.colours)}")
    if req.speed_m_s is not None and not 0.5 <= req.speed_m_s <= 20.0:
        problems.append(f"--speed {req.speed_m_s:g} m/s must be between 0.5 and 20")
    if req.radius_m is not None and req.radius_m <= 0:
        problems.append(f"--radius {req.radius_m:g} m must be positive")
    if not isinstance(req.area, Polygon) or not req.area.is_valid or req.area.is_empty:
        problems.append("the area must be one valid polygon (no self-intersections); fix it in QGIS")
    if len(req.launches) not in (0, 1, req.drones):
        problems.append(
            f"{len(req.launches)} --launch points for {req.drones} drones; give one shared or one per drone"
        )
    for label, point in (("--datum", req.datum), *(("--launch", p) for p in req.launches)):
        if point is not None and not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
            problems.append(f"{label} {point[0]:g},{point[1]:g} is not LAT,LON in degrees")
    return problems


def _to_utm(lat_lon: tuple[float, float], crs: CRS) -> Point:
    p = reproject_geometry(ShapelyPoint(lat_lon[1], lat_lon[0]), WGS84, crs)
    return (p.x, p.y)


def _waypoints(
    path: SearchPath, crs: CRS, height: float, ground: GroundFn | None, home_ground: float, params: SearchParams
) -> tuple[list[tuple[float, float, float]], list[int], tuple[float, float]]:
    """Projected path -> ``(lat, lon, alt above launch)`` waypoints, the waypoint index of each path vertex,
    and the (min, max) height above ground along the path.

    With a DEM the legs are densified where the ground departs from a straight
    line by more than the terrain tolerance, and each waypoint is set to
    ``height + ground - ground(launch)`` so the height above ground is kept.
    """
    points = list(path.points)
    if ground is None:
        xyz = [(x, y, height) for x, y in points]
        originals = list(range(len(points)))
        agl = (height, height)
    else:
        followed = follow_terrain(points, ground, params.terrain_tolerance_m, params.terrain_step_m)
        if any(math.isnan(g) for _, _, g, _ in followed):
            raise GeoreferenceError("the DEM does not cover the whole search path; use a DEM covering the area")
        xyz = [(x, y, height + g - home_ground) for x, y, g, _ in followed]
        originals = [i for i, (_, _, _, original) in enumerate(followed) if original]
        agl = path_agl_range([(x, y, z + home_ground) for x, y, z in xyz], ground, step_m=params.terrain_step_m / 2)
    to_wgs = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = to_wgs.transform(np.array([p[0] for p in xyz]), np.array([p[1] for p in xyz]))
    waypoints = [(float(la), float(lo), float(z)) for la, lo, (_, _, z) in zip(lat, lon, xyz, strict=True)]
    return waypoints, originals, agl


def _mission(waypoints: list[tuple[float, float, float]], home: tuple[float, float, float], height: float,
             speed: float) -> Mission:
    rel = int(Frame.GLOBAL_RELATIVE_ALT)
    items = [
        MissionItem(int(Cmd.NAV_TAKEOFF), rel, lat=home[0], lon=home[1], alt=round(min(height, waypoints[0][2]), 2)),
        MissionItem(int(Cmd.DO_CHANGE_SPEED), int(Frame.MISSION), params=(1.0, speed, -1.0, 0.0)),
        *[MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=la, lon=lo, alt=round(alt, 2)) for la, lo, alt in waypoints],
        MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION)),
    ]
    return Mission(items=tuple(items), home=home, cruise_speed_m_s=speed)


def plan_search(req: PlanRequest, params: SearchParams, ground_of: object = None) -> SearchPlan:
    """Plan the search.

    Args:
        req: The request.
        params: Stage settings.
        ground_of: ``None`` (flat ground, heights above the launch point) or a
            callable ``crs -> GroundFn`` (e.g. ``Dem.ground_fn``) giving ground elevation in metres.

    Raises:
        InputError: every problem with the request, at once.
        SafetyLimitError: a waypoint would be more than 150 m above ground.
    """
    problems = _validate(req, params)
    if problems:
        raise InputError("bad search request: " + "; ".join(problems))
    spec = get_pattern(req.pattern)
    camera = search_camera(req.camera)
    target = get_target(req.target)
    geometry = search_geometry(camera, target, params.max_height_agl_m, params.side_overlap)
    centroid = req.area.centroid
    crs = utm_crs_for(centroid.x, centroid.y)
    area = reproject_geometry(req.area, WGS84, crs)
    assert isinstance(area, Polygon)
    datum = _to_utm(req.datum, crs) if req.datum else (area.centroid.x, area.centroid.y)
    launches = tuple(_to_utm(p, crs) for p in req.launches) or (datum,)
    speed = req.speed_m_s or params.speed_m_s
    model = TimeModel(speed, params.turn_s, params.climb_m_s, params.battery_min * 60.0)
    layouts = spec.generate(
        LayoutRequest(area, datum, launches, geometry.spacing_m, geometry.swath_m, geometry.height_agl_m, req.drones,
                      req.radius_m, model)
    )
    ground: GroundFn | None = ground_of(crs) if callable(ground_of) else None
    sectors = []
    for layout in layouts:
        sid = f"s{layout.index + 1}"
        launch = layout.launch
        home_ground = 0.0
        if ground is not None:
            home_ground = float(ground(np.array([launch[0]]), np.array([launch[1]]))[0])
            if math.isnan(home_ground):
                raise GeoreferenceError(f"the DEM does not cover the launch point of sector {sid}; use a DEM covering"
                                        " the area and the launch points")
        home_ll = reproject_geometry(ShapelyPoint(*launch), crs, WGS84)
        home = (home_ll.y, home_ll.x, round(home_ground, 2))
        path, sorties = split_sorties(layout.path, launch, geometry.height_agl_m, model)
        waypoints, originals, agl = _waypoints(path, crs, geometry.height_agl_m, ground, home_ground, params)
        if agl[1] > JAPAN_MAX_AGL_M + 1e-6:
            raise SafetyLimitError(
                f"sector {sid}: the path reaches {agl[1]:.0f} m above ground, over the {JAPAN_MAX_AGL_M:g} m limit;"
                " lower search.max_height_agl_m or give a DEM with --dem so heights follow the terrain"
            )
        sorties = [
            replace(t, first_point=originals[t.first_point], last_point=originals[t.last_point]) for t in sorties
        ]
        sectors.append(
            SectorPlan(
                sector_id=sid,
                name=f"{req.area_name} {sid.upper()}",
                drone=f"drone-{layout.index + 1}",
                colour=params.colours[layout.index],
                region=layout.region,
                path=path,
                waypoints=tuple(waypoints),
                launch=launch,
                launch_ground_m=home_ground if ground is not None else None,
                mission=_mission(waypoints, home, geometry.height_agl_m, speed),
                time_s=sum(t.time_s for t in sorties),
                length_m=layout.path.length_m,
                sorties=tuple(sorties),
                coverage=footprint_coverage(layout.region, [layout.path], geometry.swath_m, geometry.footprint_along_m),
                agl_range_m=agl,
            )
        )
    region = area if spec.kind == "area" else unary_union([s.region for s in layouts])
    return SearchPlan(
        request=req,
        crs=crs,
        area=area,
        datum=datum,
        launches=launches,
        geometry=geometry,
        camera_kind=camera.kind,
        sectors=tuple(sectors),
        coverage=footprint_coverage(region, [s.path for s in sectors], geometry.swath_m, geometry.footprint_along_m),
        imbalance=imbalance([s.time_s for s in sectors]),
        terrain="dem" if ground is not None else "flat",
        endurance_s=model.endurance_s,
    )

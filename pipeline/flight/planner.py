"""The survey planner: boundary + camera + overlaps → mission, photos, sorties and issues.

Pure apart from its inputs (a :class:`~pipeline.flight.boundary.Boundary`, an
optional :class:`~pipeline.flight.terrain.Dem`); writing files is
:mod:`pipeline.flight.outputs`' job. Steps: CameraCalc (:mod:`camcalc`),
speed limit, fields ordered from home, auto grid angle per field
(:mod:`route`), lawnmower transects (:mod:`grid`), terrain following
(:mod:`terrain`), mission items, battery sorties (:mod:`battery`), checks
(:mod:`checks`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pyproj import CRS, Transformer
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, unary_union

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for
from pipeline.core.mission import Cmd, FencePolygon, Frame, Mission, MissionItem
from pipeline.errors import InputError
from pipeline.flight.angles import grid_angle_deg, qgc_angle_deg, qgc_lines
from pipeline.flight.battery import Battery, Sortie, split_sorties
from pipeline.flight.boundary import Area, Boundary
from pipeline.flight.camcalc import GridGeometry, grid_geometry, speed_limits_m_s
from pipeline.flight.cameras import Camera
from pipeline.flight.checks import CheckSettings, Issue, check_mission
from pipeline.flight.coverage import Photo, coverage_fraction, photos_from_mission, segment_photos
from pipeline.flight.detour import detour
from pipeline.flight.flight_time import CopterParams, flight_phases, shot_spacing_m
from pipeline.flight.grid import QgcLines, Segment, lawnmower
from pipeline.flight.route import Kinematics, best_angle, path_length_m
from pipeline.flight.terrain import Dem, GroundFn, follow_terrain, path_agl_range

ALTITUDE_FRAMES = {"amsl": int(Frame.GLOBAL), "terrain": int(Frame.GLOBAL_TERRAIN_ALT),
                   "relative": int(Frame.GLOBAL_RELATIVE_ALT)}


@dataclass(frozen=True)
class SurveyRequest:
    """What to plan.

    Attributes:
        camera: The camera.
        front_overlap: Overlap along the flight line (0-0.95).
        side_overlap: Overlap between lanes (0-0.95).
        altitude_m: Height above ground, m (or give ``gsd_cm``).
        gsd_cm: Wanted ground sample distance, cm/px (or give ``altitude_m``).
        orientation: Camera orientation, ``landscape`` (long side across track) or ``portrait``.
        angle_deg: Grid angle as QGroundControl's Survey: transect direction in degrees clockwise from true
            north (:mod:`~pipeline.flight.angles`); ``None`` chooses it per field.
        speed_m_s: Wanted ground speed; ``None`` flies as fast as allowed.
        home: ``(lat, lon)`` take-off point; ``None`` uses the field boundary point nearest its centre.
        max_speed_m_s: Vehicle's survey speed ceiling, m/s.
        exposure_s: Exposure time assumed for motion blur, s.
        max_blur_px: Largest motion blur during the exposure, pixels.
        turnaround_m: Run-in/run-out beyond each transect, m.
        terrain_tolerance_m: Largest ground departure from a straight leg before adding a waypoint, m.
        altitude_frame: ``auto`` (AMSL with a DEM, else relative), ``amsl``, ``terrain`` or ``relative``.
        no_fly_margin_m: Buffer kept around no-fly zones, m.
        kinematics: Speeds for the grid-angle choice (its ``speed_m_s`` is replaced by the planned speed).
        copter: ArduCopter parameters of the flight-time phases (:mod:`~pipeline.flight.flight_time`).
        battery: Endurance model for sorties.
        checks: Limits and date/time for the checks.
    """

    camera: Camera
    front_overlap: float = 0.75
    side_overlap: float = 0.70
    altitude_m: float | None = None
    gsd_cm: float | None = None
    orientation: str = "landscape"
    angle_deg: float | None = None
    speed_m_s: float | None = None
    home: tuple[float, float] | None = None
    max_speed_m_s: float = 10.0
    exposure_s: float = 1.0 / 500.0
    max_blur_px: float = 0.5
    turnaround_m: float = 5.0
    terrain_tolerance_m: float = 3.0
    altitude_frame: str = "auto"
    no_fly_margin_m: float = 5.0
    kinematics: Kinematics = field(default_factory=Kinematics)
    copter: CopterParams = field(default_factory=CopterParams)
    battery: Battery = field(default_factory=Battery)
    checks: CheckSettings = field(default_factory=CheckSettings)


@dataclass(frozen=True)
class SurveyPlan:
    """A planned survey: the full mission, one mission per sortie, photos and the summary."""

    mission: Mission
    sortie_missions: tuple[Mission, ...]
    sorties: tuple[Sortie, ...]
    photos: tuple[Photo, ...]
    crs: CRS
    route_xy: tuple[tuple[float, float], ...]
    areas_xy: tuple[BaseGeometry, ...]
    geometry: GridGeometry
    summary: dict[str, Any]
    issues: tuple[Issue, ...]


def _speed(req: SurveyRequest, geo: GridGeometry) -> tuple[float, dict[str, float], list[Issue]]:
    limits = speed_limits_m_s(geo, req.camera.min_trigger_interval_s, req.exposure_s, req.max_blur_px)
    limits["vehicle"] = req.max_speed_m_s
    allowed = min(limits.values())
    issues = []
    speed = allowed if req.speed_m_s is None else min(req.speed_m_s, allowed)
    if req.speed_m_s is not None and req.speed_m_s > allowed:
        reason = min(limits, key=lambda k: limits[k])
        issues.append(Issue("warning", "speed", f"speed {req.speed_m_s:.1f} m/s reduced to {allowed:.1f} m/s "
                            f"(limited by {reason.replace('_', ' ')})"))
    return speed, limits, issues


def _default_home(fields: list[BaseGeometry]) -> Point:
    union = unary_union(fields)
    return nearest_points(union.boundary, union.centroid)[0]


def _chunks(segments: list[Segment], spacing_m: float = 0.0) -> list[list[tuple[float, float]]]:
    """``[lead_in, start, end, lead_out]`` per transect, the camera stop moved to mid-way between two shots.

    ArduPilot fires a distance shot once the vehicle is ``d`` metres from the previous shot,
    checked at ``AP_Camera::update``'s rate, so shots land ``d_eff = d + v / (2·rate)`` apart on
    average (:func:`~pipeline.flight.flight_time.shot_spacing_m`). With the stop at
    ``(k + ½)·d_eff`` from the start (``k = floor(L/d_eff − ½)``: up to one ``d_eff`` before the
    lane end, never beyond it, so never into a hole or no-fly zone) the lane gets exactly
    ``1 + k`` photos however the shots drift, instead of a count that depends on a shot falling a
    few centimetres before or after the lane end. The last photo still lies within ``1.5·d_eff``
    of the lane end, inside its footprint for front overlaps of about 65 % and more (the
    coverage check reports any shortfall).
    """
    chunks = []
    for s in segments:
        end = s.end
        length = math.dist(s.start, s.end)
        k = math.floor(length / spacing_m - 0.5) if spacing_m > 0 else -1
        if k >= 0 and length > 1e-6:
            f = (k + 0.5) * spacing_m / length
            end = (s.start[0] + (s.end[0] - s.start[0]) * f, s.start[1] + (s.end[1] - s.start[1]) * f)
        chunks.append([s.lead_in, s.start, end, s.lead_out])
    return chunks


def build_mission(
    chunks: list[list[tuple[float, float]]], home_xy: tuple[float, float], crs: CRS, req: SurveyRequest,
    geo: GridGeometry, speed: float, ground: GroundFn | None, keep_out: BaseGeometry | None = None,
) -> tuple[Mission, list[tuple[float, float, float]]]:
    """Mission items for ``home → chunks → home`` and the 3-D (z AMSL or relative) nav points.

    Each chunk is ``[lead_in, start, end, lead_out]``: the camera triggers every
    ``trigger_distance`` from ``start`` to ``end`` (one photo at each). Legs that
    would cross ``keep_out`` go around it (:func:`~pipeline.flight.detour.detour`).
    """
    h = geo.altitude_m
    frame_name = req.altitude_frame if req.altitude_frame != "auto" else ("amsl" if ground else "relative")
    if frame_name not in ALTITUDE_FRAMES:
        raise InputError(f"altitude frame {frame_name!r} unknown; expected auto, {', '.join(ALTITUDE_FRAMES)}")
    frame = ALTITUDE_FRAMES[frame_name]
    inv = Transformer.from_crs(crs, WGS84, always_xy=True)
    path: list[tuple[float, float]] = [home_xy]
    roles: list[str] = ["home"]
    for lead_in, start, end, lead_out in chunks:
        for p, role, keep in ((lead_in, "in", math.dist(lead_in, start) > 1e-6), (start, "on", True),
                              (end, "off", True), (lead_out, "out", math.dist(lead_out, end) > 1e-6)):
            if keep:
                path.append(p)
                roles.append(role)
    path.append(home_xy)
    roles.append("home")
    if keep_out is not None:
        path, roles = _avoid(path, roles, keep_out)
    if ground is not None:
        dense = follow_terrain(path, ground, req.terrain_tolerance_m)
    else:
        dense = [(x, y, 0.0, True) for x, y in path]
    home_ground = dense[0][2] if not math.isnan(dense[0][2]) else 0.0
    items = [MissionItem(int(Cmd.NAV_TAKEOFF), int(Frame.GLOBAL_RELATIVE_ALT), lat=0.0, lon=0.0, alt=h),
             MissionItem(int(Cmd.DO_CHANGE_SPEED), int(Frame.MISSION), (1.0, speed, -1.0, 0.0))]
    lon0, lat0 = inv.transform(*home_xy)
    items[0] = replace(items[0], lat=lat0, lon=lon0)
    points3d: list[tuple[float, float, float]] = []
    k = -1
    for idx, (x, y, g, original) in enumerate(dense):
        k += int(original)
        g = g if not math.isnan(g) else home_ground
        points3d.append((x, y, g + h if ground is not None else h))
        if idx in (0, len(dense) - 1):
            continue
        alt = {"amsl": g + h, "terrain": h, "relative": g + h - home_ground}[frame_name] if ground else h
        lon, lat = inv.transform(x, y)
        items.append(MissionItem(int(Cmd.NAV_WAYPOINT), frame, lat=lat, lon=lon, alt=round(alt, 2)))
        if original and roles[k] == "on":
            items.append(MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION),
                                     (geo.trigger_distance_m, 0.0, 1.0, 0.0)))
        elif original and roles[k] == "off":
            # param3 = 0: no lane-end shot. ArduPilot would take it a few tenths of a metre after the last
            # distance shot whenever the lane is close to a multiple of the trigger distance (a double);
            # without it the lane gets 1 + floor(L / d) photos, QGC Survey's ceil(L / d) for every L/d not whole.
            items.append(MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (0.0, 0.0, 0.0, 0.0)))
    items.append(MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION)))
    home_amsl = home_ground if ground is not None else 0.0
    points3d[0] = (points3d[0][0], points3d[0][1], home_amsl)
    points3d[-1] = (points3d[-1][0], points3d[-1][1], home_amsl)
    mission = Mission(tuple(items), home=(lat0, lon0, home_amsl), cruise_speed_m_s=speed)
    return mission, points3d


def _field_segments(area: BaseGeometry, geo: GridGeometry, angle: float, here: tuple[float, float],
                    turnaround_m: float, keep_out: BaseGeometry | None, lines: QgcLines | None = None
                    ) -> list[Segment]:
    """Transects that also stop at holes and exclusions when the photos still cover ≥ 99.7 % of the field.

    Holes narrower than a lane band would otherwise be crossed; with the usual
    side overlaps (≥ 50 %) the neighbouring lanes' footprints cover the strip
    beside such a hole, which the coverage test here verifies before choosing
    the strict transects.
    """
    band = lawnmower(area, geo.lane_spacing_m, angle, here, turnaround_m, keep_out, lines)
    parts = getattr(area, "geoms", [area])
    holes = unary_union([Polygon(p.exterior) for p in parts]).difference(area)
    if holes.is_empty or holes.area < 1.0:
        return band
    strict_out = holes if keep_out is None else unary_union([holes, keep_out])
    strict = lawnmower(area, geo.lane_spacing_m, angle, here, turnaround_m, strict_out, lines)
    photos = segment_photos([(s.start, s.end) for s in strict], geo.trigger_distance_m)
    if coverage_fraction(area, photos, geo.footprint_side_m, geo.footprint_front_m) >= 0.997:
        return strict
    return band


def _avoid(path: list[tuple[float, float]], roles: list[str], keep_out: BaseGeometry
           ) -> tuple[list[tuple[float, float]], list[str]]:
    out, out_roles = [path[0]], [roles[0]]
    for i in range(1, len(path)):
        via = detour(path[i - 1], path[i], keep_out)[1:-1]
        out += [*via, path[i]]
        out_roles += ["transit"] * len(via) + [roles[i]]
    return out, out_roles


def plan_survey(boundary: Boundary, req: SurveyRequest, dem: Dem | None = None, no_fly: tuple[Area, ...] = ()
                ) -> SurveyPlan:
    """Plan the survey of every field in ``boundary`` (see the module doc).

    Raises:
        InputError: bad camera settings or overlaps, or nothing left to survey.
    """
    geo = grid_geometry(req.camera, req.front_overlap, req.side_overlap, req.altitude_m, req.gsd_cm, req.orientation)
    speed, limits, issues = _speed(req, geo)
    kin = replace(req.kinematics, speed_m_s=speed)
    fields_ll = [a.polygon for a in boundary.fields]
    home_ll = Point(req.home[1], req.home[0]) if req.home else _default_home(fields_ll)
    crs = utm_crs_for(home_ll.x, home_ll.y)
    home_pt = reproject_geometry(home_ll, WGS84, crs)
    home_xy = (float(home_pt.x), float(home_pt.y))
    excl = unary_union([reproject_geometry(a.polygon, WGS84, crs) for a in boundary.exclusions])
    nofly = unary_union([reproject_geometry(a.polygon, WGS84, crs).buffer(req.no_fly_margin_m) for a in no_fly])
    keep_out = None if nofly.is_empty else nofly
    areas = []
    lines: dict[int, QgcLines] = {}
    for a in boundary.fields:
        area = reproject_geometry(a.polygon, WGS84, crs).difference(excl).difference(nofly)
        if not area.is_empty and area.area > 1.0:
            areas.append((a.name, area))
            lines[id(area)] = qgc_lines(a.polygon, crs)
    if not areas:
        raise InputError("nothing left to survey: every field lies inside exclusion or no-fly zones")
    ordered, here, angles, segments = [], home_xy, {}, []
    todo = list(areas)
    while todo:
        name, area = min(todo, key=lambda na: na[1].distance(Point(here)))
        todo.remove((name, area))
        centre = area.centroid
        if req.angle_deg is not None:
            lon_c, lat_c = Transformer.from_crs(crs, WGS84, always_xy=True).transform(centre.x, centre.y)
            angle = grid_angle_deg(req.angle_deg, crs, lon_c, lat_c)
        else:
            def route_time(points: list[tuple[float, float]], origin: tuple[float, float] = here) -> float:
                rel = [(x - origin[0], y - origin[1], geo.altitude_m) for x, y in points]
                return flight_phases(rel, geo.altitude_m, speed, req.copter)["total"]

            angle = best_angle(area, geo.lane_spacing_m, kin, here, req.turnaround_m, keep_out,
                               qgc_lines=lines[id(area)], route_time_s=route_time)[0]
        segs = _field_segments(area, geo, angle, here, req.turnaround_m, keep_out, lines[id(area)])
        angles[name] = round(qgc_angle_deg(angle, crs, centre.x, centre.y), 2)
        ordered.append(area)
        segments += segs
        if segs:
            here = segs[-1].lead_out
    chunks = _chunks(segments, shot_spacing_m(geo.trigger_distance_m, speed, req.copter))
    ground = dem.ground_fn(crs) if dem is not None else None
    mission, pts3d = build_mission(chunks, home_xy, crs, req, geo, speed, ground, keep_out)
    home_z = pts3d[0][2]
    route_rel = [(x - pts3d[0][0], y - pts3d[0][1], z - home_z) for x, y, z in pts3d[1:-1]]
    phases = flight_phases(route_rel, geo.altitude_m, speed, req.copter)
    flight_time = phases["total"]
    checks = replace(req.checks, flight_time_s=flight_time)
    issues += check_mission(mission, checks, dem, no_fly)
    sorties: list[Sortie] = []
    sortie_missions: list[Mission] = []
    home3 = pts3d[0]
    z_of = (lambda x, y: pts3d[0][2] + geo.altitude_m) if ground is None else None
    chunks3 = [[(x, y, (z_of(x, y) if z_of else _z(ground, x, y) + geo.altitude_m)) for x, y in c] for c in chunks]
    try:
        sorties = split_sorties(home3, chunks3, req.battery, kin, req.copter)
    except ValueError as exc:
        issues.append(Issue("error", "battery", str(exc)))
    if len(sorties) > 1:
        sortie_missions = [build_mission(chunks[s.first_chunk:s.last_chunk + 1], home_xy, crs, req, geo, speed,
                                         ground, keep_out)[0] for s in sorties]
    if no_fly:  # the zones also travel with the plan as exclusion geofences
        fences = tuple(FencePolygon(tuple((lat, lon) for lon, lat in list(a.polygon.exterior.coords)[:-1]), False)
                       for a in no_fly)
        mission = replace(mission, fence_polygons=fences)
        sortie_missions = [replace(m, fence_polygons=fences) for m in sortie_missions]
    photos = photos_from_mission(mission, crs)
    survey_area = unary_union(ordered)
    cover = coverage_fraction(survey_area, photos, geo.footprint_side_m, geo.footprint_front_m)
    if cover < 0.995:
        issues.append(Issue("warning", "coverage", f"photo footprints cover {cover:.1%} of the fields (< 99.5 %)"))
    if ground is not None:
        agl_lo, agl_hi = path_agl_range(pts3d[1:-1], ground)
    else:
        agl_lo = agl_hi = geo.altitude_m
    inv = Transformer.from_crs(crs, WGS84, always_xy=True)
    summary = {
        "camera": req.camera.name,
        "camera_orientation": geo.orientation,
        "altitude_agl_m": round(geo.altitude_m, 2),
        "altitude_frame": req.altitude_frame if req.altitude_frame != "auto" else ("amsl" if dem else "relative"),
        "gsd_cm": round(geo.gsd_cm, 3),
        "footprint_side_m": round(geo.footprint_side_m, 2),
        "footprint_front_m": round(geo.footprint_front_m, 2),
        "front_overlap": req.front_overlap,
        "side_overlap": req.side_overlap,
        "lane_spacing_m": round(geo.lane_spacing_m, 2),
        "trigger_distance_m": round(geo.trigger_distance_m, 2),
        "speed_m_s": round(speed, 2),
        "speed_limits_m_s": {k: round(v, 2) for k, v in limits.items()},
        "exposure_s_assumed": req.exposure_s,
        "grid_angle_deg_qgc": angles,  # QGC Survey angle: transects, degrees clockwise from true north
        "turnaround_m": req.turnaround_m,
        "photo_count": len(photos),
        "coverage_fraction": round(cover, 5),
        "flight_distance_m": round(path_length_m(pts3d), 1),
        "flight_time_s": round(flight_time, 1),
        "flight_phases_s": {k: round(v, 1) for k, v in phases.items() if k != "total"},
        "copter_params": asdict(req.copter),
        "agl_min_m": round(agl_lo, 1),
        "agl_max_m": round(agl_hi, 1),
        "dem": None if dem is None else {"source": dem.source, "elevation_unit": dem.unit},
        "home": {"lat": mission.home[0], "lon": mission.home[1], "amsl_m": mission.home[2]} if mission.home else None,
        "battery": {"endurance_s": req.battery.endurance_s, "reserve_fraction": req.battery.reserve_fraction},
        "sorties": [_sortie_dict(n, s, inv) for n, s in enumerate(sorties, start=1)],
        "total_time_with_battery_swaps_s": round(sum(s.flight_time_s for s in sorties)
                                                 + req.battery.swap_s * max(len(sorties) - 1, 0), 1),
        "issues": [i.as_dict() for i in issues],
    }
    return SurveyPlan(mission, tuple(sortie_missions), tuple(sorties), tuple(photos), crs,
                      tuple((p[0], p[1]) for p in pts3d), tuple(ordered), geo, summary, tuple(issues))


def _z(ground: GroundFn | None, x: float, y: float) -> float:
    import numpy as np

    if ground is None:
        return 0.0
    z = float(ground(np.array([x]), np.array([y]))[0])
    return 0.0 if math.isnan(z) else z


def _sortie_dict(n: int, s: Sortie, inv: Transformer) -> dict[str, Any]:
    lon, lat = inv.transform(*s.resume_xy)
    return {"sortie": n, "first_transect": s.first_chunk + 1, "last_transect": s.last_chunk + 1,
            "flight_time_s": round(s.flight_time_s, 1), "resume_at": {"lat": lat, "lon": lon}}

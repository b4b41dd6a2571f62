"""Mission checks that report every problem at once.

Each check is a pure function ``(CheckContext) -> list[Issue]`` listed in
:data:`CHECKS`; :func:`check_mission` runs them all. ``error`` issues are
hard limits (the CLI exits non-zero and writes nothing); ``warning`` and
``info`` issues are reported in the summary.

Height above ground per frame: terrain frame → ``alt``; AMSL → ``alt − ground``;
relative → ``alt + home_amsl − ground`` (``home_amsl`` = plan's home altitude,
else the DEM at home). Without a DEM the ground is taken as flat at home.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Point, Polygon

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for
from pipeline.core.mission import Cmd, Frame, Mission
from pipeline.flight.boundary import Area
from pipeline.flight.solar import JST, SUNRISE_ELEVATION_DEG, sun_window
from pipeline.flight.terrain import Dem, GroundFn

#: Japan's Civil Aeronautics Act: flying 150 m or more above ground needs permission.
JAPAN_MAX_AGL_M = 150.0
_AMSL = {int(Frame.GLOBAL), int(Frame.GLOBAL_INT)}
_TERRAIN = {int(Frame.GLOBAL_TERRAIN_ALT), int(Frame.GLOBAL_TERRAIN_ALT_INT)}
_NO_POSITION = {int(Cmd.NAV_RETURN_TO_LAUNCH), int(Cmd.NAV_LAND)}


@dataclass(frozen=True)
class Issue:
    """One problem found in a plan.

    Attributes:
        severity: ``"error"`` (hard limit), ``"warning"`` or ``"info"``.
        code: Short stable identifier (``agl-limit``, ``no-fly``...).
        message: What is wrong, where, and how to fix it.
    """

    severity: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready mapping."""
        return asdict(self)


@dataclass(frozen=True)
class CheckSettings:
    """Limits and the flight date/time for :func:`check_mission`.

    Attributes:
        max_agl_m: Legal height limit above ground, m.
        max_distance_m: Visual-line-of-sight radius from home, m.
        distance_is_hard: Whether exceeding ``max_distance_m`` is an error (else a warning).
        min_sun_elevation_deg: Lowest sun elevation for multispectral imaging, degrees.
        flight_date: Local date of the flight, or ``None`` (no sun checks).
        start_time: Local take-off time, or ``None``.
        flight_time_s: Planned flight time (for the time-window checks), s.
        tz: Local time zone; ``None`` uses the zone of the home longitude
            (``UTC + round(lon/15)`` hours: JST for Japan).
    """

    max_agl_m: float = JAPAN_MAX_AGL_M
    max_distance_m: float = 500.0
    distance_is_hard: bool = False
    min_sun_elevation_deg: float = 30.0
    flight_date: date | None = None
    start_time: time | None = None
    flight_time_s: float = 0.0
    tz: timezone | None = None


@dataclass(frozen=True)
class CheckContext:
    """What the checks look at: the mission, its projected nav points and optional terrain."""

    mission: Mission
    settings: CheckSettings
    crs: CRS
    nav: tuple[tuple[int, float, float, float, int], ...]  # (item index, x, y, alt, frame)
    home_xy: tuple[float, float] | None
    ground: GroundFn | None
    no_fly: tuple[Area, ...]


def _ground_at(ctx: CheckContext, x: float, y: float) -> float:
    if ctx.ground is None:
        return math.nan
    return float(ctx.ground(np.array([x]), np.array([y]))[0])


def _home_amsl(ctx: CheckContext) -> float:
    if ctx.mission.home is not None and ctx.mission.home[2] != 0.0:
        return ctx.mission.home[2]
    if ctx.home_xy is not None and ctx.ground is not None:
        return _ground_at(ctx, *ctx.home_xy)
    return 0.0


def amsl_of(ctx: CheckContext, x: float, y: float, alt: float, frame: int) -> float:
    """Altitude above mean sea level of a nav point (NaN when terrain is needed but unknown)."""
    if frame in _AMSL:
        return alt
    if frame in _TERRAIN:
        return alt + _ground_at(ctx, x, y) if ctx.ground is not None else math.nan
    return alt + _home_amsl(ctx)


def agl_of(ctx: CheckContext, x: float, y: float, alt: float, frame: int) -> float:
    """Height above ground of a nav point, m (see the module doc)."""
    if frame in _TERRAIN:
        return alt
    if ctx.ground is not None:
        return amsl_of(ctx, x, y, alt, frame) - _ground_at(ctx, x, y)
    if frame in _AMSL:
        known = ctx.mission.home is not None and ctx.mission.home[2] != 0.0
        return alt - _home_amsl(ctx) if known else math.nan
    return alt


def _items(indices: list[int]) -> str:
    shown = ", ".join(str(i + 1) for i in indices[:8])
    return shown + (f" and {len(indices) - 8} more" if len(indices) > 8 else "")


def check_agl(ctx: CheckContext) -> list[Issue]:
    """Every nav point (and, with a DEM, every point along the legs) below the legal height."""
    limit = ctx.settings.max_agl_m
    heights = [(i, agl_of(ctx, x, y, a, f)) for i, x, y, a, f in ctx.nav]
    over = [(i, h) for i, h in heights if h > limit + 1e-6]
    unknown = [i for i, h in heights if math.isnan(h)]
    issues = []
    if ctx.ground is None and any(f not in _TERRAIN for *_, f in ctx.nav):
        issues.append(Issue("info", "agl-flat", "no DEM: heights above ground assume flat ground at the home "
                            "altitude; pass --dem to check them over the real terrain"))
    if unknown:
        issues.append(Issue("warning", "agl-unknown", f"height above ground of item {_items(unknown)} is unknown "
                            "(absolute altitude without a DEM or home altitude); pass --dem to check it"))
    if over:
        worst = max(h for _, h in over)
        issues.append(Issue("error", "agl-limit", (
            f"{len(over)} waypoint(s) (item {_items([i for i, _ in over])}) above the {limit:.0f} m height limit "
            f"above ground (Japan Civil Aeronautics Act; highest {worst:.1f} m); lower the altitude or GSD")))
    if ctx.ground is not None and len(ctx.nav) > 1:
        pts = [(x, y, amsl_of(ctx, x, y, a, f)) for _, x, y, a, f in ctx.nav]
        from pipeline.flight.terrain import path_agl_range

        lo, hi = path_agl_range([p for p in pts if not math.isnan(p[2])], ctx.ground)
        if hi > limit + 1e-6 and not over:
            issues.append(Issue("error", "agl-limit", f"the path between waypoints rises to {hi:.1f} m above "
                                f"ground, over the {limit:.0f} m limit; add terrain-following waypoints (--dem)"))
        if lo < 10.0:
            issues.append(Issue("error", "terrain-clearance", f"the path comes within {lo:.1f} m of the ground; "
                                "raise the altitude or plan with --dem to follow the terrain"))
    return issues


def check_dem_coverage(ctx: CheckContext) -> list[Issue]:
    """With a DEM, every nav point must lie on it."""
    if ctx.ground is None:
        return []
    missing = [i for i, x, y, _, _ in ctx.nav if math.isnan(_ground_at(ctx, x, y))]
    if not missing:
        return []
    return [Issue("error", "dem-coverage", f"the DEM has no elevation under item {_items(missing)}; "
                  "use a DEM that covers the fields and home")]


def _legs(ctx: CheckContext) -> list[tuple[int, LineString]]:
    pts = [(i, x, y) for i, x, y, _, _ in ctx.nav]
    if ctx.home_xy is not None:
        pts = [(-1, *ctx.home_xy), *pts, (len(ctx.mission.items), *ctx.home_xy)]
    return [(b[0], LineString([a[1:], b[1:]])) for a, b in itertools.pairwise(pts) if a[1:] != b[1:]]


def check_no_fly(ctx: CheckContext) -> list[Issue]:
    """No leg may enter a no-fly polygon or a geofence exclusion; waypoints stay in inclusion fences."""
    issues = []
    zones = [(a.name, reproject_geometry(a.polygon, WGS84, ctx.crs)) for a in ctx.no_fly]
    for n, fp in enumerate(ctx.mission.fence_polygons):
        poly = reproject_geometry(Polygon([(lon, lat) for lat, lon in fp.vertices]), WGS84, ctx.crs)
        if fp.inclusion:
            inside = poly.buffer(0.5)
            outside = [i for i, x, y, _, _ in ctx.nav if not inside.contains(Point(x, y))]
            if outside:
                issues.append(Issue("error", "geofence", f"item {_items(outside)} outside inclusion fence {n + 1}"))
        else:
            zones.append((f"geofence exclusion {n + 1}", poly))
    fwd = Transformer.from_crs(WGS84, ctx.crs, always_xy=True)
    for n, fc in enumerate(ctx.mission.fence_circles):
        cx, cy = fwd.transform(fc.lon, fc.lat)
        disc = Point(cx, cy).buffer(fc.radius_m, 64)
        if fc.inclusion:
            outside = [i for i, x, y, _, _ in ctx.nav if not disc.contains(Point(x, y))]
            if outside:
                issues.append(Issue("error", "geofence", f"item {_items(outside)} outside inclusion circle {n + 1}"))
        else:
            zones.append((f"geofence exclusion circle {n + 1}", disc))
    legs = _legs(ctx)
    for name, zone in zones:
        hits = [i for i, leg in legs if leg.intersects(zone)]
        if hits:
            where = [("home" if i >= len(ctx.mission.items) else f"item {i + 1}") for i in hits[:8]]
            issues.append(Issue("error", "no-fly", f"the path enters no-fly zone {name!r} on the leg(s) to "
                                f"{', '.join(where)}; move the field boundary or the home point away from it"))
    return issues


def check_distance(ctx: CheckContext) -> list[Issue]:
    """Visual line of sight: every point within ``max_distance_m`` of home."""
    if ctx.home_xy is None or not ctx.nav:
        return []
    far = max((math.dist(ctx.home_xy, (x, y)), i) for i, x, y, _, _ in ctx.nav)
    if far[0] <= ctx.settings.max_distance_m:
        return []
    sev = "error" if ctx.settings.distance_is_hard else "warning"
    return [Issue(sev, "vlos-distance", f"item {far[1] + 1} is {far[0]:.0f} m from home, beyond the "
                  f"{ctx.settings.max_distance_m:.0f} m visual-line-of-sight limit; move home or split the survey")]


def check_sun(ctx: CheckContext) -> list[Issue]:
    """Daylight (a legal requirement) and the sun-elevation imaging window of the flight date."""
    s = ctx.settings
    if s.flight_date is None:
        return [Issue("info", "sun", "no --date given: daylight and sun elevation not checked")]
    lon, lat = _home_lonlat(ctx)
    tz = s.tz or local_zone(lon)
    day = sun_window(lat, lon, s.flight_date, SUNRISE_ELEVATION_DEG, tz)
    img = sun_window(lat, lon, s.flight_date, s.min_sun_elevation_deg, tz)
    issues = []
    if img.start is None or img.end is None:
        issues.append(Issue("warning", "imaging-window", f"on {s.flight_date} the sun never reaches "
                            f"{s.min_sun_elevation_deg:.0f}° (max {img.max_elevation_deg:.1f}°); pick another date"))
    else:
        issues.append(Issue("info", "imaging-window", f"on {s.flight_date} fly between {img.start:%H:%M} and "
                            f"{img.end:%H:%M} {tz.tzname(None)} (sun ≥ {s.min_sun_elevation_deg:.0f}°)"))
        if s.flight_time_s > (img.end - img.start).total_seconds():
            issues.append(Issue("warning", "imaging-window", f"the survey needs {s.flight_time_s / 60:.0f} min, "
                                "longer than the imaging window; split it over several days"))
    if s.start_time is not None:
        t0 = datetime.combine(s.flight_date, s.start_time, tzinfo=tz)
        t1 = t0 + timedelta(seconds=s.flight_time_s)
        if not day.contains(t0, t1):
            issues.append(Issue("error", "daylight", f"the flight {t0:%H:%M}-{t1:%H:%M} is not in daylight "
                                f"({day.start and f'{day.start:%H:%M}'}-{day.end and f'{day.end:%H:%M}'}); "
                                "night flights need permission"))
        elif not img.contains(t0, t1):
            issues.append(Issue("warning", "imaging-window", f"the flight {t0:%H:%M}-{t1:%H:%M} is outside the "
                                f"imaging window; the sun is below {s.min_sun_elevation_deg:.0f}° part of the time"))
    return issues


def local_zone(lon: float) -> timezone:
    """JST near Japan, else the nautical zone ``UTC + round(lon/15)`` hours."""
    hours = round(lon / 15.0)
    return JST if hours == 9 else timezone(timedelta(hours=hours))


def _home_lonlat(ctx: CheckContext) -> tuple[float, float]:
    if ctx.mission.home is not None:
        return ctx.mission.home[1], ctx.mission.home[0]
    inv = Transformer.from_crs(ctx.crs, WGS84, always_xy=True)
    _, x, y, _, _ = ctx.nav[0]
    lon, lat = inv.transform(x, y)
    return float(lon), float(lat)


#: Every check, run in this order.
CHECKS: tuple[Callable[[CheckContext], list[Issue]], ...] = (
    check_agl, check_dem_coverage, check_no_fly, check_distance, check_sun,
)


def build_context(mission: Mission, settings: CheckSettings, dem: Dem | None = None,
                  no_fly: tuple[Area, ...] = ()) -> CheckContext:
    """Project the mission's nav points to a local UTM CRS and prepare terrain."""
    positioned = [(i, it) for i, it in enumerate(mission.items)
                  if it.is_nav and it.command not in _NO_POSITION and (it.lat != 0.0 or it.lon != 0.0)]
    ref = mission.home or ((positioned[0][1].lat, positioned[0][1].lon, 0.0) if positioned else (0.0, 0.0, 0.0))
    crs = utm_crs_for(ref[1], ref[0])
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    nav = tuple((i, *fwd.transform(it.lon, it.lat), it.alt, int(it.frame)) for i, it in positioned)
    home_xy = fwd.transform(mission.home[1], mission.home[0]) if mission.home else None
    ground = dem.ground_fn(crs) if dem is not None else None
    return CheckContext(mission, settings, crs, nav, home_xy, ground, no_fly)


def check_mission(mission: Mission, settings: CheckSettings | None = None, dem: Dem | None = None,
                  no_fly: tuple[Area, ...] = ()) -> list[Issue]:
    """Run every check in :data:`CHECKS`; return all issues (errors first)."""
    ctx = build_context(mission, settings or CheckSettings(), dem, no_fly)
    if not ctx.nav:
        return [Issue("error", "empty", "the mission has no positioned waypoints")]
    issues = [issue for check in CHECKS for issue in check(ctx)]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(issues, key=lambda i: order.get(i.severity, 3))


def has_errors(issues: list[Issue]) -> bool:
    """True when any issue is a hard error."""
    return any(i.severity == "error" for i in issues)

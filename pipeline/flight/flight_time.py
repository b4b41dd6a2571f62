"""Flight time from lift-off to touchdown, phase by phase, as ArduCopter flies an AUTO survey ending in RTL.

Phases and formulas (ArduCopter 4.x; parameter names as on the vehicle, defaults in
:class:`CopterParams`, all read from the vehicle with PARAM_REQUEST_READ in the SITL tests):

* ``takeoff``: vertical climb at ``WPNAV_SPEED_UP`` with vertical acceleration
  ``WPNAV_ACCEL_Z``: ``t = h / v_up + v_up / a_z``.
* ``survey``: the waypoint path at the planned speed ``v`` (DO_CHANGE_SPEED). Each leg
  takes ``max(L / v, |Δz| / v_z)``. Starting from the hover after take-off and stopping
  before RTL each cost ``v / (2·a) + a / (2·j)`` (S-curve with ``WPNAV_ACCEL`` = a and
  ``WPNAV_JERK`` = j). ArduCopter blends corners without stopping; a corner that turns the
  track by θ (> 15°) changes the velocity by ``Δv = 2·v·sin(θ/2)`` and costs
  ``Δv / a + a / (2·j)`` seconds (fitted on ArduCopter SITL, 90° lane corners: 5.0 s
  measured, 5.0 s modelled at 6.7 m/s).
* ``rtl_climb``: up to ``RTL_ALT`` at ``v_up`` when the last waypoint is lower.
* ``rtl_return``: home at ``RTL_SPEED`` (0: ``WPNAV_SPEED``), from stop to stop:
  ``L / v_rtl + v_rtl / a + a / j``.
* ``rtl_loiter``: ``RTL_LOIT_TIME`` hovering above home.
* ``land``: descent at ``LAND_SPEED_HIGH`` (0: ``WPNAV_SPEED_DN``) down to
  ``LAND_ALT_LOW``, then ``LAND_SPEED``: ``t = (h − h_low) / v_high + v_high / a_z + h_low / v_land``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

TURN_THRESHOLD_DEG = 15.0
#: ArduPilot parameter name -> (attribute of :class:`CopterParams`, factor from ArduPilot's unit to SI).
_ARDUPILOT_NAMES: dict[str, tuple[str, float]] = {
    "WPNAV_SPEED": ("wpnav_speed_m_s", 0.01), "WPNAV_SPEED_UP": ("wpnav_speed_up_m_s", 0.01),
    "WPNAV_SPEED_DN": ("wpnav_speed_dn_m_s", 0.01), "WPNAV_ACCEL": ("wpnav_accel_m_s2", 0.01),
    "WPNAV_ACCEL_Z": ("wpnav_accel_z_m_s2", 0.01), "WPNAV_JERK": ("wpnav_jerk_m_s3", 1.0),
    "LAND_SPEED": ("land_speed_m_s", 0.01), "LAND_SPEED_HIGH": ("land_speed_high_m_s", 0.01),
    "LAND_ALT_LOW": ("land_alt_low_m", 0.01), "RTL_ALT": ("rtl_alt_m", 0.01),
    "RTL_LOIT_TIME": ("rtl_loit_time_s", 0.001), "RTL_SPEED": ("rtl_speed_m_s", 0.01),
}
#: The ArduPilot parameters the flight-time model reads.
COPTER_PARAM_NAMES = tuple(_ARDUPILOT_NAMES)


@dataclass(frozen=True)
class CopterParams:
    """ArduCopter parameters that set the flight time, in SI units (ArduCopter 4.x defaults).

    Attributes:
        wpnav_speed_m_s: ``WPNAV_SPEED`` (1000 cm/s), horizontal speed in AUTO and RTL.
        wpnav_speed_up_m_s: ``WPNAV_SPEED_UP`` (250 cm/s), climb rate.
        wpnav_speed_dn_m_s: ``WPNAV_SPEED_DN`` (150 cm/s), descent rate.
        wpnav_accel_m_s2: ``WPNAV_ACCEL`` (250 cm/s²), horizontal acceleration.
        wpnav_accel_z_m_s2: ``WPNAV_ACCEL_Z`` (100 cm/s²), vertical acceleration.
        wpnav_jerk_m_s3: ``WPNAV_JERK`` (1 m/s³), horizontal jerk of the S-curves.
        land_speed_m_s: ``LAND_SPEED`` (50 cm/s), final descent rate.
        land_speed_high_m_s: ``LAND_SPEED_HIGH`` (0 = use ``WPNAV_SPEED_DN``).
        land_alt_low_m: ``LAND_ALT_LOW`` (1000 cm), height where the final descent starts.
        rtl_alt_m: ``RTL_ALT`` (1500 cm), lowest return altitude.
        rtl_loit_time_s: ``RTL_LOIT_TIME`` (5000 ms), hover above home before landing.
        rtl_speed_m_s: ``RTL_SPEED`` (0 = use ``WPNAV_SPEED``).
        camera_update_hz: Rate of ``AP_Camera::update`` in ArduCopter's scheduler (50 Hz), which checks
            the distance since the last shot.
    """

    wpnav_speed_m_s: float = 10.0
    wpnav_speed_up_m_s: float = 2.5
    wpnav_speed_dn_m_s: float = 1.5
    wpnav_accel_m_s2: float = 2.5
    wpnav_accel_z_m_s2: float = 1.0
    wpnav_jerk_m_s3: float = 1.0
    land_speed_m_s: float = 0.5
    land_speed_high_m_s: float = 0.0
    land_alt_low_m: float = 10.0
    rtl_alt_m: float = 15.0
    rtl_loit_time_s: float = 5.0
    rtl_speed_m_s: float = 0.0
    camera_update_hz: float = 50.0

    @classmethod
    def from_ardupilot(cls, values: Mapping[str, float]) -> CopterParams:
        """From raw ArduPilot parameter values (cm, cm/s, cm/s², ms; names as on the vehicle); missing = default."""
        kwargs = asdict(cls())
        for name, value in values.items():
            if name in _ARDUPILOT_NAMES:
                attr, factor = _ARDUPILOT_NAMES[name]
                kwargs[attr] = float(value) * factor
        return cls(**kwargs)

    def overridden(self, overrides: Mapping[str, float]) -> CopterParams:
        """A copy with some attributes replaced (names as the attributes, SI units)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            from pipeline.errors import InputError

            raise InputError(f"unknown ArduCopter timing parameter(s) {', '.join(unknown)}; expected some of "
                             f"{', '.join(sorted(known))}")
        return CopterParams(**{**asdict(self), **{k: float(v) for k, v in overrides.items()}})


def shot_spacing_m(trigger_distance_m: float, speed_m_s: float, p: CopterParams | None = None) -> float:
    """Mean distance between ArduPilot's distance-triggered shots: ``d + v / (2·camera_update_hz)``.

    ``AP_Camera_Backend::update`` fires once the vehicle is at least ``d`` from the previous shot's
    position and is run ``camera_update_hz`` times a second, so each shot falls on average half an
    update's travel beyond ``d`` (and the next one counts from there).
    """
    p = p or CopterParams()
    return trigger_distance_m + speed_m_s / (2.0 * p.camera_update_hz)


def _turn_deg(a: Sequence[float], b: Sequence[float], c: Sequence[float]) -> float:
    h1 = math.atan2(b[1] - a[1], b[0] - a[0])
    h2 = math.atan2(c[1] - b[1], c[0] - b[0])
    d = abs(h2 - h1) % (2 * math.pi)
    return math.degrees(min(d, 2 * math.pi - d))


def corner_s(speed: float, turn_deg: float, p: CopterParams) -> float:
    """Time lost at a corner turning the track by ``turn_deg`` (see the module doc)."""
    if turn_deg <= TURN_THRESHOLD_DEG:
        return 0.0
    dv = 2.0 * speed * math.sin(math.radians(turn_deg) / 2.0)
    return dv / p.wpnav_accel_m_s2 + p.wpnav_accel_m_s2 / (2.0 * p.wpnav_jerk_m_s3)


def stop_s(speed: float, p: CopterParams) -> float:
    """Time lost accelerating from (or braking to) a hover: ``v/(2a) + a/(2j)``."""
    return speed / (2.0 * p.wpnav_accel_m_s2) + p.wpnav_accel_m_s2 / (2.0 * p.wpnav_jerk_m_s3)


def flight_phases(route: Sequence[Sequence[float]], takeoff_m: float, speed_m_s: float,
                  p: CopterParams | None = None) -> dict[str, float]:
    """Seconds per phase of ``home → route → RTL → land``.

    Args:
        route: Waypoints after the take-off, ``(x, y, height above home)`` metres (home excluded).
        takeoff_m: Take-off altitude above home, m.
        speed_m_s: Planned survey speed (DO_CHANGE_SPEED), m/s.
        p: Vehicle parameters (defaults: ArduCopter's).

    Returns:
        ``takeoff``, ``survey``, ``rtl_climb``, ``rtl_return``, ``rtl_loiter``, ``land`` and ``total`` seconds.
    """
    p = p or CopterParams()
    home = (0.0, 0.0, 0.0)
    phases = {"takeoff": takeoff_m / p.wpnav_speed_up_m_s + p.wpnav_speed_up_m_s / p.wpnav_accel_z_m_s2}
    if not route:
        route = [(0.0, 0.0, takeoff_m)]
    path = [(home[0], home[1], takeoff_m), *[tuple(q) for q in route]]
    survey = 0.0
    moved = False
    for i in range(1, len(path)):
        a, b = path[i - 1], path[i]
        horiz = math.dist(a[:2], b[:2])
        dz = b[2] - a[2]
        v_z = p.wpnav_speed_up_m_s if dz > 0 else p.wpnav_speed_dn_m_s
        survey += max(horiz / speed_m_s, abs(dz) / v_z)
        if horiz > 1e-6:
            moved = True
            if i + 1 < len(path) and math.dist(b[:2], path[i + 1][:2]) > 1e-6:
                survey += corner_s(speed_m_s, _turn_deg(a, b, path[i + 1]), p)
    if moved:
        survey += 2.0 * stop_s(speed_m_s, p)
    phases["survey"] = survey
    last = path[-1]
    climb = max(0.0, p.rtl_alt_m - last[2])
    phases["rtl_climb"] = climb / p.wpnav_speed_up_m_s + (p.wpnav_speed_up_m_s / p.wpnav_accel_z_m_s2 if climb else 0)
    v_rtl = p.rtl_speed_m_s or p.wpnav_speed_m_s
    back = math.dist(last[:2], home[:2])
    phases["rtl_return"] = back / v_rtl + 2.0 * stop_s(v_rtl, p) if back > 1e-6 else 0.0
    phases["rtl_loiter"] = p.rtl_loit_time_s
    height = max(last[2], p.rtl_alt_m)
    v_high = p.land_speed_high_m_s or p.wpnav_speed_dn_m_s
    high = max(0.0, height - p.land_alt_low_m)
    phases["land"] = (high / v_high + (v_high / p.wpnav_accel_z_m_s2 if high else 0.0)
                      + min(height, p.land_alt_low_m) / p.land_speed_m_s)
    phases["total"] = sum(phases.values())
    return phases

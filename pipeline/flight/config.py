"""The ``flight:`` section of params.yaml (defaults for survey planning)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlightParams:
    """Survey-planning settings.

    Attributes:
        max_agl_m: Legal height limit above ground (Japan: 150 m), m.
        max_distance_m: Visual-line-of-sight radius from home, m.
        max_speed_m_s: Vehicle's survey speed ceiling, m/s.
        exposure_s: Exposure time assumed for motion blur, s (1/500 s).
        max_blur_px: Largest motion blur allowed during an exposure, px.
        turnaround_m: Run-in/run-out beyond each transect, m.
        terrain_tolerance_m: Ground departure from a straight leg before a waypoint is added, m.
        no_fly_margin_m: Buffer around no-fly zones, m.
        min_sun_elevation_deg: Lowest sun elevation for multispectral imaging, degrees.
        battery_endurance_s: Flight time of one full battery, s.
        battery_reserve: Share of the battery kept in reserve on landing.
        climb_m_s: Vertical speed, m/s.
        accel_m_s2: Horizontal acceleration, m/s².
        yaw_s: Time spent turning at a corner, s.
    """

    max_agl_m: float = 150.0
    max_distance_m: float = 500.0
    max_speed_m_s: float = 10.0
    exposure_s: float = 0.002
    max_blur_px: float = 0.5
    turnaround_m: float = 5.0
    terrain_tolerance_m: float = 3.0
    no_fly_margin_m: float = 5.0
    min_sun_elevation_deg: float = 30.0
    battery_endurance_s: float = 1500.0
    battery_reserve: float = 0.25
    climb_m_s: float = 3.0
    accel_m_s2: float = 2.0
    yaw_s: float = 2.0

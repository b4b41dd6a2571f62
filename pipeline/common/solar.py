"""Solar position from date, time and place: NOAA general solar position (Spencer 1971 series).

One implementation for every stage (simulated illumination, flight imaging
windows, downwelling-light-sensor geometry). Angles in radians unless stated;
for a UTC instant with day of year ``doy`` and ``minutes`` after 00:00 UTC::

    γ = 2π / year_days · (doy − 1 + (minutes/60 − 12) / 24)               fractional year
    eot = 229.18 (0.000075 + 0.001868 cos γ − 0.032077 sin γ
                  − 0.014615 cos 2γ − 0.040849 sin 2γ)                     [min]
    δ = 0.006918 − 0.399912 cos γ + 0.070257 sin γ − 0.006758 cos 2γ
        + 0.000907 sin 2γ − 0.002697 cos 3γ + 0.00148 sin 3γ                declination
    tst = minutes + eot + 4·lon_deg                                         true solar time [min]
    h = tst/4 − 180                                                         hour angle [deg]
    cos z = sin φ sin δ + cos φ cos δ cos h                                 zenith
    A = 180° + atan2(sin h, cos h sin φ − tan δ cos φ)                      azimuth, clockwise from north

Accuracy about 0.1–0.2°, ample for canopy illumination, imaging windows and
DLS geometry. Reference: NOAA Global Monitoring Division, "General Solar
Position Calculations"; Spencer, J. W. (1971), Search 2(5).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SunPosition:
    """Sun position in degrees.

    Attributes:
        zenith_deg: Angle from the vertical (0 overhead, 90 on the horizon).
        azimuth_deg: Clockwise from true north (90 east, 180 south).
        declination_deg: Solar declination.
        equation_of_time_min: Equation of time, minutes.
    """

    zenith_deg: float
    azimuth_deg: float
    declination_deg: float
    equation_of_time_min: float

    @property
    def elevation_deg(self) -> float:
        """Elevation above the horizon, degrees."""
        return 90.0 - self.zenith_deg


def _year_days(year: int) -> int:
    return 366 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 365


def solar_angles(
    lat_deg: float, lon_deg: float, day: dt.date, minutes_utc: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised sun angles for many instants of one UTC day.

    Args:
        lat_deg: Latitude, degrees north.
        lon_deg: Longitude, degrees east.
        day: The UTC date.
        minutes_utc: Minutes after 00:00 UTC of ``day`` (any shape).

    Returns:
        ``(zenith_deg, azimuth_deg, declination_rad, equation_of_time_min)`` arrays.
    """
    minutes = np.asarray(minutes_utc, dtype=float)
    doy = day.timetuple().tm_yday
    g = 2.0 * math.pi / _year_days(day.year) * (doy - 1 + (minutes / 60.0 - 12.0) / 24.0)
    eot = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g) - 0.014615 * np.cos(2 * g)
                    - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    hour_angle = np.radians((minutes + eot + 4.0 * lon_deg) / 4.0 - 180.0)
    phi = math.radians(lat_deg)
    cos_zen = math.sin(phi) * np.sin(decl) + math.cos(phi) * np.cos(decl) * np.cos(hour_angle)
    zenith = np.degrees(np.arccos(np.clip(cos_zen, -1.0, 1.0)))
    azimuth = np.degrees(np.arctan2(np.sin(hour_angle), np.cos(hour_angle) * math.sin(phi)
                                    - np.tan(decl) * math.cos(phi)))
    return zenith, (azimuth + 180.0) % 360.0, decl, eot


def sun_position(when: dt.datetime, lat_deg: float, lon_deg: float) -> SunPosition:
    """Solar zenith and azimuth at ``when`` seen from ``(lat, lon)``.

    Args:
        when: A timezone-aware datetime (naive datetimes are taken as UTC).
        lat_deg: Latitude, degrees north.
        lon_deg: Longitude, degrees east.
    """
    utc = when.astimezone(dt.UTC) if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    minutes = np.array(utc.hour * 60.0 + utc.minute + utc.second / 60.0 + utc.microsecond / 6e7)
    zenith, azimuth, decl, eot = solar_angles(lat_deg, lon_deg, utc.date(), minutes)
    return SunPosition(float(zenith), float(azimuth), math.degrees(float(decl)), float(eot))

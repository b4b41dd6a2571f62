"""Solar position (NOAA's approximation, about 0.01° for 1800-2100) and imaging windows.

For a UTC time ``t`` the fractional year ``γ = 2π/365 · (doy − 1 + (hour − 12)/24)`` gives::

    decl = 0.006918 − 0.399912 cos γ + 0.070257 sin γ − 0.006758 cos 2γ
           + 0.000907 sin 2γ − 0.002697 cos 3γ + 0.00148 sin 3γ          [rad]
    eqtime = 229.18 (0.000075 + 0.001868 cos γ − 0.032077 sin γ
             − 0.014615 cos 2γ − 0.040849 sin 2γ)                       [min]
    true solar time = minutes_utc + eqtime + 4·lon                       [min]
    hour angle h = tst/4 − 180                                            [deg]
    sin(elev) = sin φ sin decl + cos φ cos decl cos h

Sunrise/sunset use elevation −0.833° (refraction and the sun's radius).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np

#: Japan Standard Time (UTC+9), the local time the council flies in.
JST = timezone(timedelta(hours=9), "JST")
SUNRISE_ELEVATION_DEG = -0.833


def sun_elevation_deg(lat: float, lon: float, when: datetime | np.ndarray, day: date | None = None) -> np.ndarray:
    """Sun elevation in degrees at ``(lat, lon)``.

    Args:
        lat: Latitude, degrees.
        lon: Longitude, degrees east.
        when: An aware datetime, or an array of minutes after 00:00 UTC of ``day``.
        day: The UTC date when ``when`` is an array of minutes.
    """
    if isinstance(when, datetime):
        utc = when.astimezone(UTC)
        day = utc.date()
        minutes = np.array([utc.hour * 60 + utc.minute + utc.second / 60.0])
    else:
        if day is None:
            raise ValueError("day is required when 'when' is an array of minutes")
        minutes = np.asarray(when, float)
    doy = day.timetuple().tm_yday
    gamma = 2 * math.pi / 365.0 * (doy - 1 + (minutes / 60.0 - 12) / 24.0)
    decl = (0.006918 - 0.399912 * np.cos(gamma) + 0.070257 * np.sin(gamma) - 0.006758 * np.cos(2 * gamma)
            + 0.000907 * np.sin(2 * gamma) - 0.002697 * np.cos(3 * gamma) + 0.00148 * np.sin(3 * gamma))
    eqtime = 229.18 * (0.000075 + 0.001868 * np.cos(gamma) - 0.032077 * np.sin(gamma)
                       - 0.014615 * np.cos(2 * gamma) - 0.040849 * np.sin(2 * gamma))
    tst = minutes + eqtime + 4.0 * lon
    hour_angle = np.radians(tst / 4.0 - 180.0)
    phi = math.radians(lat)
    sin_el = math.sin(phi) * np.sin(decl) + math.cos(phi) * np.cos(decl) * np.cos(hour_angle)
    return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))


@dataclass(frozen=True)
class SunWindow:
    """Times (aware datetimes, in the requested zone) when the sun is above a threshold.

    ``start``/``end`` are ``None`` when the sun never gets that high that day.
    """

    threshold_deg: float
    start: datetime | None
    end: datetime | None
    max_elevation_deg: float

    def contains(self, t0: datetime, t1: datetime) -> bool:
        """True when ``[t0, t1]`` lies inside the window."""
        return self.start is not None and self.end is not None and self.start <= t0 and t1 <= self.end


def sun_window(lat: float, lon: float, day: date, threshold_deg: float, tz: timezone = JST) -> SunWindow:
    """The longest span of ``day`` (local date in ``tz``) with sun elevation ≥ ``threshold_deg``.

    Resolution: one minute.
    """
    local_midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    utc0 = local_midnight.astimezone(UTC)
    minutes = np.arange(24 * 60, dtype=float)
    utc_minutes = utc0.hour * 60 + utc0.minute + minutes
    # evaluate day by day in UTC so the declination follows the right date
    elev = np.empty_like(minutes)
    for offset in (0, 1):
        sel = (utc_minutes // 1440) == offset
        d = (utc0 + timedelta(days=offset)).date()
        elev[sel] = sun_elevation_deg(lat, lon, utc_minutes[sel] - 1440 * offset, d)
    above = elev >= threshold_deg
    if not above.any():
        return SunWindow(threshold_deg, None, None, float(elev.max()))
    idx = np.flatnonzero(above)
    return SunWindow(threshold_deg, local_midnight + timedelta(minutes=int(idx[0])),
                     local_midnight + timedelta(minutes=int(idx[-1])), float(elev.max()))

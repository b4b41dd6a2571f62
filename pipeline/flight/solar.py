"""Imaging windows from the sun's elevation (solar position: :mod:`pipeline.common.solar`).

Sun elevation comes from the shared NOAA formulas; the imaging window is the longest
span of a local day with elevation above a threshold, at one-minute resolution.

Sunrise/sunset use elevation −0.833° (refraction and the sun's radius).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np

from pipeline.common.solar import solar_angles

#: Japan Standard Time (UTC+9), the local time the council flies in.
JST = timezone(timedelta(hours=9), "JST")
SUNRISE_ELEVATION_DEG = -0.833


def sun_elevation_deg(lat: float, lon: float, when: datetime | np.ndarray, day: date | None = None) -> np.ndarray:
    """Sun elevation in degrees at ``(lat, lon)`` (:func:`pipeline.common.solar.solar_angles`).

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
    zenith, _azimuth, _decl, _eot = solar_angles(lat, lon, day, minutes)
    return 90.0 - zenith


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

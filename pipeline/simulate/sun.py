"""Solar position from date, time and place (NOAA general solar position, Spencer 1971 series).

Formulas (angles in radians unless stated), for day of year ``doy`` and local
clock time ``hour:minute`` at UTC offset ``tz`` hours:

* fractional year ``g = 2 pi / 365 * (doy - 1 + (hour - 12) / 24)``
* equation of time, minutes:
  ``eot = 229.18 (0.000075 + 0.001868 cos g - 0.032077 sin g - 0.014615 cos 2g - 0.040849 sin 2g)``
* declination:
  ``d = 0.006918 - 0.399912 cos g + 0.070257 sin g - 0.006758 cos 2g + 0.000907 sin 2g
  - 0.002697 cos 3g + 0.00148 sin 3g``
* true solar time, minutes: ``tst = 60 hour + minute + second / 60 + eot + 4 lon_deg - 60 tz``
* hour angle ``h = (tst / 4 - 180)`` degrees
* zenith ``cos z = sin(lat) sin(d) + cos(lat) cos(d) cos(h)``
* azimuth (clockwise from north) ``A = 180 deg + atan2(sin h, cos h sin(lat) - tan(d) cos(lat))``

Accuracy is about 0.1-0.2 degrees, ample for canopy illumination.
Reference: NOAA Global Monitoring Division, "General Solar Position Calculations";
Spencer, J. W. (1971), Fourier series representation of the position of the sun, Search 2(5).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


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


def sun_position(when: dt.datetime, lat_deg: float, lon_deg: float) -> SunPosition:
    """Solar zenith and azimuth at ``when`` (timezone-aware) seen from ``(lat, lon)``.

    Args:
        when: A timezone-aware datetime (naive datetimes are taken as UTC).
        lat_deg: Latitude, degrees north.
        lon_deg: Longitude, degrees east.
    """
    utc = when.astimezone(dt.UTC) if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    doy = utc.timetuple().tm_yday
    hours = utc.hour + utc.minute / 60.0 + utc.second / 3600.0
    year_days = 366 if _is_leap(utc.year) else 365
    g = 2.0 * math.pi / year_days * (doy - 1 + (hours - 12.0) / 24.0)
    eot = 229.18 * (
        0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g) - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g) - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g) - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g)
    )
    true_solar_min = hours * 60.0 + eot + 4.0 * lon_deg
    hour_angle = math.radians(true_solar_min / 4.0 - 180.0)
    lat = math.radians(lat_deg)
    cos_zen = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    zenith = math.degrees(math.acos(max(-1.0, min(1.0, cos_zen))))
    azimuth = math.degrees(
        math.atan2(math.sin(hour_angle), math.cos(hour_angle) * math.sin(lat) - math.tan(decl) * math.cos(lat))
    )
    return SunPosition(
        zenith_deg=zenith,
        azimuth_deg=(azimuth + 180.0) % 360.0,
        declination_deg=math.degrees(decl),
        equation_of_time_min=eot,
    )


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)

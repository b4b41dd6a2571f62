"""Solar position (NOAA/Spencer) against physical landmarks."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from pipeline.simulate.sun import sun_position

JST = dt.timezone(dt.timedelta(hours=9))
LAT, LON = 33.20, 133.14


def _solar_noon(day: dt.date) -> dt.datetime:
    """Approximate local solar noon in JST for LON (12:00 at 135 E, 4 min per degree)."""
    minutes = 12 * 60 + 4 * (135.0 - LON)
    return dt.datetime.combine(day, dt.time(int(minutes // 60), int(minutes % 60)), tzinfo=JST)


@pytest.mark.parametrize(("day", "declination"), [(dt.date(2026, 6, 21), 23.44), (dt.date(2026, 12, 21), -23.44)])
def test_solstice_noon_zenith_is_latitude_minus_declination(day, declination):
    sun = sun_position(_solar_noon(day), LAT, LON)
    assert sun.declination_deg == pytest.approx(declination, abs=0.3)
    assert sun.zenith_deg == pytest.approx(LAT - declination, abs=0.6)  # +-2 min of equation of time
    assert sun.azimuth_deg == pytest.approx(180.0, abs=4.0)


def test_equinox_noon_and_morning_afternoon_symmetry():
    day = dt.date(2026, 3, 20)
    noon = sun_position(_solar_noon(day), LAT, LON)
    assert noon.zenith_deg == pytest.approx(LAT, abs=2.0)
    true_noon = _solar_noon(day) - dt.timedelta(minutes=noon.equation_of_time_min)
    assert sun_position(true_noon, LAT, LON).azimuth_deg == pytest.approx(180.0, abs=0.5)
    morning = sun_position(true_noon - dt.timedelta(hours=3), LAT, LON)
    afternoon = sun_position(true_noon + dt.timedelta(hours=3), LAT, LON)
    assert 90 < morning.azimuth_deg < 180 < afternoon.azimuth_deg < 270
    assert morning.zenith_deg == pytest.approx(afternoon.zenith_deg, abs=0.3)
    assert morning.azimuth_deg + afternoon.azimuth_deg == pytest.approx(360.0, abs=0.5)
    # hour angle -45 deg (true solar time), up to the equation of time's drift over 3 h
    ha = math.radians(-45.0 + (morning.equation_of_time_min - noon.equation_of_time_min) / 4.0)
    lat, dec = math.radians(LAT), math.radians(morning.declination_deg)
    expected = math.degrees(math.acos(math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * math.cos(ha)))
    assert morning.zenith_deg == pytest.approx(expected, abs=0.3)
    assert abs(morning.declination_deg) < 0.8


def test_equation_of_time_extremes():
    assert sun_position(dt.datetime(2026, 11, 3, 3, tzinfo=dt.UTC), LAT, LON).equation_of_time_min == pytest.approx(
        16.4, abs=0.6)
    assert sun_position(dt.datetime(2026, 2, 11, 3, tzinfo=dt.UTC), LAT, LON).equation_of_time_min == pytest.approx(
        -14.2, abs=0.6)


def test_night_sun_is_below_horizon_and_naive_is_utc():
    assert sun_position(dt.datetime(2026, 7, 1, 0, 0, tzinfo=JST), LAT, LON).zenith_deg > 90
    aware = sun_position(dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.UTC), LAT, LON)
    naive = sun_position(dt.datetime(2026, 7, 1, 1, 30), LAT, LON)
    assert aware == naive

"""Downwelling light sensor (DLS) irradiance: sun position, sensor tilt and horizontal irradiance.

The first-generation DLS reports the spectral irradiance E_s (W/m²/nm) falling on
its own, tilted, diffuser. MicaSense's published model (``micasense/dls.py``,
``Image.compute_horizontal_irradiance_dls1``) turns it into the irradiance on a
horizontal surface, assuming a clear sky with direct/diffuse ratio D = 6:

* θ = angle between the sun and the sensor normal (sensor normal = body up
  vector rotated by the DLS yaw/pitch/roll, aerospace Z-Y-X order, NED frame);
* T(θ) = Fresnel transmission of the diffuser (air → polycarbonate 1.6 → teflon 1.38);
* E_direct = (E_s / T) / (1/D + cos θ);  E_h = E_direct · sin(h_sun) + E_direct / D.

The DLS2 writes ``HorizontalIrradiance`` itself; it is used as is. Solar position
comes from the shared NOAA/Spencer formulas (:mod:`pipeline.common.solar`, ~0.1-0.2°).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np

from pipeline.common.solar import sun_position

#: Clear-sky direct to diffuse irradiance ratio assumed by MicaSense for DLS1.
DIRECT_TO_DIFFUSE = 6.0
#: Refractive indices of the DLS1 optical stack: air, polycarbonate, teflon diffuser.
DLS_LAYERS = (1.000277, 1.6, 1.38)


def solar_position(lat: float, lon: float, when: dt.datetime) -> tuple[float, float]:
    """Sun (elevation, azimuth) in radians; azimuth clockwise from north.

    Uses the shared NOAA formulas (:func:`pipeline.common.solar.sun_position`).

    Args:
        lat: Latitude, degrees north.
        lon: Longitude, degrees east.
        when: Time (naive values are taken as UTC).
    """
    sun = sun_position(when, lat, lon)
    return math.radians(sun.elevation_deg), math.radians(sun.azimuth_deg)


def body_to_ned(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation matrix body -> NED for aerospace Z-Y-X Euler angles in radians (R = Rz·Ry·Rx)."""
    cy, sy, cp, sp, cr, sr = (math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), math.cos(roll),
                              math.sin(roll))
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    return rz @ ry @ rx


def sun_sensor_angle(sun_elevation: float, sun_azimuth: float, pose: tuple[float, float, float]) -> float:
    """Angle (radians) between the sun and the DLS normal (body up = NED (0, 0, -1) when level)."""
    sun = np.array([math.cos(sun_azimuth) * math.cos(sun_elevation), math.sin(sun_azimuth) * math.cos(sun_elevation),
                    -math.sin(sun_elevation)])
    normal = body_to_ned(*pose) @ np.array([0.0, 0.0, -1.0])
    return float(np.arccos(np.clip(sun @ normal, -1.0, 1.0)))


def fresnel_transmission(angle: float, layers: tuple[float, ...] = DLS_LAYERS) -> float:
    """Unpolarised Fresnel transmission through successive refractive layers at incidence ``angle`` (rad)."""
    total, phi = 1.0, angle
    for n1, n2 in itertools.pairwise(layers):
        phi = math.asin(math.sin(phi) / n1)
        f1 = math.cos(phi)
        inner = 1.0 - (n1 / n2 * math.sin(phi)) ** 2
        if inner < 0:
            return 0.0
        f2 = math.sqrt(inner)
        rs = ((n1 * f1 - n2 * f2) / (n1 * f1 + n2 * f2)) ** 2
        rp = ((n1 * f2 - n2 * f1) / (n1 * f2 + n2 * f1)) ** 2
        t = 1.0 - 0.5 * rs - 0.5 * rp
        total *= min(max(t, 0.0), 1.0)
    return total


def horizontal_irradiance_dls1(
    spectral_irradiance: float, sun_elevation: float, angle: float, direct_to_diffuse: float = DIRECT_TO_DIFFUSE
) -> float:
    """Irradiance on a horizontal surface from a tilted DLS1 reading (W/m²/nm); formula in the module doc."""
    transmission = fresnel_transmission(angle)
    if transmission <= 0:
        return spectral_irradiance
    diffuse_share = 1.0 / direct_to_diffuse
    direct = (spectral_irradiance / transmission) / (diffuse_share + math.cos(angle))
    return direct * math.sin(sun_elevation) + direct * diffuse_share

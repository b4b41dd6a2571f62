"""Physical spectra: PROSAIL canopies, shallow/deep water, soil, asphalt; sensor band integration.

Everything here is a pure function of its arguments and works on the PROSAIL
wavelength grid :data:`WAVELENGTHS_NM` (400-2500 nm, 1 nm steps, 2101 values).

References:
    * Jacquemoud et al. (2009), PROSPECT + SAIL models: a review of use for
      vegetation characterization, Remote Sens. Environ. 113, S56-S66.
    * Feret et al. (2008), PROSPECT-4 and 5 (``prosail`` implements PROSPECT-5B/D
      and 4SAIL; J. Gomez-Dans, https://github.com/jgomezdans/prosail).
    * Lee et al. (1998/1999), semi-analytical shallow-water reflectance model;
      Gordon et al. (1988) ``r_rs = 0.0949 u + 0.0794 u**2``, ``u = b_b / (a + b_b)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import prosail

from pipeline.errors import InputError, unknown_name
from pipeline.ingest.sensors import Sensor

#: PROSAIL's wavelength grid in nanometres (400..2500 at 1 nm).
WAVELENGTHS_NM: np.ndarray = np.arange(400.0, 2501.0, 1.0)

#: FWHM = 2 sqrt(2 ln 2) sigma for a Gaussian.
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


@dataclass(frozen=True)
class CanopyParams:
    """Inputs of PROSPECT-5 + 4SAIL for one canopy.

    Attributes:
        n: Leaf structure parameter N (number of mesophyll layers, 1-3; higher in
            older/thicker leaves).
        cab: Leaf chlorophyll a+b content, ug/cm^2.
        car: Leaf carotenoid content, ug/cm^2.
        cbrown: Brown (senescent) pigment, arbitrary units 0-1+.
        cw: Equivalent water thickness, cm (g/cm^2).
        cm: Leaf dry matter content, g/cm^2.
        lai: Leaf area index, m^2/m^2.
        ala: Average leaf inclination angle, degrees (ellipsoidal LIDF).
        hotspot: Hot-spot size parameter (leaf size / canopy height).
    """

    n: float = 1.5
    cab: float = 40.0
    car: float = 9.0
    cbrown: float = 0.0
    cw: float = 0.015
    cm: float = 0.005
    lai: float = 3.0
    ala: float = 55.0
    hotspot: float = 0.05

    def replace(self, **changes: float) -> CanopyParams:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Geometry:
    """Sun and view geometry for 4SAIL, degrees.

    Attributes:
        sun_zenith: Solar zenith angle.
        view_zenith: Sensor zenith angle (0 for a nadir drone camera).
        relative_azimuth: Sun minus view azimuth (4SAIL).
        sun_azimuth: Solar azimuth clockwise from north (cast shadows).
    """

    sun_zenith: float = 30.0
    view_zenith: float = 0.0
    relative_azimuth: float = 0.0
    sun_azimuth: float = 180.0


def soil_spectrum(brightness: float, dryness: float) -> np.ndarray:
    """PROSAIL's soil model ``rsoil * (psoil * dry + (1 - psoil) * wet)``.

    Args:
        brightness: ``rsoil`` scale (about 0.5-1.5).
        dryness: ``psoil`` in [0, 1]: 1 dry soil, 0 wet soil.
    """
    lib = prosail.spectral_lib.soil
    return np.asarray(brightness * (dryness * lib.rsoil1 + (1.0 - dryness) * lib.rsoil2), dtype=np.float64)


def pure_water_absorption() -> np.ndarray:
    """Absorption coefficient of pure water, 1/m, on :data:`WAVELENGTHS_NM`.

    Taken from PROSPECT's specific absorption of leaf water (``kw``, 1/cm),
    which is the pure-liquid-water absorption spectrum; times 100 for 1/m.
    """
    return np.asarray(prosail.spectral_lib.prospect5.kw, dtype=np.float64) * 100.0


def water_spectrum(
    depth_m: float,
    bottom: np.ndarray | None = None,
    chl_mg_m3: float = 2.0,
    cdom_440: float = 0.1,
    tss_g_m3: float = 2.0,
    surface_glint: float = 0.01,
) -> np.ndarray:
    """Above-surface reflectance of (shallow) water, semi-analytical (Lee et al. 1999).

    Absorption ``a = a_w + a_ph + a_cdom`` with ``a_ph = 0.06 chl^0.65`` shaped by a
    Gaussian peak at 440 and 675 nm, ``a_cdom = cdom_440 exp(-0.014 (lambda - 440))``;
    backscatter ``b_b = 0.00144 (500/lambda)^4.32 + 0.006 tss (550/lambda)`` (Morel pure water + particles).
    Deep-water remote-sensing reflectance ``r_inf = 0.0949 u + 0.0794 u^2`` with
    ``u = b_b / (a + b_b)``; over a bottom of albedo ``rho_b`` at depth ``H``:
    ``r = r_inf (1 - e^{-2 K H}) + rho_b / pi * e^{-2 K H}``, ``K = a + b_b``.
    Reflectance factor ``R = 0.52 pi r / (1 - 1.7 r) + glint`` (Lee's air-water conversion).

    Args:
        depth_m: Water depth in metres (a flooded paddy is about 0.03-0.08 m).
        bottom: Bottom reflectance spectrum (e.g. :func:`soil_spectrum`); ``None`` = deep.
        chl_mg_m3: Phytoplankton chlorophyll-a, mg/m^3.
        cdom_440: CDOM absorption at 440 nm, 1/m.
        tss_g_m3: Suspended sediment, g/m^3.
        surface_glint: Sky-glint reflectance added (spectrally flat).

    Returns:
        Reflectance factor on :data:`WAVELENGTHS_NM`.
    """
    lam = WAVELENGTHS_NM
    a_ph_shape = np.exp(-(((lam - 440.0) / 30.0) ** 2)) + 0.5 * np.exp(-(((lam - 675.0) / 12.0) ** 2))
    a = pure_water_absorption() + 0.06 * chl_mg_m3**0.65 * a_ph_shape + cdom_440 * np.exp(-0.014 * (lam - 440.0))
    bb = 0.00144 * (500.0 / lam) ** 4.32 + 0.006 * tss_g_m3 * (550.0 / lam)
    u = bb / (a + bb)
    r_deep = 0.0949 * u + 0.0794 * u**2
    if bottom is None:
        r = r_deep
    else:
        attenuation = np.exp(-2.0 * (a + bb) * depth_m)
        r = r_deep * (1.0 - attenuation) + np.asarray(bottom) / np.pi * attenuation
    return np.asarray(0.52 * np.pi * r / (1.0 - 1.7 * r) + surface_glint, dtype=np.float64)


def asphalt_spectrum(age: float = 0.5) -> np.ndarray:
    """Empirical asphalt road reflectance: dark, rising slowly with wavelength.

    ``R = 0.05 + 0.06 age + (0.04 + 0.04 age) (lambda - 400)/2100``, a fit to the
    shape of aged asphalt in the USGS/ASTER libraries (fresh 0.05, aged 0.15).
    """
    return np.asarray(0.05 + 0.06 * age + (0.04 + 0.04 * age) * (WAVELENGTHS_NM - 400.0) / 2100.0, dtype=np.float64)


def leaf_optics(params: CanopyParams) -> tuple[np.ndarray, np.ndarray]:
    """PROSPECT-5 leaf reflectance and transmittance on :data:`WAVELENGTHS_NM`.

    Only the leaf fields (``n, cab, car, cbrown, cw, cm``) matter; LAI, ALA and
    hot spot enter at the canopy level (:func:`sail_reflectance`).
    """
    _, refl, trans = prosail.run_prospect(
        params.n, params.cab, params.car, params.cbrown, params.cw, params.cm, prospect_version="5"
    )
    return np.asarray(refl, dtype=np.float64), np.asarray(trans, dtype=np.float64)


def sail_reflectance(
    leaf: tuple[np.ndarray, np.ndarray], params: CanopyParams, background: np.ndarray, geometry: Geometry | None = None
) -> np.ndarray:
    """4SAIL top-of-canopy directional reflectance (SDR) from leaf optics.

    Args:
        leaf: ``(reflectance, transmittance)`` from :func:`leaf_optics`.
        params: Canopy fields used: ``lai``, ``ala`` (ellipsoidal LIDF), ``hotspot``.
        background: Background reflectance on :data:`WAVELENGTHS_NM` (soil or water).
        geometry: Sun/view geometry (default 30 deg sun, nadir view).
    """
    geo = geometry or Geometry()
    refl = prosail.run_sail(
        leaf[0], leaf[1], params.lai, params.ala, params.hotspot, geo.sun_zenith, geo.view_zenith,
        geo.relative_azimuth, typelidf=2, rsoil0=np.asarray(background, dtype=np.float64),
    )
    return np.clip(np.asarray(refl, dtype=np.float64), 0.0, 1.0)


def diffuse_fraction(sun_zenith_deg: float, turbidity: float = 0.1, angstrom_alpha: float = 1.3) -> np.ndarray:
    """Share of diffuse sky light in the ground irradiance, on :data:`WAVELENGTHS_NM` (what lights shadows).

    Rayleigh optical depth (Hansen & Travis 1974, lambda in um)
    ``tau_R = 0.008569 lambda^-4 (1 + 0.0113 lambda^-2 + 0.00013 lambda^-4)``, aerosol
    (Angstrom) ``tau_a = beta lambda^-alpha``; with ``mu = cos(zenith)`` the direct beam keeps
    ``T = exp(-(tau_R + tau_a) / mu)`` and single scattering sends down
    ``D = 1 - exp(-(0.5 tau_R + 0.75 tau_a) / mu)``; the diffuse share is ``D / (T + D)``
    (about 0.3 in blue and 0.1 in NIR for a clear sky at 25 deg).

    Args:
        sun_zenith_deg: Solar zenith angle, degrees (< 90).
        turbidity: Angstrom turbidity ``beta`` (0.05 very clear, 0.2 hazy).
        angstrom_alpha: Angstrom exponent.
    """
    lam_um = WAVELENGTHS_NM / 1000.0
    tau_r = 0.008569 * lam_um**-4 * (1.0 + 0.0113 * lam_um**-2 + 0.00013 * lam_um**-4)
    tau_a = turbidity * lam_um**-angstrom_alpha
    mu = max(np.cos(np.radians(sun_zenith_deg)), 0.05)
    direct = np.exp(-(tau_r + tau_a) / mu)
    diffuse = 1.0 - np.exp(-(0.5 * tau_r + 0.75 * tau_a) / mu)
    return np.asarray(diffuse / (direct + diffuse), dtype=np.float64)


def roof_spectrum(kind: str) -> np.ndarray:
    """Empirical roof reflectance: ``metal`` (blue-painted steel, cool-pigment NIR plateau) or ``tile`` (grey kawara).

    Metal: ``0.07 + 0.15 exp(-((lambda - 460)/60)^2) + 0.22 / (1 + exp(-(lambda - 740)/30))``;
    tile: ``0.08 + 0.03 (lambda - 400)/2100``.

    Raises:
        UnknownNameError: ``kind`` is neither.
    """
    lam = WAVELENGTHS_NM
    shapes = {
        "metal": lambda: 0.07 + 0.15 * np.exp(-(((lam - 460) / 60) ** 2)) + 0.22 / (1 + np.exp(-(lam - 740) / 30)),
        "tile": lambda: 0.08 + 0.03 * (lam - 400.0) / 2100.0,
    }
    if kind not in shapes:
        raise unknown_name("roof", kind, list(shapes))
    return np.asarray(shapes[kind](), dtype=np.float64)


def canopy_spectrum(params: CanopyParams, background: np.ndarray, geometry: Geometry | None = None) -> np.ndarray:
    """Top-of-canopy reflectance (SDR) of PROSPECT-5 + 4SAIL over a background.

    Equivalent to ``prosail.run_prosail(..., prospect_version="5", typelidf=2, rsoil0=background)``.

    Args:
        params: Leaf and canopy parameters.
        background: Background reflectance on :data:`WAVELENGTHS_NM` (soil or water).
        geometry: Sun/view geometry (default 30 deg sun, nadir view).

    Returns:
        Reflectance factor on :data:`WAVELENGTHS_NM`.
    """
    return sail_reflectance(leaf_optics(params), params, background, geometry)


def band_response(sensor: Sensor) -> np.ndarray:
    """Gaussian spectral response functions, ``(bands, wavelengths)``, each summing to 1.

    ``S_b(lambda) = exp(-(lambda - c_b)^2 / (2 sigma_b^2))``, ``sigma_b = FWHM_b / 2.3548``,
    weighted by the solar irradiance at the ground (PROSAIL's direct + diffuse
    ``Es + Ed``) so that band values are irradiance-weighted reflectance.

    Raises:
        InputError: a band lies outside the reflective range 400-2500 nm (thermal).
    """
    outside = [b.name for b in sensor.bands if not 400.0 <= b.centre_nm <= 2500.0]
    if outside:
        raise InputError(
            f"sensor {sensor.name!r} band(s) {', '.join(outside)} lie outside 400-2500 nm; "
            "the reflectance simulator covers reflective bands only; pick a sensor without thermal bands"
        )
    light = prosail.spectral_lib.light
    irradiance = np.asarray(light.es, dtype=np.float64) + np.asarray(light.ed, dtype=np.float64)
    rows = []
    for band in sensor.bands:
        sigma = band.fwhm_nm / FWHM_PER_SIGMA
        srf = np.exp(-0.5 * ((WAVELENGTHS_NM - band.centre_nm) / sigma) ** 2) * irradiance
        rows.append(srf / srf.sum())
    return np.stack(rows)


def band_reflectance(spectrum: np.ndarray, sensor: Sensor) -> np.ndarray:
    """Integrate spectra over the sensor's bands.

    ``rho_b = sum_lambda rho(lambda) S_b(lambda) / sum_lambda S_b(lambda)`` (see :func:`band_response`).

    Args:
        spectrum: ``(..., 2101)`` reflectance on :data:`WAVELENGTHS_NM`.
        sensor: The sensor (band order of the result follows ``sensor.bands``).

    Returns:
        ``(..., bands)`` band reflectance.
    """
    spec = np.asarray(spectrum, dtype=np.float64)
    if spec.shape[-1] != WAVELENGTHS_NM.size:
        raise InputError(
            f"spectrum has {spec.shape[-1]} samples on its last axis; "
            f"expected {WAVELENGTHS_NM.size} (400-2500 nm, 1 nm)"
        )
    return np.asarray(spec @ band_response(sensor).T)

"""Rasterisation: land cover, vigour, disease severity and reflectance per pixel.

Per pixel, canopy reflectance is interpolated from the band-integrated PROSAIL
tables (:mod:`pipeline.simulate.lut`) at

* potential LAI = stage LAI (field's DAP) x field vigour x (1 + 0.15 n_12m + 0.06 n_2.5m)
  x edge factor (1 - 0.2 e^{-d/1.5 m}, d = distance to the levee) x row pattern (1 + A sinc(gsd/P) cos(2 pi v / P)),
  rice hills P = 0.3 m (A = 0.3), ginger ridges P = 1.2 m (A = 0.6); ginger ridge flanks
  are also lit unevenly, ``x (1 + 0.12 sinc(gsd/P) sin(2 pi v / P))``;
* chlorophyll factor = Cab(field DAP)/Cab(table) x (1 + 0.1 n_6m + 0.05 n_12m);
* severity from the patches, ``peak (1 - smoothstep(0.75, 1.3, r / r(theta)))`` times lesion
  mottling, so patch edges are soft.

The image is blurred by a Gaussian PSF (sigma 0.45 px), scaled by a smooth 40 m
irradiance drift (std 1.5 %, per flight) and sensor noise
``N(0, k rho + s^2)`` (shot-like ``k = 4e-5``, read ``s = 0.0015``) is added; values are
clipped to [0, 1] and quantised to the sensor's reflectance step (1/32768 for
MicaSense 16-bit exports), which also lets the COG compress about a third better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage

from pipeline.ingest.sensors import Sensor
from pipeline.simulate.canopy import CROPS, LAND_COVERS
from pipeline.simulate.layout import Layout
from pipeline.simulate.lut import CropTable
from pipeline.simulate.noise import smooth_noise
from pipeline.simulate.patches import Patch
from pipeline.simulate.shadows import sunlit_fraction
from pipeline.simulate.spectra import Geometry, band_reflectance, diffuse_fraction
from pipeline.simulate.variation import SimVariation

#: Row pattern per crop: (period m, amplitude).
ROW_PATTERN = {"rice": (0.3, 0.3), "ginger": (1.2, 0.6)}
#: Relative illumination change across ridge flanks (ginger is grown on ridges).
RIDGE_SHADING = {"ginger": 0.12}
SHOT_NOISE = 4e-5
READ_NOISE = 0.0015
PSF_SIGMA_PX = 0.45
#: Relative std of the smooth (40 m) irradiance drift across a mosaic.
ILLUMINATION_DRIFT = 0.015


@dataclass(frozen=True)
class Grid:
    """Raster grid: north-up, square pixels of ``gsd`` metres."""

    west: float
    north: float
    gsd: float
    rows: int
    cols: int

    @property
    def transform(self) -> Affine:
        return Affine(self.gsd, 0.0, self.west, 0.0, -self.gsd, self.north)

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates ``x (1, cols)`` and ``y (rows, 1)``."""
        x = self.west + (np.arange(self.cols) + 0.5) * self.gsd
        y = self.north - (np.arange(self.rows) + 0.5) * self.gsd
        return x[None, :], y[:, None]


def grid_for(layout: Layout, gsd_m: float, pad_px: int = 3) -> Grid:
    """The north-up grid covering the footprint, snapped to multiples of ``gsd_m``."""
    x0, y0, x1, y1 = layout.footprint.bounds
    west = math.floor(x0 / gsd_m - pad_px) * gsd_m
    north = math.ceil(y1 / gsd_m + pad_px) * gsd_m
    cols = math.ceil((x1 - west) / gsd_m) + pad_px
    rows = math.ceil((north - y0) / gsd_m) + pad_px
    return Grid(west, north, gsd_m, rows, cols)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def land_cover_codes(layout: Layout, grid: Grid, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-field cover per pixel (index into :data:`COVER_ORDER`) and field index (-1 outside fields)."""
    width = layout.river[-1]
    river_v = layout.river_v(u)
    forest_v = layout.forest_v(u)
    cover = np.full(grid.shape, COVER_ORDER.index("grass"), dtype=np.uint8)
    cover[np.abs(v - layout.road_v) < 2.0] = COVER_ORDER.index("road")
    gravel = (v - river_v > -width / 2) & (v - river_v < width / 2 + 0.5 * width)
    cover[gravel] = COVER_ORDER.index("gravel")
    cover[np.abs(v - river_v) < width / 2] = COVER_ORDER.index("river")
    cover[(v < river_v - width / 2) & (v < layout.road_v)] = COVER_ORDER.index("forest_broadleaf")
    cover[v > forest_v] = COVER_ORDER.index("forest_conifer")
    if layout.buildings:
        roofs = [(b.polygon, COVER_ORDER.index(b.roof)) for b in layout.buildings]
        features.rasterize(roofs, out=cover, transform=grid.transform)
    shapes = [(f.geometry, i + 1) for i, f in enumerate(layout.fields)]
    field_index = features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0,
                                     dtype="int16").astype(np.int16) - 1
    return cover, field_index


#: Order of the non-field cover codes.
COVER_ORDER: tuple[str, ...] = tuple(LAND_COVERS)


@dataclass(frozen=True)
class Textures:
    """Static smooth random fields (unit variance), each reused by covers that never overlap.

    Attributes:
        large: ~12 m: field vigour; ~ forest species mix.
        medium: ~6 m: field chlorophyll; bare spots on grass.
        small: ~2.5 m: field vigour detail; forest crowns; river ripples.
        fine: ~1 m: surface texture everywhere.
    """

    large: np.ndarray
    medium: np.ndarray
    small: np.ndarray
    fine: np.ndarray


def make_textures(rng: np.random.Generator, shape: tuple[int, int], gsd: float) -> Textures:
    """Draw the static textures for a grid of ``gsd`` metres."""
    return Textures(
        large=smooth_noise(rng, shape, 12.0 / gsd),
        medium=smooth_noise(rng, shape, 6.0 / gsd),
        small=smooth_noise(rng, shape, 2.5 / gsd),
        fine=smooth_noise(rng, shape, 1.0 / gsd),
    )


def _cover_reflectance(cover: np.ndarray, sensor: Sensor, geometry: Geometry, tex: Textures) -> np.ndarray:
    """Band reflectance ``(bands, rows, cols)`` of the non-field covers with textures.

    Forest mixes broadleaf and conifer spectra (share ``0.5 + 0.35 n_large``) and is
    scaled by crown brightness ``0.9 + 0.15 n_small`` (crowns also cast shadows); grass mixes
    with browning weeds (share ``0.5 (n_large - 0.3)``) and sparse bare spots (``0.35 (n_medium - 1.6)``);
    water gets ripple/depth brightness changes.
    """
    table = np.stack([band_reflectance(LAND_COVERS[name](geometry), sensor) for name in COVER_ORDER]).astype(
        np.float32)
    code = {name: i for i, name in enumerate(COVER_ORDER)}
    flat_cover = cover.ravel()
    forest = np.flatnonzero((flat_cover == code["forest_broadleaf"]) | (flat_cover == code["forest_conifer"]))
    grass = np.flatnonzero(flat_cover == code["grass"])
    river = np.flatnonzero(flat_cover == code["river"])
    large, small, medium = tex.large.ravel(), tex.small.ravel(), tex.medium.ravel()
    conifer_share = np.clip(0.5 + 0.35 * large[forest], 0.0, 1.0)
    crown = np.clip(0.9 + 0.15 * small[forest], 0.5, 1.2)
    bare = np.clip(0.35 * (medium[grass] - 1.6), 0.0, 0.6)
    weeds = np.clip(0.5 * (large[grass] - 0.3), 0.0, 0.8) * (1 - bare)
    ripple = np.clip(1.0 + 0.12 * small[river] + 0.1 * large[river], 0.6, 1.6)
    surface = 1.0 + 0.03 * tex.fine
    out = np.empty((table.shape[1], *cover.shape), dtype=np.float32)
    for b in range(table.shape[1]):
        band = table[:, b][flat_cover]
        band[forest] = (table[code["forest_broadleaf"], b] * (1 - conifer_share)
                        + table[code["forest_conifer"], b] * conifer_share) * crown
        band[grass] = (table[code["grass"], b] * (1 - weeds - bare) + table[code["dry_grass"], b] * weeds
                       + table[code["bare_soil"], b] * bare)
        band[river] *= ripple
        np.multiply(band.reshape(cover.shape), surface, out=out[b])
    return out


def _edge_distance(inside: np.ndarray, gsd: float) -> np.ndarray:
    """Distance in metres from each inside pixel to the nearest outside pixel, on a <= 0.5 m grid."""
    step = max(1, round(0.5 / gsd))
    coarse = ndimage.distance_transform_edt(inside[::step, ::step]) * gsd * step
    if step == 1:
        return np.asarray(coarse, dtype=np.float32)
    fine = np.repeat(np.repeat(coarse.astype(np.float32), step, axis=0), step, axis=1)
    return np.ascontiguousarray(fine[: inside.shape[0], : inside.shape[1]])


def patch_severity(patches: tuple[Patch, ...], progress: float, grid: Grid, classes: dict[str, int],
                   field_index: np.ndarray, field_ids: dict[str, int],
                   edge_softness: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Severity (0..1) and class-index maps of all active patches (strongest wins where they overlap).

    The edge falls off over ``smoothstep(1 − 0.25 k, 1 + 0.3 k, r / r(θ))``, ``k = edge_softness``.
    """
    inner, outer = max(0.05, 1.0 - 0.25 * edge_softness), 1.0 + 0.3 * edge_softness
    severity = np.zeros(grid.shape, dtype=np.float32)
    klass = np.zeros(grid.shape, dtype=np.int16)
    for patch in patches:
        radius, peak = patch.radius_at(progress), patch.peak_at(progress)
        if radius <= 0 or peak <= 0:
            continue
        reach = radius * outer * patch.reach
        c0 = max(int((patch.centre[0] - reach - grid.west) / grid.gsd), 0)
        c1 = min(int((patch.centre[0] + reach - grid.west) / grid.gsd) + 2, grid.cols)
        r0 = max(int((grid.north - patch.centre[1] - reach) / grid.gsd), 0)
        r1 = min(int((grid.north - patch.centre[1] + reach) / grid.gsd) + 2, grid.rows)
        if c0 >= c1 or r0 >= r1:
            continue
        dx = grid.west + (np.arange(c0, c1) + 0.5) * grid.gsd - patch.centre[0]
        dy = grid.north - (np.arange(r0, r1) + 0.5) * grid.gsd - patch.centre[1]
        dxx, dyy = np.meshgrid(dx, dy)
        rel = np.hypot(dxx, dyy) / (radius * patch.shape_factor(np.arctan2(dyy, dxx)))
        sev = (peak * (1.0 - _smoothstep(inner, outer, rel))).astype(np.float32)
        sev[field_index[r0:r1, c0:c1] != field_ids[patch.field_id]] = 0.0
        win_s, win_k = severity[r0:r1, c0:c1], klass[r0:r1, c0:c1]
        stronger = sev > win_s
        win_s[stronger] = sev[stronger]
        win_k[stronger] = classes[patch.disease]
    return severity, klass


def height_map(layout: Layout, grid: Grid, cover: np.ndarray, tex: Textures) -> np.ndarray:
    """Obstacle heights in metres: tree crowns ``16 + 2.5 n_small`` (10-22 m), buildings, else 0."""
    code = {name: i for i, name in enumerate(COVER_ORDER)}
    forest = (cover == code["forest_broadleaf"]) | (cover == code["forest_conifer"])
    height = np.where(forest, np.clip(16.0 + 2.5 * tex.small, 10.0, 22.0), 0.0).astype(np.float32)
    if layout.buildings:
        features.rasterize([(b.polygon, b.height_m) for b in layout.buildings], out=height,
                           transform=grid.transform)
    return height


def apply_shadows(image: np.ndarray, layout: Layout, grid: Grid, cover: np.ndarray, tex: Textures, sensor: Sensor,
                  geometry: Geometry, gain: float = 1.0) -> None:
    """Darken cast shadows in place: ``rho (1 - g (1 - lit)(1 - f_diffuse,b))``, at least ``0.02 rho``; ``g = 1``
    is ``rho (lit + (1 - lit) f_diffuse,b)`` (see :mod:`pipeline.simulate.shadows`)."""
    lit = sunlit_fraction(height_map(layout, grid, cover, tex), grid.gsd, geometry.sun_zenith, geometry.sun_azimuth)
    if lit.min() >= 1.0:
        return
    diffuse = band_reflectance(diffuse_fraction(geometry.sun_zenith), sensor).astype(np.float32)
    for b in range(image.shape[0]):
        if gain == 1.0:
            image[b] *= lit + (1.0 - lit) * diffuse[b]
        else:
            image[b] *= np.maximum(1.0 - gain * (1.0 - lit) * (1.0 - diffuse[b]), 0.02)


def valley_coords(layout: Layout, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Valley-frame ``(u, v)`` of every pixel centre, float32 ``(rows, cols)`` each."""
    x, y = grid.centres()
    return layout.to_local(x, y)


def _crop_pixels(layout: Layout, crop: str, table: CropTable, field_index: np.ndarray,
                 field_dap: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mask of ``crop``'s pixels and, for those pixels, potential LAI and chlorophyll factor of their field."""
    lai_of = np.zeros(len(layout.fields) + 1, dtype=np.float32)  # index 0: outside fields
    cab_of = np.ones(len(layout.fields) + 1, dtype=np.float32)
    of_crop = np.zeros(len(layout.fields) + 1, dtype=bool)
    for i, f in enumerate(layout.fields, start=1):
        if f.crop == crop:
            stage = CROPS[crop].stage(field_dap[f.field_id])
            vigour = layout.vigour[f.field_id]
            lai_of[i], cab_of[i], of_crop[i] = stage.lai * vigour, stage.cab / table.healthy.cab, True
    index = field_index + 1
    mask = of_crop[index]
    selected = index[mask]
    return mask, lai_of[selected], cab_of[selected]


def render_scene(layout: Layout, grid: Grid, sensor: Sensor, geometry: Geometry, tables: dict[str, CropTable],
                 field_dap: dict[str, float], progress: float, flight_seed: int,
                 layout_seed: int, variation: SimVariation | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reflectance ``(bands, rows, cols)`` float32 (NaN outside the footprint) and the severity map.

    ``variation`` (:mod:`variation`) scales canopy density, non-crop background brightness,
    illumination, noise, blur, lesion texture, patch edge width and shadow depth, and shifts one band
    (disease strengths act in the tables).

    Static textures (vigour, forest crowns) come from ``layout_seed``; lesion
    mottling and sensor noise from ``flight_seed``.
    """
    static_rng = np.random.default_rng([layout_seed, 0x5CE])
    flight_rng = np.random.default_rng([flight_seed, 0xF11])
    u, v = valley_coords(layout, grid)
    cover, field_index = land_cover_codes(layout, grid, u, v)
    tex = make_textures(static_rng, grid.shape, grid.gsd)
    var = variation or SimVariation()
    image = _cover_reflectance(cover, sensor, geometry, tex)
    if var.background_gain != 1.0:  # everything not crop: soil, water, roads, forest
        image[:, field_index < 0] *= np.float32(var.background_gain)
    gsd = grid.gsd
    mottle = smooth_noise(flight_rng, grid.shape, var.lesion_scale_m / gsd)
    edge = 1.0 - 0.2 * np.exp(-_edge_distance(field_index >= 0, gsd) / 1.5)
    severity_all = np.zeros(grid.shape, dtype=np.float32)
    for crop, table in tables.items():
        mask, pot_lai, cab_f = _crop_pixels(layout, crop, table, field_index, field_dap)
        if not mask.any():
            continue
        field_ids = {f.field_id: i for i, f in enumerate(layout.fields) if f.crop == crop}
        classes = {name: i for i, name in enumerate(table.classes)}
        severity, klass = patch_severity(tuple(p for p in layout.patches if p.crop == crop), progress, grid,
                                         classes, field_index, field_ids, var.edge_softness)
        sev = severity[mask] * np.clip(0.75 + var.lesion_contrast * mottle[mask], 0.3, 1.0)
        period, amp = ROW_PATTERN[crop]
        phase = 2 * np.pi * v[mask] / period
        blur = abs(float(np.sinc(gsd / period)))  # a pixel averages the row pattern over its width
        vigour = (1 + 0.15 * tex.large[mask] + 0.06 * tex.small[mask]) * edge[mask]
        lai = pot_lai * vigour * (1 + amp * blur * np.cos(phase)) * var.lai_gain
        cab = cab_f * (1 + 0.1 * tex.medium[mask] + 0.05 * tex.large[mask])
        refl = table.lookup(klass[mask].astype(np.intp), np.maximum(lai, 0.0), cab, sev)
        if crop in RIDGE_SHADING:  # sun-facing and shaded ridge flanks
            refl *= (1.0 + RIDGE_SHADING[crop] * blur * np.sin(phase))[:, None]
        image[:, mask] = refl.T
        severity_all[mask] = sev
    apply_shadows(image, layout, grid, cover, tex, sensor, geometry, var.shadow_gain)
    # residual irradiance drift across the mosaic (thin cloud, imperfect DLS correction), +-1.5 %
    drift = (1.0 + ILLUMINATION_DRIFT * smooth_noise(flight_rng, grid.shape, 40.0 / gsd)) * var.illumination_gain
    psf = PSF_SIGMA_PX if var.psf_sigma_px is None else var.psf_sigma_px
    for b in range(image.shape[0]):
        image[b] = ndimage.gaussian_filter(image[b], psf, mode="nearest") * drift
        if b == var.misregistered_band and var.misregistration_px != (0, 0):
            image[b] = np.roll(image[b], var.misregistration_px, axis=(0, 1))
        sigma = var.noise_gain * np.sqrt(SHOT_NOISE * np.clip(image[b], 0.0, None) + READ_NOISE**2)
        image[b] += sigma * flight_rng.standard_normal(grid.shape, dtype=np.float32)
    np.clip(image, 0.0, 1.0, out=image)
    if sensor.reflectance_scale:  # the camera's integer reflectance export (RedEdge-MX: 1/32768 steps)
        np.multiply(np.round(image * np.float32(sensor.reflectance_scale)), np.float32(1.0 / sensor.reflectance_scale),
                    out=image)
    valid = features.rasterize([(layout.footprint, 1)], out_shape=grid.shape, transform=grid.transform, fill=0,
                               dtype="uint8").astype(bool)
    image[:, ~valid] = np.nan
    return image, severity_all

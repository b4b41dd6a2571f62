"""Digital elevation models and terrain following.

A DEM may be in any CRS and unit. Elevations are converted to metres: the
band's own unit (GDAL ``units``: ``m``, ``ft``, ``US survey foot``...) when
set, else the vertical axis of a compound CRS, else the CRS's linear unit for
a projected CRS (a DEM in a US-survey-feet projection stores feet), else
metres.

Terrain following keeps a constant height above ground along every leg: the
ground profile under each leg is sampled every ``step`` metres and simplified
with Douglas-Peucker in the vertical (tolerance ``tol``); the kept vertices
become waypoints at ``ground + AGL``. Between waypoints the true ground
departs from the straight flight line by at most ``tol``, so the height above
ground stays within ``AGL ± tol``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer
from scipy.ndimage import map_coordinates

from pipeline.errors import GeoreferenceError, SceneNotFoundError

GroundFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Metres per unit, by the unit names GDAL and PROJ use.
UNIT_FACTORS = {
    "m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0,
    "ft": 0.3048, "foot": 0.3048, "feet": 0.3048, "international foot": 0.3048,
    "us survey foot": 1200.0 / 3937.0, "us-ft": 1200.0 / 3937.0, "ftus": 1200.0 / 3937.0,
}


@dataclass(frozen=True)
class Dem:
    """An elevation grid in metres with its georeferencing.

    Attributes:
        elevation_m: 2-D float array of elevations in metres (NaN = no data).
        transform: Affine pixel → CRS transform.
        crs: The DEM's CRS.
        unit: The elevation unit found in the file (before conversion).
        source: Where it came from.
    """

    elevation_m: np.ndarray
    transform: Affine
    crs: CRS
    unit: str
    source: str

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bilinear elevation (m) at DEM-CRS coordinates; NaN outside or on no-data."""
        inv = ~self.transform
        x, y = np.asarray(x, float), np.asarray(y, float)
        col = inv.a * x + inv.b * y + inv.c - 0.5
        row = inv.d * x + inv.e * y + inv.f - 0.5
        h, w = self.elevation_m.shape
        c0, r0 = np.floor(col).astype(int), np.floor(row).astype(int)
        out = np.full(np.shape(col), np.nan)
        ok = (c0 >= 0) & (r0 >= 0) & (c0 + 1 < w) & (r0 + 1 < h)
        if ok.any():  # linear spline = bilinear; a no-data (NaN) neighbour gives NaN
            out[ok] = map_coordinates(self.elevation_m, np.vstack([row[ok], col[ok]]), order=1, mode="nearest",
                                      prefilter=False)
        return out

    def ground_fn(self, crs: CRS | str | int) -> GroundFn:
        """A function giving ground elevation (m) at ``(x, y)`` arrays in ``crs``."""
        to_dem = Transformer.from_crs(CRS.from_user_input(crs), self.crs, always_xy=True)

        def ground(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            dx, dy = to_dem.transform(np.asarray(x, float), np.asarray(y, float))
            return self.sample(np.asarray(dx), np.asarray(dy))

        return ground


def elevation_unit(crs: CRS, band_unit: str | None) -> tuple[str, float]:
    """``(unit name, metres per unit)`` of a DEM's elevations (see the module rules)."""
    if band_unit and band_unit.strip().lower() in UNIT_FACTORS:
        return band_unit, UNIT_FACTORS[band_unit.strip().lower()]
    if crs.is_compound:
        for axis in crs.axis_info:
            if axis.direction == "up":
                return axis.unit_name, float(axis.unit_conversion_factor)
    if crs.is_projected and crs.axis_info:
        return crs.axis_info[0].unit_name, float(crs.axis_info[0].unit_conversion_factor)
    return "metre", 1.0


def load_dem(path: Path | str) -> Dem:
    """Read band 1 of a GeoTIFF DEM into metres.

    Raises:
        SceneNotFoundError: no such file.
        GeoreferenceError: the raster has no CRS.
    """
    import rasterio

    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"DEM {str(path)!r} does not exist; pass --dem with a GeoTIFF elevation model")
    with rasterio.open(path) as ds:
        if ds.crs is None:
            raise GeoreferenceError(f"DEM {str(path)!r} has no CRS; georeference it (e.g. gdal_edit.py -a_srs)")
        data = ds.read(1).astype(float)
        if ds.nodata is not None:
            data[data == ds.nodata] = np.nan
        crs = CRS.from_wkt(ds.crs.to_wkt())
        unit, factor = elevation_unit(crs, ds.units[0] if ds.units else None)
        return Dem(data * factor, ds.transform, crs, unit, str(path))


def _simplify_profile(s: np.ndarray, z: np.ndarray, tol: float) -> list[int]:
    keep = {0, len(s) - 1}
    stack = [(0, len(s) - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        chord = z[i] + (z[j] - z[i]) * (s[i + 1:j] - s[i]) / max(s[j] - s[i], 1e-9)
        dev = np.abs(z[i + 1:j] - chord)
        k = int(np.argmax(dev))
        if dev[k] > tol:
            m = i + 1 + k
            keep.add(m)
            stack += [(i, m), (m, j)]
    return sorted(keep)


def follow_terrain(
    points: list[tuple[float, float]], ground: GroundFn, tol_m: float = 3.0, step_m: float = 10.0
) -> list[tuple[float, float, float, bool]]:
    """Densify a 2-D path so that straight legs stay within ``tol_m`` of the ground profile.

    Args:
        points: Path vertices (x, y) in metres.
        ground: Ground elevation function for those coordinates (m).
        tol_m: Largest allowed departure of the ground from a straight leg, m.
        step_m: Ground sampling step along each leg, m.

    Returns:
        ``(x, y, ground_m, is_original_vertex)`` for every waypoint, in order.
        ``ground_m`` is NaN where the DEM has no data.
    """
    out: list[tuple[float, float, float, bool]] = []
    for i in range(len(points) - 1):
        (x0, y0), (x1, y1) = points[i], points[i + 1]
        length = math.dist((x0, y0), (x1, y1))
        n = max(2, math.ceil(length / step_m) + 1)
        t = np.linspace(0.0, 1.0, n)
        xs, ys = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        zs = ground(xs, ys)
        keep = [0, n - 1] if np.isnan(zs).any() else _simplify_profile(t * length, zs, tol_m)
        for k in keep[:-1]:
            out.append((float(xs[k]), float(ys[k]), float(zs[k]), k == 0))
    if points:
        gx = ground(np.array([points[-1][0]]), np.array([points[-1][1]]))
        out.append((points[-1][0], points[-1][1], float(gx[0]), True))
    return out


def path_agl_range(points3d: list[tuple[float, float, float]], ground: GroundFn, step_m: float = 5.0
                   ) -> tuple[float, float]:
    """(min, max) height above ground (m) along a 3-D path (z AMSL), sampled every ``step_m``."""
    lo, hi = math.inf, -math.inf
    for (x0, y0, z0), (x1, y1, z1) in itertools.pairwise(points3d):
        n = max(2, math.ceil(math.dist((x0, y0), (x1, y1)) / step_m) + 1)
        t = np.linspace(0.0, 1.0, n)
        agl = z0 + (z1 - z0) * t - ground(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
        if np.isnan(agl).all():
            continue
        lo, hi = min(lo, float(np.nanmin(agl))), max(hi, float(np.nanmax(agl)))
    return lo, hi

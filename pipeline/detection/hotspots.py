"""Disease hotspots: connected disease regions of the class map as WGS84 polygons.

Per strip, each disease class's 4-connected components are labelled
(``scipy.ndimage.label``), their pixel count and probability sum taken and
their outlines traced (``rasterio.features.shapes``). Pieces cut by strip
borders are merged at the end (union per class and field, then split into
separate polygons); a polygon's mean probability is the pixel-weighted mean of
its pieces. Polygons under ``min_area_m2`` are dropped as specks, and outlines are
simplified (Douglas–Peucker, tolerance ``simplify_m``, half a pixel by default).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.features import shapes
from scipy import ndimage
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from pipeline.common.geo import WGS84
from pipeline.detection.classes import CLASSES, DISEASE_IDS
from pipeline.detection.engine import Strip
from pipeline.detection.scenes import Field


@dataclass(frozen=True)
class Piece:
    """One connected disease region inside one strip."""

    class_id: int
    field_index: int
    geometry: BaseGeometry
    pixels: int
    probability_sum: float


@dataclass
class HotspotCollector:
    """Accumulates :class:`Piece` s strip by strip (see module docstring)."""

    transform: Affine
    simplify_m: float = 0.0
    pieces: list[Piece] = field(default_factory=list)

    def add(self, strip: Strip, min_pixels: int = 0) -> None:
        """Trace the disease components of a strip.

        Components smaller than ``min_pixels`` that do not touch the strip's top
        or bottom row (so cannot continue in a neighbouring strip) are specks and
        are dropped before tracing.
        """
        t = self.transform @ Affine.translation(0, strip.row0)
        prob = np.nan_to_num(strip.disease_probability, nan=0.0)
        for cid in DISEASE_IDS:
            mask = strip.classes == cid
            if not mask.any():
                continue
            comp, n = ndimage.label(mask)
            pixels = np.bincount(comp.ravel(), minlength=n + 1)
            psum = np.bincount(comp.ravel(), weights=prob.ravel(), minlength=n + 1)
            fmax = np.zeros(n + 1, np.int64)
            np.maximum.at(fmax, comp[mask], strip.field_index[mask])
            keep = pixels >= min_pixels
            keep[comp[0]] = True
            keep[comp[-1]] = True
            keep[0] = False
            if not keep.any():
                continue
            comp = np.where(keep[comp], comp, 0).astype(np.int32)
            polys: dict[int, list[BaseGeometry]] = defaultdict(list)
            for geom, value in shapes(comp, mask=comp > 0, connectivity=4, transform=t):
                polys[int(value)].append(shape(geom))
            for i, parts in polys.items():
                geom = parts[0] if len(parts) == 1 else unary_union(parts)
                self.pieces.append(Piece(cid, int(fmax[i]), geom, int(pixels[i]), float(psum[i])))

    def hotspots(
        self, crs: CRS | str, fields: Sequence[Field] | None, min_area_m2: float
    ) -> list[tuple[BaseGeometry, dict[str, Any]]]:
        """Merged hotspot polygons (WGS84) with their properties, largest first."""
        by_field = {f.index: f for f in fields or ()}
        to_wgs84 = _reprojector(crs)
        groups: dict[tuple[int, int], list[Piece]] = defaultdict(list)
        for p in self.pieces:
            groups[(p.class_id, p.field_index)].append(p)
        out = []
        for (cid, findex), pieces in groups.items():
            merged = unary_union([p.geometry for p in pieces])
            polygons = list(merged.geoms) if isinstance(merged, MultiPolygon) else [merged]
            for poly in polygons:
                if not isinstance(poly, Polygon) or poly.area < min_area_m2:
                    continue
                inside = [p for p in pieces if poly.intersects(p.geometry.representative_point())]
                npx = sum(p.pixels for p in inside)
                mean_p = sum(p.probability_sum for p in inside) / npx if npx else float("nan")
                fld = by_field.get(findex)
                outline = poly.simplify(self.simplify_m, preserve_topology=True) if self.simplify_m > 0 else poly
                centroid = to_wgs84(poly.centroid)
                props = {
                    "class": CLASSES[cid].name,
                    "crop": fld.crop if fld else CLASSES[cid].crop,
                    "field_id": fld.field_id if fld else None,
                    "area_m2": round(float(poly.area), 2),
                    "mean_probability": round(float(mean_p), 4),
                    "lat": round(float(centroid.y), 7),
                    "lon": round(float(centroid.x), 7),
                }
                out.append((to_wgs84(outline), props))
        out.sort(key=lambda gp: -float(gp[1]["area_m2"] or 0.0))
        return out


def _reprojector(crs: CRS | str) -> Callable[[BaseGeometry], BaseGeometry]:
    """A vectorised geometry reprojection ``crs`` → WGS84 (one pyproj Transformer, x=lon, y=lat)."""
    transformer = Transformer.from_crs(CRS.from_user_input(crs), WGS84, always_xy=True)

    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return lambda geom: shapely.transform(geom, apply)

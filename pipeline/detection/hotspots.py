"""Disease hotspots: connected disease regions of the class map as WGS84 polygons.

Two passes, memory bounded by one strip plus one hotspot's bounding box:

1. Strip by strip (:meth:`HotspotCollector.add`), each disease class's
   4-connected components are labelled (``scipy.ndimage.label``) and their
   pixel count, probability sum, field index (maximum) and bounding box taken
   with vectorised ``bincount`` / ``ndimage`` reductions. Components that touch
   a strip border are joined to the neighbouring strip's components with a
   union–find over the shared border rows (vertically adjacent pixels of the
   same class), so a hotspot cut by strip borders is one component. A
   component whose pixel count is under ``min_pixels`` is a speck and dropped
   as soon as it is complete — no outline is ever traced for it.
2. :meth:`HotspotCollector.hotspots` traces only the kept components: it reads
   each one's bounding box from the finished class raster, re-labels it (a
   connected component is connected inside its bounding box), fills holes
   smaller than ``min_pixels`` (specks of another class inside a hotspot) and
   traces the outline with ``rasterio.features.shapes``.

A hotspot's mean probability is its probability sum over its pixels (before
hole filling); outlines are simplified (Douglas–Peucker, tolerance
``simplify_m``, half a pixel by default) and polygons under ``min_area_m2``
are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.features import shapes
from rasterio.windows import Window
from scipy import ndimage
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from pipeline.common.atomic import atomic_write_text
from pipeline.common.geo import WGS84
from pipeline.core.fields import Field
from pipeline.detection.classes import CLASSES, DISEASE_IDS
from pipeline.detection.engine import Strip

#: Rows of the class raster read and polygonised at once when tracing hotspots.
TRACE_ROWS = 512
#: Decimal places of WGS84 output coordinates (1e-7° ≈ 1 cm, well under a pixel).
COORD_DECIMALS = 7


@dataclass
class Component:
    """Running statistics of one (possibly still growing) connected disease region.

    Rows/columns are scene pixel coordinates; ``row1``/``col1`` are exclusive.
    ``seed`` is one pixel of the region.
    """

    class_id: int
    pixels: int
    probability_sum: float
    field_index: int
    row0: int
    row1: int
    col0: int
    col1: int
    seed: tuple[int, int]

    def absorb(self, other: Component) -> None:
        """Merge ``other`` (a connected part of the same region) into this one."""
        self.pixels += other.pixels
        self.probability_sum += other.probability_sum
        self.field_index = max(self.field_index, other.field_index)
        self.row0, self.row1 = min(self.row0, other.row0), max(self.row1, other.row1)
        self.col0, self.col1 = min(self.col0, other.col0), max(self.col1, other.col1)


@dataclass
class _ClassState:
    """Open components of one disease class at the current strip border."""

    bottom_row: int = -1  # scene row of ``bottom`` (the previous strip's last row)
    bottom: np.ndarray | None = None  # (W,) component ids on that row, 0 = not this class


@dataclass
class HotspotCollector:
    """Collects disease components strip by strip (see module docstring)."""

    transform: Affine
    simplify_m: float = 0.0
    min_pixels: int = 0
    components: dict[int, Component] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    kept: list[Component] = field(default_factory=list)
    states: dict[int, _ClassState] = field(default_factory=dict)
    next_id: int = 1

    def _find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.components[ra].absorb(self.components.pop(rb))
            self.parent[rb] = ra

    def add(self, strip: Strip, min_pixels: int | None = None) -> None:
        """Label the disease components of a strip and join them to the strip above.

        Args:
            strip: Final rows of the class and probability rasters (strips come top to bottom).
            min_pixels: Components with fewer pixels are specks (default: the collector's ``min_pixels``).
        """
        if min_pixels is not None:
            self.min_pixels = min_pixels
        prob = strip.disease_probability  # finite on every disease pixel (NaN only at nodata)
        for cid in DISEASE_IDS:
            self._add_class(cid, strip, prob)

    def _add_class(self, cid: int, strip: Strip, prob: np.ndarray) -> None:
        state = self.states.setdefault(cid, _ClassState())
        touching_prev = state.bottom is not None and state.bottom_row == strip.row0 - 1
        prev_ids = np.unique(state.bottom) if state.bottom is not None else np.zeros(0, np.int64)
        candidates = {self._find(int(i)) for i in prev_ids if i}
        mask = strip.classes == cid
        if not mask.any():
            state.bottom = None
            self._finalise(candidates, set())
            return
        comp, n = ndimage.label(mask)
        pixels = np.bincount(comp.ravel(), minlength=n + 1)
        keep = pixels >= self.min_pixels
        keep[comp[0]] = True
        keep[comp[-1]] = True
        keep[0] = False
        relevant = np.flatnonzero(keep)
        # renumber the relevant components 1..m (specks become 0) so later reductions are over few labels
        lut = np.zeros(n + 1, np.int32)
        lut[relevant] = np.arange(1, len(relevant) + 1, dtype=np.int32)
        comp = lut[comp]
        inside = comp > 0
        psum = np.bincount(comp[inside], weights=prob[inside], minlength=len(relevant) + 1)
        fmax = np.zeros(len(relevant) + 1, np.int64)
        np.maximum.at(fmax, comp[inside], strip.field_index[inside])
        gid = np.zeros(len(relevant) + 1, np.int64)
        for lab, (rows, cols) in enumerate(ndimage.find_objects(comp), start=1):
            seed_col = cols.start + int(np.argmax(comp[rows.start, cols] == lab))
            new = self.next_id
            self.next_id += 1
            self.parent[new] = new
            self.components[new] = Component(cid, int(pixels[relevant[lab - 1]]), float(psum[lab]), int(fmax[lab]),
                                             strip.row0 + rows.start, strip.row0 + rows.stop, cols.start, cols.stop,
                                             (strip.row0 + rows.start, seed_col))
            gid[lab] = new
            candidates.add(new)
        if touching_prev and state.bottom is not None:
            top = gid[comp[0]]
            joined = (state.bottom > 0) & (top > 0)
            for a, b in set(zip(state.bottom[joined].tolist(), top[joined].tolist(), strict=True)):
                self._union(a, b)
        bottom = gid[comp[-1]]
        state.bottom, state.bottom_row = bottom, strip.row0 + comp.shape[0] - 1
        still_open = {self._find(int(i)) for i in np.unique(bottom) if i}
        self._finalise({self._find(c) for c in candidates}, still_open)

    def _finalise(self, candidates: set[int], still_open: set[int]) -> None:
        """Components among ``candidates`` that cannot grow any more: keep if large enough, else drop."""
        for root in candidates - still_open:
            comp = self.components.pop(root, None)
            if comp is not None and comp.pixels >= self.min_pixels:
                self.kept.append(comp)
        self._prune()

    def _prune(self) -> None:
        """Forget union–find entries of finished components (bounded memory on huge scenes)."""
        if len(self.parent) > 4 * len(self.components) + 1024:
            live = {i: self._find(i) for i in self.parent if self._find(i) in self.components}
            self.parent = {i: r for i, r in live.items()}
            for r in self.components:
                self.parent[r] = r

    def finish(self) -> list[Component]:
        """Close every open component (call after the last strip); the kept components."""
        open_roots = {self._find(i) for i in list(self.components)}
        self._finalise(open_roots, set())
        self.states.clear()
        return self.kept

    def hotspots(
        self, classes: rasterio.DatasetReader, crs: CRS | str, fields: Sequence[Field] | None, min_area_m2: float
    ) -> list[tuple[BaseGeometry, dict[str, Any]]]:
        """Hotspot polygons (WGS84) with their properties, largest first.

        Args:
            classes: The finished class raster (same grid as the strips), read window by window.
            crs: CRS of that raster.
            fields: Fields of the scene (for ``field_id`` and ``crop``), if any.
            min_area_m2: Polygons with a smaller area are dropped.
        """
        by_field = dict(enumerate(fields or (), 1))
        to_wgs84 = _reprojector(crs)
        comps = sorted(self.finish(), key=lambda c: (c.row0, c.col0))
        traced = self._outlines(classes, comps)
        keep = [i for i, g in enumerate(traced) if g is not None]
        polys = np.array([traced[i] for i in keep], dtype=object)
        areas = shapely.area(polys) if len(polys) else np.zeros(0)
        big = areas >= min_area_m2
        comps, polys, areas = [comps[i] for i, b in zip(keep, big, strict=True) if b], polys[big], areas[big]
        outlines = shapely.simplify(polys, self.simplify_m, preserve_topology=True) if self.simplify_m > 0 else polys
        outlines, centroids = to_wgs84(outlines), to_wgs84(shapely.centroid(polys))
        out = []
        for comp, outline, centroid, area in zip(comps, outlines, centroids, areas, strict=True):
            fld = by_field.get(comp.field_index)
            props = {
                "class": CLASSES[comp.class_id].name,
                "crop": fld.crop if fld else CLASSES[comp.class_id].crop,
                "field_id": fld.field_id if fld else None,
                "area_m2": round(float(area), 2),
                "mean_probability": round(comp.probability_sum / comp.pixels, 4),
                "lat": round(float(centroid.y), 7),
                "lon": round(float(centroid.x), 7),
            }
            out.append((outline, props))
        out.sort(key=lambda gp: -float(gp[1]["area_m2"] or 0.0))
        return out

    def _outlines(self, classes: rasterio.DatasetReader, comps: Sequence[Component]) -> list[BaseGeometry | None]:
        """Polygons of components sorted by first row (small holes filled); ``None`` if not found.

        Components are traced in groups spanning at most :data:`TRACE_ROWS` rows:
        the group's block of the class raster is read once, each component is
        re-labelled inside its bounding box (a connected region is connected
        inside its bounding box) and burnt with its own id, and the block is
        polygonised once (``rasterio.features.shapes``, 4-connected).
        """
        out: list[BaseGeometry | None] = [None] * len(comps)
        i = 0
        while i < len(comps):
            row0, row1, j = comps[i].row0, comps[i].row1, i + 1
            while j < len(comps) and max(row1, comps[j].row1) - row0 <= TRACE_ROWS:
                row1, j = max(row1, comps[j].row1), j + 1
            col0, col1 = min(c.col0 for c in comps[i:j]), max(c.col1 for c in comps[i:j])
            block = classes.read(1, window=Window(col0, row0, col1 - col0, row1 - row0))
            ids = np.zeros(block.shape, np.int32)
            for k in range(i, j):
                comp = comps[k]
                box = (slice(comp.row0 - row0, comp.row1 - row0), slice(comp.col0 - col0, comp.col1 - col0))
                labelled, _ = ndimage.label(block[box] == comp.class_id)
                seed = labelled[comp.seed[0] - comp.row0, comp.seed[1] - comp.col0]
                if seed:
                    region = labelled == seed
                    fill_small_holes(region, self.min_pixels)
                    ids[box][region] = k + 1
            t = self.transform @ Affine.translation(col0, row0)
            parts: dict[int, list[BaseGeometry]] = {}
            for geom, value in shapes(ids, mask=ids > 0, connectivity=4, transform=t):
                parts.setdefault(int(value) - 1, []).append(shape(geom))
            for k, pieces in parts.items():
                out[k] = pieces[0] if len(pieces) == 1 else unary_union(pieces)
            i = j
        return out


def fill_small_holes(region: np.ndarray, min_pixels: int) -> None:
    """Set holes of ``region`` (bool, in place) with fewer than ``min_pixels`` pixels to True."""
    if min_pixels <= 1:
        return
    holes = ndimage.binary_fill_holes(region) & ~region
    if not holes.any():
        return
    lab, n = ndimage.label(holes)
    small = np.bincount(lab.ravel(), minlength=n + 1) < min_pixels
    small[0] = False
    region |= small[lab]


def write_hotspots_geojson(path: Path, hotspots: Sequence[tuple[BaseGeometry, dict[str, Any]]]) -> Path:
    """Write hotspots as a compact WGS84 GeoJSON FeatureCollection, atomically.

    Compact separators let :mod:`json` use its C encoder (an indented dump runs
    the pure-Python encoder, seconds for large outlines).
    """
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": props, "geometry": mapping(geom)}
                        for geom, props in hotspots]}
    return atomic_write_text(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")


def _reprojector(crs: CRS | str) -> Callable[[BaseGeometry], BaseGeometry]:
    """A vectorised geometry reprojection ``crs`` → WGS84 (one pyproj Transformer, x=lon, y=lat)."""
    transformer = Transformer.from_crs(CRS.from_user_input(crs), WGS84, always_xy=True)

    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), COORD_DECIMALS)

    return lambda geom: shapely.transform(geom, apply)

"""Survey geometry: footprint, land-cover bands, terraced fields and disease patches.

Everything is built in a local valley frame ``(u, v)`` in metres (``u`` along the
valley, ``v`` up the hillside), rotated by ``angle`` and centred on
``(centre_e, centre_n)`` in the projected CRS. Across the valley, from ``v = -Lv/2``:
river (Shimanto-gawa) with a gravel bar, a farm road, terraced fields (rice in the
lower rows, ginger on the upper terraces) and hill forest. Only the layout seed
enters here, so a season of flights with the same layout seed shares fields,
growers, planting dates and disease origins.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import shapely
from shapely import affinity, segmentize, transform
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.common.geo import JGD2011_UTM53N
from pipeline.core.fields import Field
from pipeline.simulate.canopy import diseases_of
from pipeline.simulate.patches import Patch, patches_for

FAMILY_NAMES = ("山本", "岡林", "西村", "竹内", "浜田", "中平", "植田", "川村", "宮地", "松岡")
GIVEN_NAMES = ("健一", "和子", "誠", "幸子", "博", "千代", "正人", "美穂", "隆", "恵子")
#: Width of the grass levees (aze) between fields, metres.
LEVEE_M = 1.0
#: Planting dates spread over this many days after the crop's first planting day (Apr 5 rice, Apr 22 ginger).
PLANTING_SPREAD_DAYS = {"rice": 10, "ginger": 7}
#: Farm block in the valley frame, as fractions of (Lu, Lv).
FARM_U = (-0.44, 0.44)
FARM_V = (-0.19, 0.33)


@dataclass(frozen=True)
class Building:
    """A farmhouse or shed.

    Attributes:
        polygon: Roof outline in the projected CRS.
        roof: Land-cover name of the roof material.
        height_m: Eaves height used for its shadow, metres.
    """

    polygon: Polygon
    roof: str
    height_m: float


@dataclass(frozen=True)
class Layout:
    """The static geometry of a survey site.

    Attributes:
        centre: ``(easting, northing)`` of the valley frame origin, metres.
        angle_rad: Rotation of the valley frame (``u`` axis) from east, counter-clockwise.
        size: ``(Lu, Lv)`` extent of the surveyed block, metres.
        footprint: Irregular outline of the mosaic (valid data), projected CRS.
        fields: The fields (:class:`~pipeline.core.fields.Field`, geometry in the projected CRS
            :data:`~pipeline.common.geo.JGD2011_UTM53N`).
        vigour: Field-level vigour factor per field ID (management, fertiliser), about 0.9-1.1.
        patches: Disease patches (at any progress).
        river: ``(v0, amplitude, wavelength, phase, width)`` of the river centreline ``v(u)``.
        road_v: ``v`` of the farm road centreline.
        forest: ``(v0, amplitude, wavelength, phase)`` of the forest edge ``v(u)``.
    """

    centre: tuple[float, float]
    angle_rad: float
    size: tuple[float, float]
    footprint: Polygon
    fields: tuple[Field, ...]
    vigour: Mapping[str, float]
    patches: tuple[Patch, ...]
    river: tuple[float, float, float, float, float]
    road_v: float
    forest: tuple[float, float, float, float]
    buildings: tuple[Building, ...] = ()

    def river_v(self, u: np.ndarray) -> np.ndarray:
        """Valley-frame ``v`` of the river centreline at ``u``."""
        v0, amp, wave, phase, _ = self.river
        return v0 + amp * np.sin(2 * np.pi * u / wave + phase)

    def forest_v(self, u: np.ndarray) -> np.ndarray:
        """Valley-frame ``v`` of the hill-forest edge at ``u``."""
        v0, amp, wave, phase = self.forest
        return v0 + amp * np.sin(2 * np.pi * u / wave + phase)

    def to_local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Projected ``(x, y)`` to valley-frame ``(u, v)`` (float32; broadcasts ``(1, n)`` with ``(m, 1)``).

        ``u = dx cos a + dy sin a``, ``v = -dx sin a + dy cos a`` with ``(dx, dy)`` from the centre;
        each term is rounded to float32 before the sum so that a raster grid costs one pass per axis.
        """
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        dx, dy = np.asarray(x, dtype=np.float64) - self.centre[0], np.asarray(y, dtype=np.float64) - self.centre[1]
        u = (dx * c).astype(np.float32) + (dy * s).astype(np.float32)
        v = (-dx * s).astype(np.float32) + (dy * c).astype(np.float32)
        return u, v


def _to_crs(geom: BaseGeometry, centre: tuple[float, float], angle_rad: float) -> BaseGeometry:
    rotated = affinity.rotate(geom, angle_rad, origin=(0.0, 0.0), use_radians=True)
    return affinity.translate(rotated, centre[0], centre[1])


def _footprint(rng: np.random.Generator, lu: float, lv: float) -> Polygon:
    """Jagged block outline with one chamfered corner (a mosaic's ragged edge)."""
    corners = [(-lu / 2, -lv / 2), (lu / 2, -lv / 2), (lu / 2, lv / 2), (-lu / 2, lv / 2)]
    cut = int(rng.integers(0, 4))
    chamfer = float(rng.uniform(0.06, 0.12)) * min(lu, lv)
    points: list[tuple[float, float]] = []
    for i, (x0, y0) in enumerate(corners):
        x1, y1 = corners[(i + 1) % 4]
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = (y1 - y0) / length, -(x1 - x0) / length  # outward normal (counter-clockwise ring)
        for t in np.linspace(0.0, 1.0, 9)[:-1]:
            if i == cut and t == 0.0:
                continue
            jitter = float(rng.uniform(-0.025, 0.04)) * min(lu, lv)
            points.append((x0 + t * (x1 - x0) + jitter * nx, y0 + t * (y1 - y0) + jitter * ny))
        if (i + 1) % 4 == cut:
            points.append((x1 - chamfer * (x1 - x0) / length, y1 - chamfer * (y1 - y0) / length))
            xn, yn = corners[(i + 2) % 4]
            points.append((x1 + chamfer * (xn - x1) / length, y1 + chamfer * (yn - y1) / length))
    return Polygon(points).buffer(0)


def _smooth_warp(rng: np.random.Generator, amplitude: float, lu: float) -> Callable[[BaseGeometry], BaseGeometry]:
    """A smooth, invertible displacement ``(u, v) -> (u + du, v + dv)`` shared by all cells.

    ``du, dv = sum_i a_i sin(2 pi (u cos t_i + v sin t_i) / w_i + p_i)`` over three waves with
    wavelengths ``w_i`` of 0.25-0.6 ``Lu`` and ``a_i <= amplitude / 3``: neighbouring fields bend together,
    so levees stay shared while no boundary stays straight.
    """
    waves = [(float(rng.uniform(0, amplitude / 3)), float(rng.uniform(0, np.pi)), float(rng.uniform(0.25, 0.6)) * lu,
              float(rng.uniform(0, 2 * np.pi))) for _ in range(6)]

    def shift(u: np.ndarray, v: np.ndarray, part: list[tuple[float, float, float, float]]) -> np.ndarray:
        out = np.zeros_like(u)
        for a, t, w, p in part:
            out = out + a * np.sin(2 * np.pi * (u * np.cos(t) + v * np.sin(t)) / w + p)
        return out

    def apply(geom: BaseGeometry) -> BaseGeometry:
        def move(coords: np.ndarray) -> np.ndarray:
            u, v = coords[:, 0], coords[:, 1]
            return np.column_stack([u + shift(u, v, waves[:3]), v + shift(u, v, waves[3:])])

        return transform(geom, move)

    return apply


def _cells(rng: np.random.Generator, rows: int, cols: int, uf: tuple[float, float], vf: tuple[float, float],
           lu: float) -> list[list[Polygon]]:
    """Terrace cells: contour-like curved row boundaries, slanted jittered column boundaries per row."""
    du, dv = (uf[1] - uf[0]) / cols, (vf[1] - vf[0]) / rows
    us = np.linspace(-lu, lu, 81)
    v_base = np.linspace(vf[0], vf[1], rows + 1)
    row_curves = []
    for j, v0 in enumerate(v_base):
        jitter = float(rng.uniform(-0.12, 0.12)) * dv if 0 < j < rows else 0.0
        amp = float(rng.uniform(0.05, 0.2)) * dv
        wave = float(rng.uniform(0.7, 1.6)) * lu
        phase = float(rng.uniform(0, 2 * np.pi))
        row_curves.append(v0 + jitter + amp * np.sin(2 * np.pi * us / wave + phase))
    warp = _smooth_warp(rng, 0.2 * min(du, dv), lu)
    block = Polygon([(uf[0], vf[0]), (uf[1], vf[0]), (uf[1], vf[1]), (uf[0], vf[1])])
    cells: list[list[Polygon]] = []
    for j in range(rows):
        band = Polygon(np.vstack([np.column_stack([us, row_curves[j]]),
                                  np.column_stack([us[::-1], row_curves[j + 1][::-1]])])).buffer(0)
        vs = np.linspace(vf[0] - dv * rows, vf[1] + dv * rows, 5)
        col_lines = []
        for k, u0 in enumerate(np.linspace(uf[0], uf[1], cols + 1)):
            jitter = float(rng.uniform(-0.15, 0.15)) * du if 0 < k < cols else float(rng.uniform(-0.04, 0.04)) * du
            max_slant = min(0.35, 0.3 * du / dv)  # neighbouring boundaries never cross within the row
            slant = float(rng.uniform(-max_slant, max_slant))
            col_lines.append(u0 + jitter + slant * (vs - 0.5 * (v_base[j] + v_base[j + 1])))
        row_cells = []
        for k in range(cols):
            strip = Polygon(np.vstack([np.column_stack([col_lines[k], vs]),
                                       np.column_stack([col_lines[k + 1][::-1], vs[::-1]])])).buffer(0)
            cell = band.intersection(strip).intersection(block)
            cell = warp(segmentize(cell, 1.0)).buffer(-LEVEE_M / 2, join_style="mitre")
            if isinstance(cell, MultiPolygon):
                cell = max(cell.geoms, key=lambda g: g.area)
            row_cells.append(Polygon(cell.exterior).simplify(0.05))
        cells.append(row_cells)
    return cells


def grid_shape(lu: float, lv: float) -> tuple[int, int]:
    """Rows and columns of fields: about 0.12 ha per field (Shimanto valley paddies), at least 2 x 3."""
    farm_area = (FARM_U[1] - FARM_U[0]) * lu * (FARM_V[1] - FARM_V[0]) * lv
    n = max(6, round(farm_area / 1200.0))
    aspect = ((FARM_U[1] - FARM_U[0]) * lu) / ((FARM_V[1] - FARM_V[0]) * lv)
    rows = max(2, round(math.sqrt(n / aspect)))
    return rows, max(3, math.ceil(n / rows))


def build_layout(layout_seed: int, hectares: float, centre: tuple[float, float], season_year: int) -> Layout:
    """Generate the site: footprint, land-cover lines, fields and disease patches.

    Args:
        layout_seed: Seed of everything static (same seed, same site).
        hectares: Target area of the footprint, ha.
        centre: ``(easting, northing)`` of the site centre in the projected CRS.
        season_year: Year of the planting dates.
    """
    rng = np.random.default_rng([layout_seed, 0x1A7])
    lu = math.sqrt(hectares * 1e4 * 1.2)
    lv = hectares * 1e4 / lu
    angle = math.radians(float(rng.uniform(-12.0, 12.0)))
    footprint = _to_crs(_footprint(rng, lu, lv), centre, angle)
    rows, cols = grid_shape(lu, lv)
    cells = _cells(rng, rows, cols, (FARM_U[0] * lu, FARM_U[1] * lu), (FARM_V[0] * lv, FARM_V[1] * lv), lu)
    inner = footprint.buffer(-LEVEE_M)
    growers = [f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}" for _ in range(max(3, rows * cols // 2))]
    fields: list[Field] = []
    vigour: dict[str, float] = {}
    for j, row in enumerate(cells):
        crop = "rice" if j < math.ceil(rows / 2) else "ginger"
        for cell in row:
            polygon = _to_crs(cell, centre, angle)
            if not inner.contains(polygon):
                continue
            idx = len(fields)
            start = dt.date(season_year, 4, 5) if crop == "rice" else dt.date(season_year, 4, 22)
            fields.append(Field(
                field_id=f"F{idx + 1:02d}", crop=crop, grower=str(rng.choice(growers)),
                planted=start + dt.timedelta(days=int(rng.integers(0, PLANTING_SPREAD_DAYS[crop] + 1))), open_data=True,
                geometry=polygon, crs=JGD2011_UTM53N,
            ))
            vigour[fields[-1].field_id] = float(rng.uniform(0.9, 1.1))
    private = int(rng.integers(0, len(fields)))
    fields[private] = dataclasses.replace(fields[private], open_data=False)
    patches: list[Patch] = []
    for crop in ("rice", "ginger"):
        members = [f for f in fields if f.crop == crop]
        order = [members[int(i)] for i in rng.permutation(len(members))]
        n_healthy = max(1, len(members) // 3)
        classes = diseases_of(crop)
        for i, field in enumerate(order[n_healthy:]):
            patches.extend(patches_for(rng, field, classes[i % len(classes)]))
    river = (-0.42 * lv, float(rng.uniform(0.02, 0.05)) * lv, float(rng.uniform(1.2, 2.5)) * lu,
             float(rng.uniform(0, 2 * np.pi)), max(6.0, 0.12 * lv))
    forest = (0.38 * lv, float(rng.uniform(0.005, 0.02)) * lv, float(rng.uniform(0.3, 0.8)) * lu,
              float(rng.uniform(0, 2 * np.pi)))
    layout = Layout(centre, angle, (lu, lv), footprint, tuple(fields), MappingProxyType(vigour), tuple(patches), river,
                    -0.25 * lv, forest)
    return dataclasses.replace(layout, buildings=_buildings(np.random.default_rng([layout_seed, 0xB1D]), layout))


def _buildings(rng: np.random.Generator, layout: Layout) -> tuple[Building, ...]:
    """Farmhouses and sheds on free ground: off fields, road, river banks and forest."""
    lu, lv = layout.size
    _, _, _, _, river_width = layout.river
    keep_out = shapely.union_all([f.geometry.buffer(2.0) for f in layout.fields])
    inner = layout.footprint.buffer(-2.0)
    wanted = min(8, max(2, round(lu * lv / 1e4 * 1.5)))
    out: list[Building] = []
    for _ in range(60 * wanted):
        if len(out) == wanted:
            break
        w, d = float(rng.uniform(5.0, 10.0)), float(rng.uniform(6.0, 13.0))
        u0, v0 = float(rng.uniform(-0.47, 0.47)) * lu, float(rng.uniform(-0.5, 0.5)) * lv
        local = affinity.rotate(Polygon([(-d / 2, -w / 2), (d / 2, -w / 2), (d / 2, w / 2), (-d / 2, w / 2)]),
                                float(rng.uniform(-8, 8)), origin=(0, 0))
        local = affinity.translate(local, u0, v0)
        corners = np.asarray(local.exterior.coords)
        u, v = corners[:, 0], corners[:, 1]
        clear = (np.all(np.abs(v - layout.road_v) > 4.0) and np.all(v - layout.river_v(u) > 1.6 * river_width)
                 and np.all(v < layout.forest_v(u) - 3.0))
        polygon = _to_crs(local, layout.centre, layout.angle_rad)
        if not clear or not inner.contains(polygon) or polygon.intersects(keep_out):
            continue
        if any(polygon.distance(b.polygon) < 3.0 for b in out):
            continue
        roof = str(rng.choice(("roof_metal", "roof_tile")))
        out.append(Building(polygon, roof, float(rng.uniform(4.0, 7.5))))
    return tuple(out)

"""Field maps for growers: index raster, field outline, numbered areas, legend, scale bar, north arrow.

Uses matplotlib's object API (``Figure`` + Agg canvas), never ``pyplot``, so no global state
changes; the Japanese font is passed explicitly to every text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrow
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.common.atomic import atomic_path
from pipeline.common.fontfile import ipaex_gothic_path
from pipeline.common.geo import reproject_geometry
from pipeline.outputs.analysis import FieldSummary, IndexWindow
from pipeline.outputs.places import nice_scale_length

#: Perceptually uniform and colour-blind safe (viridis); outlines in white with a black halo.
COLORMAP = "viridis"
HALO = [patheffects.withStroke(linewidth=5, foreground="black")]


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def _outline(ax: object, geom: BaseGeometry, colour: str, width: float, dashed: bool = False) -> None:
    for poly in _polygons(geom):
        xs, ys = poly.exterior.xy
        ax.plot(xs, ys, color="black", linewidth=width + 2.5, solid_capstyle="round")  # type: ignore[attr-defined]
        ax.plot(  # type: ignore[attr-defined]
            xs, ys, color=colour, linewidth=width, linestyle="--" if dashed else "-", solid_capstyle="round"
        )


def label_positions(points: Sequence[tuple[float, float]], spacing: float) -> list[tuple[float, float]]:
    """Where to draw numbered labels so that no two are closer than ``spacing`` (map units).

    Each label stays on its point when free, else moves to the first free of eight positions at
    ``spacing`` around it, then at twice that distance (a leader line shows the real spot).
    """
    placed: list[tuple[float, float]] = []
    ring = [(1, 0), (-1, 0), (0, 1), (0, -1), (0.7, 0.7), (-0.7, 0.7), (0.7, -0.7), (-0.7, -0.7)]
    for x, y in points:
        candidates = [(x, y)] + [(x + dx * k * spacing, y + dy * k * spacing) for k in (1, 2) for dx, dy in ring]
        choice = next(
            (c for c in candidates if all(math.hypot(c[0] - qx, c[1] - qy) >= spacing for qx, qy in placed)),
            candidates[0],
        )
        placed.append(choice)
    return placed


def render_field_map(summary: FieldSummary, window: IndexWindow | None, crs: CRS, path: Path, dpi: int) -> Path:
    """Draw one field's map to a PNG, atomically.

    Args:
        summary: The field's figures and numbered findings.
        window: The index raster around the field (``None``: outline only).
        crs: CRS of ``summary.field.geometry`` and the findings' geometries.
        path: Destination PNG.
        dpi: Resolution.
    """
    font = FontProperties(fname=str(ipaex_gothic_path()))
    big = font.copy()
    big.set_size(15)
    fig = Figure(figsize=(7.2, 6.0), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.80, 0.98))
    draw_crs = window.crs if window is not None else crs

    def to_draw(geom: BaseGeometry) -> BaseGeometry:
        return reproject_geometry(geom, crs, draw_crs)

    field_geom = to_draw(summary.field.geometry)
    if window is not None:
        values = np.ma.masked_invalid(window.values)
        finite = window.values[np.isfinite(window.values)]
        vmin, vmax = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
        if vmax - vmin < 0.05:
            vmin, vmax = vmin - 0.025, vmax + 0.025
        image = ax.imshow(values, extent=window.extent, cmap=COLORMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
        cax = fig.add_axes((0.85, 0.06, 0.04, 0.46))
        bar = fig.colorbar(image, cax=cax)
        bar.ax.tick_params(labelsize=11)
        bar.ax.text(0.5, 1.03, "良い", transform=bar.ax.transAxes, ha="center", va="bottom", fontproperties=font,
                    fontsize=14)
        bar.ax.text(0.5, -0.02, "弱い", transform=bar.ax.transAxes, ha="center", va="top", fontproperties=font,
                    fontsize=14)
        fig.text(0.87, 0.58, window.name.upper(), ha="center", va="bottom", fontproperties=font, fontsize=15)
    _outline(ax, field_geom, "white", 2.5)
    minx, miny, maxx, maxy = field_geom.bounds
    pad = max(5.0, 0.12 * max(maxx - minx, maxy - miny))
    listed = {id(a) for f in summary.findings for a in (f.areas or (f.hotspot,))}
    for spot in summary.hotspots:  # candidates not listed: thin outlines (counted in the page text)
        if id(spot) not in listed:
            _outline(ax, to_draw(spot.metric), "#ff5fd2", 0.8)
    for finding in summary.findings:
        for area in finding.areas or (finding.hotspot,):
            _outline(ax, to_draw(area.metric), "#ff5fd2", 2.0)  # magenta stands out against viridis
    points = [to_draw(f.point_metric) for f in summary.findings]
    spots = [(p.x, p.y) for p in points]
    labels = label_positions(spots, 0.075 * (max(maxx - minx, maxy - miny) + 2 * pad))
    for finding, (px, py), (lx, ly) in zip(summary.findings, spots, labels, strict=True):
        if (lx, ly) != (px, py):  # moved aside: a leader line to the real spot
            ax.plot([px, lx], [py, ly], color="white", linewidth=1.5)
            ax.plot([px], [py], marker="o", markersize=5, color="white", markeredgecolor="black")
        ax.text(
            lx, ly, str(finding.number), ha="center", va="center",
            fontproperties=big, color="black", fontweight="bold",
            bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "black", "linewidth": 1.5},
        )
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, font, minx - pad, maxx + pad, miny - pad, maxy + pad)
    _north_arrow(fig, font)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return path


def _scale_bar(ax: object, font: FontProperties, x0: float, x1: float, y0: float, y1: float) -> None:
    length = nice_scale_length(x1 - x0)
    left, base = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([left, left + length], [base, base], color="white", linewidth=6,  # type: ignore[attr-defined]
            solid_capstyle="butt", path_effects=HALO)
    label = f"{length:g} m"
    ax.text(left + length / 2, base + 0.025 * (y1 - y0), label, ha="center", va="bottom",  # type: ignore[attr-defined]
            fontproperties=font, fontsize=13, color="white", path_effects=HALO)


def _north_arrow(fig: Figure, font: FontProperties, x: float = 0.87, y: float = 0.80, head_width: float = 0.06
                 ) -> None:
    """North arrow in the right-hand column (grid north = up), its base at figure ``(x, y)``, "北" below it."""
    fig.patches.append(
        FancyArrow(x, y, 0, 0.12, width=0.02, head_width=head_width, head_length=0.05, transform=fig.transFigure,
                   facecolor="black", edgecolor="black", figure=fig)
    )
    fig.text(x, round(y - 0.03, 4), "北", ha="center", va="top", fontproperties=font, fontsize=18)


def render_overview(
    summaries: Sequence[FieldSummary], window: IndexWindow | None, crs: CRS, path: Path, dpi: int
) -> Path:
    """All of a grower's fields on one map for the cover page: outlines, field IDs, number of areas.

    The background is the NDVI in grey (roads, houses and rivers stay recognisable); fields with
    areas of concern are outlined in magenta.
    """
    font = FontProperties(fname=str(ipaex_gothic_path()))
    fig = Figure(figsize=(5.6, 4.2), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.86, 0.98))
    draw_crs = window.crs if window is not None else crs
    geoms = [reproject_geometry(s.field.geometry, crs, draw_crs) for s in summaries]
    if window is not None:
        ax.imshow(np.ma.masked_invalid(window.values), extent=window.extent, cmap="gray", vmin=-0.2, vmax=1.0,
                  alpha=0.7, interpolation="nearest")
    for s, geom in zip(summaries, geoms, strict=True):
        _outline(ax, geom, "#ff5fd2" if s.findings else "white", 3.0 if s.findings else 2.5)
        label = s.field.field_id + (f"\n{len(s.findings)}か所" if s.findings else "")
        spot = geom.representative_point()
        # parse_math=False: a field ID is user text, shown literally ("$x$" is not mathtext)
        ax.text(spot.x, spot.y, label, ha="center", va="center", fontproperties=font, fontsize=14, parse_math=False,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "black", "linewidth": 1.2})
    minx = min(g.bounds[0] for g in geoms)
    miny = min(g.bounds[1] for g in geoms)
    maxx = max(g.bounds[2] for g in geoms)
    maxy = max(g.bounds[3] for g in geoms)
    pad = max(10.0, 0.08 * max(maxx - minx, maxy - miny))
    x0, x1, y0, y1 = minx - pad, maxx + pad, miny - pad, maxy + pad
    # Keep the 8:6 figure filled: widen the shorter side around its centre.
    aspect = (0.86 * 5.6) / (0.98 * 4.2)
    if (x1 - x0) / (y1 - y0) < aspect:
        grow = ((y1 - y0) * aspect - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = ((x1 - x0) / aspect - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, font, x0, x1, y0, y1)
    _north_arrow(fig, font, x=0.935, y=0.78, head_width=0.05)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return path

"""Per-field figures for the grower reports: index mean, areas of concern, findings.

Raster reading is confined to :func:`read_index_window`; the rest is pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import rasterio
import rasterio.windows
from affine import Affine
from pyproj import CRS
from rasterio.features import geometry_mask
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from pipeline.common.geo import reproject_geometry
from pipeline.core.fields import Field
from pipeline.core.io import FlightFields
from pipeline.core.scouting import ScoutingPoint
from pipeline.errors import InputError
from pipeline.outputs.config import ReportConfig
from pipeline.outputs.inputs import Hotspot, index_path
from pipeline.outputs.places import relative_position, scouting_point
from pipeline.outputs.scoutfile import ScoutingInput
from pipeline.outputs.wording import confidence_word, finding_sentence, place_words

MAPS_URL = "https://www.google.com/maps/search/?api=1&query={lat:.6f},{lon:.6f}"


@dataclass(frozen=True)
class IndexWindow:
    """A piece of an index map around one field.

    Attributes:
        name: Index name (``ndvi``, ``ndre``...).
        values: 2-D float array, NaN outside data.
        transform: Affine of the window.
        crs: CRS of the raster.
    """

    name: str
    values: np.ndarray
    transform: Affine
    crs: CRS

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` in CRS units, for ``imshow(extent=...)``."""
        rows, cols = self.values.shape
        left, top = self.transform @ (0, 0)
        right, bottom = self.transform @ (cols, rows)
        return left, right, bottom, top


@dataclass(frozen=True)
class Finding:
    """One area of concern, numbered within its field, with where to walk."""

    number: int
    hotspot: Hotspot
    place: str
    sentence: str
    confidence: str
    point_metric: Point
    lat: float
    lon: float
    point_id: str = ""
    areas: tuple[Hotspot, ...] = ()

    @property
    def maps_url(self) -> str:
        """Google Maps search URL of the scouting point (opens the app on iOS and Android).

        The stable point ID (``flight:field:rank``) rides in the URL fragment, which map apps
        ignore, so a scanned QR code names the same point as the PDF, KML and GeoJSON.
        """
        url = MAPS_URL.format(lat=self.lat, lon=self.lon)
        return f"{url}#{quote(self.point_id, safe=':')}" if self.point_id else url


@dataclass(frozen=True)
class FieldSummary:
    """Everything a report page says about one field."""

    field: Field
    index: str
    index_mean: float | None
    ndvi_mean: float | None
    concern_m2: float
    findings: tuple[Finding, ...]
    unlisted: int = 0
    hotspots: tuple[Hotspot, ...] = ()

    @property
    def concern_pct(self) -> float:
        """Area of concern as a percentage of the field area."""
        return 100.0 * self.concern_m2 / self.field.area_m2 if self.field.area_m2 > 0 else 0.0


def _scene_ndvi(scene: Path, window_bounds: tuple[float, float, float, float]) -> tuple[np.ndarray, Affine, CRS]:
    """NDVI = (nir - red) / (nir + red) from ``scene.tif`` (fallback when the index map is missing)."""
    with rasterio.open(scene) as src:
        names = [str(d or "").lower() for d in src.descriptions]
        if "nir" not in names or "red" not in names:
            raise InputError(
                f"{str(scene)!r} has bands {names}, need 'nir' and 'red' to compute NDVI; "
                "pass --indices with an ndvi.tif"
            )
        win = rasterio.windows.from_bounds(*window_bounds, transform=src.transform).round_offsets().round_lengths()
        nir = src.read(names.index("nir") + 1, window=win, boundless=True, fill_value=np.nan).astype("float64")
        red = src.read(names.index("red") + 1, window=win, boundless=True, fill_value=np.nan).astype("float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            ndvi = (nir - red) / (nir + red)
        return ndvi.astype("float32"), src.window_transform(win), CRS.from_user_input(src.crs)


def read_index_window(
    indices_dir: Path | None, scene: Path, index: str, geom: BaseGeometry, geom_crs: CRS, margin_m: float
) -> IndexWindow | None:
    """Read index ``index`` around ``geom`` (plus ``margin_m``); NDVI falls back to the scene.

    Returns:
        The window, or ``None`` when the index is neither in ``indices_dir`` nor computable.
    """
    path = index_path(indices_dir, index) if indices_dir is not None else None
    if path is None:
        if index != "ndvi":
            return None
        minx, miny, maxx, maxy = geom.bounds
        bounds = (minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
        values, transform, crs = _scene_ndvi(scene, bounds)
        return IndexWindow(index, values, transform, crs)
    with rasterio.open(path) as src:
        crs = CRS.from_user_input(src.crs) if src.crs else geom_crs
        g = reproject_geometry(geom, geom_crs, crs)
        minx, miny, maxx, maxy = g.bounds
        win = rasterio.windows.from_bounds(
            minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m, transform=src.transform
        ).round_offsets().round_lengths()
        values = src.read(1, window=win, boundless=True, fill_value=np.nan).astype("float32")
        if src.nodata is not None and not math.isnan(src.nodata):
            values[values == src.nodata] = np.nan
        return IndexWindow(index, values, src.window_transform(win), crs)


def zonal_mean(window: IndexWindow, geom: BaseGeometry, geom_crs: CRS) -> float | None:
    """Mean of the finite pixels whose centres fall inside ``geom`` (``None`` when there are none)."""
    g = reproject_geometry(geom, geom_crs, window.crs)
    if window.values.size == 0:
        return None
    outside = geometry_mask([g], out_shape=window.values.shape, transform=window.transform)
    inside = window.values[~outside]
    inside = inside[np.isfinite(inside)]
    return float(inside.mean()) if inside.size else None


def build_findings(field: Field, hotspots: list[Hotspot], crs: CRS, cfg: ReportConfig) -> tuple[Finding, ...]:
    """Number a field's hotspots (largest first) and describe where each lies.

    Args:
        field: The field.
        hotspots: Its hotspots.
        crs: The metric CRS of ``field.geometry`` / ``hotspot.metric``.
        cfg: Report settings (confidence and centre/edge thresholds).
    """
    ordered = sorted(hotspots, key=lambda h: (-h.area_m2, h.cls))
    out: list[Finding] = []
    for number, spot in enumerate(ordered, start=1):
        point = scouting_point(spot.metric)
        bearing, fraction, depth = relative_position(field.geometry, point)
        place = place_words(bearing, fraction, depth, cfg.centre_fraction, cfg.edge_depth)
        ll = reproject_geometry(point, crs, "EPSG:4326")
        out.append(
            Finding(
                number=number,
                hotspot=spot,
                place=place,
                sentence=finding_sentence(spot.cls, spot.area_m2, place),
                confidence=confidence_word(spot.mean_probability, cfg.confidence_high, cfg.confidence_medium),
                point_metric=point,
                lat=round(float(ll.y), 6),
                lon=round(float(ll.x), 6),
            )
        )
    return tuple(out)


def findings_from_points(field: Field, points: Sequence[ScoutingPoint], hotspots: Sequence[Hotspot], crs: CRS,
                         cfg: ReportConfig) -> tuple[Finding, ...]:
    """One finding per listed scouting point (``shimanto predict``'s ``scouting_points.geojson``), by rank.

    Args:
        field: The field.
        points: The field's scouting points.
        hotspots: Every hotspot of the prediction, in ``hotspots.geojson`` order (points name members by index).
        crs: The metric CRS of ``field.geometry`` / ``hotspot.metric``.
        cfg: Report settings (confidence words from the points' calibrated probabilities).
    """
    out: list[Finding] = []
    for p in sorted(points, key=lambda p: p.rank):
        members = tuple(hotspots[i] for i in p.hotspots if 0 <= i < len(hotspots))
        ll = Point(p.lon, p.lat)
        point = reproject_geometry(ll, "EPSG:4326", crs)
        bearing, fraction, depth = relative_position(field.geometry, point)
        place = place_words(bearing, fraction, depth, cfg.centre_fraction, cfg.edge_depth)
        main = max(members, key=lambda h: h.area_m2) if members else Hotspot(
            p.cls, field.crop, field.field_id, p.area_m2, p.probability, ll.buffer(1e-6), point.buffer(0.5))
        out.append(Finding(number=p.rank, hotspot=main, place=place,
                           sentence=finding_sentence(p.cls, p.area_m2, place),
                           confidence=confidence_word(p.probability, cfg.confidence_high, cfg.confidence_medium),
                           point_metric=point, lat=round(p.lat, 6), lon=round(p.lon, 6), point_id=p.id,
                           areas=members or (main,)))
    return tuple(out)


def concern_area_m2(field: Field, hotspots: list[Hotspot]) -> float:
    """Area (m²) of the union of the hotspots, clipped to the field (overlaps counted once)."""
    if not hotspots:
        return 0.0
    union = unary_union([h.metric.buffer(0) for h in hotspots])
    clipped = union.intersection(field.geometry.buffer(0))
    return float(clipped.area) if clipped.area > 0 else float(sum(h.area_m2 for h in hotspots))


def summarise_field(
    flight: FlightFields, field: Field, hotspots: list[Hotspot], indices_dir: Path | None, cfg: ReportConfig,
    scouting: ScoutingInput | None = None,
) -> tuple[FieldSummary, IndexWindow | None]:
    """Figures and the map window for one field.

    With ``scouting`` (the prediction's scouting points) the findings are the field's listed points
    and the rest is a count (``unlisted``); without, every hotspot is a finding (older predictions).

    The map shows NDVI, or NDRE when the canopy is dense (mean NDVI ≥ ``cfg.dense_canopy_ndvi``,
    where NDVI saturates) and an NDRE map exists.
    """
    margin = max(5.0, 0.15 * max(field.geometry.bounds[2] - field.geometry.bounds[0],
                                 field.geometry.bounds[3] - field.geometry.bounds[1]))
    ndvi = read_index_window(indices_dir, flight.survey.scene, "ndvi", field.geometry, flight.crs, margin)
    ndvi_mean = zonal_mean(ndvi, field.geometry, flight.crs) if ndvi is not None else None
    window = ndvi
    if ndvi_mean is not None and ndvi_mean >= cfg.dense_canopy_ndvi:
        ndre = read_index_window(indices_dir, flight.survey.scene, "ndre", field.geometry, flight.crs, margin)
        window = ndre or ndvi
    index_mean = ndvi_mean if window is ndvi else (zonal_mean(window, field.geometry, flight.crs) if window else None)
    summary = FieldSummary(
        field=field,
        index=window.name if window is not None else "ndvi",
        index_mean=index_mean,
        ndvi_mean=ndvi_mean,
        concern_m2=concern_area_m2(field, hotspots),
        findings=build_findings(field, hotspots, flight.crs, cfg) if scouting is None else findings_from_points(
            field, scouting.points_of(field.field_id), scouting.hotspots, flight.crs, cfg),
        unlisted=scouting.unlisted(field.field_id) if scouting is not None else 0,
        hotspots=tuple(hotspots),
    )
    return summary, window

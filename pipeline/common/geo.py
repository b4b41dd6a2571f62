"""Coordinate helpers: CRS choice, reprojection of shapely geometries, GeoJSON I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform as shapely_transform

from pipeline.common.atomic import atomic_write_json
from pipeline.errors import InputError, SceneNotFoundError

WGS84 = CRS.from_epsg(4326)
#: JGD2011 / UTM zone 53N, the projected CRS used for Shimanto (133-139 E).
JGD2011_UTM53N = CRS.from_epsg(6690)


def utm_crs_for(lon: float, lat: float) -> CRS:
    """Return the WGS84 UTM CRS of the zone containing ``(lon, lat)`` in degrees."""
    zone = int((lon + 180.0) // 6.0) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@lru_cache(maxsize=32)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    """A cached x/y-ordered transformer (building one costs milliseconds; geometries come in thousands)."""
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def reproject_geometry(geom: BaseGeometry, src: CRS | str | int, dst: CRS | str | int) -> BaseGeometry:
    """Reproject a shapely geometry between CRSs (always x=easting/lon, y=northing/lat)."""
    src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)
    if src_crs == dst_crs:
        return geom
    transformer = _transformer(src_crs.to_wkt(), dst_crs.to_wkt())
    return shapely_transform(transformer.transform, geom)


def read_geojson_features(path: Path | str) -> tuple[list[tuple[BaseGeometry, dict[str, Any]]], CRS]:
    """Read a GeoJSON FeatureCollection into ``(geometry, properties)`` pairs and its CRS.

    The CRS is WGS84 unless the file carries a legacy ``crs`` member.

    Raises:
        SceneNotFoundError: the file does not exist.
        InputError: the file is not a GeoJSON FeatureCollection or a geometry is invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"GeoJSON file {str(path)!r} does not exist; check the path")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(path)!r} is not valid JSON ({exc}); expected a GeoJSON FeatureCollection") from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"{str(path)!r} is not a GeoJSON FeatureCollection; export the layer as GeoJSON")
    crs = WGS84
    crs_member = doc.get("crs")
    if isinstance(crs_member, dict):
        name = crs_member.get("properties", {}).get("name")
        if name:
            crs = CRS.from_user_input(name)
    out: list[tuple[BaseGeometry, dict[str, Any]]] = []
    for i, feat in enumerate(doc.get("features", [])):
        geom_doc = feat.get("geometry")
        if geom_doc is None:
            raise InputError(f"{str(path)!r}: feature {i} has no geometry; every feature needs a polygon")
        try:
            geom = shape(geom_doc)
        except Exception as exc:  # shapely raises several types for bad coordinates
            raise InputError(f"{str(path)!r}: feature {i} has an invalid geometry ({exc})") from exc
        out.append((geom, dict(feat.get("properties") or {})))
    return out, crs


def write_geojson_features(
    path: Path | str, features: Iterable[tuple[BaseGeometry, dict[str, Any]]], crs: CRS | None = None
) -> Path:
    """Write ``(geometry, properties)`` pairs as a WGS84 GeoJSON FeatureCollection, atomically.

    Geometries in another ``crs`` are reprojected to WGS84 first (RFC 7946).
    """
    feats = []
    for geom, props in features:
        if crs is not None and CRS.from_user_input(crs) != WGS84:
            geom = reproject_geometry(geom, crs, WGS84)
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})
    return atomic_write_json(path, {"type": "FeatureCollection", "features": feats})

"""Scouting files beside each PDF: KML (Google Earth, GPS apps) and GeoJSON, plus file-name slugs."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from pipeline.common.atomic import atomic_write_text
from pipeline.common.geo import write_geojson_features
from pipeline.outputs.analysis import FieldSummary
from pipeline.outputs.wording import crop_name, disease_name


def ascii_slug(text: str, max_len: int = 40) -> str:
    """Lower-case ASCII ``[a-z0-9-]`` form of ``text`` (accents folded; other scripts dropped)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:max_len].strip("-")


def grower_slug(name: str) -> str:
    """A safe, stable ASCII file-name stem for a grower.

    ``<romanised-part>-<8 hex of sha256(name)>``, or ``grower-<8 hex>`` when the name has no
    Latin letters (e.g. 山田 太郎). The hash keeps different names apart; the PDF shows the name.
    """
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{ascii_slug(name) or 'grower'}-{digest}"


def field_slug(field_id: str) -> str:
    """ASCII file-name form of a field ID (hash suffix only when characters were dropped)."""
    slug = ascii_slug(field_id)
    if slug and slug == field_id.lower():
        return slug
    return f"{slug or 'field'}-{hashlib.sha256(field_id.encode('utf-8')).hexdigest()[:6]}"


def scouting_features(summaries: Sequence[FieldSummary]) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """GeoJSON-ready ``(WGS84 geometry, properties)`` for every area and its scouting point."""
    out: list[tuple[BaseGeometry, dict[str, Any]]] = []
    for s in summaries:
        for f in s.findings:
            common = {
                "field_id": s.field.field_id,
                "number": f.number,
                "id": f.point_id or None,
                "class": f.hotspot.cls,
                "disease": disease_name(f.hotspot.cls),
                "finding": f.sentence,
                "confidence": f.confidence,
                "mean_probability": round(f.hotspot.mean_probability, 3),
                "area_m2": round(f.hotspot.area_m2, 1),
            }
            area = unary_union([a.wgs84 for a in f.areas]) if f.areas else f.hotspot.wgs84
            out.append((area, {**common, "kind": "area"}))
            out.append(
                (Point(f.lon, f.lat), {**common, "kind": "scouting_point", "lat": f.lat, "lon": f.lon,
                                       "maps_url": f.maps_url})
            )
    return out


def write_scouting_geojson(path: Path, summaries: Sequence[FieldSummary]) -> Path:
    """Areas and scouting points as a WGS84 GeoJSON FeatureCollection."""
    return write_geojson_features(path, scouting_features(summaries))


def _kml_ring(poly: Polygon) -> str:
    coords = " ".join(f"{x:.7f},{y:.7f},0" for x, y in poly.exterior.coords)
    ring = f"<LinearRing><coordinates>{coords}</coordinates></LinearRing>"
    return f"<Polygon><outerBoundaryIs>{ring}</outerBoundaryIs></Polygon>"


def _kml_geometry(geom: BaseGeometry) -> str:
    polys = [geom] if isinstance(geom, Polygon) else [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    inner = "".join(_kml_ring(p) for p in polys)
    return inner if len(polys) == 1 else f"<MultiGeometry>{inner}</MultiGeometry>"


def kml_document(title: str, summaries: Sequence[FieldSummary]) -> str:
    """A KML 2.2 document: one folder per field with its outline, areas and scouting points."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
        f"<name>{escape(title)}</name>",
        '<Style id="field"><LineStyle><color>ffffffff</color><width>3</width></LineStyle>'
        "<PolyStyle><fill>0</fill></PolyStyle></Style>",
        '<Style id="area"><LineStyle><color>ffd25fff</color><width>3</width></LineStyle>'
        "<PolyStyle><color>40d25fff</color></PolyStyle></Style>",
    ]
    for s in summaries:
        parts.append(f"<Folder><name>{escape(f'圃場 {s.field.field_id}（{crop_name(s.field.crop)}）')}</name>")
        parts.append(
            f"<Placemark><name>{escape(s.field.field_id)}</name><styleUrl>#field</styleUrl>"
            f"{_kml_geometry(s.field.wgs84)}</Placemark>"
        )
        for f in s.findings:
            label = f"{f.number}. {f.sentence}"
            desc = f"確かさ：{f.confidence}。{f.maps_url}"
            parts.append(
                f"<Placemark><name>{escape(label)}</name><styleUrl>#area</styleUrl>"
                f"<description>{escape(desc)}</description>"
                f"{_kml_geometry(unary_union([a.wgs84 for a in f.areas]) if f.areas else f.hotspot.wgs84)}</Placemark>"
            )
            name = f"{f.number}番 ここへ行く" + (f"（{f.point_id}）" if f.point_id else "")
            extended = (f'<ExtendedData><Data name="id"><value>{escape(f.point_id)}</value></Data></ExtendedData>'
                        if f.point_id else "")  # KML 2.2 order: name, description, ExtendedData, geometry
            parts.append(
                f"<Placemark><name>{escape(name)}</name><description>{escape(label)}</description>{extended}"
                f"<Point><coordinates>{f.lon:.6f},{f.lat:.6f},0</coordinates></Point></Placemark>"
            )
        parts.append("</Folder>")
    parts.append("</Document></kml>")
    return "\n".join(parts) + "\n"


def write_kml(path: Path, title: str, summaries: Sequence[FieldSummary]) -> Path:
    """Write :func:`kml_document` atomically."""
    return atomic_write_text(path, kml_document(title, summaries))

"""Survey boundaries and no-fly zones from GeoJSON or KML files (WGS84 out).

A boundary file holds one or more field polygons (Polygon/MultiPolygon, holes
allowed). Features whose properties say ``role: exclusion`` (or
``exclusion: true``) are exclusion zones cut out of every field. A no-fly file
holds polygons the aircraft must never enter (``name`` property for messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from pipeline.common.geo import WGS84, read_geojson_features, reproject_geometry
from pipeline.errors import InputError, SceneNotFoundError


@dataclass(frozen=True)
class Area:
    """A named polygon in WGS84 (lon, lat)."""

    name: str
    polygon: Polygon


@dataclass(frozen=True)
class Boundary:
    """Fields to survey and zones to leave out, WGS84."""

    fields: tuple[Area, ...]
    exclusions: tuple[Area, ...] = ()


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for part in getattr(geom, "geoms", []) for g in _polygons(part)]


def _is_exclusion(props: dict[str, Any]) -> bool:
    role = str(props.get("role", props.get("type", ""))).lower()
    return role in ("exclusion", "exclude", "no-fly", "nofly") or props.get("exclusion") is True


def _kml_features(path: Path) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    try:  # defusedxml: entity expansion ("billion laughs") and external entities refused
        root = SafeET.parse(path).getroot()
    except SafeET.ParseError as exc:
        raise InputError(f"{str(path)!r} is not valid KML ({exc})") from exc
    except DefusedXmlException as exc:
        raise InputError(f"{str(path)!r}: KML with XML entities or a DTD is refused ({exc!r}); export it again "
                         "without them") from exc
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""

    def ring(el: Element | None) -> list[tuple[float, float]]:
        text = el.findtext(f".//{ns}coordinates", "") if el is not None else ""
        pts = []
        for tok in text.split():
            parts = tok.split(",")
            pts.append((float(parts[0]), float(parts[1])))
        return pts

    out: list[tuple[BaseGeometry, dict[str, Any]]] = []
    for n, placemark in enumerate(root.iter(f"{ns}Placemark")):
        name = placemark.findtext(f"{ns}name") or f"field-{n + 1}"
        for poly in placemark.iter(f"{ns}Polygon"):
            shell = ring(poly.find(f"{ns}outerBoundaryIs"))
            holes = [ring(h) for h in poly.findall(f"{ns}innerBoundaryIs")]
            out.append((Polygon(shell, holes), {"name": name}))
    return out


def read_areas(path: Path | str) -> list[tuple[Polygon, dict[str, Any]]]:
    """All polygons of a GeoJSON or KML file in WGS84 with their properties.

    Raises:
        SceneNotFoundError: no such file.
        InputError: unreadable, no polygons, or an invalid polygon (the feature is named).
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"boundary file {str(path)!r} does not exist; check the path")
    if path.suffix.lower() == ".kml":
        feats = _kml_features(path)
    else:
        raw, crs = read_geojson_features(path)
        feats = [(reproject_geometry(g, crs, WGS84), p) for g, p in raw]
    out: list[tuple[Polygon, dict[str, Any]]] = []
    problems = []
    for i, (geom, props) in enumerate(feats):
        label = props.get("name", props.get("field_id", f"feature {i}"))
        polys = _polygons(geom)
        if not polys:
            problems.append(f"{label}: geometry {geom.geom_type} is not a polygon")
        for poly in polys:
            if not poly.is_valid:
                poly = max(_polygons(make_valid(poly)), key=lambda p: p.area, default=Polygon())
            if poly.is_empty or poly.area <= 0:
                problems.append(f"{label}: polygon is empty or degenerate")
                continue
            if not (-180 <= poly.bounds[0] <= 180 and -90 <= poly.bounds[1] <= 90):
                problems.append(f"{label}: coordinates {poly.bounds[:2]} are not longitude/latitude degrees")
                continue
            out.append((poly, dict(props, name=str(label))))
    if problems:
        raise InputError(f"{str(path)!r}: " + "; ".join(problems))
    if not out:
        raise InputError(f"{str(path)!r} has no polygons; a boundary needs at least one field polygon")
    return out


def read_boundary(path: Path | str) -> Boundary:
    """Fields and exclusion zones of a boundary file (see the module doc)."""
    fields: list[Area] = []
    exclusions: list[Area] = []
    for poly, props in read_areas(path):
        (exclusions if _is_exclusion(props) else fields).append(Area(str(props["name"]), poly))
    if not fields:
        raise InputError(f"{str(path)!r} has only exclusion zones; add at least one field polygon")
    return Boundary(tuple(fields), tuple(exclusions))


def read_no_fly(path: Path | str) -> tuple[Area, ...]:
    """No-fly polygons of a GeoJSON/KML file, WGS84."""
    return tuple(Area(str(props["name"]), poly) for poly, props in read_areas(path))

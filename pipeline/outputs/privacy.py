"""Privacy rules of the open data: allow-lists, anonymous field IDs, masks, coarsening, leak scan.

Rules (hard):

* Only properties on :data:`OPEN_FIELD_PROPERTIES` / :data:`OPEN_SURVEY_KEYS` are ever published;
  every other input property (grower, contact, phone, address, planting date...) is personal.
* Fields appear only under :func:`anonymous_field_id`, an HMAC-SHA256 of the survey's field ID
  keyed with the project's secret salt: stable across flights, not reversible without the key.
* A field whose ``open_data`` is false is left out entirely: no statistics row, no outline, no
  hotspot, and its pixels are set to nodata in every published raster. By default pixels outside
  all published fields are masked too (houses, roads and people are not agricultural data).
* Before a catalogue is published, :func:`find_leaks` scans every byte written (UTF-8 and UTF-16
  encodings) for every personal value; any hit aborts the publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.features import geometry_mask
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pipeline.outputs.inputs import Field

MUNICIPALITY_CODE = "394122"
#: Field properties that may be published (field_id only through its anonymous form).
OPEN_FIELD_PROPERTIES: tuple[str, ...] = ("crop",)
#: survey.json keys that may be published.
OPEN_SURVEY_KEYS: tuple[str, ...] = ("date", "sensor", "gsd_cm")
#: Shortest personal value (UTF-8 bytes) the run-time leak scan looks for in binary files;
#: shorter strings occur by chance in compressed data. Tests scan for every value.
MIN_SCAN_BYTES = 5
#: survey.json keys whose values are about people.
PERSON_KEYS = re.compile(r"operator|pilot|contact|owner|author|grower|farmer|person|user|name|mail|phone|tel|address",
                         re.IGNORECASE)


def anonymous_field_id(field_id: str, salt: str) -> str:
    """``394122-F-`` + the first 8 hex digits of ``HMAC-SHA256(salt, field_id)``."""
    digest = hmac.new(salt.encode("utf-8"), field_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{MUNICIPALITY_CODE}-F-{digest[:8]}"


def open_fields(fields: Iterable[Field]) -> list[Field]:
    """The fields whose growers agreed to open data."""
    return [f for f in fields if f.open_data]


def coarsen(geom: BaseGeometry, grid_m: float) -> BaseGeometry:
    """Snap a metric geometry's vertices to a ``grid_m`` grid (no-op for ``grid_m <= 0``).

    A field smaller than the grid becomes the grid cell around its centroid, so it stays visible
    but carries no shape detail.
    """
    if grid_m <= 0:
        return geom
    snapped = shapely.set_precision(geom.buffer(0), grid_m)
    if snapped.is_empty or snapped.area == 0:
        c = geom.centroid
        x0, y0 = math.floor(c.x / grid_m) * grid_m, math.floor(c.y / grid_m) * grid_m
        return box(x0, y0, x0 + grid_m, y0 + grid_m)
    return snapped


def latlon_decimals(grid_m: float) -> int:
    """Decimal places of degrees matching a ground precision: ``round(-log10(m / 111320))``, 6 for 0."""
    if grid_m <= 0:
        return 6
    return int(min(6, max(0, round(-math.log10(grid_m / 111_320.0)))))


def round_geometry(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    """Round a lon/lat geometry's coordinates to ``decimals`` places."""
    return shapely.set_precision(geom, 10.0 ** (-decimals)) if decimals < 9 else geom


def keep_mask(
    shape: tuple[int, int], transform: Affine, keep: list[BaseGeometry], drop: list[BaseGeometry], outside: bool
) -> np.ndarray:
    """Boolean array, True where a pixel may be published.

    Args:
        shape: ``(rows, cols)`` of the raster.
        transform: Its affine transform.
        keep: Published field polygons (raster CRS).
        drop: Withheld field polygons (raster CRS); always masked, even where they overlap ``keep``.
        outside: Also mask pixels outside every ``keep`` polygon.
    """
    allowed = np.ones(shape, dtype=bool)
    if outside:
        allowed = ~geometry_mask(keep, out_shape=shape, transform=transform) if keep else np.zeros(shape, bool)
    if drop:
        allowed &= geometry_mask(drop, out_shape=shape, transform=transform, all_touched=True)
    return allowed


def _is_benign(value: str) -> bool:
    """Values that are not identifying on their own: numbers, booleans, ISO dates."""
    text = value.strip()
    if text.lower() in {"true", "false", "yes", "no", "none", "null", ""}:
        return True
    try:
        float(text)
        return True
    except ValueError:
        pass
    try:
        dt.date.fromisoformat(text[:10])
        return len(text) <= 25
    except ValueError:
        return False


def personal_values(fields: Iterable[Field], survey_meta: Mapping[str, Any]) -> set[str]:
    """Every personal string in the inputs; numbers, booleans and dates excluded.

    * fields.geojson: every property not on :data:`OPEN_FIELD_PROPERTIES` (raw field IDs included);
    * survey.json: technical metadata (sensor, band names, sun angles...) by contract, so only values
      under person-like keys (:data:`PERSON_KEYS`, e.g. ``operator``, ``pilot.name``) count.
    """
    values: set[str] = set()

    def collect(obj: Any) -> None:
        if isinstance(obj, str):
            if not _is_benign(obj):
                values.add(obj.strip())
        elif isinstance(obj, Mapping):
            for v in obj.values():
                collect(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                collect(v)

    for f in fields:
        for key, value in f.properties.items():
            if key not in OPEN_FIELD_PROPERTIES:
                collect(value)
    def collect_people(obj: Any) -> None:
        if isinstance(obj, Mapping):
            for key, value in obj.items():
                if PERSON_KEYS.search(str(key)):
                    collect(value)
                else:
                    collect_people(value)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                collect_people(v)

    collect_people({k: v for k, v in survey_meta.items() if k not in OPEN_SURVEY_KEYS})
    return values


def encodings(value: str) -> list[bytes]:
    """The byte forms a value may take in a file: UTF-8, UTF-16-LE/BE, JSON ``\\uXXXX`` escapes."""
    escaped = value.encode("ascii", "backslashreplace").decode("ascii")
    json_escaped = "".join(c if ord(c) < 128 else f"\\u{ord(c):04x}" for c in value)
    forms = {value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be"), json_escaped.encode()}
    forms.add(escaped.encode())
    return sorted(forms)


def find_leaks(root: Path, values: Iterable[str], min_bytes: int = 1) -> list[str]:
    """Every ``(file, value)`` where a personal value occurs in a file under ``root``.

    Args:
        root: Folder to scan (all files, recursively, raw bytes).
        values: Personal strings.
        min_bytes: Skip values whose UTF-8 form is shorter than this.

    Returns:
        Human-readable problems, empty when nothing leaked.
    """
    patterns = [(v, forms) for v in sorted(set(values)) if len(v.encode("utf-8")) >= min_bytes
                for forms in [encodings(v)]]
    problems: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        lower = data.lower()
        for value, forms in patterns:
            if any(form in data or form.lower() in lower for form in forms):
                problems.append(f"{path.relative_to(root)} contains personal value {value!r}")
    return problems

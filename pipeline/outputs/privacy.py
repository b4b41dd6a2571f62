"""Privacy rules of the open data: allow-lists, anonymous field IDs, masks, coarsening, leak scan.

Rules (hard):

* Only properties on :data:`OPEN_FIELD_PROPERTIES` / :data:`OPEN_SURVEY_KEYS` are ever published;
  every other input property (grower, contact, phone, address, planting date...) is personal.
* Fields appear only under :func:`anonymous_field_id`, an HMAC-SHA256 of the survey's field ID
  keyed with the installation's secret key (:mod:`pipeline.outputs.anonkey`, a 0600 file outside
  the repository and the publication): stable across flights, not recomputable without the key.
* A field whose ``open_data`` is false is left out entirely: no statistics row, no outline, no
  hotspot, and its pixels are set to nodata in every published raster. Its suspected disease is
  published only as counts per JIS X 0410 1/2 mesh square (:mod:`pipeline.outputs.mesh`).
  By default pixels outside all published fields are masked too (houses, roads and people are
  not agricultural data).
* Before a catalogue is published, :func:`pipeline.outputs.leakscan.find_leaks` scans every file
  for every personal value, whatever its length, as a whole token; any hit aborts the publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.features import geometry_mask
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pipeline.core.fields import Field

MUNICIPALITY_CODE = "394122"
#: Field properties that may be published (field_id only through its anonymous form).
OPEN_FIELD_PROPERTIES: tuple[str, ...] = ("crop",)
#: survey.json keys that may be published.
OPEN_SURVEY_KEYS: tuple[str, ...] = ("date", "sensor", "gsd_cm")
#: survey.json keys whose values are about people.
PERSON_KEYS = re.compile(r"operator|pilot|contact|owner|author|grower|farmer|person|user|name|mail|phone|tel|address",
                         re.IGNORECASE)


def anonymous_field_id(field_id: str, key: bytes) -> str:
    """``394122-F-`` + the first 8 hex digits of ``HMAC-SHA256(key, field_id)`` (RFC 2104)."""
    digest = hmac.new(key, field_id.encode("utf-8"), hashlib.sha256).hexdigest()
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

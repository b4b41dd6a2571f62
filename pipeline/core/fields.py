"""Fields: the one definition of a field and the one rule for reading a field layer.

Every stage that reads ``fields.geojson`` (or a user's QGIS/QField layer) goes through
:func:`fields_from_features` (via :func:`pipeline.core.io.read_fields`), so the same layer gets
the same field keys — or the same refusal — in ``indices``, ``predict``, ``report`` and ``publish``.

The rule (documented once, here):

* **ID**: the first non-empty of the properties ``field_id``, ``id``, ``name`` (QGIS layers often
  carry only ``name`` or ``id``), as a string with surrounding blanks removed. A feature with none of
  them, or two features with the same ID, is refused (no made-up IDs: a key that changes when the
  layer is re-ordered would join the wrong rows between stages).
* **Geometry**: a Polygon or MultiPolygon; invalid rings are repaired with ``buffer(0)``.
* **Crop**: ``crop`` is ``rice`` or ``ginger`` (case-insensitive; 水稲/稲/米 and 生姜/しょうが/ショウガ are
  accepted). Stages that need a crop (detection, reports) refuse a missing or unknown crop; the
  others (indices) keep it as ``""``.
* **Grower**: ``grower`` as text (personal data: never published).
* **Planted**: ``planted`` as an ISO date (optional).
* **Consent**: ``open_data`` true/false (``true``/``false``/``yes``/``no``/``1``/``0``/``はい``/``いいえ``).
  Missing means **no consent**: a field is published per field only when its grower said yes.

Every problem of a layer is collected and reported in one :class:`~pipeline.errors.InputError`.
Pure: no file I/O here (see :mod:`pipeline.core.io`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, overload

from pyproj import CRS, Geod
from shapely.geometry.base import BaseGeometry

from pipeline.common.geo import WGS84, reproject_geometry
from pipeline.errors import InputError

#: The crops the pipeline knows.
CROPS: tuple[str, ...] = ("rice", "ginger")
#: Properties tried, in order, for a field's ID.
ID_KEYS: tuple[str, ...] = ("field_id", "id", "name")
#: Crop spellings accepted besides the canonical names (Japanese field registers).
CROP_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {"rice": "rice", "水稲": "rice", "稲": "rice", "米": "rice", "ginger": "ginger", "生姜": "ginger",
     "しょうが": "ginger", "ショウガ": "ginger"}
)
_TRUE = frozenset({"true", "1", "yes", "y", "はい"})
_FALSE = frozenset({"false", "0", "no", "n", "いいえ", ""})


@dataclass(frozen=True)
class Field:
    """One field (田んぼ or 畑) of a grower.

    Attributes:
        field_id: The layer's ID for the field (see the module's rule). Never published as is.
        geometry: The outline, in ``crs``.
        crs: CRS of ``geometry`` (WGS84 lon/lat as read from GeoJSON; a projected CRS after
            :meth:`to_crs`).
        crop: ``rice``, ``ginger`` or ``""`` when the layer does not say.
        grower: The grower's name (personal; never published).
        planted: Planting (transplanting) date, if known.
        open_data: Whether the grower agreed to per-field open-data publication.
        properties: All properties of the input feature (personal; never published).
    """

    field_id: str
    geometry: BaseGeometry
    crs: CRS = WGS84
    crop: str = ""
    grower: str = ""
    planted: dt.date | None = None
    open_data: bool = False
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_crs(self, crs: CRS | str | int) -> Field:
        """The same field with its geometry in ``crs``."""
        target = CRS.from_user_input(crs)
        if target == self.crs:
            return self
        return replace(self, geometry=reproject_geometry(self.geometry, self.crs, target), crs=target)

    @cached_property
    def wgs84(self) -> BaseGeometry:
        """The outline in WGS84 lon/lat degrees (RFC 7946 GeoJSON axis order)."""
        return reproject_geometry(self.geometry, self.crs, WGS84)

    @property
    def area_m2(self) -> float:
        """Area in square metres: geodesic on the WGS84 ellipsoid for geographic CRSs, else planar
        in the CRS's linear unit converted to metres."""
        if self.crs.is_geographic:
            area, _ = Geod(ellps="WGS84").geometry_area_perimeter(self.geometry)
            return abs(float(area))
        unit = self.crs.axis_info[0].unit_conversion_factor if self.crs.axis_info else 1.0
        return float(self.geometry.area) * unit * unit

    @property
    def area_ha(self) -> float:
        """Area in hectares (see :attr:`area_m2`)."""
        return self.area_m2 / 1e4

    def to_feature(self) -> tuple[BaseGeometry, dict[str, Any]]:
        """``(WGS84 geometry, properties)`` as written to ``fields.geojson`` (inverse of
        :func:`field_from_feature`)."""
        props: dict[str, Any] = {**self.properties, "field_id": self.field_id}
        if self.crop:
            props["crop"] = self.crop
        if self.grower:
            props["grower"] = self.grower
        if self.planted is not None:
            props["planted"] = self.planted.isoformat()
        props["open_data"] = self.open_data
        return self.wgs84, props


@dataclass(frozen=True)
class FieldSet(Sequence[Field]):
    """The fields of one layer, in layer order, with unique IDs.

    Attributes:
        fields: The fields.
        source: Where they came from (a path), for messages.
    """

    fields: tuple[Field, ...]
    source: str = ""

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @overload
    def __getitem__(self, index: int) -> Field: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Field, ...]: ...

    def __getitem__(self, index: int | slice) -> Field | tuple[Field, ...]:
        return self.fields[index]

    @property
    def ids(self) -> tuple[str, ...]:
        """Field IDs in layer order."""
        return tuple(f.field_id for f in self.fields)

    def by_id(self) -> dict[str, Field]:
        """Fields keyed by ID."""
        return {f.field_id: f for f in self.fields}

    def to_crs(self, crs: CRS | str | int) -> FieldSet:
        """Every field with its geometry in ``crs``."""
        return FieldSet(tuple(f.to_crs(crs) for f in self.fields), self.source)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_crop(value: Any) -> str:
    """Canonical crop name for ``value`` (see :data:`CROP_SYNONYMS`), ``""`` when blank or unknown."""
    text = _text(value)
    return CROP_SYNONYMS.get(text.lower(), CROP_SYNONYMS.get(text, ""))


def parse_consent(value: Any) -> bool | None:
    """``open_data`` as a bool (missing → ``False``: no consent), ``None`` when unreadable."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return True if value == 1 else False if value == 0 else None
    text = _text(value).lower()
    return True if text in _TRUE else False if text in _FALSE else None


def field_id_of(props: Mapping[str, Any]) -> str | None:
    """The field ID of a feature's properties by the module's rule, ``None`` when it has none."""
    for key in ID_KEYS:
        text = _text(props.get(key))
        if text:
            return text
    return None


def field_from_feature(
    geometry: BaseGeometry, props: Mapping[str, Any], crs: CRS = WGS84, *, require_crop: bool = False
) -> Field | list[str]:
    """A :class:`Field` from one feature, or the list of its problems (each without the feature's
    position, which the caller adds)."""
    problems: list[str] = []
    fid = field_id_of(props)
    if fid is None:
        problems.append(f"has no {', '.join(ID_KEYS[:-1])} or {ID_KEYS[-1]} property (has {sorted(props)})")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append(f"is a {geometry.geom_type}; fields must be Polygons or MultiPolygons")
    crop = parse_crop(props.get("crop"))
    if require_crop and not crop:
        problems.append(f"has crop {props.get('crop')!r}; expected one of {', '.join(CROPS)}")
    consent = parse_consent(props.get("open_data"))
    if consent is None:
        problems.append(f"has open_data {props.get('open_data')!r}; expected true or false")
    planted: dt.date | None = None
    if _text(props.get("planted")):
        try:
            planted = dt.date.fromisoformat(_text(props.get("planted"))[:10])
        except ValueError:
            problems.append(f"has planted {props.get('planted')!r}; expected an ISO date YYYY-MM-DD")
    if problems or fid is None:
        return problems
    return Field(
        field_id=fid,
        geometry=geometry if geometry.is_valid else geometry.buffer(0),
        crs=CRS.from_user_input(crs),
        crop=crop,
        grower=_text(props.get("grower")),
        planted=planted,
        open_data=bool(consent),
        properties=MappingProxyType(dict(props)),
    )


def fields_from_features(
    features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]],
    crs: CRS = WGS84,
    *,
    source: str = "fields layer",
    require_crop: bool = False,
) -> FieldSet:
    """Apply the module's rule to a layer's features.

    Raises:
        InputError: the layer is empty, or lists every problem of every feature at once.
    """
    if not features:
        raise InputError(f"{source!r} holds no features; expected field polygons with a field_id")
    fields: list[Field] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, (geom, props) in enumerate(features):
        parsed = field_from_feature(geom, props, crs, require_crop=require_crop)
        if isinstance(parsed, list):
            problems.extend(f"feature {i} {p}" for p in parsed)
            continue
        if parsed.field_id in seen:
            problems.append(f"feature {i} repeats field ID {parsed.field_id!r} of feature {seen[parsed.field_id]}")
            continue
        seen[parsed.field_id] = i
        fields.append(parsed)
    if problems:
        raise InputError(
            f"{source!r}: " + "; ".join(problems)
            + f"; every field needs a unique {ID_KEYS[0]} (or {ID_KEYS[1]}/{ID_KEYS[2]})"
            + (f" and a crop ({'/'.join(CROPS)})" if require_crop else "")
        )
    return FieldSet(tuple(fields), source)


def fields_to_features(fields: Iterable[Field]) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """WGS84 ``(geometry, properties)`` pairs for writing a field layer."""
    return [f.to_feature() for f in fields]

"""Scouting point: one place in a field that a grower is asked to walk to and look at.

The one home of :class:`ScoutingPoint`. ``shimanto predict`` writes them as
``scouting_points.geojson`` (RFC 7946 WGS84 points); the grower reports (PDF, KML,
GeoJSON, QR codes) and ``shimanto scout export`` read them back, and every one of
them names a point by the same stable :attr:`ScoutingPoint.id`.

Pure: dataclass and dict conversion only, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Separator of the parts of a point ID (``flight:field:rank``); a colon is legal in QR payloads,
#: KML names, GeoPackage text and CSV, and rare in folder names and field IDs.
ID_SEPARATOR = ":"


def point_id(flight: str, field_id: str, rank: int) -> str:
    """Stable ID of the ``rank``-th point (1 = most worth a walk) of ``field_id`` in ``flight``.

    ``"<flight>:<field_id>:<rank>"``, e.g. ``"kubokawa_20260715_rededge-mx:F03:1"``: the same
    flight, field and rank always give the same ID, in every file that names the point.
    """
    return f"{flight}{ID_SEPARATOR}{field_id}{ID_SEPARATOR}{rank}"


@dataclass(frozen=True)
class ScoutingPoint:
    """A ranked place to look at in one field.

    Attributes:
        flight: Flight (survey folder) name the prediction came from.
        field_id: The field's ``field_id``.
        rank: 1-based rank within the field (1 = largest expected diseased area × probability).
        cls: Disease class name of the largest member hotspot (``blast``...).
        probability: Area-weighted mean (calibrated) disease probability of the member hotspots, 0–1.
        area_m2: Expected diseased area (m²): the summed area of the member hotspots.
        lon: Longitude of the point to walk to (WGS84 degrees, inside the largest member hotspot).
        lat: Latitude (WGS84 degrees).
        hotspots: Indices of the member hotspots in ``hotspots.geojson`` of the same prediction.
    """

    flight: str
    field_id: str
    rank: int
    cls: str
    probability: float
    area_m2: float
    lon: float
    lat: float
    hotspots: tuple[int, ...] = field(default=())

    @property
    def id(self) -> str:
        """Stable ID ``flight:field_id:rank`` (see :func:`point_id`)."""
        return point_id(self.flight, self.field_id, self.rank)

    @property
    def score(self) -> float:
        """Ranking score: expected diseased area × probability (m²)."""
        return self.area_m2 * self.probability

    def to_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (Point geometry, ``[lon, lat]``)."""
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "id": self.id, "flight": self.flight, "field_id": self.field_id, "rank": self.rank,
                "class": self.cls, "probability": self.probability, "area_m2": self.area_m2,
                "hotspots": list(self.hotspots),
            },
        }

    @classmethod
    def from_feature(cls, feature: Mapping[str, Any]) -> ScoutingPoint:
        """Inverse of :meth:`to_feature`.

        Raises:
            ValueError: a property is missing or malformed (the message lists every problem).
        """
        problems: list[str] = []
        props = feature.get("properties") or {}
        geom = feature.get("geometry") or {}
        coords = geom.get("coordinates") if isinstance(geom, Mapping) else None
        if not isinstance(geom, Mapping) or geom.get("type") != "Point" or not isinstance(coords, Sequence) \
                or len(coords) < 2:
            problems.append(f"geometry {geom!r} is not a GeoJSON Point")
            coords = (math.nan, math.nan)
        for key in ("flight", "field_id", "rank", "class", "probability", "area_m2"):
            if key not in props:
                problems.append(f"property {key!r} missing")
        if problems:
            raise ValueError("; ".join(problems))
        try:
            point = cls(flight=str(props["flight"]), field_id=str(props["field_id"]), rank=int(props["rank"]),
                        cls=str(props["class"]), probability=float(props["probability"]),
                        area_m2=float(props["area_m2"]), lon=float(coords[0]), lat=float(coords[1]),
                        hotspots=tuple(int(i) for i in props.get("hotspots", ())))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"malformed scouting point properties {dict(props)!r}: {exc}") from exc
        if "id" in props and props["id"] != point.id:
            raise ValueError(f"id {props['id']!r} differs from flight:field_id:rank {point.id!r}")
        return point


def feature_collection(points: Sequence[ScoutingPoint], **members: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``points`` (extra top-level ``members``, e.g. ``summary``)."""
    return {"type": "FeatureCollection", **members, "features": [p.to_feature() for p in points]}


#: What a grower reports at a point when no disease was found.
FOUND_NONE = "none"


@dataclass(frozen=True)
class FieldObservation:
    """What a grower found at a scouting point: a real, point-sized label with its uncertainty.

    Stored with the flight (``observations.geojson`` in the survey folder), apart from the
    polygon labels (``labels.geojson``) of simulated surveys.

    Attributes:
        point_id: The scouting point's stable ID (``flight:field_id:rank``).
        field_id: The field.
        found: Disease class name (``blast``...) or :data:`FOUND_NONE`.
        lon: Where it was seen (WGS84 degrees; the point's own position unless the app moved it).
        lat: Latitude (WGS84 degrees).
        uncertainty_m: Radius (metres) within which the observation holds (phone GNSS accuracy).
        severity: Share of plants affected, 0–1, if given.
        date: Observation date ``YYYY-MM-DD``, if given.
        photo: Photo file name as the field app stored it, if any.
        source: File the observation was imported from.
    """

    point_id: str
    field_id: str
    found: str
    lon: float
    lat: float
    uncertainty_m: float = 5.0
    severity: float | None = None
    date: str | None = None
    photo: str | None = None
    source: str = ""

    def to_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (Point)."""
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
                "properties": {"id": self.point_id, "field_id": self.field_id, "found": self.found,
                               "uncertainty_m": self.uncertainty_m, "severity": self.severity, "date": self.date,
                               "photo": self.photo, "source": self.source}}

    @classmethod
    def from_feature(cls, feature: Mapping[str, Any]) -> FieldObservation:
        """Inverse of :meth:`to_feature` (``ValueError`` on a malformed feature)."""
        try:
            props, coords = feature["properties"], feature["geometry"]["coordinates"]
            return cls(point_id=str(props["id"]), field_id=str(props["field_id"]), found=str(props["found"]),
                       lon=float(coords[0]), lat=float(coords[1]),
                       uncertainty_m=float(props.get("uncertainty_m", 5.0)),
                       severity=None if props.get("severity") is None else float(props["severity"]),
                       date=props.get("date"), photo=props.get("photo"), source=str(props.get("source", "")))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"malformed observation feature: {exc}") from exc

"""Ground truth from the field: scouting points out to field apps, growers' observations back in.

``export_points`` writes a prediction's ``scouting_points.geojson`` as

* a GeoPackage point layer ``scouting_points`` (EPSG:4326) for QField, the QGIS field app, with
  empty text columns for what the grower finds (``found``, ``severity``, ``photo``, ``date``,
  ``notes``), written with GDAL's GPKG driver (``pyogrio``);
* a UTF-8 CSV for ODK Collect / KoboToolbox forms: ``name`` and ``label`` (the columns a
  ``select_one_from_file`` choice list needs), ``lat``/``lon`` and the same empty columns.

``import_observations`` reads such a file back (GeoPackage or CSV, as edited in the field),
checks every row — and refuses the whole file listing every bad row — then stores the
observations with the flight in ``observations.geojson`` (``FieldObservation`` features),
apart from any polygon labels; a re-import replaces observations with the same point ID.
Rows with an empty ``found`` are points not visited and are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from pipeline.common.atomic import atomic_path, atomic_write_text
from pipeline.common.geo import read_geojson_features
from pipeline.core.scouting import FOUND_NONE, ID_SEPARATOR, FieldObservation, ScoutingPoint
from pipeline.detection.classes import CLASSES, DISEASE_IDS
from pipeline.errors import InputError, SceneNotFoundError

LAYER = "scouting_points"
OBSERVATIONS_NAME = "observations.geojson"
POINT_COLUMNS = ("id", "flight", "field_id", "rank", "class", "probability", "area_m2", "lat", "lon")
ENTRY_COLUMNS = ("found", "severity", "photo", "date", "notes", "accuracy_m")
#: Default radius (m) an observation holds for when the app gives no GNSS accuracy (phone GNSS, open sky).
DEFAULT_UNCERTAINTY_M = 5.0
#: Words accepted for "no disease here" besides :data:`FOUND_NONE`.
NONE_WORDS = frozenset({FOUND_NONE, "なし", "健全", "healthy", "no"})


def read_points(predictions: Path) -> tuple[str, list[ScoutingPoint]]:
    """Flight name and scouting points of a ``shimanto predict`` folder."""
    path = Path(predictions) / "scouting_points.geojson"
    if not path.is_file():
        raise SceneNotFoundError(f"{str(predictions)!r} has no scouting_points.geojson; run 'shimanto predict' "
                                 "with --fields first")
    doc = json.loads(path.read_text(encoding="utf-8"))
    points = [ScoutingPoint.from_feature(f) for f in doc.get("features", [])]
    return str(doc.get("flight") or (points[0].flight if points else Path(predictions).name)), points


def _label(p: ScoutingPoint) -> str:
    return f"{p.field_id} {p.rank}: {p.cls} ({p.area_m2:.0f} m2, p={p.probability:.2f})"


def export_points(predictions: Path, out: Path) -> list[Path]:
    """Write ``<flight>_scouting.gpkg`` and ``<flight>_scouting.csv`` into ``out``; returns both paths."""
    import pyogrio.raw

    flight, points = read_points(predictions)
    out.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in flight) or "flight"
    gpkg, csv_path = out / f"{stem}_scouting.gpkg", out / f"{stem}_scouting.csv"
    values: dict[str, list[Any]] = {c: [] for c in (*POINT_COLUMNS, "label", *ENTRY_COLUMNS)}
    for p in points:
        row = {"id": p.id, "flight": p.flight, "field_id": p.field_id, "rank": p.rank, "class": p.cls,
               "probability": p.probability, "area_m2": p.area_m2, "lat": p.lat, "lon": p.lon, "label": _label(p)}
        for c in values:
            values[c].append(row.get(c, ""))
    kinds = {"rank": np.int32, "probability": np.float64, "area_m2": np.float64, "lat": np.float64,
             "lon": np.float64}
    names = list(values)
    data = [np.array(values[c], dtype=kinds.get(c, object)) for c in names]
    geometry = np.array([shapely.to_wkb(shapely.Point(p.lon, p.lat)) for p in points], dtype=object)
    with atomic_path(gpkg) as tmp:
        pyogrio.raw.write(str(tmp), geometry, data, names, layer=LAYER, driver="GPKG", crs="EPSG:4326",
                          geometry_type="Point", encoding="UTF-8")
    with atomic_path(csv_path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "label", *[c for c in names if c not in ("id", "label")]])
        for i, p in enumerate(points):
            writer.writerow([p.id, _label(p), *[values[c][i] for c in names if c not in ("id", "label")]])
    return [gpkg, csv_path]


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a GeoPackage layer or CSV as dicts (GeoPackage point geometry → ``lon``/``lat``)."""
    if not path.is_file():
        raise SceneNotFoundError(f"observation file {str(path)!r} does not exist; pass the edited .gpkg or .csv")
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = [dict(r) for r in csv.DictReader(fh)]
        for r in rows:
            if "id" not in r and "name" in r:
                r["id"] = r.get("name")
        return rows
    if path.suffix.lower() != ".gpkg":
        raise InputError(f"observation file {str(path)!r} is neither .gpkg nor .csv; export one with "
                         "'shimanto scout export'")
    import pyogrio.raw

    try:
        meta, _fids, geoms, field_data = pyogrio.raw.read(str(path), layer=LAYER)
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError
        raise InputError(f"{str(path)!r} has no readable layer {LAYER!r} ({exc}); export one with "
                         "'shimanto scout export'") from exc
    rows = []
    for i in range(len(geoms)):
        row = {name: field_data[j][i] for j, name in enumerate(meta["fields"])}
        if geoms[i] is not None:
            pt = shapely.from_wkb(geoms[i])
            row["lon"], row["lat"] = pt.x, pt.y  # the app may have moved the point to where it was seen
        rows.append(row)
    return rows


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _float(value: Any) -> float | None:
    text = _text(value)
    return None if text == "" else float(text)


def parse_rows(rows: Sequence[Mapping[str, Any]], flight: str, crops: Mapping[str, str], source: str
               ) -> tuple[list[FieldObservation], list[str], int]:
    """Observations of visited rows, every problem found (``row N (id): ...``), and the skipped count."""
    allowed = {c.name: c.crop for c in CLASSES if c.id in DISEASE_IDS}
    out: list[FieldObservation] = []
    problems: list[str] = []
    seen: set[str] = set()
    skipped = 0
    for n, row in enumerate(rows, start=2 if source.endswith(".csv") else 1):
        pid = _text(row.get("id"))
        where = f"row {n}" + (f" ({pid})" if pid else "")
        found = _text(row.get("found")).lower()
        if not found:
            skipped += 1
            continue
        bad: list[str] = []
        parts = pid.split(ID_SEPARATOR)
        if len(parts) < 3 or ID_SEPARATOR.join(parts[:-2]) != flight:
            bad.append(f"id {pid!r} is not a scouting point of flight {flight!r} (expected '{flight}:FIELD:RANK')")
        field_id = parts[-2] if len(parts) >= 3 else ""
        if field_id and field_id not in crops:
            bad.append(f"field {field_id!r} is not in the flight's fields.geojson")
        if found in NONE_WORDS:
            found = FOUND_NONE
        elif found not in allowed:
            bad.append(f"found {found!r} is not one of {sorted(allowed)} or 'none'")
        elif field_id in crops and allowed[found] != crops[field_id]:
            bad.append(f"found {found!r} is a {allowed[found]} disease but field {field_id} grows {crops[field_id]}")
        values: dict[str, float | None] = {}
        for key, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0), ("severity", 0.0, 1.0),
                            ("accuracy_m", 0.0, 1000.0)):
            try:
                values[key] = _float(row.get(key))
            except ValueError:
                bad.append(f"{key} {_text(row.get(key))!r} is not a number")
                continue
            v = values[key]
            if v is not None and not (lo <= v <= hi and math.isfinite(v)):
                bad.append(f"{key} {v} is outside {lo:g}..{hi:g}")
        if values.get("lat") is None or values.get("lon") is None:
            bad.append("lat/lon missing (keep the exported position or the app's GPS position)")
        date = _text(row.get("date"))[:10] or None
        if date is not None:
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                bad.append(f"date {date!r} is not YYYY-MM-DD")
        if pid in seen:
            bad.append("the same point appears twice")
        seen.add(pid)
        if bad:
            problems.append(f"{where}: " + "; ".join(bad))
            continue
        out.append(FieldObservation(point_id=pid, field_id=field_id, found=found, lon=float(values["lon"] or 0.0),
                                    lat=float(values["lat"] or 0.0),
                                    uncertainty_m=values.get("accuracy_m") or DEFAULT_UNCERTAINTY_M,
                                    severity=values.get("severity"), date=date,
                                    photo=_text(row.get("photo")) or None, source=source))
    return out, problems, skipped


def read_observations(flight_dir: Path) -> list[FieldObservation]:
    """Observations stored with a flight (empty when none)."""
    path = Path(flight_dir) / OBSERVATIONS_NAME
    if not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [FieldObservation.from_feature(f) for f in doc.get("features", [])]


def import_observations(path: Path, flight_dir: Path) -> tuple[Path, int, int]:
    """Check every row of ``path`` and store the observations with the flight, all or nothing.

    Returns:
        ``(observations.geojson, observations imported, rows skipped as not visited)``.

    Raises:
        InputError: any row is bad (every bad row listed); nothing is written.
        SceneNotFoundError: the file or the flight's ``fields.geojson`` is missing.
    """
    flight_dir = Path(flight_dir)
    fields_path = flight_dir / "fields.geojson"
    if not fields_path.is_file():
        raise SceneNotFoundError(f"flight folder {str(flight_dir)!r} has no fields.geojson; pass the survey folder "
                                 "the points were predicted on")
    feats, _crs = read_geojson_features(fields_path)
    crops = {str(p.get("field_id")): str(p.get("crop", "")).lower() for _g, p in feats}
    rows = _read_rows(Path(path))
    observations, problems, skipped = parse_rows(rows, flight_dir.resolve().name, crops, Path(path).name)
    if problems:
        raise InputError(f"{str(path)!r}: {len(problems)} bad row(s), nothing imported: " + " | ".join(problems))
    if not observations:
        raise InputError(f"{str(path)!r} has no filled-in 'found' value ({skipped} rows skipped); enter what was "
                         "found (a disease class or 'none') and import again")
    merged = {o.point_id: o for o in read_observations(flight_dir)}
    merged.update({o.point_id: o for o in observations})
    doc = {"type": "FeatureCollection", "features": [o.to_feature() for _k, o in sorted(merged.items())]}
    target = atomic_write_text(flight_dir / OBSERVATIONS_NAME, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return target, len(observations), skipped

"""Per-field statistics of index rasters.

A pixel belongs to a field when its centre lies inside the polygon (GDAL's
rasterisation rule). Per field and index: mean, median, population standard
deviation (ddof = 0), 10th and 90th percentiles (linear interpolation, NumPy's
default), the count of valid (non-NaN) pixels, the field's area in hectares
(polygon area; geodesic when the raster CRS is geographic) and the share of valid
pixels strictly below the index's stress threshold.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import rasterio.windows
from pyproj import CRS
from shapely.geometry import box

from pipeline.common.atomic import atomic_write_text
from pipeline.common.geo import write_geojson_features
from pipeline.core.fields import Field
from pipeline.core.io import read_fields
from pipeline.errors import GeoreferenceError

log = logging.getLogger(__name__)

STAT_COLUMNS: tuple[str, ...] = ("mean", "median", "std", "p10", "p90", "valid_pixels", "stress_threshold",
                                 "stress_share")
CSV_COLUMNS: tuple[str, ...] = ("field_id", "index", "area_ha", *STAT_COLUMNS)


def load_fields(path: Path | str, raster_crs: Any, raster_bounds: tuple[float, float, float, float]) -> list[Field]:
    """Read a field layer by the core rule (:func:`pipeline.core.io.read_fields`), reproject it to the
    raster CRS and check that it overlaps the raster.

    Raises:
        InputError: the layer breaks the field rule (every problem listed).
        GeoreferenceError: no field overlaps the raster.
    """
    dst_crs = CRS.from_user_input(raster_crs)
    fields = list(read_fields(path).to_crs(dst_crs))
    footprint = box(*raster_bounds)
    outside = [f.field_id for f in fields if not f.geometry.intersects(footprint)]
    if len(outside) == len(fields):
        raise GeoreferenceError(
            f"no field of {str(path)!r} overlaps the raster (raster bounds {tuple(round(v, 3) for v in raster_bounds)} "
            f"in {dst_crs.to_string()}); check that the fields and the scene cover the same place"
        )
    if outside:
        log.warning("fields %s lie outside the raster; their statistics are empty", ", ".join(outside))
    return fields


def summarize(values: np.ndarray, threshold: float | None) -> dict[str, float | int | None]:
    """Statistics of the valid (non-NaN) values of a 1-D array (pure; see module docstring)."""
    valid = values[~np.isnan(values)].astype(np.float64)
    n = int(valid.size)
    if n == 0:
        nan = math.nan
        return {"mean": nan, "median": nan, "std": nan, "p10": nan, "p90": nan, "valid_pixels": 0,
                "stress_threshold": threshold, "stress_share": None if threshold is None else nan}
    p10, median, p90 = np.percentile(valid, [10, 50, 90])
    return {
        "mean": float(valid.mean()), "median": float(median), "std": float(valid.std()),
        "p10": float(p10), "p90": float(p90), "valid_pixels": n, "stress_threshold": threshold,
        "stress_share": None if threshold is None else float(np.count_nonzero(valid < threshold) / n),
    }


def _field_pixels(ds: rasterio.DatasetReader, field: Field) -> tuple[rasterio.windows.Window, np.ndarray] | None:
    """Window over the field's bounds and the mask of pixel centres inside it (``None`` when outside)."""
    bounds = rasterio.windows.from_bounds(*field.geometry.bounds, transform=ds.transform)
    col0, row0 = max(0, math.floor(bounds.col_off)), max(0, math.floor(bounds.row_off))
    col1 = min(ds.width, math.ceil(bounds.col_off + bounds.width))
    row1 = min(ds.height, math.ceil(bounds.row_off + bounds.height))
    if col1 <= col0 or row1 <= row0:
        return None
    win = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
    inside = rasterio.features.geometry_mask(
        [field.geometry], out_shape=(int(win.height), int(win.width)),
        transform=rasterio.windows.transform(win, ds.transform), invert=True,
    )
    return win, inside


def field_statistics(
    index_paths: Mapping[str, Path], fields: Sequence[Field], thresholds: Mapping[str, float]
) -> list[dict[str, Any]]:
    """One row per field and index (see :data:`CSV_COLUMNS`), reading only each field's window."""
    rows: list[dict[str, Any]] = []
    datasets = {name: rasterio.open(p) for name, p in index_paths.items()}
    try:
        for field in fields:
            first = next(iter(datasets.values()))
            located = _field_pixels(first, field)
            for name, ds in datasets.items():
                if located is None:
                    values = np.empty(0, dtype=np.float32)
                else:
                    win, inside = located
                    values = ds.read(1, window=win)[inside]
                stats = summarize(values, thresholds.get(name))
                rows.append({"field_id": field.field_id, "index": name, "area_ha": field.area_ha, **stats})
    finally:
        for ds in datasets.values():
            ds.close()
    return rows


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def write_field_stats(out_dir: Path, rows: Sequence[Mapping[str, Any]], fields: Sequence[Field],
                      raster_crs: Any) -> list[Path]:
    """Write ``field_stats.csv`` (long: one row per field and index) and ``field_stats.geojson``
    (one WGS84 feature per field with ``<index>_<stat>`` properties); NaN becomes empty/null."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    csv_path = atomic_write_text(out_dir / "field_stats.csv", buf.getvalue())
    by_field: dict[str, dict[str, Any]] = {}
    for row in rows:
        props = by_field.setdefault(row["field_id"], {})
        for col in STAT_COLUMNS:
            value = row[col]
            props[f"{row['index']}_{col}"] = None if isinstance(value, float) and math.isnan(value) else value
    features = [
        (f.geometry, {**f.properties, "field_id": f.field_id, "area_ha": f.area_ha, **by_field.get(f.field_id, {})})
        for f in fields
    ]
    geojson_path = write_geojson_features(out_dir / "field_stats.geojson", features,
                                          crs=CRS.from_user_input(raster_crs))
    return [csv_path, geojson_path]

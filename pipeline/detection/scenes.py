"""Reading survey folders onto the scene grid: bands, fields, crops and labels.

Polygons (WGS84 GeoJSON, or any CRS the file declares) are reprojected to the
raster CRS and burnt with ``rasterio.features.rasterize`` (pixel-centre rule).
Fields give a field index (1..n, 0 outside) and a crop code; labels give a
disease class; an unlabelled field pixel is the crop's healthy class and a
pixel outside every field is background. Labels impossible for the pixel's
crop (a ginger disease drawn on rice) and nodata pixels become ``IGNORE``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from pipeline.common.geo import read_geojson_features, reproject_geometry
from pipeline.common.hashing import feed_file
from pipeline.core.fields import Field
from pipeline.core.io import open_survey
from pipeline.core.io import read_fields as read_core_fields
from pipeline.detection.classes import CROP_NONE, HEALTHY_BY_CROP, IGNORE, class_id, crop_code, disallowed_labels
from pipeline.detection.resample import open_on_grid, working_grid
from pipeline.errors import GeoreferenceError, InputError


@dataclass(frozen=True)
class SceneBands:
    """What a raster says about its bands."""

    names: tuple[str, ...]
    sensor: str | None
    crs: CRS
    transform: Affine
    width: int
    height: int


def scene_bands(path: Path) -> SceneBands:
    """Band names (descriptions, lower-case), sensor tag and grid of a scene."""
    with rasterio.open(path) as src:
        if src.crs is None or not src.crs.is_projected:
            raise GeoreferenceError(
                f"scene {str(path)!r} has CRS {src.crs}; a projected CRS in metres (e.g. EPSG:6690) is needed"
            )
        names = tuple((d or "").strip().lower() for d in src.descriptions)
        sensor = src.tags().get("SENSOR")
        return SceneBands(names, sensor.lower() if sensor else None, src.crs, src.transform, src.width, src.height)


def band_positions(info: SceneBands, wanted: Sequence[str], sensor: str | None, path: Path) -> list[int]:
    """1-based raster band numbers of ``wanted``; refuse scenes that do not match.

    Raises:
        InputError: a wanted band is missing from the band descriptions, or the
            scene's SENSOR tag names another sensor than ``sensor``.
    """
    problems = []
    missing = [b for b in wanted if b not in info.names]
    if missing:
        problems.append(
            f"scene {str(path)!r} has bands {list(info.names)} (from its band descriptions) but the model needs "
            f"{list(wanted)}; missing {missing}. Export the orthomosaic with named bands in the model's band set"
        )
    if sensor and info.sensor and info.sensor != sensor.lower():
        problems.append(
            f"scene {str(path)!r} comes from sensor {info.sensor!r} but the model was trained on {sensor!r}; "
            "train a model for this sensor"
        )
    if problems:
        raise InputError("; ".join(problems))
    return [info.names.index(b) + 1 for b in wanted]


def read_bands(path: Path, positions: Sequence[int], window: Window | None = None) -> np.ndarray:
    """Read bands (1-based ``positions``) as float32 with nodata as NaN."""
    with rasterio.open(path) as src:
        data = src.read(list(positions), window=window, out_dtype=np.float32, boundless=window is not None,
                        fill_value=np.nan)
        if src.nodata is not None and not np.isnan(src.nodata):
            data[data == src.nodata] = np.nan
    return data


@dataclass(frozen=True)
class ScenePixels:
    """Bands of a scene read onto a grid (its own, or a model's working grid)."""

    stack: np.ndarray
    transform: Affine
    width: int
    height: int


def read_on_grid(path: Path, info: SceneBands, positions: Sequence[int], gsd_m: float | None) -> ScenePixels:
    """Bands ``positions`` of scene ``path`` as float32 (NaN nodata), resampled to ``gsd_m`` (m) when given and
    the scene's GSD differs (:mod:`pipeline.detection.resample`: GDAL ``average`` when downsampling)."""
    grid = working_grid(info.transform, info.width, info.height, gsd_m, f"scene {str(path)!r}")
    if grid is None:
        return ScenePixels(read_bands(path, positions), info.transform, info.width, info.height)
    with open_on_grid(path, grid) as src:
        data = src.read(list(positions), out_dtype=np.float32)
        if src.nodata is not None and not np.isnan(src.nodata):
            data[data == src.nodata] = np.nan
    return ScenePixels(data, grid.transform, grid.width, grid.height)


def read_fields(path: Path, crs: CRS) -> list[Field]:
    """Field polygons reprojected to ``crs`` by the core field rule, each with a crop (rice or ginger).

    A field's raster value in :func:`burn_fields` is its 1-based position in the returned list.
    """
    return list(read_core_fields(path, require_crop=True).to_crs(crs))


def burn_fields(fields: Sequence[Field], shape: tuple[int, int], transform: Affine) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise fields: ``(field index int32, crop code uint8)``; a field's index is its 1-based position in
    ``fields``; later fields win overlaps."""
    if not fields:
        return np.zeros(shape, np.int32), np.zeros(shape, np.uint8)
    index = rasterize(((f.geometry, i) for i, f in enumerate(fields, 1)), out_shape=shape, transform=transform,
                      fill=0, dtype="int32")
    crop_of = np.zeros(len(fields) + 1, np.uint8)
    for i, f in enumerate(fields, 1):
        crop_of[i] = crop_code(f.crop or "")
    return index, crop_of[index]


def read_label_shapes(path: Path, crs: CRS) -> list[tuple[BaseGeometry, int]]:
    """Disease polygons as ``(geometry in crs, class id)``."""
    features, src_crs = read_geojson_features(path)
    shapes, problems = [], []
    for i, (geom, props) in enumerate(features):
        name = props.get("class")
        try:
            shapes.append((reproject_geometry(geom, src_crs, crs), class_id(str(name))))
        except KeyError as exc:
            problems.append(f"feature {i}: {exc}")
    if problems:
        raise InputError(f"labels layer {str(path)!r}: " + "; ".join(problems))
    return shapes


def burn_labels(shapes: Sequence[tuple[BaseGeometry, int]], crops: np.ndarray, transform: Affine) -> np.ndarray:
    """Class raster: crop's healthy class in fields, drawn labels on top, IGNORE where impossible."""
    labels = np.zeros(crops.shape, np.uint8)
    for code, healthy in HEALTHY_BY_CROP.items():
        labels[crops == code] = healthy
    if shapes:
        drawn = rasterize(shapes, out_shape=crops.shape, transform=transform, fill=IGNORE, dtype="uint8")
        labels = np.where(drawn != IGNORE, drawn, labels)
    labels[disallowed_labels(labels, crops)] = IGNORE
    return labels


@dataclass(frozen=True)
class LabelledScene:
    """One survey on its raster grid, ready for chipping or scoring.

    Attributes:
        name: Survey folder name.
        stack: ``(bands, H, W)`` float32 reflectance, NaN nodata.
        labels: ``(H, W)`` uint8 class ids, IGNORE for nodata/contradictions.
        crops: ``(H, W)`` uint8 crop codes.
        field_index: ``(H, W)`` int32 field index (0 outside).
        fields: The fields (index order).
        transform: Affine of the grid.
        crs: Raster CRS.
        sensor: SENSOR tag of the scene, if any.
    """

    name: str
    stack: np.ndarray
    labels: np.ndarray
    crops: np.ndarray
    field_index: np.ndarray
    fields: tuple[Field, ...]
    transform: Affine
    crs: CRS
    sensor: str | None

    @property
    def pixel_area_m2(self) -> float:
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)


def load_labelled_scene(folder: Path | str, bands: Sequence[str], sensor: str | None = None,
                        gsd_m: float | None = None) -> LabelledScene:
    """Read a labelled survey folder (scene, fields, labels) onto the scene grid, or onto the working grid of
    ``gsd_m`` (m; bands resampled by :func:`read_on_grid`, polygons burnt on that grid) when given."""
    survey = open_survey(folder, need_labels=True)
    info = scene_bands(survey.scene)
    positions = band_positions(info, bands, sensor, survey.scene)
    pixels = read_on_grid(survey.scene, info, positions, gsd_m)
    fields = read_fields(survey.fields, info.crs)
    shape = (pixels.height, pixels.width)
    field_index, crops = burn_fields(fields, shape, pixels.transform)
    labels = burn_labels(read_label_shapes(survey.labels, info.crs), crops, pixels.transform)
    labels[~np.all(np.isfinite(pixels.stack), axis=0)] = IGNORE
    crops = np.where(field_index > 0, crops, CROP_NONE).astype(np.uint8)
    return LabelledScene(Path(folder).name, pixels.stack, labels, crops, field_index, tuple(fields),
                         pixels.transform, info.crs, info.sensor)


def hash_inputs(folders: Sequence[Path | str]) -> str:
    """SHA-256 over the scene, fields and labels files of survey folders (in the given order)."""
    digest = hashlib.sha256()
    for folder in folders:
        survey = open_survey(folder)
        for path in (survey.scene, survey.fields, survey.labels):
            if path.is_file():
                digest.update(path.name.encode())
                feed_file(digest, path)
    return "sha256:" + digest.hexdigest()


def describe(scene: LabelledScene) -> dict[str, Any]:
    """Small summary (pixel counts per class) for logs."""
    values, counts = np.unique(scene.labels, return_counts=True)
    return {"name": scene.name, "shape": list(scene.labels.shape), "fields": len(scene.fields),
            "class_pixels": {int(v): int(c) for v, c in zip(values, counts, strict=True)}}

"""``shimanto publish``: the town's open data — STAC + COGs, anonymous field statistics CSV, index.html.

See :mod:`pipeline.outputs.privacy` for the privacy rules. The whole publication is built in a
temporary folder, checked (every STAC href relative and resolving, pystac's validator, the leak
scan), and only then swapped into place.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
from affine import Affine
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from pipeline.common.atomic import atomic_dir
from pipeline.common.geo import reproject_geometry, write_geojson_features
from pipeline.common.progress import progress_task
from pipeline.core.fields import Field
from pipeline.core.io import FlightFields, load_flight_fields
from pipeline.errors import ConfigError, InputError, PipelineError
from pipeline.outputs.analysis import read_index_window, zonal_mean
from pipeline.outputs.anonkey import load_or_create_key
from pipeline.outputs.config import OpenDataConfig
from pipeline.outputs.inputs import (
    CLASSES_NAME,
    HOTSPOTS_NAME,
    PROBABILITY_NAME,
    Hotspot,
    available_indices,
    class_names_from_tags,
    index_path,
    load_hotspots,
    require_dir,
)
from pipeline.outputs.leakscan import find_leaks
from pipeline.outputs.mesh import aggregate_to_mesh, half_mesh_bounds
from pipeline.outputs.portal import INDEX_ORDER, FieldRow, copy_static, write_csv, write_index_html
from pipeline.outputs.privacy import (
    anonymous_field_id,
    coarsen,
    keep_mask,
    latlon_decimals,
    personal_values,
    round_geometry,
)
from pipeline.outputs.rasters import PublishedRaster, publish_raster, write_thumbnail
from pipeline.outputs.stac import ItemAssets, build_collection, build_item, collection_id, save_catalog
from pipeline.outputs.validate import href_problems, pystac_problems
from pipeline.outputs.webmap import MapLayer, map_config
from pipeline.outputs.wording import disease_name


class PrivacyLeakError(PipelineError):
    """A personal value was found in the files about to be published (nothing was published)."""

    exit_code = 6


@dataclass(frozen=True)
class PublicationCheckError(PipelineError):
    """The publication built in the temporary folder failed its own checks (nothing was published)."""

    exit_code = 1


MESH_NAME = "disease_mesh.geojson"
MESH_TITLE = "公開に同意していない圃場の病害の疑い（2分の1地域メッシュごとの件数）"


@dataclass(frozen=True)
class FlightInputs:
    """One flight's folders."""

    survey: Path
    indices: Path | None
    predictions: Path | None


def pair_inputs(surveys: Sequence[Path], indices: Sequence[Path], predictions: Sequence[Path]) -> list[FlightInputs]:
    """Pair ``--indices``/``--predictions`` with surveys by position (each list empty or the same length)."""
    for name, given in (("--indices", indices), ("--predictions", predictions)):
        if given and len(given) != len(surveys):
            raise InputError(
                f"{name} was given {len(given)} time(s) for {len(surveys)} survey folder(s); give it once per survey, "
                "in the same order, or not at all"
            )
    return [
        FlightInputs(
            s,
            require_dir(indices[i], "indices", "check --indices") if indices else None,
            require_dir(predictions[i], "predictions", "check --predictions") if predictions else None,
        )
        for i, s in enumerate(surveys)
    ]


def flight_key(flight: FlightFields) -> str:
    """``YYYYMMDD-<6 hex>``: date plus a hash of the scene grid and flight time (no folder names: they may
    hold names)."""
    with rasterio.open(flight.survey.scene) as src:
        grid = f"{src.crs}|{tuple(src.transform)}|{src.width}x{src.height}|{flight.meta.get('datetime') or ''}"
    return f"{flight.date:%Y%m%d}-{hashlib.sha256(grid.encode()).hexdigest()[:6]}"


def _mask_factory(
    flight: FlightFields, keep: list[Field], cfg: OpenDataConfig
) -> Callable[[tuple[int, int], Affine, CRS], np.ndarray]:
    drop = [f for f in flight.fields if not f.open_data]

    def mask_for(shape: tuple[int, int], transform: Affine, crs: CRS) -> np.ndarray:
        return keep_mask(
            shape, transform,
            [reproject_geometry(f.wgs84, "EPSG:4326", crs) for f in keep],
            [reproject_geometry(f.wgs84, "EPSG:4326", crs) for f in drop],
            cfg.mask_outside_fields,
        )

    return mask_for


def _publish_flight_rasters(
    flight: FlightFields, inputs: FlightInputs, keep: list[Field], data_dir: Path, cfg: OpenDataConfig
) -> tuple[PublishedRaster, dict[str, PublishedRaster], PublishedRaster | None, dict[int, str],
           PublishedRaster | None, Path | None]:
    mask_for = _mask_factory(flight, keep, cfg)
    reflectance = publish_raster(flight.survey.scene, data_dir / "reflectance.tif", mask_for)
    indices: dict[str, PublishedRaster] = {}
    if inputs.indices is not None:
        for name in available_indices(inputs.indices):
            source = index_path(inputs.indices, name)
            if source is None:
                continue
            indices[name] = publish_raster(source, data_dir / f"{name}.tif", mask_for, band_names=(name,))
    classes = probability = None
    class_names: dict[int, str] = {}
    if inputs.predictions is not None:
        if (inputs.predictions / CLASSES_NAME).is_file():
            with rasterio.open(inputs.predictions / CLASSES_NAME) as src:
                class_names = {k: v for k, v in class_names_from_tags(src.tags()).items()
                               if v.replace("_", "").isalnum() and v.isascii()}
            classes = publish_raster(inputs.predictions / CLASSES_NAME, data_dir / "classes.tif", mask_for,
                                     resampling="NEAREST", band_names=("class",))
        if (inputs.predictions / PROBABILITY_NAME).is_file():
            probability = publish_raster(inputs.predictions / PROBABILITY_NAME, data_dir / "probability.tif",
                                         mask_for, band_names=("probability",))
    thumb = write_thumbnail(indices["ndvi"].path, data_dir / "thumbnail.png", cfg.thumbnail_px) if "ndvi" in indices \
        else None
    return reflectance, indices, classes, class_names, probability, thumb


def _public_geometry(geom: BaseGeometry, crs: CRS, grid_m: float) -> BaseGeometry:
    """A metric geometry as published: coarsened to ``grid_m``, in WGS84, rounded to match."""
    return round_geometry(reproject_geometry(coarsen(geom, grid_m), crs, "EPSG:4326"), latlon_decimals(grid_m))


def _mesh_features(flight: FlightFields, hotspots: list[Hotspot]) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """Withheld fields counted per JIS X 0410 1/2 mesh square (their representative point decides the square)."""
    points = []
    for f in flight.fields:
        if f.open_data:
            continue
        point = reproject_geometry(f.geometry.representative_point(), flight.crs, "EPSG:4326")
        points.append((point.y, point.x, frozenset(h.cls for h in hotspots if h.field_id == f.field_id)))
    return [(box(*half_mesh_bounds(c.code)), {
        "mesh_code": c.code, "date": flight.date.isoformat(), "withheld_fields": c.fields,
        "fields_with_concern": c.fields_with_concern, "suspected": dict(c.by_class),
    }) for c in aggregate_to_mesh(points)]


def _field_rows(
    flight: FlightFields, keep: list[Field], hotspots: list[Hotspot], indices: dict[str, PublishedRaster],
    key: bytes, grid_m: float,
) -> tuple[list[FieldRow], list[tuple[BaseGeometry, dict[str, Any]]], list[tuple[BaseGeometry, dict[str, Any]]]]:
    decimals = latlon_decimals(grid_m)
    rows: list[FieldRow] = []
    field_feats: list[tuple[BaseGeometry, dict[str, Any]]] = []
    spot_feats: list[tuple[BaseGeometry, dict[str, Any]]] = []
    by_field: dict[str, list[Hotspot]] = defaultdict(list)
    for h in hotspots:
        by_field[h.field_id].append(h)
    for f in keep:
        anon = anonymous_field_id(f.field_id, key)
        means = {}
        for name, r in indices.items():
            window = read_index_window(r.path.parent, flight.survey.scene, name, f.geometry, flight.crs, 1.0)
            means[name] = zonal_mean(window, f.geometry, flight.crs) if window is not None else None
        spots = by_field.get(f.field_id, [])
        concern = unary_union([h.metric for h in spots]).intersection(f.geometry).area if spots else 0.0
        point = reproject_geometry(f.geometry.representative_point(), flight.crs, "EPSG:4326")
        rows.append(FieldRow(
            anon_id=anon, crop=f.crop, date=flight.date, lat=round(point.y, decimals), lon=round(point.x, decimals),
            area_ha=f.area_m2 / 10_000.0, index_means=means, concern_m2=float(concern),
            concern_pct=100.0 * float(concern) / f.area_m2 if f.area_m2 else 0.0,
            classes=tuple(sorted({h.cls for h in spots})),
        ))
        outline = _public_geometry(f.geometry, flight.crs, grid_m)
        field_feats.append((outline, {"id": anon, "crop": f.crop, "area_ha": round(f.area_m2 / 10_000.0, 3)}))
        for h in spots:
            geom = _public_geometry(h.metric, flight.crs, grid_m)
            spot_feats.append((geom, {"field": anon, "crop": f.crop, "class": h.cls, "area_m2": round(h.area_m2),
                                      "mean_probability": round(h.mean_probability, 2)}))
    return rows, field_feats, spot_feats


def _check_publication(root: Path, secrets: set[str], static: dict[str, Path]) -> None:
    """Refuse a publication whose STAC hrefs do not resolve inside it, that pystac finds invalid, or
    that holds a personal value.

    Raises:
        PublicationCheckError: an href or schema problem (a bug here, never the user's input).
        PrivacyLeakError: a personal value was found.
    """
    problems = href_problems(root) + pystac_problems(root)
    if problems:
        raise PublicationCheckError("refusing to publish, the catalogue is broken: " + "; ".join(problems[:10]))
    leaks = find_leaks(root, secrets, static)
    if leaks:
        raise PrivacyLeakError("refusing to publish, personal data found: " + "; ".join(leaks[:10]))


def publish(
    surveys: Sequence[Path],
    out: Path,
    cfg: OpenDataConfig,
    indices: Sequence[Path] = (),
    predictions: Sequence[Path] = (),
    coarsen_m: float | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Publish one or more flights as open data into ``out`` (replaced as a whole, atomically; a folder
    that holds anything but an earlier publication is refused unless ``overwrite``).

    Field IDs are anonymised with this installation's key (:mod:`pipeline.outputs.anonkey`; created
    on first use). Fields without ``open_data: true`` appear only as counts per 1/2 mesh square.

    Raises:
        InputError: mismatched arguments or bad inputs.
        ConfigError: ``outputs.anonymise_salt`` is set, or the installation's key is unusable.
        SceneNotFoundError: a folder or file is missing.
        PrivacyLeakError: a personal value would have been published (nothing is written).
    """
    if not surveys:
        raise InputError("no survey folder given; pass at least one SURVEY_DIR")
    if cfg.anonymise_salt is not None:
        raise ConfigError("params.yaml sets outputs.anonymise_salt, but a key in params.yaml is public (the file is "
                          "committed) and anyone could recompute the field IDs; remove the line: the key is generated "
                          "per installation (see README 'Open data')")
    grid_m = cfg.coarsen_m if coarsen_m is None else coarsen_m
    if grid_m < 0:
        raise InputError(f"--coarsen-m {grid_m} is negative; give 0 (no coarsening) or a grid size in metres")
    pairs = pair_inputs(surveys, indices, predictions)
    flights = [load_flight_fields(p.survey) for p in pairs]
    keys = [flight_key(fl) for fl in flights]
    repeated = sorted({str(p.survey) for p, k in zip(pairs, keys, strict=True) if keys.count(k) > 1})
    if repeated:
        raise InputError(f"survey folders {', '.join(repeated)} hold the same flight; give each flight once")
    anon_key = load_or_create_key(out).secret
    secrets: set[str] = set()
    for fl in flights:
        secrets |= personal_values(fl.fields, fl.meta)
    items_by_collection: dict[tuple[int, str], list[pystac.Item]] = defaultdict(list)
    rows: list[FieldRow] = []
    layers: list[MapLayer] = []
    field_files: list[Path] = []
    mesh_files: list[Path] = []
    names: dict[str, str] = {}
    with atomic_dir(out, "publish", overwrite) as tmp, progress_task("open data", len(flights)) as (progress, task):
        work = tmp.absolute()
        for fl, inp, key in zip(flights, pairs, keys, strict=True):
            data_dir = work / "data" / key
            data_dir.mkdir(parents=True, exist_ok=True)
            keep = [f for f in fl.fields if f.open_data]
            hotspots = list(load_hotspots(inp.predictions, fl.crs)) if inp.predictions else []
            names.update({h.cls: disease_name(h.cls) for h in hotspots})
            refl, idx, classes, class_names, prob, thumb = _publish_flight_rasters(fl, inp, keep, data_dir, cfg)
            flight_rows, field_feats, spot_feats = _field_rows(fl, keep, hotspots, idx, anon_key, grid_m)
            rows += flight_rows
            layers += [MapLayer(name, fl.date.isoformat(), r.path.relative_to(work).as_posix(), r.crs)
                       for name, r in idx.items()]
            fields_path = write_geojson_features(data_dir / "fields.geojson", field_feats)
            field_files.append(fields_path)
            spots_path = write_geojson_features(data_dir / HOTSPOTS_NAME, spot_feats) if inp.predictions else None
            mesh_feats = _mesh_features(fl, hotspots)
            if mesh_feats:
                mesh_files.append(write_geojson_features(data_dir / MESH_NAME, mesh_feats))
            assets = ItemAssets(refl, idx, classes, class_names, prob, thumb, fields_path, spots_path,
                                mesh_files[-1] if mesh_feats else None)
            sensor = fl.meta.get("sensor")
            gsd = fl.meta.get("gsd_cm")
            for crop in sorted({f.crop for f in keep}):
                crop_fields = [f for f in keep if f.crop == crop]
                geom = unary_union([_public_geometry(f.geometry, fl.crs, grid_m) for f in crop_fields])
                item = build_item(f"shimanto-{key}-{crop}", crop, fl.date, geom, assets,
                                  str(sensor) if sensor else None, float(gsd) / 100.0 if gsd else None,
                                  len(crop_fields))
                items_by_collection[(fl.date.year, crop)].append(item)
            progress.advance(task)  # type: ignore[arg-type]
        collections = [build_collection(collection_id(y, c), y, c, items)
                       for (y, c), items in sorted(items_by_collection.items())]
        catalog = save_catalog(work, collections)
        csv_path = write_csv(work, rows)
        static = copy_static(work)
        layers.sort(key=lambda m: (INDEX_ORDER.index(m.index) if m.index in INDEX_ORDER else len(INDEX_ORDER),
                                   m.index, m.date))
        config = map_config(layers, [p.relative_to(work).as_posix() for p in field_files],
                            [p.relative_to(work).as_posix() for p in mesh_files], csv_path.name, names) \
            if layers else None
        write_index_html(work, catalog, collections, csv_path, config,
                         [(p, MESH_TITLE) for p in mesh_files])
        _check_publication(work, secrets, static)
    return sorted(p for p in out.rglob("*") if p.is_file())

"""``shimanto predict``: a trained model over a scene, written as COGs and hotspot GeoJSON.

Strips from :func:`streaming.stream_strips` (the windows, blending and crop
masking of :mod:`engine`, on the CPU or the GPU) are written block by block, on
a sink thread beside the model, into tiled GeoTIFFs in a temporary folder
beside the output and converted to COGs (GDAL's COG driver, every CPU) while
the hotspots are traced; every output is renamed into place at the end. A scene at another GSD than the
model's is predicted on the model's working grid (:mod:`resample`) and its rasters warped back onto the
scene's grid (nearest for classes, bilinear for probability) before the COG copies. Hotspot components
are collected strip by strip (:mod:`hotspots`). A failed run leaves no partial output.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
import shapely.ops
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.warp import reproject
from shapely.geometry.base import BaseGeometry

from pipeline.common.atomic import atomic_write_text, claim_output_folder
from pipeline.common.geo import WGS84
from pipeline.common.progress import progress_task
from pipeline.core.scouting import feature_collection
from pipeline.detection.card import ModelCard, load_model
from pipeline.detection.classes import CLASSES, IGNORE
from pipeline.detection.engine import Strip, open_scene, pick_device, window_starts
from pipeline.detection.hotspots import HotspotCollector, write_hotspots_geojson
from pipeline.detection.resample import working_grid
from pipeline.detection.scenes import Field, band_positions, read_fields, scene_bands
from pipeline.detection.scouting import ScoutingRules, select_points
from pipeline.detection.streaming import FastPredictor, InferenceSettings, StageTimes, stream_strips
from pipeline.errors import SceneNotFoundError

CLASSES_NAME = "classes.tif"
PROBABILITY_NAME = "probability.tif"
HOTSPOTS_NAME = "hotspots.geojson"
SCOUTING_NAME = "scouting_points.geojson"
#: RGBA colours of class ids in classes.tif (QGIS shows them directly).
CLASS_COLOURS = {0: (128, 128, 128, 255), 1: (60, 170, 60, 255), 2: (220, 40, 40, 255), 3: (160, 90, 30, 255),
                 4: (240, 200, 0, 255), 5: (40, 120, 200, 255), 6: (150, 0, 150, 255), 7: (255, 120, 180, 255),
                 IGNORE: (0, 0, 0, 0)}


def _profile(src: rasterio.DatasetReader, dtype: str, nodata: float | int) -> dict[str, Any]:
    """Temporary tiled GeoTIFF: fastest DEFLATE level on every CPU (it is re-encoded once, by the COG copy)."""
    return {"driver": "GTiff", "width": src.width, "height": src.height, "count": 1, "dtype": dtype,
            "crs": src.crs, "transform": src.transform, "nodata": nodata, "tiled": True, "blockxsize": 512,
            "blockysize": 512, "compress": "DEFLATE", "ZLEVEL": 1, "BIGTIFF": "IF_SAFER", "NUM_THREADS": "ALL_CPUS"}


def _to_cog(tiled: Path, cog: Path, resampling: str, times: StageTimes) -> None:
    with times.stage("cog (parallel)"):
        rasterio.shutil.copy(str(tiled), str(cog), driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512,
                             OVERVIEW_RESAMPLING=resampling, BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")


def predict_scene(scene: Path, model_dir: Path, out_dir: Path, fields_path: Path | None = None,
                  settings: InferenceSettings | None = None, times: StageTimes | None = None,
                  flight: str | None = None, scouting: ScoutingRules | None = None,
                  overwrite: bool = False) -> dict[str, Path]:
    """Predict classes, disease probability, hotspots and scouting points of ``scene`` into ``out_dir``.

    ``times``, if given, accumulates wall seconds per stage (read, features, model, blend, write, …).
    ``flight`` names the flight in scouting point IDs (default: the scene's folder name);
    scouting points need ``fields_path`` (without it the file lists none). ``out_dir`` must be new, empty or an
    earlier ``predict`` output (:func:`~pipeline.common.atomic.claim_output_folder`) unless ``overwrite``.

    Raises:
        SceneNotFoundError: the scene, model or fields file is missing.
        InputError: the scene's bands or sensor do not match the model card.
    """
    settings = settings or InferenceSettings()
    times = times or StageTimes()
    if not scene.is_file():
        raise SceneNotFoundError(f"scene {str(scene)!r} does not exist; pass an orthomosaic GeoTIFF")
    device = pick_device(settings.device)
    model, card = load_model(model_dir, device)
    info = scene_bands(scene)
    positions = band_positions(info, card.bands, card.sensor, scene)
    fields = read_fields(fields_path, info.crs) if fields_path is not None else None
    predictor = FastPredictor(model, card, device)
    # a scene at another GSD than the model's is read on the model's working grid (resample.py);
    # the outputs are written back on the scene's own grid
    grid = working_grid(info.transform, info.width, info.height, card.gsd_m, f"scene {str(scene)!r}")
    claim_output_folder(out_dir, "predict", overwrite)
    work_transform = grid.transform if grid is not None else info.transform
    pixel_area = abs(work_transform.a * work_transform.e)
    min_pixels = math.ceil(settings.min_hotspot_area_m2 / pixel_area - 1e-6) if pixel_area > 0 else 0
    collector = HotspotCollector(work_transform, simplify_m=0.5 * abs(work_transform.a), min_pixels=min_pixels)
    tags = {"CLASS_NAMES": json.dumps([c.name for c in CLASSES]), "MODEL_RUN": card.mlflow_run_id or "unknown",
            "MODEL_DATA_HASH": card.training_data_hash, "SOURCE_SCENE": scene.name}
    work = Path(tempfile.mkdtemp(prefix=".predict.", dir=out_dir))
    try:
        with open_scene(scene, settings.decode_threads, grid) as src:
            cls_tmp, prob_tmp = work / "classes.tif", work / "probability.tif"
            with rasterio.open(cls_tmp, "w", **_profile(src, "uint8", IGNORE)) as cls_dst, \
                    rasterio.open(prob_tmp, "w", **_profile(src, "float32", float("nan"))) as prob_dst:
                cls_dst.update_tags(**tags, **{f"CLASS_{c.id}": c.name for c in CLASSES})
                cls_dst.set_band_description(1, "class")
                cls_dst.write_colormap(1, CLASS_COLOURS)
                prob_dst.update_tags(**tags)
                prob_dst.set_band_description(1, "disease_probability")
                n_rows = len(window_starts(src.height, settings.window, settings.overlap))

                # one sink thread writes strips in order; at most two strips wait for it
                with progress_task(f"predict {scene.name}", n_rows) as (progress, task), \
                        ThreadPoolExecutor(max_workers=1, thread_name_prefix="strip-sink") as sinker:

                    def sink(strip: Strip) -> None:
                        """Write a strip and collect its hotspot pixels (rich's progress is thread-safe)."""
                        with times.stage("write (parallel)"):
                            _write_strip(cls_dst, prob_dst, strip)
                        with times.stage("hotspots (parallel)"):
                            collector.add(strip)
                        progress.advance(task)  # type: ignore[arg-type]

                    sinking: deque[Future[None]] = deque()
                    for strip in stream_strips(src, positions, predictor, fields, settings, times):
                        sinking.append(sinker.submit(sink, strip))
                        if len(sinking) > 2:
                            with times.stage("wait for sink"):
                                sinking.popleft().result()
                    with times.stage("wait for sink"):
                        for done in sinking:
                            done.result()
        cls_out, prob_out = cls_tmp, prob_tmp
        if grid is not None:
            with times.stage("to scene grid"):
                cls_out = _to_scene_grid(cls_tmp, scene, work / "classes.scene.tif", Resampling.nearest)
                prob_out = _to_scene_grid(prob_tmp, scene, work / "probability.scene.tif", Resampling.bilinear)
        # the COG copies (GDAL, GIL released) run beside the hotspot tracing (Python)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cog") as pool:
            cogs = [pool.submit(_to_cog, cls_out, work / CLASSES_NAME.replace(".tif", ".cog.tif"), "NEAREST", times),
                    pool.submit(_to_cog, prob_out, work / PROBABILITY_NAME.replace(".tif", ".cog.tif"), "AVERAGE",
                                times)]
            with times.stage("hotspots"), rasterio.open(cls_tmp) as classes:
                hotspots = collector.hotspots(classes, info.crs, fields, settings.min_hotspot_area_m2)
                write_hotspots_geojson(work / HOTSPOTS_NAME, hotspots)
                write_scouting_geojson(work / SCOUTING_NAME, hotspots, fields or [], info.crs,
                                       abs(work_transform.a), flight or scene.resolve().parent.name, card,
                                       scouting)
            with times.stage("wait for COGs"):
                for done in cogs:
                    done.result()
        # every output is complete: move them into place (renames within one folder)
        os.replace(work / CLASSES_NAME.replace(".tif", ".cog.tif"), out_dir / CLASSES_NAME)
        os.replace(work / PROBABILITY_NAME.replace(".tif", ".cog.tif"), out_dir / PROBABILITY_NAME)
        os.replace(work / HOTSPOTS_NAME, out_dir / HOTSPOTS_NAME)
        os.replace(work / SCOUTING_NAME, out_dir / SCOUTING_NAME)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"classes": out_dir / CLASSES_NAME, "probability": out_dir / PROBABILITY_NAME,
            "hotspots": out_dir / HOTSPOTS_NAME, "scouting_points": out_dir / SCOUTING_NAME}


def _to_scene_grid(tiled: Path, scene: Path, out: Path, resampling: Resampling) -> Path:
    """Copy ``tiled`` (an output on the model's working grid) onto the grid of ``scene`` (GDAL warp,
    ``resampling``: nearest for classes, bilinear for probabilities), with its tags, description and colours."""
    with rasterio.open(scene) as ref, rasterio.open(tiled) as src, \
            rasterio.open(out, "w", **_profile(ref, src.dtypes[0], src.nodata)) as dst:
        reproject(rasterio.band(src, 1), rasterio.band(dst, 1), resampling=resampling,
                  src_nodata=src.nodata, dst_nodata=src.nodata, num_threads=os.cpu_count() or 1)
        dst.update_tags(**src.tags())
        dst.set_band_description(1, src.descriptions[0] or "")
        with contextlib.suppress(ValueError):  # no colour table (probabilities)
            dst.write_colormap(1, src.colormap(1))
    return out


def write_scouting_geojson(path: Path, hotspots: Sequence[tuple[BaseGeometry, dict[str, Any]]],
                           fields: Sequence[Field], crs: Any, pixel_m: float, flight: str, card: ModelCard,
                           rules: ScoutingRules | None = None) -> Path:
    """Select the scouting points of WGS84 ``hotspots`` (:mod:`scouting`) and write them as GeoJSON.

    The collection also carries ``summary`` (per-field counts: hotspots, slivers, listed, not listed)
    and ``model`` (what the report must say about the model: calibrated, trained on real flights).
    """
    to_metric = Transformer.from_crs(WGS84, CRS.from_user_input(crs), always_xy=True)
    to_wgs84 = Transformer.from_crs(CRS.from_user_input(crs), WGS84, always_xy=True)
    metric = [(shapely.ops.transform(to_metric.transform, g), p) for g, p in hotspots]
    result = select_points(metric, {f.field_id: f.geometry for f in fields}, flight, pixel_m,
                           lambda pt: to_wgs84.transform(pt.x, pt.y), rules)
    doc = feature_collection(result.points, flight=flight, summary=result.summary(), model=card.report_facts())
    return atomic_write_text(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")


def _write_strip(cls_dst: rasterio.io.DatasetWriter, prob_dst: rasterio.io.DatasetWriter, strip: Strip) -> None:
    win = rasterio.windows.Window(0, strip.row0, strip.classes.shape[1], strip.classes.shape[0])
    cls_dst.write(strip.classes[np.newaxis], window=win)
    prob_dst.write(strip.disease_probability[np.newaxis], window=win)

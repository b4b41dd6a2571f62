"""``shimanto predict``: a trained model over a scene, written as COGs and hotspot GeoJSON.

Strips from :func:`engine.predict_strips` are written block by block into
tiled GeoTIFFs in a temporary folder beside the output, converted to COGs
(GDAL's COG driver) and renamed into place; hotspots are gathered on the fly.
A failed run leaves no partial output.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil

from pipeline.common.geo import write_geojson_features
from pipeline.common.progress import progress_task
from pipeline.detection.card import load_model
from pipeline.detection.classes import CLASSES, IGNORE
from pipeline.detection.engine import Strip, WindowPredictor, pick_device, predict_strips, window_starts
from pipeline.detection.hotspots import HotspotCollector
from pipeline.detection.scenes import band_positions, read_fields, scene_bands
from pipeline.errors import SceneNotFoundError

CLASSES_NAME = "classes.tif"
PROBABILITY_NAME = "probability.tif"
HOTSPOTS_NAME = "hotspots.geojson"
#: RGBA colours of class ids in classes.tif (QGIS shows them directly).
CLASS_COLOURS = {0: (128, 128, 128, 255), 1: (60, 170, 60, 255), 2: (220, 40, 40, 255), 3: (160, 90, 30, 255),
                 4: (240, 200, 0, 255), 5: (40, 120, 200, 255), 6: (150, 0, 150, 255), 7: (255, 120, 180, 255),
                 IGNORE: (0, 0, 0, 0)}


@dataclass(frozen=True)
class InferenceSettings:
    """Window geometry and batching of inference."""

    window: int = 256
    overlap: int = 32
    batch_windows: int = 8
    min_hotspot_area_m2: float = 0.5
    device: str | None = None


def _profile(src: rasterio.DatasetReader, dtype: str, nodata: float | int) -> dict[str, Any]:
    return {"driver": "GTiff", "width": src.width, "height": src.height, "count": 1, "dtype": dtype,
            "crs": src.crs, "transform": src.transform, "nodata": nodata, "tiled": True, "blockxsize": 256,
            "blockysize": 256, "compress": "DEFLATE", "BIGTIFF": "IF_SAFER"}


def _to_cog(tiled: Path, cog: Path, resampling: str) -> None:
    rasterio.shutil.copy(str(tiled), str(cog), driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512,
                         OVERVIEW_RESAMPLING=resampling, BIGTIFF="IF_SAFER")


def predict_scene(scene: Path, model_dir: Path, out_dir: Path, fields_path: Path | None = None,
                  settings: InferenceSettings | None = None) -> dict[str, Path]:
    """Predict classes, disease probability and hotspots of ``scene`` into ``out_dir``.

    Raises:
        SceneNotFoundError: the scene, model or fields file is missing.
        InputError: the scene's bands or sensor do not match the model card.
    """
    settings = settings or InferenceSettings()
    if not scene.is_file():
        raise SceneNotFoundError(f"scene {str(scene)!r} does not exist; pass an orthomosaic GeoTIFF")
    device = pick_device(settings.device)
    model, card = load_model(model_dir, device)
    info = scene_bands(scene)
    positions = band_positions(info, card.bands, card.sensor, scene)
    fields = read_fields(fields_path, info.crs) if fields_path is not None else None
    predictor = WindowPredictor(model, card, device)
    out_dir.mkdir(parents=True, exist_ok=True)
    collector = HotspotCollector(info.transform, simplify_m=0.5 * abs(info.transform.a))
    pixel_area = abs(info.transform.a * info.transform.e)
    min_pixels = int(settings.min_hotspot_area_m2 / pixel_area) if pixel_area > 0 else 0
    tags = {"CLASS_NAMES": json.dumps([c.name for c in CLASSES]), "MODEL_RUN": card.mlflow_run_id or "unknown",
            "MODEL_DATA_HASH": card.training_data_hash, "SOURCE_SCENE": scene.name}
    work = Path(tempfile.mkdtemp(prefix=".predict.", dir=out_dir))
    try:
        with rasterio.open(scene) as src:
            cls_tmp, prob_tmp = work / "classes.tif", work / "probability.tif"
            with rasterio.open(cls_tmp, "w", **_profile(src, "uint8", IGNORE)) as cls_dst, \
                    rasterio.open(prob_tmp, "w", **_profile(src, "float32", float("nan"))) as prob_dst:
                cls_dst.update_tags(**tags, **{f"CLASS_{c.id}": c.name for c in CLASSES})
                cls_dst.set_band_description(1, "class")
                cls_dst.write_colormap(1, CLASS_COLOURS)
                prob_dst.update_tags(**tags)
                prob_dst.set_band_description(1, "disease_probability")
                n_rows = len(window_starts(src.height, settings.window, settings.overlap))
                with progress_task(f"predict {scene.name}", n_rows) as (progress, task):
                    for strip in predict_strips(src, positions, predictor, fields, settings.window,
                                                settings.overlap, settings.batch_windows):
                        _write_strip(cls_dst, prob_dst, strip)
                        collector.add(strip, min_pixels)
                        progress.advance(task)  # type: ignore[arg-type]
        _to_cog(cls_tmp, work / CLASSES_NAME.replace(".tif", ".cog.tif"), "NEAREST")
        _to_cog(prob_tmp, work / PROBABILITY_NAME.replace(".tif", ".cog.tif"), "AVERAGE")
        hotspots = collector.hotspots(info.crs, fields, settings.min_hotspot_area_m2)
        write_geojson_features(work / HOTSPOTS_NAME, hotspots)
        # every output is complete: move them into place (renames within one folder)
        os.replace(work / CLASSES_NAME.replace(".tif", ".cog.tif"), out_dir / CLASSES_NAME)
        os.replace(work / PROBABILITY_NAME.replace(".tif", ".cog.tif"), out_dir / PROBABILITY_NAME)
        os.replace(work / HOTSPOTS_NAME, out_dir / HOTSPOTS_NAME)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"classes": out_dir / CLASSES_NAME, "probability": out_dir / PROBABILITY_NAME,
            "hotspots": out_dir / HOTSPOTS_NAME}


def _write_strip(cls_dst: rasterio.io.DatasetWriter, prob_dst: rasterio.io.DatasetWriter, strip: Strip) -> None:
    win = rasterio.windows.Window(0, strip.row0, strip.classes.shape[1], strip.classes.shape[0])
    cls_dst.write(strip.classes[np.newaxis], window=win)
    prob_dst.write(strip.disease_probability[np.newaxis], window=win)

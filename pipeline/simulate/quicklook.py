"""PNG quicklook of a survey folder: true colour and colour infrared with field and label outlines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from PIL import Image, ImageDraw
from rasterio.enums import Resampling

from pipeline.common.atomic import atomic_path
from pipeline.common.geo import read_geojson_features, reproject_geometry
from pipeline.core.survey import SurveyFolder

#: Display stretch (reflectance mapped to 0..255) per band.
STRETCH = {"blue": 0.12, "green": 0.12, "red": 0.12, "nir": 0.5}
#: Outline colours: fields white, labels by crop.
OUTLINE = {"field": (255, 255, 255), "rice": (255, 220, 0), "ginger": (0, 200, 255)}


def _stretch(band: np.ndarray, top: float) -> np.ndarray:
    return np.nan_to_num(np.clip(band / top, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_quicklook(folder: SurveyFolder, out: Path, max_px: int = 1200) -> Path:
    """Write ``out`` (PNG): true colour left, colour infrared (NIR, red, green) right, outlines on both.

    Args:
        folder: A survey folder (scene with blue/green/red/nir bands).
        out: Destination PNG.
        max_px: Longest side of each panel, pixels (the scene is averaged down).
    """
    with rasterio.open(folder.scene) as src:
        scale = max(src.width, src.height) / max_px
        shape = (max(1, round(src.height / max(scale, 1))), max(1, round(src.width / max(scale, 1))))
        bands = src.read(out_shape=(src.count, *shape), resampling=Resampling.average)
        names = list(src.descriptions)
        transform = src.transform @ src.transform.scale(src.width / shape[1], src.height / shape[0])
        crs = src.crs
    b = {n: bands[names.index(n)] for n in STRETCH}
    rgb = np.dstack([_stretch(b[n], STRETCH[n]) for n in ("red", "green", "blue")])
    cir = np.dstack([_stretch(b[n], STRETCH[n]) for n in ("nir", "red", "green")])
    panels = [Image.fromarray(rgb), Image.fromarray(cir)]
    inverse = ~transform
    fields, _ = read_geojson_features(folder.fields)
    labels, _ = read_geojson_features(folder.labels) if folder.labels.is_file() else ([], None)
    outlines = [(g, OUTLINE["field"]) for g, _ in fields] + [(g, OUTLINE.get(p.get("crop", ""), (255, 0, 0)))
                                                             for g, p in labels]
    for panel in panels:
        draw = ImageDraw.Draw(panel)
        for geom, colour in outlines:
            projected = reproject_geometry(geom, 4326, crs)
            for poly in getattr(projected, "geoms", [projected]):
                ring = [inverse @ xy for xy in poly.exterior.coords]
                draw.line(ring, fill=colour, width=1)
    sheet = Image.new("RGB", (2 * shape[1] + 8, shape[0]), (0, 0, 0))
    sheet.paste(panels[0], (0, 0))
    sheet.paste(panels[1], (shape[1] + 8, 0))
    with atomic_path(out) as tmp:
        sheet.save(tmp, format="PNG")
    return out

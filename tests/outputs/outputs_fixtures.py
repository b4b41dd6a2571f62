"""Small synthetic survey/indices/predictions folders for the outputs tests (built on the fly)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import box, mapping
from shapely.ops import transform as shp_transform

from pipeline.common.cog import write_cog

CRS = "EPSG:6690"
PIXEL = 0.5  # metres
#: Every personal value placed in the inputs; none may reach open data.
PERSONAL = {
    "grower": ["山田 太郎", "佐藤 花子"],
    "contact": ["yamada.taro@example.jp", "sato.hanako@example.jp"],
    "phone": ["0880-22-1234", "0880-33-5678"],
    "address": ["高知県高岡郡四万十町窪川999-1", "高知県高岡郡四万十町十和888"],
    "operator": ["鈴木 一郎"],
}
#: field_id, crop, grower index, open_data, (x0, y0, x1, y1) in metres from the scene origin, NDVI.
FIELDS = (
    ("YA-R01", "rice", 0, True, (5, 55, 55, 95), 0.86),
    ("YA-G01", "ginger", 0, True, (65, 55, 115, 95), 0.62),
    ("SA-R01", "rice", 1, True, (5, 5, 55, 45), 0.70),
    ("SA-G01", "ginger", 1, False, (65, 5, 115, 45), 0.60),
)
#: class, field_id, (x0, y0, x1, y1), mean probability.
HOTSPOTS = (
    ("blast", "YA-R01", (7, 85, 17, 93), 0.91),
    ("brown_spot", "YA-R01", (27, 72, 33, 78), 0.55),
    ("rhizome_rot", "YA-G01", (100, 57, 112, 66), 0.72),
    ("bacterial_leaf_blight", "SA-R01", (44, 20, 53, 30), 0.83),
    ("leaf_spot", "SA-G01", (70, 30, 80, 40), 0.88),
)
CLASS_NAMES = ["healthy", "blast", "brown_spot", "bacterial_leaf_blight", "rhizome_rot", "leaf_spot"]


@dataclass(frozen=True)
class Fixture:
    survey: Path
    indices: Path
    predictions: Path


def build_fixture(root: Path, date: str = "2026-07-15", ndvi_shift: float = 0.0) -> Fixture:
    """Write survey/, indices/ and predictions/ under ``root`` (EPSG:6690, 120 m x 100 m, 0.5 m pixels)."""
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    ox, oy = to_utm.transform(132.94, 33.21)
    ox, oy = float(np.floor(ox)), float(np.floor(oy))
    width, height = 240, 200
    transform = Affine(PIXEL, 0, ox, 0, -PIXEL, oy + height * PIXEL)

    def metric(b: tuple[float, float, float, float]):
        return box(ox + b[0], oy + b[1], ox + b[2], oy + b[3])

    def wgs84(geom):
        return shp_transform(to_ll.transform, geom)

    survey, indices, predictions = root / "survey", root / "indices", root / "predictions"
    for d in (survey, indices, predictions):
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    ndvi = np.full((height, width), 0.25, dtype="float32")
    for _fid, _crop, _g, _open, b, value in FIELDS:
        mask = rasterize([metric(b)], out_shape=(height, width), transform=transform).astype(bool)
        ndvi[mask] = value + ndvi_shift
    classes = np.zeros((height, width), dtype="uint8")
    prob = np.zeros((height, width), dtype="float32")
    for cls, _fid, b, p in HOTSPOTS:
        mask = rasterize([metric(b)], out_shape=(height, width), transform=transform).astype(bool)
        ndvi[mask] -= 0.25
        classes[mask] = CLASS_NAMES.index(cls)
        prob[mask] = p
    ndvi = np.clip(ndvi + rng.normal(0, 0.02, ndvi.shape).astype("float32"), -1, 1)
    nir = np.full_like(ndvi, 0.42)
    red = nir * (1 - ndvi) / (1 + ndvi)
    green, blue, red_edge = red * 1.3, red * 0.8, nir * 0.7
    ndre = (nir - red_edge) / (nir + red_edge) * (ndvi / 0.85)
    scene = np.stack([blue, green, red, nir, red_edge]).astype("float32")
    scene[:, :4, :4] = np.nan
    write_cog(survey / "scene.tif", scene, transform=transform, crs=CRS, nodata=float("nan"),
              band_descriptions=["blue", "green", "red", "nir", "red_edge"],
              tags={"SENSOR": "rededge-mx", "PILOT": PERSONAL["operator"][0]})
    write_cog(indices / "ndvi.tif", ndvi, transform=transform, crs=CRS, nodata=float("nan"), band_descriptions=["ndvi"])
    write_cog(indices / "ndre.tif", ndre.astype("float32"), transform=transform, crs=CRS, nodata=float("nan"),
              band_descriptions=["ndre"])
    write_cog(predictions / "classes.tif", classes, transform=transform, crs=CRS, nodata=255,
              tags={"CLASS_NAMES": json.dumps(CLASS_NAMES), "GROWERS": ",".join(PERSONAL["grower"])},
              resampling="NEAREST")
    write_cog(predictions / "probability.tif", prob, transform=transform, crs=CRS, nodata=float("nan"))
    feats = []
    for fid, crop, g, open_data, b, _v in FIELDS:
        props = {
            "field_id": fid, "crop": crop, "grower": PERSONAL["grower"][g], "planted": "2026-05-01",
            "open_data": open_data, "contact": PERSONAL["contact"][g], "phone": PERSONAL["phone"][g],
            "address": PERSONAL["address"][g],
        }
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(wgs84(metric(b)))})
    (survey / "fields.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                                      ensure_ascii=False), encoding="utf-8")
    (survey / "survey.json").write_text(json.dumps({
        "date": date, "sensor": "rededge-mx", "gsd_cm": 50, "seed": 7, "operator": PERSONAL["operator"][0],
    }, ensure_ascii=False), encoding="utf-8")
    crops = {fid: crop for fid, crop, *_ in FIELDS}
    hs = []
    for cls, fid, b, p in HOTSPOTS:
        geom = metric(b)
        centre = wgs84(geom.centroid)
        hs.append({"type": "Feature", "geometry": mapping(wgs84(geom)), "properties": {
            "class": cls, "crop": crops[fid], "field_id": fid, "area_m2": geom.area, "mean_probability": p,
            "lat": centre.y, "lon": centre.x}})
    (predictions / "hotspots.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": hs}),
                                                  encoding="utf-8")
    return Fixture(survey, indices, predictions)

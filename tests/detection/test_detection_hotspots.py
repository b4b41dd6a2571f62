"""Hotspot components: joined across strip borders, specks dropped, small holes filled, big holes kept."""

from __future__ import annotations

import json

import numpy as np
import rasterio
from affine import Affine
from shapely.geometry import box, shape

from pipeline.common.geo import JGD2011_UTM53N
from pipeline.core.fields import Field
from pipeline.detection.engine import Strip
from pipeline.detection.hotspots import HotspotCollector, write_hotspots_geojson

BLAST, BROWN_SPOT, RICE_HEALTHY = 2, 3, 1
PIXEL = 0.1  # m
TRANSFORM = Affine(PIXEL, 0, 326_000.0, 0, -PIXEL, 3_675_000.0)  # Shimanto, EPSG:6690


def _scene() -> tuple[np.ndarray, np.ndarray]:
    classes = np.full((90, 60), RICE_HEALTHY, np.uint8)
    prob = np.full(classes.shape, 0.1, np.float32)
    classes[5:75, 10:30] = BLAST  # crosses the strip borders at rows 30 and 60
    prob[5:75, 10:30] = 0.8
    classes[20:22, 15:17] = RICE_HEALTHY  # 4-pixel hole: a speck, filled
    prob[20:22, 15:17] = 0.1
    classes[40:50, 12:22] = RICE_HEALTHY  # 100-pixel hole: kept as a ring
    prob[40:50, 12:22] = 0.1
    classes[80:82, 40:42] = BLAST  # 4-pixel speck: dropped
    classes[10:20, 40:52] = BROWN_SPOT  # separate hotspot of another class
    prob[10:20, 40:52] = 0.6
    return classes, prob


def test_hotspots_join_strips_and_filter_specks(tmp_path):
    classes, prob = _scene()
    path = tmp_path / "classes.tif"
    with rasterio.open(path, "w", driver="GTiff", width=60, height=90, count=1, dtype="uint8", crs=JGD2011_UTM53N,
                       transform=TRANSFORM) as dst:
        dst.write(classes[np.newaxis])
    collector = HotspotCollector(TRANSFORM, simplify_m=0.0, min_pixels=10)
    fidx = np.ones(classes.shape, np.int32)
    for row0 in (0, 30, 60):
        rows = slice(row0, row0 + 30)
        collector.add(Strip(row0, classes[rows], prob[rows], fidx[rows]))
    field = Field("F1", box(*rasterio.transform.array_bounds(90, 60, TRANSFORM)), JGD2011_UTM53N, crop="rice")
    with rasterio.open(path) as src:
        hotspots = collector.hotspots(src, JGD2011_UTM53N, [field], min_area_m2=0.1)
    assert [p["class"] for _, p in hotspots] == ["blast", "brown_spot"]
    blast_geom, blast = hotspots[0]
    blast_pixels = 70 * 20 - 4 - 100
    assert blast["area_m2"] == round((blast_pixels + 4) * PIXEL**2, 2)  # the 4-pixel hole is filled
    assert blast["mean_probability"] == 0.8  # over the blast pixels only
    assert blast["field_id"] == "F1" and blast["crop"] == "rice"
    assert blast_geom.geom_type == "Polygon" and len(blast_geom.interiors) == 1  # the 100-pixel hole stays
    assert 32.5 < blast["lat"] < 33.5 and 132.5 < blast["lon"] < 133.5
    assert hotspots[1][1]["area_m2"] == 1.2 and hotspots[1][1]["mean_probability"] == 0.6
    out = write_hotspots_geojson(tmp_path / "hotspots.geojson", hotspots)
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == 2
    assert shape(doc["features"][0]["geometry"]).equals_exact(blast_geom, 1e-9)

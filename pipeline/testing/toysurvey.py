"""A tiny, fast synthetic survey folder for tests and benchmarks (not the training data).

The real synthetic surveys come from ``pipeline.simulate`` (PROSAIL canopy);
this generator only writes the survey-folder contract
(:mod:`pipeline.core.survey`) with simple per-class spectra so that tests and
benchmarks can run in a second without the simulator. Fields are a grid of
rectangles in JGD2011 / UTM 53N near Shimanto; disease patches are discs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry import Point, box

from pipeline.common.atomic import atomic_write_json
from pipeline.common.cog import write_cog
from pipeline.common.geo import JGD2011_UTM53N, write_geojson_features
from pipeline.detection.classes import CLASSES, HEALTHY_BY_CROP, crop_code

BANDS = ("blue", "green", "red", "nir", "red_edge")
#: Mean reflectance of each class id in BANDS order (0 = bare soil).
SPECTRA = np.array([
    [0.08, 0.12, 0.15, 0.22, 0.18],
    [0.03, 0.08, 0.04, 0.45, 0.20],
    [0.05, 0.10, 0.10, 0.30, 0.18],
    [0.06, 0.10, 0.13, 0.27, 0.21],
    [0.07, 0.14, 0.09, 0.34, 0.24],
    [0.04, 0.10, 0.05, 0.38, 0.25],
    [0.06, 0.09, 0.12, 0.24, 0.16],
    [0.05, 0.12, 0.08, 0.31, 0.20],
], dtype=np.float32)


@dataclass(frozen=True)
class ToySpec:
    """Size and layout of a toy survey: ``grid × grid`` fields of ``field_px`` pixels."""

    seed: int = 0
    grid: int = 3
    field_px: int = 60
    gap_px: int = 6
    gsd_m: float = 0.1
    disease_share: float = 0.5
    sensor: str = "rededge-mx"


def make_toy_survey(out: Path, spec: ToySpec = ToySpec()) -> Path:
    """Write ``scene.tif``, ``fields.geojson``, ``labels.geojson`` and ``survey.json`` into ``out``."""
    rng = np.random.default_rng(spec.seed)
    size = spec.grid * (spec.field_px + spec.gap_px) + spec.gap_px
    x0, y0 = 305000.0, 3652000.0  # ≈ 132.93 E, 33.0 N (Shimanto)
    transform = Affine(spec.gsd_m, 0, x0, 0, -spec.gsd_m, y0)
    fields, labels = [], []
    for i in range(spec.grid):
        for j in range(spec.grid):
            r0 = spec.gap_px + i * (spec.field_px + spec.gap_px)
            c0 = spec.gap_px + j * (spec.field_px + spec.gap_px)
            minx, maxy = transform @ (c0, r0)
            maxx, miny = transform @ (c0 + spec.field_px, r0 + spec.field_px)
            crop = "rice" if (i + j) % 2 == 0 else "ginger"
            fid = f"F{i}{j}"
            fields.append((box(minx, miny, maxx, maxy), {"field_id": fid, "crop": crop, "grower": f"grower {i}",
                                                          "planted": "2026-05-01"}))
            if rng.random() < spec.disease_share:
                diseases = [c for c in CLASSES if c.crop == crop and c.disease]
                for _ in range(int(rng.integers(1, 3))):
                    cls = diseases[int(rng.integers(0, len(diseases)))]
                    rad = float(rng.uniform(0.12, 0.22)) * spec.field_px * spec.gsd_m
                    cx = float(rng.uniform(minx + rad, maxx - rad))
                    cy = float(rng.uniform(miny + rad, maxy - rad))
                    labels.append((Point(cx, cy).buffer(rad, 16), {"class": cls.name, "crop": crop}))
    shape = (size, size)
    cls_map = np.zeros(shape, np.uint8)
    if fields:
        cls_map = rasterize(((g, HEALTHY_BY_CROP[crop_code(p["crop"])]) for g, p in fields), out_shape=shape,
                            transform=transform, fill=0, dtype="uint8")
    if labels:
        drawn = rasterize(((g, next(c.id for c in CLASSES if c.name == p["class"])) for g, p in labels),
                          out_shape=shape, transform=transform, fill=255, dtype="uint8")
        cls_map = np.where(drawn != 255, drawn, cls_map)
    stack = SPECTRA[cls_map].transpose(2, 0, 1).copy()
    stack *= rng.normal(1.0, 0.04, size=shape).astype(np.float32)
    stack += rng.normal(0.0, 0.008, size=stack.shape).astype(np.float32)
    stack = np.clip(stack, 0.0, 1.0).astype(np.float32)
    stack[:, :2, :3] = np.nan  # a nodata corner, as orthomosaics have
    out.mkdir(parents=True, exist_ok=True)
    write_cog(out / "scene.tif", stack, transform=transform, crs=JGD2011_UTM53N.to_wkt(), nodata=float("nan"),
              band_descriptions=BANDS, tags={"SENSOR": spec.sensor})
    write_geojson_features(out / "fields.geojson", fields, crs=JGD2011_UTM53N)
    write_geojson_features(out / "labels.geojson", labels, crs=JGD2011_UTM53N)
    atomic_write_json(out / "survey.json", {"seed": spec.seed, "sensor": spec.sensor, "gsd_cm": spec.gsd_m * 100,
                                            "generator": "pipeline.testing.toysurvey",
                                            "simulated": True})
    return out

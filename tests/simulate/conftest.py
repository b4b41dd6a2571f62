"""Small synthetic surveys shared by the simulate tests (0.5 ha at 20 cm, about a second each)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio import features

from pipeline.common.geo import JGD2011_UTM53N, read_geojson_features, reproject_geometry
from pipeline.core.survey import SurveyFolder
from pipeline.simulate.survey import SurveySpec, simulate_survey

SMALL = {"hectares": 0.5, "gsd_cm": 20.0}


class Loaded:
    """A simulated survey read back: bands, transform, fields and labels in the raster CRS."""

    def __init__(self, folder: SurveyFolder) -> None:
        self.folder = folder
        with rasterio.open(folder.scene) as src:
            self.bands = src.read()
            self.transform = src.transform
            self.crs = src.crs
            self.descriptions = src.descriptions
            self.tags = src.tags()
            self.nodata = src.nodata
        self.band = dict(zip(self.descriptions, self.bands, strict=True))
        fields, _ = read_geojson_features(folder.fields)
        labels, _ = read_geojson_features(folder.labels)
        self.fields_wgs84 = fields
        self.labels_wgs84 = labels
        self.fields = [(reproject_geometry(g, 4326, JGD2011_UTM53N), p) for g, p in fields]
        self.labels = [(reproject_geometry(g, 4326, JGD2011_UTM53N), p) for g, p in labels]

    def mask(self, geoms) -> np.ndarray:
        geoms = list(geoms)
        if not geoms:
            return np.zeros(self.bands.shape[1:], dtype=bool)
        return features.rasterize([(g, 1) for g in geoms], out_shape=self.bands.shape[1:],
                                  transform=self.transform, fill=0, dtype="uint8").astype(bool)

    def index(self, a: str, b: str) -> np.ndarray:
        x, y = self.band[a], self.band[b]
        with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 where both bands read 0 (deep shadow)
            return (x - y) / (x + y)

    def crop_masks(self, crop: str) -> tuple[np.ndarray, np.ndarray]:
        """(healthy, diseased) pixel masks of one crop; healthy excludes a 2 m rim around patches."""
        in_crop = self.mask(g for g, p in self.fields if p["crop"] == crop)
        patches = [g for g, p in self.labels if p["crop"] == crop]
        diseased = self.mask(patches) & in_crop
        near = self.mask(g.buffer(2.0) for g in patches)
        return in_crop & ~near, diseased


@pytest.fixture(scope="session")
def make_survey(tmp_path_factory):
    """``make_survey(**overrides)``: simulate a small survey (seed 11, 0.5 ha, 20 cm) and load it."""

    def make(**overrides) -> Loaded:
        spec = SurveySpec(**{"seed": 11, **SMALL, **overrides})
        return Loaded(simulate_survey(tmp_path_factory.mktemp("sim") / "survey", spec))

    return make


@pytest.fixture(scope="session")
def small_survey(make_survey) -> Loaded:
    """The default small survey (seed 11)."""
    return make_survey()

"""A simulated season looks like a season: canopy index rises with growth, disease area grows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from pipeline.batch.discover import discover_flights
from pipeline.errors import InputError
from pipeline.simulate.season import SeasonSpec, simulate_season


def _mean_ndvi(scene: Path) -> float:
    with rasterio.open(scene) as src:
        bands = {name: src.read(i + 1) for i, name in enumerate(src.descriptions)}
    red, nir = bands["red"].astype(float), bands["nir"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)
    return float(np.nanmean(ndvi))


def _disease_m2(labels: Path) -> float:
    doc = json.loads(labels.read_text(encoding="utf-8"))
    return float(sum(f["properties"]["area_m2"] for f in doc["features"]))


def test_season_follows_the_folder_convention_and_grows(tiny_season: Path) -> None:
    found = discover_flights(tiny_season)
    assert len(found.flights) == 3 and not found.ignored
    assert {f.area for f in found.flights} == {"kubokawa"} and {f.sensor for f in found.flights} == {"rededge-mx"}
    assert [(b.date - a.date).days for a, b in zip(found.flights, found.flights[1:], strict=False)] == [7, 7]
    ndvi = [_mean_ndvi(f.path / "scene.tif") for f in found.flights]
    disease = [_disease_m2(f.path / "labels.geojson") for f in found.flights]
    assert ndvi[0] < ndvi[1] < ndvi[2], f"NDVI should rise with growth: {ndvi}"
    assert 0 < disease[0] < disease[1] < disease[2], f"disease area should spread: {disease}"
    manifest = json.loads((tiny_season / "season.json").read_text(encoding="utf-8"))
    progress = [f["disease_progress"] for f in manifest["flights"]]
    assert progress == sorted(progress) and len({f["layout_seed"] for f in manifest["flights"]}) == 1
    fields = {(f.path / "fields.geojson").read_bytes() for f in found.flights}
    assert len(fields) == 1  # the same fields every flight


def test_season_spec_lists_every_problem(tmp_path: Path) -> None:
    bad = SeasonSpec(seed=1, flights=1, interval_days=0, area="kubo_kawa")
    assert len(bad.problems()) == 3
    with pytest.raises(InputError, match=r"at least 2.*interval_days.*area"):
        simulate_season(tmp_path / "s", bad)
    assert not (tmp_path / "s").exists()

"""A real OpenDroneMap orthophoto (../shared): strips, uint8 with --scale, alpha band as mask, spyndex indices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from pipeline.common.cog import cog_problems


@pytest.mark.shared
def test_odm_rgba_orthophoto(cli, shared_dir: Path, tmp_path: Path) -> None:
    src = shared_dir / "data" / "odm-fixtures" / "orthophoto.tif"
    out = tmp_path / "out"
    rc = cli("indices", src, "--sensor", "rededge-mx", "--bands", "red,green,blue", "--scale", 255,
             "--indices", "spyndex:VARI,spyndex:NGRDI", "--out", out)
    assert rc == 0
    with rasterio.open(src) as ds:
        rgba = ds.read().astype(np.float64)
    r, g, b = rgba[0] / 255, rgba[1] / 255, rgba[2] / 255
    with np.errstate(divide="ignore", invalid="ignore"):
        want = {"VARI": (g - r) / (g + r - b), "NGRDI": (g - r) / (g + r)}
    for name, values in want.items():
        values = np.where(np.isfinite(values) & (rgba[3] > 0), values, np.nan)
        path = out / f"spyndex_{name}.tif"
        assert cog_problems(path) == []
        with rasterio.open(path) as ds:
            got = ds.read(1)
        np.testing.assert_allclose(got, values, rtol=1e-4, atol=1e-4, equal_nan=True)
        assert np.isnan(got[rgba[3] == 0]).all() and (rgba[3] == 0).any()  # alpha 0 -> nodata

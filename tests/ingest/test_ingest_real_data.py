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
        want = {"VARI": ((g - r), (g + r - b)), "NGRDI": ((g - r), (g + r))}
    for name, (num, den) in want.items():
        # Where the denominator is exactly 0 (e.g. 25 + 35 - 60), float32 rounding of the scaled inputs
        # leaves a tiny residue or not: both NaN and a huge value are float-correct there, so skip those.
        settled = np.abs(den) > 1e-4
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(settled & (rgba[3] > 0), num / den, np.nan)
        path = out / f"spyndex_{name}.tif"
        assert cog_problems(path) == []
        with rasterio.open(path) as ds:
            got = ds.read(1)
        assert np.isnan(got[rgba[3] == 0]).all() and (rgba[3] == 0).any()  # alpha 0 -> nodata
        assert not np.isinf(got).any()
        np.testing.assert_allclose(np.where(settled, got, np.nan), values, rtol=1e-4, atol=1e-4, equal_nan=True)

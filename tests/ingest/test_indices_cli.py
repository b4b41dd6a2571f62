"""``shimanto indices`` end to end on small rasters: values, nodata, COG validity, band layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from pipeline.common.cog import cog_problems
from pipeline.ingest.api import IngestConfig, run_indices
from pipeline.ingest.engine import plan_windows
from pipeline.ingest.orthomosaic import band_from_filename

SIX = ("ndvi", "ndre", "gndvi", "savi", "osavi", "evi2")


def expected(data: np.ndarray) -> dict[str, np.ndarray]:
    """Independent float64 NumPy computation of the six indices (RedEdge-MX order)."""
    _b, g, r, n, re = (data[i].astype(np.float64) for i in range(5))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"ndvi": (n - r) / (n + r), "ndre": (n - re) / (n + re), "gndvi": (n - g) / (n + g),
               "savi": 1.5 * (n - r) / (n + r + 0.5), "osavi": (n - r) / (n + r + 0.16),
               "evi2": 2.5 * (n - r) / (n + 2.4 * r + 1)}
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in out.items()}


def check_outputs(out: Path, data: np.ndarray, names: tuple[str, ...] = SIX) -> None:
    want = expected(data)
    for name in names:
        path = out / f"{name}.tif"
        assert cog_problems(path) == [], name
        with rasterio.open(path) as ds:
            assert ds.dtypes[0] == "float32" and np.isnan(ds.nodata) and ds.crs.to_epsg() == 6690
            got = ds.read(1)
        np.testing.assert_allclose(got, want[name], rtol=1e-4, atol=1e-4, equal_nan=True, err_msg=name)
        assert np.isnan(got[0, 0]) and not np.isinf(got).any()  # nodata stays nodata, never inf
        if name in ("ndvi", "ndre", "gndvi"):
            assert np.isnan(got[1, 0])  # 0/0


def test_float_scene_six_indices(cli, scene, tmp_path: Path) -> None:
    path, data = scene
    out = tmp_path / "out"
    assert cli("indices", path, "--sensor", "rededge-mx", "--indices", ",".join(SIX), "--out", out,
               "--workers", 2, "--compress", "deflate") == 0
    check_outputs(out, data)
    manifest = json.loads((out / "indices.json").read_text())
    assert manifest["sensor"] == "rededge-mx" and set(manifest["indices"]) == set(SIX)
    with rasterio.open(out / "ndvi.tif") as ds:
        assert ds.compression.name == "deflate"


def test_scaled_uint16_scene(cli, kit, tmp_path: Path) -> None:
    data = kit.reflectance()
    raw = np.round(np.nan_to_num(data, nan=0.0) * 32768).astype(np.uint16)
    path = kit.write_tif(tmp_path / "u16.tif", raw, nodata=0)
    ref = raw.astype(np.float64) / 32768
    ref[raw == 0] = np.nan  # nodata 0 in the file
    out_default, out_explicit = tmp_path / "a", tmp_path / "b"
    assert cli("indices", path, "--sensor", "rededge-mx", "--out", out_default) == 0  # sensor default 32768
    check_outputs(out_default, ref)
    assert cli("indices", path, "--sensor", "p4m", "--bands", "blue,green,red,nir,red_edge", "--scale", 32768,
               "--out", out_explicit, "--indices", "ndvi,ndre") == 0
    check_outputs(out_explicit, ref, ("ndvi", "ndre"))


def test_bands_reorder(cli, kit, tmp_path: Path) -> None:
    data = kit.reflectance()
    order = ("nir", "red", "green", "blue", "red_edge")
    shuffled = np.stack([data[kit.RMX_ORDER.index(b)] for b in order])
    path = kit.write_tif(tmp_path / "odd.tif", shuffled)
    out = tmp_path / "out"
    assert cli("indices", path, "--sensor", "rededge-mx", "--bands", ",".join(order), "--out", out) == 0
    check_outputs(out, data)


def test_band_descriptions_give_order(cli, kit, tmp_path: Path) -> None:
    data = kit.reflectance()
    order = ("red_edge", "nir", "red", "green", "blue")
    shuffled = np.stack([data[kit.RMX_ORDER.index(b)] for b in order])
    path = kit.write_tif(tmp_path / "described.tif", shuffled, descriptions=order)
    out = tmp_path / "out"
    assert cli("indices", path, "--sensor", "rededge-mx", "--out", out, "--indices", "ndvi,ndre") == 0
    check_outputs(out, data, ("ndvi", "ndre"))


@pytest.mark.parametrize("layout", ["folder", "glob"])
def test_pix4d_per_band_files(cli, kit, tmp_path: Path, layout: str) -> None:
    data = kit.reflectance()
    folder = tmp_path / "4_index" / "reflectance"
    folder.mkdir(parents=True)
    names = {"blue": "blue", "green": "green", "red": "red", "nir": "nir", "red_edge": "red edge"}
    for i, band in enumerate(kit.RMX_ORDER):
        kit.write_tif(folder / f"shimanto_transparent_reflectance_{names[band]}.tif", data[i : i + 1], nodata=-10000)
    scene = folder if layout == "folder" else f"{folder}/*_transparent_reflectance_*.tif"
    out = tmp_path / "out"
    assert cli("indices", scene, "--sensor", "rededge-mx", "--out", out) == 0
    check_outputs(out, data)


def test_band_names_from_filenames() -> None:
    assert band_from_filename(Path("p_transparent_reflectance_red edge.tif")) == "red_edge"
    assert band_from_filename(Path("ortho_nir.tif")) == "nir"
    assert band_from_filename(Path("ortho_red.tif")) == "red"
    assert band_from_filename(Path("ortho_RedEdge.tif")) == "red_edge"
    assert band_from_filename(Path("ortho.tif")) is None


def test_many_windows_many_threads_match(kit, tmp_path: Path) -> None:
    """Streaming with tiny windows and 3 threads gives the same pixels as the reference."""
    data = kit.reflectance(700, 650)
    path = kit.write_tif(tmp_path / "big.tif", data, block=64)
    config = IngestConfig(window_pixels=64 * 64, workers=3, compress="DEFLATE", level=1)
    result = run_indices(path, "rededge-mx", tmp_path / "out", indices=["ndvi", "evi2"], config=config)
    check_outputs(tmp_path / "out", data, ("ndvi", "evi2"))
    with rasterio.open(result.rasters["ndvi"]) as ds:
        assert ds.overviews(1) == [2]  # 700 px > 512: one overview level
        assert ds.tags()["INDEX"] == "ndvi"


def test_windows_are_block_aligned() -> None:
    windows = plan_windows(1000, 1300, (256, 256), 512 * 512, align=4)
    assert sum(w.width * w.height for w in windows) == 1000 * 1300
    assert all(w.col_off % 256 == 0 and w.row_off % 256 == 0 for w in windows)
    strips = plan_windows(100, 300, (3, 300), 3000, align=4)
    assert all(w.width == 300 and w.row_off % 12 == 0 for w in strips)
    assert sum(w.height for w in strips) == 100

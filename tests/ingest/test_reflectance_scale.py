"""Issue 12 item 7: GDAL scale/offset honoured, ``--scale`` is a divisor, impossible reflectance refused;
every registered index checked against an independent formula on float, scaled uint16 and 0-255 inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from pipeline.ingest.indices import INDICES

#: Independent float64 formulas (written from the papers, not from pipeline.ingest.indices); RedEdge-MX order.
FORMULAS = {
    "ndvi": lambda b, g, r, n, e: (n - r) / (n + r),
    "ndre": lambda b, g, r, n, e: (n - e) / (n + e),
    "gndvi": lambda b, g, r, n, e: (n - g) / (n + g),
    "savi": lambda b, g, r, n, e: 1.5 * (n - r) / (n + r + 0.5),
    "osavi": lambda b, g, r, n, e: (n - r) / (n + r + 0.16),
    "evi2": lambda b, g, r, n, e: 2.5 * (n - r) / (n + 2.4 * r + 1.0),
    "cire": lambda b, g, r, n, e: n / e - 1.0,
    "cigreen": lambda b, g, r, n, e: n / g - 1.0,
    "mcari": lambda b, g, r, n, e: ((e - r) - 0.2 * (e - g)) * (e / r),
    "mtci": lambda b, g, r, n, e: (n - e) / (e - r),
}


def reflectance(rows: int = 64, cols: int = 80, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.array([0.04, 0.08, 0.05, 0.45, 0.2])[:, None, None]
    return (base * (0.5 + rng.random((5, rows, cols)))).astype(np.float64)


def independent(refl: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return {k: f(*refl) for k, f in FORMULAS.items()}


def test_formulas_cover_every_registered_index() -> None:
    assert set(FORMULAS) == set(INDICES)


@pytest.mark.parametrize("kind", ["float", "uint16-divisor", "uint16-gdal-metadata", "uint8-0-255"])
def test_every_index_matches_independent_formula(kind: str, cli, kit, tmp_path: Path) -> None:
    refl = reflectance()
    args: list[str] = []
    if kind == "float":
        path = kit.write_tif(tmp_path / "f.tif", refl.astype(np.float32))
        truth = refl.astype(np.float32).astype(np.float64)
    elif kind == "uint16-divisor":
        raw = np.round(refl * 10000).astype(np.uint16)
        path, truth, args = kit.write_tif(tmp_path / "u.tif", raw, nodata=None), raw / 10000.0, ["--scale", "10000"]
    elif kind == "uint16-gdal-metadata":  # value = DN x 0.0001 + 0.01 (GDAL's convention), no --scale needed
        raw = np.round((refl - 0.01) * 10000).astype(np.uint16)
        path = kit.write_tif(tmp_path / "g.tif", raw, nodata=None)
        with rasterio.open(path, "r+") as ds:
            ds.scales, ds.offsets = [0.0001] * 5, [0.01] * 5
        truth = raw * 0.0001 + 0.01
    else:  # 0-255 floats, as some tools export 8-bit imagery
        raw = np.round(refl * 255).astype(np.float32)
        path, truth, args = kit.write_tif(tmp_path / "b.tif", raw, nodata=None), raw / 255.0, ["--scale", "255"]
    out = tmp_path / "out"
    assert cli("indices", path, "--sensor", "rededge-mx", "--indices", ",".join(INDICES), *args, "--out", out) == 0
    want = independent(truth)
    for name in INDICES:
        with rasterio.open(out / f"{name}.tif") as ds:
            got = ds.read(1).astype(np.float64)
        finite = np.isfinite(want[name])
        np.testing.assert_allclose(got[finite], want[name][finite], rtol=1e-4, atol=1e-4, err_msg=f"{kind} {name}")
    manifest = json.loads((out / "indices.json").read_text())
    assert manifest["scaling"] == {"float": "none", "uint16-divisor": "--scale", "uint16-gdal-metadata":
                                   "gdal metadata", "uint8-0-255": "--scale"}[kind]


def test_gdal_multiplier_as_scale_refused_naming_divisor(cli, kit, tmp_path: Path, capsys) -> None:
    raw = np.round(reflectance() * 10000).astype(np.uint16)
    path = kit.write_tif(tmp_path / "u.tif", raw, nodata=None)
    out = tmp_path / "out"
    capsys.readouterr()
    assert cli("indices", path, "--sensor", "p4m", "--indices", "savi", "--scale", "0.0001", "--out", out) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--scale 10000" in err and "0-1.5" in err
    assert not out.exists()


@pytest.mark.parametrize(("dtype", "scale", "wanted"), [("float32", None, "--scale 255"),
                                                        ("uint16", "65535", None)])
def test_impossible_or_negative_reflectance_refused(dtype, scale, wanted, cli, kit, tmp_path: Path,
                                                    capsys) -> None:
    refl = reflectance()
    data = (refl * 255).astype(dtype) if wanted else np.round(refl * 10000).astype(dtype)
    path = kit.write_tif(tmp_path / "s.tif", data, nodata=None)
    if not wanted:  # GDAL metadata with a negative offset: reflectance below zero
        with rasterio.open(path, "r+") as ds:
            ds.scales, ds.offsets = [0.0001] * 5, [-0.5] * 5
    capsys.readouterr()
    argv = ["indices", path, "--sensor", "rededge-mx", "--indices", "ndvi", "--out", tmp_path / "o"]
    assert cli(*argv) == 2
    err = capsys.readouterr().err
    assert (wanted in err) if wanted else ("falls to" in err)
    if not wanted:  # --scale on top of GDAL metadata is ambiguous
        assert cli(*argv, "--scale", scale) == 2
        assert "drop --scale 65535" in capsys.readouterr().err


def test_rgb_orthomosaic_gli_ngrdi_with_fields(cli, kit, tmp_path: Path, capsys) -> None:
    rgb = np.round(reflectance()[[2, 1, 0]] * 255).astype(np.uint8)  # red, green, blue as an RGB camera writes
    path = kit.write_tif(tmp_path / "ortho_rgb.tif", rgb, nodata=None)
    fields = kit.field_geojson(tmp_path / "plots.geojson", {"P1": kit.pixel_rect(2, 2, 30, 30)}, "EPSG:6690")
    capsys.readouterr()
    assert cli("indices", path, "--sensor", "rgb", "--indices", "gli,ngrdi", "--fields", fields,
               "--out", tmp_path / "o") == 0
    assert "8-bit" in capsys.readouterr().err
    r, g, b = (rgb[i].astype(np.float64) / 255 for i in range(3))
    with rasterio.open(tmp_path / "o" / "spyndex_GLI.tif") as ds:
        np.testing.assert_allclose(ds.read(1), (2 * g - r - b) / (2 * g + r + b), atol=1e-4)
    with rasterio.open(tmp_path / "o" / "spyndex_NGRDI.tif") as ds:
        np.testing.assert_allclose(ds.read(1), (g - r) / (g + r), atol=1e-4)
    assert (tmp_path / "o" / "field_stats.csv").is_file()


def test_sensor_file_used_and_every_problem_listed(cli, kit, tmp_path: Path, capsys) -> None:
    good = tmp_path / "cam.yaml"
    good.write_text("name: my-cam\nscale: 10000\nbands:\n  - {name: red, centre_nm: 650, fwhm_nm: 40}\n"
                    "  - {name: nir, centre_nm: 850, fwhm_nm: 40}\n", encoding="utf-8")
    refl = reflectance()[[2, 3]]
    path = kit.write_tif(tmp_path / "two.tif", np.round(refl * 10000).astype(np.uint16), nodata=None)
    assert cli("indices", path, "--sensor", good, "--indices", "ndvi", "--out", tmp_path / "o") == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("bands:\n  - {name: red, centre_nm: 650}\n  - {name: red, centre_nm: 660, fwhm_nm: 30}\n"
                   "  - {name: swir, centre_nm: 1600, fwhm_nm: -5}\nscale: -1\n", encoding="utf-8")
    capsys.readouterr()
    assert cli("indices", path, "--sensor", bad, "--out", tmp_path / "o2") == 2
    err = capsys.readouterr().err
    for needle in ("bands[0] lacks 'fwhm_nm'", "band name 'red' appears 2 times", "bands[2].name 'swir'",
                   "bands[2].fwhm_nm -5", "scale -1"):
        assert needle in err, needle
    assert err.count("error:") == 1


def test_sensor_file_nodata_and_json(cli, kit, tmp_path: Path) -> None:
    spec = {"name": "two-band", "scale": 10000, "nodata": 0,
            "bands": [{"name": "red", "centre_nm": 650, "fwhm_nm": 40}, {"name": "nir", "centre_nm": 850,
                                                                          "fwhm_nm": 40}]}
    sensor = tmp_path / "two.json"
    sensor.write_text(json.dumps(spec), encoding="utf-8")
    raw = np.round(reflectance()[[2, 3]] * 10000).astype(np.uint16)
    raw[:, 0, 0] = 0  # the sensor's nodata; the file declares none
    path = kit.write_tif(tmp_path / "two.tif", raw, nodata=None)
    assert cli("indices", path, "--sensor", sensor, "--indices", "ndvi", "--out", tmp_path / "o") == 0
    with rasterio.open(tmp_path / "o" / "ndvi.tif") as ds:
        got = ds.read(1)
    r, n = raw[0] / 10000.0, raw[1] / 10000.0
    assert np.isnan(got[0, 0])
    np.testing.assert_allclose(got[1:], ((n - r) / (n + r))[1:], atol=1e-4)

"""Per-field statistics against a hand computation, fields in several CRSs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from pipeline.ingest.field_stats import summarize


def hand_stats(values: np.ndarray, threshold: float | None) -> dict[str, float]:
    v = values[~np.isnan(values)].astype(np.float64)
    out = {"mean": v.mean(), "median": np.median(v), "std": v.std(), "p10": np.percentile(v, 10),
           "p90": np.percentile(v, 90), "valid_pixels": float(v.size)}
    if threshold is not None:
        out["stress_share"] = float((v < threshold).sum()) / v.size
    return out


def ndvi_of(data: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        n, r = data[3].astype(np.float64), data[2].astype(np.float64)
        v = (n - r) / (n + r)
    return np.where(np.isfinite(v), v, np.nan)


def read_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return {(r["field_id"], r["index"]): r for r in csv.DictReader(fh)}


@pytest.mark.parametrize("crs", ["EPSG:6690-legacy", "WGS84"])
def test_field_stats_match_hand_computation(cli, kit, scene, tmp_path: Path, crs: str) -> None:
    path, data = scene
    # Field A covers columns 10:60, rows 0:40 (includes the nodata corner? no: starts at column 10);
    # field B covers the nodata/0-over-0 corner, columns 0:30 and rows 0:20.
    rects = {"A": kit.pixel_rect(10, 5, 60, 45), "B": kit.pixel_rect(0, 0, 30, 20)}
    if crs == "WGS84":
        to_wgs = Transformer.from_crs("EPSG:6690", "EPSG:4326", always_xy=True)
        # Shrink by a tenth of a pixel so reprojection round-off cannot flip edge pixels.
        eps = kit.PIXEL / 10
        rects = {k: [to_wgs.transform(x + (eps if x == min(p[0] for p in r) else -eps),
                                      y + (eps if y == min(p[1] for p in r) else -eps)) for x, y in r]
                 for k, r in rects.items()}
        fields = kit.field_geojson(tmp_path / "fields.geojson", rects)
    else:
        fields = kit.field_geojson(tmp_path / "fields.geojson", rects, "urn:ogc:def:crs:EPSG::6690")
    out = tmp_path / "out"
    rc = cli("indices", path, "--sensor", "rededge-mx", "--indices", "ndvi,ndre", "--out", out,
             "--fields", fields, "--stress-threshold", "ndvi=0.6")
    assert rc == 0
    rows = read_rows(out / "field_stats.csv")
    ndvi = ndvi_of(data)
    for fid, (c0, r0, c1, r1) in {"A": (10, 5, 60, 45), "B": (0, 0, 30, 20)}.items():
        want = hand_stats(ndvi[r0:r1, c0:c1], 0.6)
        row = rows[(fid, "ndvi")]
        for key, value in want.items():
            assert float(row[key]) == pytest.approx(value, rel=1e-4, abs=1e-4), (fid, key)
        tol = 2e-2 if crs == "WGS84" else 1e-6  # the WGS84 rings were shrunk by a tenth of a pixel
        assert float(row["area_ha"]) == pytest.approx((c1 - c0) * (r1 - r0) * kit.PIXEL**2 / 1e4, rel=tol)
        assert float(row["stress_threshold"]) == 0.6
    assert rows[("A", "ndre")]["stress_threshold"] == "0.2"  # params default for ndre
    doc = json.loads((out / "field_stats.geojson").read_text())
    props = {f["properties"]["field_id"]: f["properties"] for f in doc["features"]}
    assert props["A"]["ndvi_mean"] == pytest.approx(float(rows[("A", "ndvi")]["mean"]))
    assert props["A"]["crop"] == "rice"
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 132.5 < lon < 133.5 and 32.9 < lat < 33.5  # written in WGS84


def test_field_partly_outside_raster_keeps_inside_pixels(cli, kit, scene, tmp_path: Path) -> None:
    path, data = scene
    fields = kit.field_geojson(tmp_path / "f.geojson", {"edge": kit.pixel_rect(380, 280, 450, 350),
                                                       "gone": kit.pixel_rect(900, 900, 950, 950)},
                               "EPSG:6690")
    out = tmp_path / "out"
    assert cli("indices", path, "--sensor", "rededge-mx", "--indices", "ndvi", "--out", out, "--fields", fields) == 0
    rows = read_rows(out / "field_stats.csv")
    assert int(rows[("edge", "ndvi")]["valid_pixels"]) == 20 * 20
    assert float(rows[("edge", "ndvi")]["mean"]) == pytest.approx(np.nanmean(ndvi_of(data)[280:, 380:]), rel=1e-4)
    assert rows[("gone", "ndvi")]["valid_pixels"] == "0" and rows[("gone", "ndvi")]["mean"] == ""


def test_summarize_pure() -> None:
    stats = summarize(np.array([0.1, 0.2, np.nan, 0.9, 0.4], dtype=np.float32), 0.3)
    assert stats["valid_pixels"] == 4 and stats["stress_share"] == 0.5
    assert stats["median"] == pytest.approx(0.3) and stats["mean"] == pytest.approx(0.4)
    empty = summarize(np.array([np.nan], dtype=np.float32), None)
    assert empty["valid_pixels"] == 0 and empty["stress_share"] is None

"""``calibration.json`` for the real MicaSense panel capture in ../shared, against MicaSense's figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

#: MicaSense's published reflectance of panel RP02-1603036-SC, bands 1-5 (blue, green, red, NIR, red edge).
PUBLISHED_PANEL = (0.67, 0.69, 0.68, 0.61, 0.67)


@pytest.mark.shared
def test_calibration_record_of_panel_capture(cli, shared_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    capsys.readouterr()
    assert cli("ingest", "captures", shared_dir / "data" / "micasense-rededge" / "0000SET", "--out", out,
               "--report") == 0
    table = capsys.readouterr().out
    record = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert record["method"] == "panel"
    [panel] = record["panels"]
    assert panel["capture"] == "IMG_0000"
    bands = panel["bands"]
    assert [b["band"] for b in bands] == [1, 2, 3, 4, 5]
    assert [b["name"] for b in bands] == ["blue", "green", "red", "nir", "red_edge"]
    assert [b["file"] for b in bands] == [f"IMG_0000_{n}.tif" for n in range(1, 6)]
    assert tuple(b["panel_reflectance"] for b in bands) == PUBLISHED_PANEL
    dls = {d["name"]: d["irradiance"] for d in record["captures"][0]["dls"]}
    for b in bands:
        reg = b["region"]
        assert reg["row1"] - reg["row0"] > 50 and reg["col1"] - reg["col0"] > 50  # a real panel-sized region
        assert 20000 < b["panel_raw_mean"] < 65535  # bright, unsaturated 16-bit DN
        assert 0.05 < b["panel_radiance"] < 0.5  # W/m2/sr/nm, a sunlit 60-70 % grey panel
        assert b["factor"] == pytest.approx(b["panel_reflectance"] / b["panel_radiance"], rel=1e-9)
        assert b["irradiance"] == pytest.approx(math.pi * b["panel_radiance"] / b["panel_reflectance"], rel=1e-9)
        assert 0.3 < b["irradiance"] < 2.0  # W/m2/nm, clear-sky sunlight in the visible/NIR
        assert 0.6 < b["irradiance"] / dls[b["name"]] < 1.6, b["name"]  # the panel and the DLS roughly agree
        assert f"{b['factor']:.3f}" in table
    # MicaSense's own test figures for IMG_0000_1.tif (micasense/imageprocessing tests): panel radiance 0.170284
    # W/m2/sr/nm and irradiance 0.7984 W/m2/nm in the blue band.
    assert bands[0]["panel_radiance"] == pytest.approx(0.170284, rel=5e-3)
    assert bands[0]["irradiance"] == pytest.approx(0.7984, rel=5e-3)
    for capture in record["captures"]:
        assert 20 < capture["sun"]["elevation_deg"] < 70
        assert all(d["source"] != "none" for d in capture["dls"])
    assert "calibration method: panel" in table

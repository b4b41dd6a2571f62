"""Capture checks and ODM options of ``shimanto mosaic`` on the real MicaSense captures (no node needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.ingest.mosaic.node import parse_node_url
from pipeline.ingest.mosaic.precheck import MosaicRequest, check_captures


def test_gsd_and_options_from_the_flight(micasense: Path) -> None:
    checked = check_captures(micasense / "0000SET")
    assert checked.panel == "IMG_0000" and len(checked.files) == 10 and checked.dls
    # IMG_0001 flies 174.527 m - 101.861 m (panel on the ground) = 72.67 m up; f = 1449.36 px.
    assert checked.gsd_cm == pytest.approx(100 * (174.527 - 101.861) / 1449.358246701837, rel=1e-9)
    assert checked.odm_options(MosaicRequest()) == {"radiometric-calibration": "camera+sun",
                                                    "orthophoto-resolution": 5.01, "dsm": True}
    fast = checked.odm_options(MosaicRequest(fast_orthophoto=True, resolution_cm=8))
    assert fast == {"radiometric-calibration": "camera+sun", "orthophoto-resolution": 8, "fast-orthophoto": True}


def test_ground_altitude_and_panel_options(micasense: Path) -> None:
    assert check_captures(micasense / "0000SET", MosaicRequest(ground_alt=54.527)).gsd_cm == pytest.approx(
        100 * 120.0 / 1449.358246701837)
    assert check_captures(micasense / "0000SET", MosaicRequest(panel="IMG_0000")).panel == "IMG_0000"
    with pytest.raises(InputError) as err:
        check_captures(micasense / "0000SET", MosaicRequest(ground_alt=500.0, resolution_cm=None, panel="nope"))
    text = str(err.value)  # every problem in one message
    assert "--panel 'nope'" in text and "more than 1 m above the ground altitude 500.0" in text


def test_only_bad_captures_refused_with_each_named(micasense: Path) -> None:
    with pytest.raises(InputError, match="0 usable capture") as err:
        check_captures(micasense / "0001SET")
    assert "nothing uploaded" in str(err.value)


@pytest.mark.parametrize(("url", "needle"), [("ftp://x:1", "not http"), ("http://h:99999", "port"),
                                             ("https://h:3000", "443"), ("http://h:3000/?token=t", "--token")])
def test_node_url_checked(url: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_node_url(url)
    assert parse_node_url("http://127.0.0.1:3000").display == "http://127.0.0.1:3000"


def test_odm_band_descriptions_become_ours(tmp_path: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from pipeline.common.cog import cog_problems
    from pipeline.ingest.mosaic.run import _to_cog, orthophoto_sensor

    src = tmp_path / "odm.tif"
    names = ["Blue", "Green", "Red", "NIR", "Rededge"]  # as ODM describes a MicaSense orthophoto
    with rasterio.open(src, "w", driver="GTiff", width=64, height=48, count=6, dtype="float32", crs="EPSG:32653",
                       transform=from_origin(500000, 3700000, 0.05, 0.05), photometric="MINISBLACK", alpha="YES") as ds:
        ds.write(np.full((6, 48, 64), 0.2, dtype=np.float32))
        for i, name in enumerate(names, start=1):
            ds.set_band_description(i, name)
    described = _to_cog(src, tmp_path / "orthophoto.tif", {"ODM_TASK": "t"})
    assert cog_problems(tmp_path / "orthophoto.tif") == [] and orthophoto_sensor(described) == "rededge-mx"
    with rasterio.open(tmp_path / "orthophoto.tif") as ds:
        assert list(ds.descriptions[:5]) == ["blue", "green", "red", "nir", "red_edge"]

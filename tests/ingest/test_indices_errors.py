"""Every bad input: non-zero exit, one ``error:`` line naming the problem, no output left behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def bad_cases(kit, tmp: Path) -> dict[str, tuple[list[str], str]]:
    """Case name -> (CLI arguments before --out, text the error must contain)."""
    data = kit.reflectance(64, 64)
    good = kit.write_tif(tmp / "good.tif", data)
    four = kit.write_tif(tmp / "four.tif", data[:4])
    six = kit.write_tif(tmp / "six.tif", np.concatenate([data, data[:1]]))
    nogeo = kit.write_tif(tmp / "nogeo.tif", data, crs=None, nodata=None)
    u16 = kit.write_tif(tmp / "u16.tif", (np.nan_to_num(data) * 65535).astype(np.uint16), nodata=0)
    m3m = kit.write_tif(tmp / "m3m.tif", data[1:])
    three = kit.write_tif(tmp / "three.tif", data[1:4])
    trunc = kit.write_tif(tmp / "trunc.tif", kit.reflectance(512, 512), block=64)
    trunc.write_bytes(trunc.read_bytes()[: trunc.stat().st_size // 2])
    far = kit.field_geojson(tmp / "far.geojson", {"far": kit.pixel_rect(5000, 5000, 5010, 5010)}, "EPSG:6690")
    notjson = tmp / "broken.geojson"
    notjson.write_text("{not json", encoding="utf-8")
    folder = tmp / "bands"
    folder.mkdir()
    for i, band in enumerate(kit.RMX_ORDER[:4]):  # no red_edge file
        kit.write_tif(folder / f"p_transparent_reflectance_{band}.tif", data[i : i + 1])
    s = "--sensor"
    return {
        "missing band": ([str(four), s, "rededge-mx"], "has 4 band(s) but sensor 'rededge-mx' expects 5"),
        "extra band": ([str(six), s, "rededge-mx"], "has 6 band(s)"),
        "unknown sensor": ([str(good), s, "sequoia"], "unknown sensor 'sequoia'; expected one of: altum-pt"),
        "not georeferenced": ([str(nogeo), s, "rededge-mx"], "not georeferenced"),
        "fields outside": ([str(good), s, "rededge-mx", "--fields", str(far)], "no field of"),
        "fields not json": ([str(good), s, "rededge-mx", "--fields", str(notjson)], "not valid JSON"),
        "truncated": ([str(trunc), s, "rededge-mx"], "trunc.tif"),
        "integer without scale": ([str(u16), s, "p4m"], "pass --scale"),
        "unknown index": ([str(good), s, "rededge-mx", "--indices", "ndvi,ndvii"],
                          "unknown index 'ndvii' (close: ndvi"),
        "spyndex bands": ([str(m3m), s, "m3m", "--indices", "spyndex:EVI"], "needs B, which sensor 'm3m'"),
        "band lacking for index": ([str(three), s, "rededge-mx", "--bands", "green,red,nir", "--indices", "ndvi,ndre"],
                                   "index 'ndre' needs band(s) red_edge"),
        "per-band missing": ([str(folder), s, "rededge-mx"], "band(s) red_edge have no file"),
        "scene missing": ([str(tmp / "nope.tif"), s, "rededge-mx"], "does not exist"),
        "bad --bands": ([str(good), s, "rededge-mx", "--bands", "blue,green,red,nir,swir"], "swir"),
        "bad threshold": ([str(good), s, "rededge-mx", "--stress-threshold", "ndvi:0.5"], "NAME=NUMBER"),
        "threshold for absent index": ([str(good), s, "rededge-mx", "--indices", "ndvi",
                                        "--stress-threshold", "ndre=0.2"], "not among the computed"),
        "bad scale": ([str(u16), s, "p4m", "--scale", "0"], "positive divisor"),
        "bad compress": ([str(good), s, "rededge-mx", "--compress", "JPEG"], "--compress 'JPEG' is not one of"),
    }


NAMES = [
    "missing band", "extra band", "unknown sensor", "not georeferenced", "fields outside", "fields not json",
    "truncated", "integer without scale", "unknown index", "spyndex bands", "band lacking for index",
    "per-band missing", "scene missing", "bad --bands", "bad threshold", "threshold for absent index", "bad scale",
    "bad compress",
]


@pytest.mark.parametrize("case", NAMES)
def test_bad_input_fails_cleanly(cli: Callable[..., int], kit, tmp_path: Path, capsys, case: str) -> None:
    args, needle = bad_cases(kit, tmp_path)[case]
    out = tmp_path / "out"
    capsys.readouterr()
    rc = cli("indices", *args, "--out", out)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert needle in err[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temp folder left


def test_foreign_out_folder_is_refused_and_kept(cli, kit, scene, tmp_path: Path, capsys) -> None:
    path, _ = scene
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert cli("indices", path, "--sensor", "rededge-mx", "--out", out) != 0
    assert "choose another (new or empty) folder" in capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_rerun_replaces_previous_output(cli, scene, tmp_path: Path) -> None:
    path, _ = scene
    out = tmp_path / "out"
    assert cli("indices", path, "--sensor", "rededge-mx", "--out", out, "--indices", "ndvi,ndre") == 0
    assert cli("indices", path, "--sensor", "rededge-mx", "--out", out, "--indices", "gndvi") == 0
    assert sorted(p.name for p in out.iterdir()) == [".shimanto-output.json", "gndvi.tif", "indices.json"]
    assert list(json.loads((out / "indices.json").read_text())["indices"]) == ["gndvi"]

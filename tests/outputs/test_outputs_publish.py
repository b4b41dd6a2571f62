"""``shimanto publish`` end to end: STAC validity, COGs, CSV, offline index.html, privacy byte scan."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pystac
import pytest
import rasterio
from outputs_fixtures import FIELDS, PERSONAL, Fixture, build_fixture
from rasterio.features import geometry_mask
from shapely.geometry import shape

from pipeline.common.cog import cog_problems
from pipeline.common.geo import reproject_geometry
from pipeline.outputs.leakscan import encodings, find_leaks
from pipeline.outputs.privacy import anonymous_field_id
from pipeline.outputs.validate import schema_registry, stac_object_problems, stac_problems


def _key(key_file: Path) -> bytes:
    return bytes.fromhex(key_file.read_text(encoding="ascii").strip())


def _personal_values() -> list[str]:
    return [v for values in PERSONAL.values() for v in values] + [fid for fid, *_ in FIELDS]


def test_stac_validates_against_vendored_schemas(opendata: Path) -> None:
    assert stac_problems(opendata) == []
    item_path = next(opendata.glob("shimanto-2026-rice/*/*.json"))
    doc = json.loads(item_path.read_text(encoding="utf-8"))
    assert set(doc["stac_extensions"]) == {
        "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
        "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    }
    bands = doc["assets"]["reflectance"]["eo:bands"]
    assert [b["common_name"] for b in bands] == ["blue", "green", "red", "nir", "rededge"]
    assert bands[3]["center_wavelength"] == pytest.approx(0.842)
    assert doc["assets"]["ndvi"]["raster:bands"][0]["nodata"] == "nan"
    # The validator really checks: broken documents are reported.
    registry = schema_registry()
    broken = json.loads(json.dumps(doc))
    broken["assets"]["ndvi"]["raster:bands"][0]["data_type"] = "float99"
    broken["assets"]["reflectance"]["eo:bands"][0]["common_name"] = "ultraviolet"
    del broken["id"]
    problems = stac_object_problems(broken, registry, "broken")
    assert any("'id' is a required property" in p for p in problems)
    assert any("float99" in p for p in problems)
    assert any("ultraviolet" in p for p in problems)


def test_pystac_reads_catalog_collections_licence(opendata: Path) -> None:
    catalog = pystac.Catalog.from_file(str(opendata / "catalog.json"))
    items = [i for _root, _children, its in catalog.walk() for i in its]
    assert sorted(i.id.rsplit("-", 1)[-1] for i in items) == ["ginger", "rice"]
    collections = {c.id: c for c in catalog.get_children()}
    assert set(collections) == {"shimanto-2026-rice", "shimanto-2026-ginger"}
    rice = collections["shimanto-2026-rice"]
    assert isinstance(rice, pystac.Collection)
    assert rice.license == "other"
    assert any(link.rel == "license" and "public_data_license" in str(link.target) for link in rice.links)
    assert rice.providers and rice.providers[0].name == "四万十町"
    for item in items:
        for key, asset in item.assets.items():
            path = Path(asset.get_absolute_href() or "")
            assert path.is_file(), key
            assert not Path(asset.href).is_absolute()


def test_every_cog_valid_and_withheld_field_masked(opendata: Path, flight: Fixture) -> None:
    tifs = sorted(opendata.rglob("*.tif"))
    assert {t.name for t in tifs} == {"reflectance.tif", "ndvi.tif", "ndre.tif", "classes.tif", "probability.tif"}
    for tif in tifs:
        assert cog_problems(tif) == [], tif
    withheld = next(f for f in FIELDS if not f[3])
    doc = json.loads((flight.survey / "fields.geojson").read_text(encoding="utf-8"))
    geom = next(shape(f["geometry"]) for f in doc["features"] if f["properties"]["field_id"] == withheld[0])
    for tif in tifs:
        with rasterio.open(tif) as src:
            inside = ~geometry_mask([reproject_geometry(geom, "EPSG:4326", src.crs)], out_shape=src.shape,
                                    transform=src.transform)
            data = src.read(1)
            if np.issubdtype(data.dtype, np.floating):
                assert np.isnan(data[inside]).all(), tif
            else:
                assert (data[inside] == src.nodata).all(), tif
            assert "GROWERS" not in src.tags() and "PILOT" not in src.tags()
    with rasterio.open(next(t for t in tifs if t.name == "classes.tif")) as src:
        assert 5 not in np.unique(src.read(1))  # leaf_spot only occurred in the withheld field


def test_csv_japanese_headers_and_rows(opendata: Path, opendata_key_file: Path) -> None:
    path = opendata / "394122_drone_field_stats.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, deliberately (Excel)
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"全国地方公共団体コード": str})
    for col in ("全国地方公共団体コード", "ID", "地方公共団体名", "名称", "緯度", "経度", "作物", "観測日",
                "NDVI平均", "NDRE平均", "要注意面積割合(%)"):
        assert col in df.columns
    assert (df["全国地方公共団体コード"] == "394122").all()
    assert (df["地方公共団体名"] == "高知県四万十町").all()
    key = _key(opendata_key_file)
    open_ids = {anonymous_field_id(f[0], key) for f in FIELDS if f[3]}
    assert set(df["圃場ID"]) == open_ids and len(df) == 3
    assert set(df["作物"]) == {"水稲", "しょうが"}
    assert df["緯度"].between(33.2, 33.22).all() and df["経度"].between(132.93, 132.95).all()
    row = df[df["圃場ID"] == anonymous_field_id("YA-R01", key)].iloc[0]
    assert row["要注意面積(m2)"] == pytest.approx(116, abs=1)
    assert row["要注意面積割合(%)"] == pytest.approx(5.8, abs=0.1)
    assert row["NDVI平均"] > 0.75


def test_index_html_links_are_local_and_relative(opendata: Path) -> None:
    html = (opendata / "index.html").read_text(encoding="utf-8")
    assert "出典：四万十町" in html and "PDL1.0" in html
    refs = re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', html) + re.findall(r'url\(\s*"?([^")]*)', html)
    assert len(refs) > 10
    for ref in refs:
        if ref == "data:,":  # the empty favicon
            continue
        assert not re.match(r"^[a-z]+:|^//", ref), f"non-relative reference {ref}"
        assert (opendata / ref).is_file(), ref
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts == [' type="application/json" id="map-config"', ' src="assets/opendata-map.js" defer']
    config = json.loads(re.search(r'id="map-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    hrefs = [config["csv"], *config["fields"], *config["meshes"],
             *(layer["href"] for index in config["indices"] for layer in index["layers"])]
    assert [i["name"] for i in config["indices"]] == ["ndvi", "ndre"]
    for href in hrefs:
        assert (opendata / href).is_file(), href


def test_no_personal_value_in_any_published_byte(opendata: Path) -> None:
    files = [p for p in opendata.rglob("*") if p.is_file()]
    assert len(files) > 10
    values = _personal_values()
    assert find_leaks(opendata, values) == []
    for path in files:  # independent of find_leaks: raw UTF-8 and UTF-16 bytes of every value
        data = path.read_bytes()
        for value in values:
            for form in (value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")):
                assert form not in data, f"{value!r} in {path}"
    pngs = [p for p in files if p.suffix == ".png"]
    for png in pngs:  # thumbnails carry no text chunks at all
        assert not {b"tEXt", b"zTXt", b"iTXt"} & {c for c in (b"tEXt", b"zTXt", b"iTXt") if c in png.read_bytes()}


def test_leak_scanner_finds_hidden_values(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x00\x01" + "山田 太郎".encode("utf-16-le") + b"\x00")
    (tmp_path / "b.json").write_text(json.dumps({"x": "佐藤 花子"}), encoding="utf-8")  # \\u escapes
    (tmp_path / "c.txt").write_text("clean", encoding="utf-8")
    problems = find_leaks(tmp_path, ["山田 太郎", "佐藤 花子"])
    assert len(problems) == 2 and any("a.bin" in p for p in problems) and any("b.json" in p for p in problems)
    assert len(encodings("山田")) >= 4


def test_two_flights_stable_ids_and_coarsening(flight: Fixture, tmp_path: Path, run_cli) -> None:
    later = build_fixture(tmp_path / "later", date="2026-08-20", ndvi_shift=-0.05)
    out = tmp_path / "od"
    rc = run_cli(["publish", str(flight.survey), str(later.survey), "--indices", str(flight.indices),
                  "--indices", str(later.indices), "--predictions", str(flight.predictions),
                  "--predictions", str(later.predictions), "--out", str(out), "--coarsen-m", "10"])
    assert rc == 0
    assert stac_problems(out) == []
    df = pd.read_csv(out / "394122_drone_field_stats.csv", encoding="utf-8-sig")
    assert len(df) == 6 and df["ID"].is_unique
    assert df.groupby("圃場ID")["観測日"].nunique().eq(2).all()  # same anonymous ID on both flights
    assert all(len(str(v).split(".")[1]) <= 4 for v in df["緯度"])  # 10 m → 4 decimals
    rice = pystac.Collection.from_file(str(out / "shimanto-2026-rice" / "collection.json"))
    assert len(list(rice.get_items())) == 2
    fields = json.loads(next(out.glob("data/*/fields.geojson")).read_text(encoding="utf-8"))
    for feat in fields["features"]:
        assert set(feat["properties"]) == {"id", "crop", "area_ha"}
    assert find_leaks(out, _personal_values()) == []


def test_publish_bad_inputs(flight: Fixture, tmp_path: Path, run_cli, capsys) -> None:
    out = tmp_path / "od"
    rc = run_cli(["publish", str(flight.survey), "--indices", str(flight.indices), "--indices",
                  str(flight.indices), "--out", str(out)])
    assert rc == 2 and "--indices was given 2 time(s) for 1 survey" in capsys.readouterr().err
    rc = run_cli(["publish", str(flight.survey), "--predictions", str(tmp_path / "missing"), "--out", str(out)])
    assert rc == 2 and "predictions folder" in capsys.readouterr().err
    rc = run_cli(["publish", str(tmp_path / "nosurvey"), "--out", str(out)])
    assert rc == 2 and "survey folder" in capsys.readouterr().err
    rc = run_cli(["publish", str(flight.survey), "--out", str(out), "--coarsen-m", "-1"])
    assert rc == 2 and "negative" in capsys.readouterr().err
    rc = run_cli(["publish", str(flight.survey), str(flight.survey), "--out", str(out)])
    assert rc == 2 and "same flight" in capsys.readouterr().err
    assert not out.exists()


def test_leak_guard_aborts_and_keeps_previous_publication(opendata: Path, tmp_path: Path, run_cli, capsys) -> None:
    # A grower whose "name" also occurs in the metadata we publish (the sensor name) must stop publication.
    fx = build_fixture(tmp_path / "leaky")
    doc = json.loads((fx.survey / "fields.geojson").read_text(encoding="utf-8"))
    doc["features"][0]["properties"]["contact"] = "rededge-mx"
    (fx.survey / "fields.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "od"
    shutil.copytree(opendata, out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    rc = run_cli(["publish", str(fx.survey), "--indices", str(fx.indices), "--out", str(out)])
    assert rc == 6
    assert "refusing to publish" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".od.")]

"""Issue 12.2 and 12.5: published links survive a move; field IDs need the installation's key; no personal
value of any length leaks; withheld fields only as JIS X 0410 1/2-mesh counts."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pystac
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from outputs_fixtures import FIELDS, HOTSPOTS, Fixture, build_fixture
from PIL import Image
from shapely.geometry import shape

from pipeline.common.cog import cog_problems
from pipeline.outputs.anonkey import ENV_VAR
from pipeline.outputs.leakscan import find_leaks
from pipeline.outputs.mesh import half_mesh_bounds, half_mesh_code
from pipeline.outputs.privacy import anonymous_field_id
from pipeline.outputs.validate import OfflineSTACValidator, href_problems, pystac_problems, stac_problems
from pipeline.outputs.webmap import static_files

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FORMER_DEFAULT_KEY = "shimanto-394122-" + "opendata-v1"  # the key params.yaml and the code used to carry


def _publish_args(fx: Fixture, out: str) -> list[str]:
    return ["publish", str(fx.survey), "--indices", str(fx.indices), "--predictions", str(fx.predictions),
            "--out", out]


def _hrefs_of_index_html(root: Path) -> list[str]:
    html = (root / "index.html").read_text(encoding="utf-8")
    return [h for h in re.findall(r'(?:href|src)="([^"]*)"', html) if h != "data:,"]


def test_relative_out_then_moved_every_href_resolves(flight: Fixture, tmp_path: Path, run_cli,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run_cli(_publish_args(flight, "od")) == 0  # relative --out, as `make demo` uses
    moved = tmp_path / "elsewhere" / "公開 データ"
    moved.parent.mkdir()
    shutil.move(str(work / "od"), moved)
    copied = tmp_path / "copy"
    shutil.copytree(moved, copied)
    for root in (moved, copied):
        tifs = set()
        for path in root.rglob("*.json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            if "stac_version" not in doc:
                continue
            hrefs = [link["href"] for link in doc["links"] if link["rel"] != "license"]
            hrefs += [a["href"] for a in doc.get("assets", {}).values()]
            for href in hrefs:
                assert not href.startswith(("/", "http:", "https:", "file:")) and ".od." not in href, (path, href)
                target = (path.parent / href).resolve()
                assert target.is_file() and target.is_relative_to(root.resolve()), (path, href)
                if target.suffix == ".tif":
                    tifs.add(target)
        assert len(tifs) == 5
        for tif in tifs:
            assert cog_problems(tif) == [], tif
        for href in _hrefs_of_index_html(root):
            assert (root / unquote(href)).is_file(), href
        catalog = pystac.Catalog.from_file(str(root / "catalog.json"))
        items = list(catalog.get_items(recursive=True))
        assert len(items) == 2
        for item in items:
            for asset in item.assets.values():
                assert Path(asset.get_absolute_href() or "").is_file()
        assert href_problems(root) == []
        assert pystac_problems(root) == []
        assert stac_problems(root) == []


def test_pystac_validator_is_offline_and_really_validates(opendata: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("the validator tried to download a schema")

    monkeypatch.setattr(pystac.StacIO.default(), "read_text", no_network)
    monkeypatch.setattr("urllib.request.urlopen", no_network)
    validator = OfflineSTACValidator()
    assert pystac_problems(opendata) == []
    broken = tmp_path / "broken"
    shutil.copytree(opendata, broken)
    item_path = next(broken.glob("shimanto-2026-rice/*/*.json"))
    doc = json.loads(item_path.read_text(encoding="utf-8"))
    doc["assets"]["ndvi"]["raster:bands"][0]["data_type"] = "float99"
    doc["bbox"] = "not a bbox"
    doc["assets"]["ndre"]["href"] = "/tmp/somewhere/ndre.tif"
    item_path.write_text(json.dumps(doc), encoding="utf-8")
    assert any("pystac" in p for p in pystac_problems(broken))
    assert any("not relative" in p for p in href_problems(broken))
    with pytest.raises(Exception, match="not vendored"):
        validator._get_schema("https://example.com/unknown-extension/schema.json")


def _key(path: Path) -> bytes:
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def test_key_generated_0600_outside_publication_and_ids_need_it(flight: Fixture, tmp_path: Path, run_cli,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "config" / "shimanto" / "opendata.key"
    monkeypatch.setenv(ENV_VAR, str(key_file))
    out = tmp_path / "od"
    assert run_cli(_publish_args(flight, str(out))) == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = _key(key_file)
    assert len(key) == 32
    ids = set(pd.read_csv(out / "394122_drone_field_stats.csv", encoding="utf-8-sig")["圃場ID"])
    open_fields = [f[0] for f in FIELDS if f[3]]
    assert ids == {anonymous_field_id(f, key) for f in open_fields}
    # Without the key (the former public default, an empty key, the municipality code) nothing matches.
    for guess in (FORMER_DEFAULT_KEY.encode(), b"", b"394122", b"shimanto"):
        assert not ids & {anonymous_field_id(f, guess) for f in open_fields}
    assert not any(key.hex() in p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file())
    # Second publish reuses the key (stable IDs); another installation gets other IDs.
    assert run_cli(_publish_args(flight, str(tmp_path / "od2"))) == 0
    assert set(pd.read_csv(tmp_path / "od2" / "394122_drone_field_stats.csv", encoding="utf-8-sig")["圃場ID"]) == ids
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "other-install" / "opendata.key"))
    assert run_cli(_publish_args(flight, str(tmp_path / "od3"))) == 0
    other = set(pd.read_csv(tmp_path / "od3" / "394122_drone_field_stats.csv", encoding="utf-8-sig")["圃場ID"])
    assert not other & ids


@pytest.mark.parametrize("case", ["in-repo", "group-readable", "not-hex", "in-publication"])
def test_unusable_key_refused(case: str, flight: Fixture, tmp_path: Path, run_cli, capsys,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "od"
    key_file = tmp_path / "keys" / "opendata.key"
    if case == "in-repo":
        (tmp_path / "keys" / ".git").mkdir(parents=True)
    if case == "in-publication":
        key_file = out / "opendata.key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(FORMER_DEFAULT_KEY if case == "not-hex" else "ab" * 32, encoding="ascii")
    key_file.chmod(0o644 if case == "group-readable" else 0o600)
    monkeypatch.setenv(ENV_VAR, str(key_file))
    before = sorted(p.name for p in out.iterdir()) if out.exists() else None
    assert run_cli(_publish_args(flight, str(out))) == 2
    err = capsys.readouterr().err
    expected = {"in-repo": "inside the git repository", "group-readable": "chmod 600",
                "not-hex": "hex digits", "in-publication": "inside the published folder"}[case]
    assert expected in err and str(key_file) in err
    assert (sorted(p.name for p in out.iterdir()) if out.exists() else None) == before


def test_key_in_params_yaml_refused(flight: Fixture, tmp_path: Path, run_cli, capsys) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("outputs:\n  anonymise_salt: my-town-secret\n", encoding="utf-8")
    rc = run_cli([*_publish_args(flight, str(tmp_path / "od")), "--params", str(params)])
    assert rc == 2 and "anonymise_salt" in capsys.readouterr().err
    assert not (tmp_path / "od").exists()


def test_git_grep_finds_no_anonymisation_key() -> None:
    git = shutil.which("git")
    if git is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("needs git and the project's git checkout")
    searches = [(FORMER_DEFAULT_KEY, [":!tests/outputs/test_outputs_opendata_trust.py"]),
                (r"anonymise_salt:\s*[^#\s]", ["*.yaml", "*.yml"])]  # a key set in any committed params file
    for pattern, paths in searches:
        found = subprocess.run([git, "-C", str(PROJECT_ROOT), "grep", "-n", "-E", "-I", pattern, "--", *paths],
                               capture_output=True, text=True, check=False)
        assert found.returncode == 1, found.stdout


def _rename_personal(fx: Fixture, renames: dict[str, tuple[str, str]], extra: dict[str, str] | None = None) -> None:
    """Give fields new IDs and growers: ``{old_id: (new_id, grower)}``; ``extra`` props for every field."""
    path = fx.survey / "fields.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for feat in doc["features"]:
        props = feat["properties"]
        new_id, grower = renames.get(props["field_id"], (props["field_id"], props["grower"]))
        props.update({"field_id": new_id, "grower": grower, **(extra or {})})
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    spots = fx.predictions / "hotspots.geojson"
    doc = json.loads(spots.read_text(encoding="utf-8"))
    for feat in doc["features"]:
        old_id = feat["properties"]["field_id"]
        feat["properties"]["field_id"] = renames.get(old_id, (old_id,))[0]
    spots.write_text(json.dumps(doc), encoding="utf-8")


def _token_in(value: str, text: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z_]){re.escape(value)}(?![0-9A-Za-z_])", text, re.IGNORECASE) is not None


def test_short_grower_and_field_never_published(tmp_path: Path, run_cli) -> None:
    fx = build_fixture(tmp_path / "in")
    _rename_personal(fx, {"YA-R01": ("F1", "Abe"), "YA-G01": ("F10", "Abe"), "SA-R01": ("F2", "Ito"),
                          "SA-G01": ("F3", "Ito")})
    out = tmp_path / "od"
    assert run_cli(_publish_args(fx, str(out))) == 0
    static = {rel: src.read_bytes() for rel, src in static_files().items()}
    scanned = 0
    for path in (p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if rel in static:
            assert data == static[rel]  # verbatim packaged file (font, map script): cannot carry user data
            continue
        if path.suffix == ".tif":
            with rasterio.open(path) as src:
                texts = [json.dumps(src.tags()), *(d or "" for d in src.descriptions),
                         *(json.dumps(src.tags(b)) for b in src.indexes)]
        elif path.suffix == ".png":  # pixels are compressed numbers; text could only sit in chunks
            with Image.open(path) as img:
                texts = [json.dumps(img.info, default=str)]
        else:
            texts = [data.decode("utf-8", "replace"), data.decode("utf-16-le", "replace")]
        for value in ("Abe", "F1", "F10", "F2", "F3", "Ito"):
            assert not any(_token_in(value, t) for t in texts), (value, rel)
        scanned += 1
    assert scanned > 10


def test_short_value_in_published_metadata_stops_publication(tmp_path: Path, run_cli, capsys) -> None:
    # A grower "UAV" (3 bytes): the STAC items publish "platform": "uav", so publication must stop.
    fx = build_fixture(tmp_path / "in")
    _rename_personal(fx, {"YA-R01": ("F1", "UAV")})
    out = tmp_path / "od"
    assert run_cli(_publish_args(fx, str(out))) == 6
    assert "'UAV'" in capsys.readouterr().err
    assert not out.exists()


def test_leak_scan_whole_tokens(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\r\nF10,Aberdeen\r\nF1a,label\r\n", encoding="utf-8")
    assert find_leaks(tmp_path, ["F1", "Abe"]) == []
    (tmp_path / "b.json").write_text(json.dumps({"x": "abe", "y": ["F1"]}), encoding="utf-8")
    (tmp_path / "c.html").write_text('<a href="data/%E9%98%BF%E9%83%A8.csv">x</a>', encoding="utf-8")
    (tmp_path / "d.json").write_text(json.dumps({"x": "阿部"}), encoding="utf-8")  # \\u escapes
    problems = find_leaks(tmp_path, ["F1", "Abe", "阿部"])
    assert problems == ["b.json contains personal value 'Abe'", "b.json contains personal value 'F1'",
                        "c.html contains personal value '阿部'", "d.json contains personal value '阿部'"]


def test_leak_scan_reads_tiff_tags_whatever_the_length(flight: Fixture, tmp_path: Path) -> None:
    from pipeline.common.cog import write_cog

    with rasterio.open(flight.indices / "ndvi.tif") as src:
        data, transform, crs = src.read(), src.transform, src.crs
    write_cog(tmp_path / "x.tif", data, transform=transform, crs=crs, tags={"NOTE": "Abe"},
              band_descriptions=["F1"])
    assert find_leaks(tmp_path, ["Abe", "F1", "F10"]) == [
        "x.tif contains personal value 'Abe'", "x.tif contains personal value 'F1'"]


@pytest.mark.parametrize(("lat", "lon", "code"), [
    (43.062072, 141.354368, "644142781"),  # 札幌市 (chiriin and jismesh reference values)
    (40.8227, 140.7469, "614015894"),  # 青森市
    (39.72, 140.1035, "594040681"),  # 秋田市
    (37.916094, 139.036725, "563960924"),  # 新潟市
    (35.658581, 139.745433, "533935992"),  # 東京タワー: 3rd mesh 53393599 (jismesh README)
    (36.0, 140.0, "544000001"),  # a mesh corner belongs to the square to its north-east
])
def test_half_mesh_reference_codes(lat: float, lon: float, code: str) -> None:
    assert half_mesh_code(lat, lon) == code
    west, south, east, north = half_mesh_bounds(code)
    assert west <= lon < east and south <= lat < north
    assert east - west == pytest.approx(22.5 / 3600) and north - south == pytest.approx(15 / 3600)


def test_half_mesh_rejects_outside_and_bad_codes() -> None:
    with pytest.raises(ValueError, match="outside the JIS X 0410 grid"):
        half_mesh_code(-33.9, 151.2)
    for bad in ("53393599", "533935995", "5339x5991", "533985991"):
        with pytest.raises(ValueError, match="not a JIS X 0410 1/2 mesh code"):
            half_mesh_bounds(bad)


def test_withheld_field_only_as_mesh_counts(opendata: Path, flight: Fixture) -> None:
    withheld = next(f for f in FIELDS if not f[3])
    doc = json.loads((flight.survey / "fields.geojson").read_text(encoding="utf-8"))
    geom = next(shape(f["geometry"]) for f in doc["features"] if f["properties"]["field_id"] == withheld[0])
    point = geom.representative_point()
    mesh = json.loads(next(opendata.glob("data/*/disease_mesh.geojson")).read_text(encoding="utf-8"))
    assert [f["properties"] for f in mesh["features"]] == [{
        "mesh_code": half_mesh_code(point.y, point.x), "date": "2026-07-15", "withheld_fields": 1,
        "fields_with_concern": 1, "suspected": {h[0]: 1 for h in HOTSPOTS if h[1] == withheld[0]}}]
    square = shape(mesh["features"][0]["geometry"])
    assert square.contains(point) and square.area == pytest.approx((22.5 / 3600) * (15 / 3600))
    # Per-field disease is published only for open fields: the withheld field's class is nowhere else.
    spots = json.loads(next(opendata.glob("data/*/hotspots.geojson")).read_text(encoding="utf-8"))
    assert "leaf_spot" not in {f["properties"]["class"] for f in spots["features"]}
    rows = pd.read_csv(opendata / "394122_drone_field_stats.csv", encoding="utf-8-sig")
    assert len(rows) == sum(1 for f in FIELDS if f[3])
    item = next(opendata.glob("shimanto-2026-rice/*/*.json"))
    assert json.loads(item.read_text(encoding="utf-8"))["assets"]["disease_mesh"]["roles"] == ["data"]
    assert os.path.basename(str(next(opendata.glob("data/*/disease_mesh.geojson")))) == "disease_mesh.geojson"


@settings(max_examples=300, deadline=None)
@given(st.floats(20.0, 46.0), st.floats(122.0, 154.0))
def test_half_mesh_square_holds_its_point(lat: float, lon: float) -> None:
    code = half_mesh_code(lat, lon)
    west, south, east, north = half_mesh_bounds(code)
    assert west <= lon < east + 1e-12 and south <= lat < north + 1e-12
    assert code == half_mesh_code(south + 1e-9, west + 1e-9)

"""``shimanto report`` end to end on a synthetic 2-grower flight: PDFs, maps, KML, GeoJSON, history, errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from outputs_fixtures import FIELDS, HOTSPOTS, PERSONAL, Fixture, build_fixture
from pypdf import PdfReader

from pipeline.outputs.exports import grower_slug


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_one_pdf_per_grower_with_maps_kml_geojson(reports: Path) -> None:
    for g, name in enumerate(PERSONAL["grower"]):
        slug = grower_slug(name)
        assert slug.isascii()
        for ext in ("pdf", "kml", "geojson"):
            assert (reports / f"{slug}.{ext}").stat().st_size > 0
        assert (reports / f"{slug}_overview.png").read_bytes()[:4] == b"\x89PNG"
        fields = [f for f in FIELDS if f[2] == g]
        for fid, *_ in fields:
            png = reports / f"{slug}_{fid.lower()}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        reader = PdfReader(reports / f"{slug}.pdf")
        assert len(reader.pages) == 1 + len(fields)  # cover + one page per field


def test_pdf_text_is_japanese_with_findings(reports: Path) -> None:
    text = _pdf_text(reports / f"{grower_slug('山田 太郎')}.pdf")
    assert "\ufffd" not in text
    compact = re.sub(r"\s+", "", text)
    assert "山田太郎様" in compact
    assert "2026年7月15日" in compact
    assert "いもち病の疑い、約80m²、北西の角" in compact
    assert "ごま葉枯病の疑い、約35m²、中央付近" in compact
    assert "根茎腐敗病の疑い、約110m²、南東の角" in compact
    assert "確かさ：高い" in compact and "確かさ：低い" in compact and "確かさ：中くらい" in compact
    assert "ここへ行って、葉に" in compact
    assert "緯度33.21" in compact
    # Grower 2's report holds only grower 2.
    other = re.sub(r"\s+", "", _pdf_text(reports / f"{grower_slug('佐藤 花子')}.pdf"))
    assert "佐藤花子様" in other and "山田" not in other and "白葉枯病の疑い" in other


def test_pdf_embeds_ipaexgothic_subset_only(reports: Path) -> None:
    reader = PdfReader(reports / f"{grower_slug('山田 太郎')}.pdf")
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            desc = font.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in font:
                desc = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            embedded = desc is not None and "/FontFile2" in desc.get_object()
            fonts[str(font["/BaseFont"])] = embedded
    assert fonts, "no fonts found"
    assert all(re.fullmatch(r"/[A-Z]{6}\+IPAexGothic", name) for name in fonts), fonts
    assert all(fonts.values()), f"fonts not embedded: {fonts}"


def test_pdftotext_and_pdftoppm(reports: Path, tmp_path: Path) -> None:
    pdftotext = shutil.which("pdftotext") or pytest.skip("needs 'pdftotext' (Debian package poppler-utils)")
    pdftoppm = shutil.which("pdftoppm") or pytest.skip("needs 'pdftoppm' (Debian package poppler-utils)")
    pdf = reports / f"{grower_slug('佐藤 花子')}.pdf"
    text = subprocess.run([pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    decoded = text.decode("utf-8")
    assert "白葉枯病の疑い" in decoded and "\ufffd" not in decoded
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 3
    from PIL import Image

    with Image.open(pages[1]) as im:
        colours = len(set(im.convert("RGB").getdata()))
    assert colours > 50  # the map rendered, not a blank page


def test_kml_and_geojson_scouting_points(reports: Path) -> None:
    slug = grower_slug("山田 太郎")
    root = ET.parse(reports / f"{slug}.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    points = root.findall(".//k:Point/k:coordinates", ns)
    assert len(points) == 3
    doc = json.loads((reports / f"{slug}.geojson").read_text(encoding="utf-8"))
    spots = [f for f in doc["features"] if f["properties"]["kind"] == "scouting_point"]
    areas = [f for f in doc["features"] if f["properties"]["kind"] == "area"]
    assert len(spots) == len(areas) == 3
    from shapely.geometry import Point, shape

    for s in spots:
        p = s["properties"]
        assert p["maps_url"] == f"https://www.google.com/maps/search/?api=1&query={p['lat']:.6f},{p['lon']:.6f}"
        area = next(shape(a["geometry"]) for a in areas if a["properties"]["number"] == p["number"]
                    and a["properties"]["field_id"] == p["field_id"])
        assert area.buffer(1e-7).contains(Point(p["lon"], p["lat"]))


def test_history_shows_change(flight: Fixture, reports: Path, tmp_path: Path, run_cli) -> None:
    later = build_fixture(tmp_path / "later", date="2026-07-29", ndvi_shift=-0.1)
    out = tmp_path / "reports2"
    rc = run_cli(["report", str(later.survey), "--indices", str(later.indices), "--predictions",
                  str(later.predictions), "--out", str(out), "--history", str(reports),
                  "--grower", "佐藤 花子"])
    assert rc == 0
    assert not (out / f"{grower_slug('山田 太郎')}.pdf").exists()
    text = re.sub(r"\s+", "", _pdf_text(out / f"{grower_slug('佐藤 花子')}.pdf"))
    assert "前回（2026年7月15日）から" in text
    assert "下がりました" in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["date"] == "2026-07-29" and set(summary["fields"]) == {"SA-R01", "SA-G01"}


def test_unknown_grower_is_an_error(flight: Fixture, tmp_path: Path, run_cli, capsys) -> None:
    rc = run_cli(["report", str(flight.survey), "--indices", str(flight.indices), "--predictions",
                  str(flight.predictions), "--out", str(tmp_path / "o"), "--grower", "誰か"])
    assert rc == 2
    assert "unknown grower '誰か'" in capsys.readouterr().err


def test_missing_predictions_dir_fails_without_output(flight: Fixture, tmp_path: Path, run_cli, capsys) -> None:
    out = tmp_path / "o"
    rc = run_cli(["report", str(flight.survey), "--indices", str(flight.indices), "--predictions",
                  str(tmp_path / "nope"), "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "predictions folder" in err and "nope" in err and "shimanto predict" in err
    assert not out.exists() or not any(out.iterdir())


def test_bad_history_and_bad_crop(flight: Fixture, tmp_path: Path, run_cli, capsys) -> None:
    rc = run_cli(["report", str(flight.survey), "--indices", str(flight.indices), "--predictions",
                  str(flight.predictions), "--out", str(tmp_path / "o"), "--history", str(tmp_path)])
    assert rc == 2 and "summary.json" in capsys.readouterr().err
    bad = build_fixture(tmp_path / "bad")
    doc = json.loads((bad.survey / "fields.geojson").read_text(encoding="utf-8"))
    doc["features"][0]["properties"]["crop"] = "wheat"
    (bad.survey / "fields.geojson").write_text(json.dumps(doc), encoding="utf-8")
    rc = run_cli(["report", str(bad.survey), "--indices", str(bad.indices), "--predictions",
                  str(bad.predictions), "--out", str(tmp_path / "o2")])
    assert rc == 2 and "'wheat'" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists() or not list((tmp_path / "o2").glob("*.pdf"))


def test_hotspot_count_matches_fixture(reports: Path) -> None:
    summary = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    for fid, *_ in FIELDS:
        assert summary["fields"][fid]["findings"] == sum(1 for h in HOTSPOTS if h[1] == fid)
    assert summary["fields"]["YA-R01"]["index"] == "ndre"  # dense rice canopy → NDRE map
    assert summary["fields"]["YA-G01"]["index"] == "ndvi"

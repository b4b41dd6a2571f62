"""Grower reports render any name literally (issue 12 item 6) and list scouting points by their stable IDs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from outputs_fixtures import build_fixture
from pypdf import PdfReader

from pipeline.outputs.exports import grower_slug

#: Names that reportlab's Paragraph markup would parse, plus a very long one.
HOSTILE = [
    "<",
    "Tom & Jerry",
    "<img src='/etc/hostname'/>",
    "<font size=40 color=red>大きい</font>",
    "長" * 200,
    '"quoted" & \'single\' > done',
]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _rename(survey: Path, growers: list[str], field_id: str | None = None) -> None:
    path = survey / "fields.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for i, feat in enumerate(doc["features"]):
        feat["properties"]["grower"] = growers[i % len(growers)]
    if field_id is not None:
        doc["features"][0]["properties"]["field_id"] = field_id
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _report(root: Path, growers: list[str], field_id: str | None = None) -> Path:
    from cli import main

    fx = build_fixture(root)
    _rename(fx.survey, growers, field_id)
    if field_id is not None:  # the first field's hotspot follows the new ID
        hs = fx.predictions / "hotspots.geojson"
        doc = json.loads(hs.read_text(encoding="utf-8"))
        for feat in doc["features"]:
            if feat["properties"]["field_id"] == "YA-R01":
                feat["properties"]["field_id"] = field_id
        hs.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = root / "reports"
    assert main(["report", str(fx.survey), "--indices", str(fx.indices), "--predictions", str(fx.predictions),
                 "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", HOSTILE, ids=["lt", "amp", "img", "font", "long", "quotes"])
def test_any_grower_name_renders_literally(tmp_path: Path, name: str) -> None:
    out = _report(tmp_path, [name, "佐藤 花子"], field_id="<F&1>" if name == "<" else None)
    pdf = out / f"{grower_slug(name)}.pdf"
    text = _compact(_pdf_text(pdf))
    assert _compact(name) + "様" in text
    if name == "<":
        assert "<F&1>" in text  # a field ID with markup characters, on the cover and its page
    reader = PdfReader(pdf)
    for page in reader.pages:  # no image was pulled in from the name (reportlab's <img src=...>)
        xobjects = page["/Resources"].get("/XObject") or {}
        assert len(xobjects) <= 4, "unexpected images on a page"
    pdftotext = shutil.which("pdftotext")
    if pdftotext:  # an independent reader (poppler) sees the same literal text
        done = subprocess.run([pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
        assert _compact(name) in _compact(done.stdout.decode("utf-8"))
    ET.fromstring((out / f"{grower_slug(name)}.kml").read_text(encoding="utf-8"))  # KML stays well-formed


def test_empty_grower_name_renders(tmp_path: Path) -> None:
    out = _report(tmp_path, ["", "佐藤 花子"])
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) == 2
    texts = [_compact(_pdf_text(p)) for p in pdfs]
    assert any("生産者名なし様" in t for t in texts) and any("佐藤花子様" in t for t in texts)


def test_markup_helper_escapes_every_reportlab_special_character() -> None:
    from pipeline.outputs.pdf import markup_text

    assert markup_text("<img src='/etc/hostname'/> & \"x\"") == \
        "&lt;img src=&#39;/etc/hostname&#39;/&gt; &amp; &quot;x&quot;"


def test_report_lists_scouting_points_by_id_with_the_model_note(tmp_path: Path) -> None:
    """With ``scouting_points.geojson`` the PDF, KML, GeoJSON and QR name the points by their stable IDs."""
    from cli import main
    from pipeline.core.scouting import ScoutingPoint, feature_collection

    fx = build_fixture(tmp_path)
    hs = json.loads((fx.predictions / "hotspots.geojson").read_text(encoding="utf-8"))["features"]
    blast = hs[0]["properties"]  # YA-R01 blast 0.91; hs[1] is its brown spot, left unlisted
    point = ScoutingPoint("flight7", "YA-R01", 1, "blast", 0.55, 80.0, blast["lon"], blast["lat"], (0,))
    doc = feature_collection([point], flight="flight7",
                             summary={"YA-R01": {"hotspots": 2, "slivers": 0, "candidates": 2, "listed": 1,
                                                 "not_listed": 1}},
                             model={"calibrated": True, "real_labelled_flights": 0, "simulated_surveys": 3})
    (fx.predictions / "scouting_points.geojson").write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["report", str(fx.survey), "--indices", str(fx.indices), "--predictions", str(fx.predictions),
                 "--out", str(out)]) == 0
    slug = grower_slug("山田 太郎")
    text = _compact(_pdf_text(out / f"{slug}.pdf"))
    assert "地点IDflight7:YA-R01:1" in text
    assert "確かさ：低い" in text  # the point's (calibrated) probability, not the hotspot's 0.91
    assert "ほかに" in text and "1か所あります" in text  # the unlisted brown spot is counted
    assert "3回分）だけで学習しました" in text and "病気かもしれない候補" in text
    assert "ごま葉枯病の疑い" not in text  # not listed as a finding
    kml = ET.fromstring((out / f"{slug}.kml").read_text(encoding="utf-8"))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert [v.text for v in kml.iterfind(".//k:Data[@name='id']/k:value", ns)] == ["flight7:YA-R01:1"]
    feats = json.loads((out / f"{slug}.geojson").read_text(encoding="utf-8"))["features"]
    points = [f for f in feats if f["properties"]["kind"] == "scouting_point"]
    assert [f["properties"]["id"] for f in points] == ["flight7:YA-R01:1"]
    assert points[0]["properties"]["maps_url"].endswith("#flight7:YA-R01:1")  # the QR code's payload

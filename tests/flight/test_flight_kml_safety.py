"""KML boundaries are parsed with defusedxml: entity expansion is refused with a clear error, real KML still reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.flight.boundary import read_boundary

BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol2;</name><Polygon><outerBoundaryIs>'
        '<LinearRing><coordinates>133.1,33.2 133.2,33.2 133.2,33.3 133.1,33.2</coordinates></LinearRing>'
        '</outerBoundaryIs></Polygon></Placemark></kml>')


def test_kml_with_entities_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb <四万十>.kml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(InputError, match="KML with XML entities or a DTD is refused"):
        read_boundary(path)


def test_qgc_kml_still_reads(shared_dir: Path) -> None:
    boundary = read_boundary(shared_dir / "data" / "flight-plans" / "qgroundcontrol" / "PolygonAreaTest.kml")
    assert [a.name for a in boundary.fields] == ["Untitled Polygon"] and boundary.fields[0].polygon.area > 0

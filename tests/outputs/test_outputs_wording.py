"""Pure parts of the outputs stage: wording, directions, geometry, slugs, anonymous IDs."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, Polygon, box

from pipeline.outputs.exports import ascii_slug, field_slug, grower_slug
from pipeline.outputs.places import bearing_deg, nice_scale_length, relative_position, scouting_point
from pipeline.outputs.privacy import anonymous_field_id, coarsen, latlon_decimals, personal_values
from pipeline.outputs.wording import (
    compass_word,
    confidence_word,
    disease_name,
    finding_sentence,
    place_words,
    round_area_m2,
)


@pytest.mark.parametrize(
    ("bearing", "word"),
    [(0, "北"), (44, "北東"), (90, "東"), (135, "南東"), (180, "南"), (225, "南西"), (270, "西"), (315, "北西"),
     (337.4, "北西"), (337.6, "北"), (-45, "北西"), (720, "北")],
)
def test_compass_word_8_sectors(bearing: float, word: str) -> None:
    assert compass_word(bearing) == word


def test_place_words_centre_corner_edge_side() -> None:
    assert place_words(315, 0.1, 0.9, 0.25, 0.4) == "中央付近"
    assert place_words(315, 0.9, 0.1, 0.25, 0.4) == "北西の角"
    assert place_words(90, 0.9, 0.2, 0.25, 0.4) == "東の端"
    assert place_words(180, 0.5, 0.6, 0.25, 0.4) == "南寄り"


def test_confidence_levels() -> None:
    assert [confidence_word(p, 0.8, 0.6) for p in (0.95, 0.8, 0.7, 0.59)] == ["高い", "高い", "中くらい", "低い"]


def test_disease_names_and_sentence() -> None:
    assert disease_name("blast") == "いもち病"
    assert disease_name("brown_spot") == "ごま葉枯病"
    assert disease_name("bacterial_leaf_blight") == "白葉枯病"
    assert disease_name("rhizome_rot") == "根茎腐敗病"
    assert disease_name("leaf_spot") == "葉枯病/斑点病"
    assert "mystery" in disease_name("mystery")
    assert finding_sentence("blast", 118.0, "北西の角") == "いもち病の疑い、約120 m²、北西の角"


def test_round_area() -> None:
    assert [round_area_m2(a) for a in (0, 3, 42, 118, 1234)] == [0, 5, 40, 120, 1200]


def test_scouting_point_inside_concave_area() -> None:
    # A U shape whose centroid lies in the notch, outside the polygon.
    u = Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)])
    assert not u.contains(u.centroid)
    assert u.contains(scouting_point(u))
    square = box(0, 0, 10, 10)
    assert scouting_point(square).equals(square.centroid)


def test_bearing_and_relative_position() -> None:
    assert bearing_deg(Point(0, 0), Point(0, 10)) == pytest.approx(0)
    assert bearing_deg(Point(0, 0), Point(-10, 10)) == pytest.approx(315)
    field = box(0, 0, 100, 100)
    bearing, fraction, depth = relative_position(field, Point(5, 95))
    assert compass_word(bearing) == "北西" and fraction > 0.6 and depth == pytest.approx(0.1, abs=0.02)
    # A long thin field: a spot 30 m east of the centre is still mid-field, not at the east edge.
    long = box(0, 0, 200, 20)
    _b, _f, depth = relative_position(long, Point(130, 10))
    assert depth > 0.9


def test_nice_scale_length() -> None:
    assert nice_scale_length(60) == 10
    assert nice_scale_length(250) == 50
    assert nice_scale_length(9) == 2


def test_slugs_are_ascii_stable_and_distinct() -> None:
    a, b = grower_slug("山田 太郎"), grower_slug("佐藤 花子")
    assert a != b and a == grower_slug("山田 太郎")
    assert a.isascii() and a.startswith("grower-")
    assert grower_slug("Tanaka Jiro").startswith("tanaka-jiro-")
    assert ascii_slug("Ōno Farm") == "ono-farm"
    assert field_slug("R-001") == "r-001"
    assert field_slug("田1").isascii()


def test_anonymous_id_stable_salted() -> None:
    one = anonymous_field_id("YA-R01", b"salt")
    assert one == anonymous_field_id("YA-R01", b"salt")
    assert one.startswith("394122-F-") and len(one) == len("394122-F-") + 8
    assert one != anonymous_field_id("YA-R01", b"other-salt")
    assert "YA" not in one.removeprefix("394122-F-").upper() or one != "YA-R01"


def test_coarsen_and_decimals() -> None:
    field = box(3.3, 4.4, 47.7, 38.2)
    assert coarsen(field, 0) is field
    snapped = coarsen(field, 10)
    assert all(x % 10 == 0 and y % 10 == 0 for x, y in snapped.exterior.coords)
    tiny = coarsen(box(1, 1, 2, 2), 10)
    assert tiny.area == 100
    assert latlon_decimals(0) == 6 and latlon_decimals(10) == 4 and latlon_decimals(1000) == 2


def test_personal_values_allow_list() -> None:
    from types import MappingProxyType

    from pipeline.core.fields import Field

    f = Field("F-1", box(0, 0, 1, 1), crop="rice", grower="山田", open_data=True, properties=MappingProxyType({
        "field_id": "F-1", "crop": "rice", "grower": "山田", "phone": "0880-1", "planted": "2026-05-01",
        "open_data": True, "notes": ["友人の田"],
    }))
    values = personal_values([f], {"date": "2026-07-01", "operator": "鈴木", "seed": 3, "bands": ["green", "red"],
                                   "crew": {"pilot_name": "高橋"}})
    assert "高橋" in values
    values.discard("高橋")
    assert values == {"F-1", "山田", "0880-1", "友人の田", "鈴木"}


def test_label_positions_keep_labels_apart() -> None:
    import math

    from pipeline.outputs.fieldmap import label_positions

    pts = [(0.0, 0.0), (1.0, 0.0), (0.5, 0.5), (50.0, 50.0)]
    out = label_positions(pts, 5.0)
    assert out[0] == pts[0] and out[3] == pts[3]
    for i in range(len(out)):
        for j in range(i):
            assert math.hypot(out[i][0] - out[j][0], out[i][1] - out[j][1]) >= 5.0

"""Plain Japanese wording for growers: disease names, directions, confidence, advice.

Pure functions and read-only tables only; the geometry they describe is computed in
:mod:`pipeline.outputs.places`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class DiseaseWords:
    """How a disease class is named and what a grower should look for."""

    name: str
    look_for: str


DISEASES: Mapping[str, DiseaseWords] = MappingProxyType(
    {
        "blast": DiseaseWords("いもち病", "葉に、中心が灰色で縁が茶色の、ひし形の斑点がないか見てください。"),
        "brown_spot": DiseaseWords("ごま葉枯病", "葉に、ごまのような丸い茶色の斑点がないか見てください。"),
        "bacterial_leaf_blight": DiseaseWords(
            "白葉枯病", "葉の先や縁から、黄白色に波打つように枯れていないか見てください。"
        ),
        "rhizome_rot": DiseaseWords(
            "根茎腐敗病", "下の葉が黄色くなっていないか、株元がやわらかく腐っていないか見てください。"
        ),
        "leaf_spot": DiseaseWords("葉枯病/斑点病", "葉に、中心が白っぽい小さな斑点がないか見てください。"),
    }
)

CROP_NAMES: Mapping[str, str] = MappingProxyType({"rice": "水稲", "ginger": "しょうが"})

#: Eight compass words, clockwise from north, one per 45° sector.
COMPASS: tuple[str, ...] = ("北", "北東", "東", "南東", "南", "南西", "西", "北西")
CENTRE_WORDS = "中央付近"

#: Index names as printed, with a few plain words on what they show.
INDEX_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "ndvi": "NDVI（緑の濃さ・生育の良さ）",
        "ndre": "NDRE（葉の元気さ。茂った田んぼ向き）",
        "gndvi": "GNDVI（葉の緑の濃さ）",
    }
)

CONFIDENCE_WORDS: tuple[str, str, str] = ("高い", "中くらい", "低い")

ACTION = "ここへ行って、"


def disease_name(cls: str) -> str:
    """Japanese disease name of a class (``blast`` → ``いもち病``); unknown classes keep their name."""
    words = DISEASES.get(cls)
    return words.name if words else f"病気（{cls}）"


def look_for(cls: str) -> str:
    """What to look for on the plants for a class."""
    words = DISEASES.get(cls)
    return words.look_for if words else "葉や茎にふだんと違う色や斑点がないか見てください。"


def crop_name(crop: str) -> str:
    """Japanese crop name (``rice`` → ``水稲``)."""
    return CROP_NAMES.get(crop, crop)


def compass_word(bearing_deg: float) -> str:
    """The 8-point compass word for a bearing (degrees clockwise from north).

    Sector ``k = round(bearing / 45) mod 8``: 0 北, 1 北東, 2 東, ... 7 北西.
    """
    return COMPASS[round((bearing_deg % 360.0) / 45.0) % 8]


def place_words(
    bearing_deg: float, distance_fraction: float, edge_depth: float, centre_fraction: float, edge_limit: float
) -> str:
    """Where a spot lies in its field, in words.

    Args:
        bearing_deg: Bearing from the field centroid to the spot (degrees from north, clockwise).
        distance_fraction: Distance centroid→spot divided by the field's equivalent radius.
        edge_depth: Distance spot→field edge divided by the field's inscribed radius (0 = on the edge).
        centre_fraction: Below this ``distance_fraction`` the spot is "中央付近".
        edge_limit: Below this ``edge_depth`` it is a corner (diagonal bearings) or an edge ("の端").

    Returns:
        E.g. ``"北西の角"``, ``"東の端"``, ``"南寄り"``, ``"中央付近"``.
    """
    if distance_fraction < centre_fraction:
        return CENTRE_WORDS
    word = compass_word(bearing_deg)
    if edge_depth < edge_limit:
        return f"{word}の角" if len(word) == 2 else f"{word}の端"
    return f"{word}寄り"


def confidence_word(probability: float, high: float, medium: float) -> str:
    """高い / 中くらい / 低い for a mean model probability."""
    if probability >= high:
        return CONFIDENCE_WORDS[0]
    if probability >= medium:
        return CONFIDENCE_WORDS[1]
    return CONFIDENCE_WORDS[2]


def round_area_m2(area_m2: float) -> int:
    """Round an area for reading aloud: to 5 m² below 100, 10 m² below 1000, else 100 m²."""
    step = 5 if area_m2 < 100 else 10 if area_m2 < 1000 else 100
    return max(step, int(round(area_m2 / step) * step)) if area_m2 > 0 else 0


def finding_sentence(cls: str, area_m2: float, place: str) -> str:
    """The one-line finding, e.g. ``"いもち病の疑い、約120 m²、北西の角"``."""
    return f"{disease_name(cls)}の疑い、約{round_area_m2(area_m2)} m²、{place}"


def format_date(value: object) -> str:
    """``2026-07-15`` → ``2026年7月15日``."""
    import datetime as dt

    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def model_note(model: Mapping[str, Any] | None) -> str | None:
    """What the report says about the model that made the findings (``model`` facts of the prediction).

    A model that saw no real labelled flight (only simulated surveys) makes candidates, not findings:
    the grower is told so plainly. ``None`` when the prediction carries no model facts.
    """
    if not model:
        return None
    simulated = int(model.get("simulated_surveys", 0))
    real = int(model.get("real_labelled_flights", 0))
    if real == 0:
        return (f"ご注意：この結果を出したAI（人工知能）は、コンピューターで作った調査データ（{simulated}回分）だけで"
                "学習しました。本物の畑で確かめたデータは、まだ学習していません。番号の場所は「病気かもしれない候補」です。"
                "必ず畑で株を見て確かめてください。")
    return (f"この結果を出したAI（人工知能）は、コンピューターで作った調査データ（{simulated}回分）と、"
            f"実際の飛行で確かめたデータ（{real}回分）で学習しました。番号の場所は、畑で株を見て確かめてください。")


def unlisted_words(count: int) -> str:
    """Sentence for the candidates not listed on a field page (shown as thin outlines on the map)."""
    return f"ほかに、見回りのついでに見てほしい小さな場所が {count} か所あります（地図の細い線）。"


def page_note(model: Mapping[str, Any] | None) -> str | None:
    """One short line for every field page when the model saw no real labelled flight (else ``None``)."""
    if not model or int(model.get("real_labelled_flights", 0)) > 0:
        return None
    return "※AIは、まだ本物の畑のデータで学習していません。番号の場所は候補です。畑で確かめてください。"

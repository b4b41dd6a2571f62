"""Reading ``scouting_points.geojson`` of a predictions folder for the grower reports.

``shimanto predict`` writes the file (see :mod:`pipeline.detection.scouting`): listed points
(:class:`~pipeline.core.scouting.ScoutingPoint` features), a per-field ``summary`` (how many
candidates were not listed) and ``model`` facts (calibrated? trained on real labelled flights?).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.scouting import ScoutingPoint
from pipeline.errors import InputError
from pipeline.outputs.inputs import Hotspot

SCOUTING_NAME = "scouting_points.geojson"


@dataclass(frozen=True)
class ScoutingInput:
    """A prediction's scouting points with the hotspots they name (``hotspots.geojson`` order)."""

    points: tuple[ScoutingPoint, ...]
    hotspots: tuple[Hotspot, ...] = ()
    summary: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    model: Mapping[str, Any] = field(default_factory=dict)

    def points_of(self, field_id: str) -> list[ScoutingPoint]:
        """The listed points of one field, by rank."""
        return sorted((p for p in self.points if p.field_id == field_id), key=lambda p: p.rank)

    def unlisted(self, field_id: str) -> int:
        """Candidates of the field that were not listed (shown on the map, counted in the text)."""
        return int(self.summary.get(field_id, {}).get("not_listed", 0))

    @property
    def simulated_only(self) -> bool:
        """True when the model saw no real labelled flight (the report must say findings are candidates)."""
        return int(self.model.get("real_labelled_flights", 0)) == 0


def load_scouting(predictions_dir: Path, hotspots: Sequence[Hotspot]) -> ScoutingInput | None:
    """The folder's scouting points, or ``None`` when it has none (predictions from before scouting points).

    Raises:
        InputError: the file is not a scouting-point collection (every bad feature listed).
    """
    path = Path(predictions_dir) / SCOUTING_NAME
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        feats = list(doc["features"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{str(path)!r} is not a GeoJSON FeatureCollection ({exc}); rerun 'shimanto predict'") \
            from exc
    points, problems = [], []
    for i, feat in enumerate(feats):
        try:
            points.append(ScoutingPoint.from_feature(feat))
        except (ValueError, AttributeError) as exc:
            problems.append(f"feature {i}: {exc}")
    bad_refs = [f"{p.id} names hotspot {i}" for p in points for i in p.hotspots if not 0 <= i < len(hotspots)]
    problems += [f"{r}, but hotspots.geojson has {len(hotspots)}" for r in bad_refs]
    if problems:
        raise InputError(f"{str(path)!r}: " + "; ".join(problems) + "; rerun 'shimanto predict' for this folder")
    return ScoutingInput(tuple(points), tuple(hotspots), dict(doc.get("summary") or {}), dict(doc.get("model") or {}))

"""The survey folder contract shared by simulator, detection, reports and batch.

A survey folder holds:

* ``scene.tif`` – N-band float32 surface reflectance in [0, 1], NaN nodata,
  projected CRS; band descriptions give band names (blue, green, red, nir,
  red_edge for MicaSense order). Tag ``SENSOR`` names the sensor.
* ``fields.geojson`` – WGS84 polygons with ``field_id``, ``crop`` (rice|ginger),
  ``grower``, ``planted`` (ISO date) and optional ``open_data`` (bool).
* ``labels.geojson`` – WGS84 disease polygons with ``class`` and ``crop``
  (optional for unlabelled real flights).
* ``survey.json`` – metadata (seed, sensor, gsd_cm, date, sun, canopy params).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, SceneNotFoundError

SCENE_NAME = "scene.tif"
FIELDS_NAME = "fields.geojson"
LABELS_NAME = "labels.geojson"
META_NAME = "survey.json"


@dataclass(frozen=True)
class SurveyFolder:
    """Paths of one survey folder (see module docstring for the contract)."""

    root: Path

    @property
    def scene(self) -> Path:
        return self.root / SCENE_NAME

    @property
    def fields(self) -> Path:
        return self.root / FIELDS_NAME

    @property
    def labels(self) -> Path:
        return self.root / LABELS_NAME

    @property
    def meta_path(self) -> Path:
        return self.root / META_NAME

    def meta(self) -> dict[str, Any]:
        """The parsed ``survey.json`` (empty when absent)."""
        if not self.meta_path.is_file():
            return {}
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{str(self.meta_path)!r} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InputError(f"{str(self.meta_path)!r} must hold a JSON object")
        return data


def open_survey(path: Path | str, need_labels: bool = False) -> SurveyFolder:
    """Check that ``path`` is a survey folder and return it.

    Raises:
        SceneNotFoundError: the folder, its scene or its fields (or labels when
            ``need_labels``) are missing.
    """
    root = Path(path)
    if not root.is_dir():
        raise SceneNotFoundError(
            f"survey folder {str(root)!r} does not exist; create one with 'shimanto simulate survey --out {root}'"
        )
    survey = SurveyFolder(root)
    required = [survey.scene, survey.fields] + ([survey.labels] if need_labels else [])
    missing = [p.name for p in required if not p.is_file()]
    if missing:
        raise SceneNotFoundError(
            f"survey folder {str(root)!r} lacks {', '.join(missing)}; a survey folder needs "
            f"{SCENE_NAME}, {FIELDS_NAME}" + (f" and {LABELS_NAME}" if need_labels else "")
        )
    return survey

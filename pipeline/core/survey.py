"""The survey folder contract shared by simulator, detection, reports and batch (paths only; reading
and checking a folder is :mod:`pipeline.core.io`).

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

from dataclasses import dataclass
from pathlib import Path

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

"""Field observations as training labels: small labelled discs in an otherwise unlabelled scene.

A grower's observation at a scouting point says what grows within a few metres of where they
stood. On the scene grid it becomes a disc of radius ``radius_m`` (default 1 m; never more than
the observation's own uncertainty) around the point, clipped to the observation's field: the
found disease class, or the crop's healthy class for ``none``. Every other pixel is ``IGNORE``,
so the simulated polygon labels of a survey (its ``labels.geojson``) never mix with real ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pyproj import Transformer

from pipeline.common.geo import WGS84
from pipeline.core.io import open_survey
from pipeline.core.scouting import FOUND_NONE, FieldObservation
from pipeline.detection.classes import CROP_NONE, HEALTHY_BY_CROP, IGNORE, class_id, crop_code
from pipeline.detection.scenes import (
    LabelledScene,
    band_positions,
    burn_fields,
    read_fields,
    read_on_grid,
    scene_bands,
)

#: Radius (m) of the labelled disc around an observation.
OBSERVATION_RADIUS_M = 1.0


def burn_observations(observations: Sequence[FieldObservation], scene: LabelledScene,
                      radius_m: float = OBSERVATION_RADIUS_M) -> np.ndarray:
    """Labels ``(H, W)`` uint8: observation discs (see module docstring), ``IGNORE`` elsewhere."""
    labels = np.full(scene.labels.shape, IGNORE, np.uint8)
    to_grid = Transformer.from_crs(WGS84, scene.crs, always_xy=True)
    inv = ~scene.transform
    index_of = {f.field_id: i for i, f in enumerate(scene.fields, start=1)}
    valid = np.all(np.isfinite(scene.stack), axis=0)
    px = abs(scene.transform.a)
    for obs in observations:
        fidx = index_of.get(obs.field_id)
        if fidx is None:
            continue
        x, y = to_grid.transform(obs.lon, obs.lat)
        col, row = inv * (x, y)
        r = min(radius_m, obs.uncertainty_m) / px
        height, width = scene.labels.shape[0], scene.labels.shape[1]
        r0, r1 = max(int(row - r - 1), 0), min(int(row + r + 2), height)
        c0, c1 = max(int(col - r - 1), 0), min(int(col + r + 2), width)
        if r0 >= r1 or c0 >= c1:
            continue
        rr, cc = np.mgrid[r0:r1, c0:c1]
        disc = ((rr + 0.5 - row) ** 2 + (cc + 0.5 - col) ** 2 <= r * r) & (scene.field_index[r0:r1, c0:c1] == fidx)
        disc &= valid[r0:r1, c0:c1]
        crop = scene.fields[fidx - 1].crop
        cid = HEALTHY_BY_CROP[crop_code(crop)] if obs.found == FOUND_NONE else class_id(obs.found)
        labels[r0:r1, c0:c1][disc] = cid
    return labels


def load_observed_scene(folder: Path | str, bands: Sequence[str], observations: Sequence[FieldObservation],
                        sensor: str | None = None, radius_m: float = OBSERVATION_RADIUS_M,
                        gsd_m: float | None = None) -> LabelledScene:
    """A survey folder whose only labels are its field observations (``labels.geojson`` is not read);
    on the working grid of ``gsd_m`` when given (:func:`scenes.read_on_grid`)."""
    survey = open_survey(folder)
    info = scene_bands(survey.scene)
    pixels = read_on_grid(survey.scene, info, band_positions(info, bands, sensor, survey.scene), gsd_m)
    stack = pixels.stack
    fields = read_fields(survey.fields, info.crs)
    field_index, crops = burn_fields(fields, (pixels.height, pixels.width), pixels.transform)
    crops = np.where(field_index > 0, crops, CROP_NONE).astype(np.uint8)
    blank = np.full((pixels.height, pixels.width), IGNORE, np.uint8)
    scene = LabelledScene(Path(folder).name, stack, blank, crops, field_index, tuple(fields), pixels.transform,
                          info.crs, info.sensor)
    return LabelledScene(scene.name, stack, burn_observations(observations, scene, radius_m), crops, field_index,
                         tuple(fields), pixels.transform, info.crs, info.sensor)

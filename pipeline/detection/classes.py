"""Class and crop registries of the disease model, and the crop mask of logits.

Class ids are fixed (they are stored in ``classes.tif`` and the model card):

====  =======================  ======
 id   name                     crop
====  =======================  ======
 0    background               (any)
 1    rice_healthy             rice
 2    blast                    rice
 3    brown_spot               rice
 4    bacterial_leaf_blight    rice
 5    ginger_healthy           ginger
 6    rhizome_rot              ginger
 7    leaf_spot                ginger
====  =======================  ======

Crop codes on rasters: 0 = outside every field (only background allowed),
1 = rice, 2 = ginger, 3 = unknown crop (every class allowed; used when a scene
is predicted without a fields layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from pipeline.errors import unknown_name

#: Label value ignored by the loss and the metrics (nodata, contradictory labels).
IGNORE = 255


@dataclass(frozen=True)
class DiseaseClass:
    """One output class.

    Attributes:
        id: Value in class rasters and index of the model's logit.
        name: Canonical name used in labels.geojson and outputs.
        crop: Crop it belongs to (``None`` for background).
        disease: Whether it is a disease (counted in disease IoU, hotspots, flags).
    """

    id: int
    name: str
    crop: str | None
    disease: bool


CLASSES: tuple[DiseaseClass, ...] = (
    DiseaseClass(0, "background", None, False),
    DiseaseClass(1, "rice_healthy", "rice", False),
    DiseaseClass(2, "blast", "rice", True),
    DiseaseClass(3, "brown_spot", "rice", True),
    DiseaseClass(4, "bacterial_leaf_blight", "rice", True),
    DiseaseClass(5, "ginger_healthy", "ginger", False),
    DiseaseClass(6, "rhizome_rot", "ginger", True),
    DiseaseClass(7, "leaf_spot", "ginger", True),
)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)
CLASS_BY_NAME: Mapping[str, DiseaseClass] = MappingProxyType({c.name: c for c in CLASSES})
DISEASE_IDS: tuple[int, ...] = tuple(c.id for c in CLASSES if c.disease)

#: Crop name to its raster code (0 is "outside every field").
CROP_CODES: Mapping[str, int] = MappingProxyType({"rice": 1, "ginger": 2})
CROP_NONE = 0
CROP_UNKNOWN = 3
CROP_NAMES_BY_CODE: Mapping[int, str | None] = MappingProxyType({0: None, 1: "rice", 2: "ginger", 3: None})
#: Class id of the healthy canopy of each crop code (what an unlabelled field pixel is).
HEALTHY_BY_CROP: Mapping[int, int] = MappingProxyType({1: 1, 2: 5})


def class_id(name: str) -> int:
    """Class id of ``name`` (raises :class:`UnknownNameError` listing the classes)."""
    if name not in CLASS_BY_NAME:
        raise unknown_name("disease class", name, CLASS_NAMES)
    return CLASS_BY_NAME[name].id


def crop_code(name: str) -> int:
    """Raster code of crop ``name`` (``rice`` or ``ginger``)."""
    key = str(name).strip().lower()
    if key not in CROP_CODES:
        raise unknown_name("crop", name, list(CROP_CODES))
    return CROP_CODES[key]


def allowed_table() -> np.ndarray:
    """Boolean ``(4, n_classes)`` table: may crop code ``c`` hold class ``k``."""
    table = np.zeros((4, len(CLASSES)), dtype=bool)
    table[:, 0] = True
    table[CROP_UNKNOWN, :] = True
    for cls in CLASSES:
        if cls.crop is not None:
            table[CROP_CODES[cls.crop], cls.id] = True
    return table


def disallowed_labels(labels: np.ndarray, crops: np.ndarray) -> np.ndarray:
    """Mask of label pixels whose class is impossible for the pixel's crop code."""
    table = allowed_table()
    valid = labels != IGNORE
    out = np.zeros(labels.shape, dtype=bool)
    out[valid] = ~table[crops[valid].astype(np.intp), labels[valid].astype(np.intp)]
    return out

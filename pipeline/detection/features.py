"""Model input features: selected bands plus normalised-difference indices.

Pure numpy, shared by training, evaluation and inference so that a pixel gets
the same features everywhere. Indices are normalised differences

    ND(a, b) = (a - b) / (a + b)

with ``ND = 0`` where ``a + b <= 1e-6`` or either band is NaN:

* NDVI  = ND(nir, red)        (Rouse et al. 1974)
* NDRE  = ND(nir, red_edge)   (Barnes et al. 2000)
* GNDVI = ND(nir, green)      (Gitelson et al. 1996)
* NDWI  = ND(green, nir)      (McFeeters 1996)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from pipeline.errors import InputError, unknown_name

#: Index name to the (a, b) bands of ND(a, b).
INDICES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "ndvi": ("nir", "red"),
        "ndre": ("nir", "red_edge"),
        "gndvi": ("nir", "green"),
        "ndwi": ("green", "nir"),
    }
)


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a - b) / (a + b)`` as float32, 0 where the sum is ~0 or an input is NaN."""
    a = a.astype(np.float32, copy=False)
    b = b.astype(np.float32, copy=False)
    total = a + b
    ok = np.isfinite(total) & (np.abs(total) > 1e-6)
    out = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.float32)
    np.divide(a - b, total, out=out, where=ok)
    return out


def check_feature_spec(bands: Sequence[str], indices: Sequence[str]) -> list[str]:
    """Every problem with a band/index selection (empty when usable)."""
    problems = []
    if not bands:
        problems.append("no bands selected; name at least one band (e.g. blue, green, red, nir, red_edge)")
    for name in indices:
        if name not in INDICES:
            problems.append(str(unknown_name("index", name, list(INDICES))))
            continue
        missing = [b for b in INDICES[name] if b not in bands]
        if missing:
            problems.append(f"index {name!r} needs band(s) {', '.join(missing)} which are not among {list(bands)}")
    return problems


def feature_names(bands: Sequence[str], indices: Sequence[str]) -> tuple[str, ...]:
    """Channel names of :func:`compute_features` output, in order."""
    return (*bands, *indices)


def compute_features(stack: np.ndarray, bands: Sequence[str], indices: Sequence[str]) -> np.ndarray:
    """Stack bands and indices into model input channels.

    Args:
        stack: ``(len(bands), ...)`` reflectance (NaN for nodata), any trailing shape.
        bands: Names of the planes of ``stack``.
        indices: Index names from :data:`INDICES`.

    Returns:
        ``(len(bands) + len(indices), ...)`` float32; NaN bands become 0.
    """
    problems = check_feature_spec(bands, indices)
    if problems:
        raise InputError("; ".join(problems))
    if stack.shape[0] != len(bands):
        raise InputError(f"feature stack has {stack.shape[0]} planes but {len(bands)} band names {list(bands)}")
    pos = {name: i for i, name in enumerate(bands)}
    planes = [np.nan_to_num(stack[i].astype(np.float32, copy=False), nan=0.0) for i in range(len(bands))]
    planes += [normalized_difference(stack[pos[INDICES[n][0]]], stack[pos[INDICES[n][1]]]) for n in indices]
    return np.stack(planes, axis=0)


def valid_mask(stack: np.ndarray) -> np.ndarray:
    """Pixels where every band is finite (the rest is nodata)."""
    return np.all(np.isfinite(stack), axis=0)

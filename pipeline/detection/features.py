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
    ok = np.abs(total) > 1e-6  # False for NaN
    ok &= np.isfinite(total)
    out = np.subtract(a, b, dtype=np.float32)
    np.divide(out, total, out=out, where=ok)
    out[~ok] = 0.0
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


def feature_names(bands: Sequence[str], indices: Sequence[str], relative: Sequence[str] = ()) -> tuple[str, ...]:
    """Channel names of :func:`compute_features` output, in order."""
    return (*bands, *indices, *(f"{n}_minus_field_median" for n in relative))


def index_planes(stack: np.ndarray, bands: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """``(len(names), ...)`` index values (NaN where a band is NaN)."""
    pos = {name: i for i, name in enumerate(bands)}
    out = np.stack([normalized_difference(stack[pos[INDICES[n][0]]], stack[pos[INDICES[n][1]]]) for n in names]) \
        if names else np.zeros((0, *stack.shape[1:]), np.float32)
    out[:, ~np.all(np.isfinite(stack), axis=0)] = np.nan
    return out


def sample_step(height: int, width: int, max_pixels: float = 4.0e6) -> int:
    """Pixel step of the sampled grid used for field medians (at most ~``max_pixels`` samples)."""
    return max(1, int(np.ceil(np.sqrt(height * width / max_pixels))))


def field_median_table(stack: np.ndarray, bands: Sequence[str], names: Sequence[str], field_index: np.ndarray,
                       n_fields: int) -> np.ndarray:
    """Median of each index over each field's valid pixels: ``(n_fields + 1, len(names))`` float32.

    Row 0 is the median over pixels outside every field (the whole scene when
    there is no fields layer); a field without valid pixels gets row 0.
    ``stack`` and ``field_index`` are usually a sampled grid (:func:`sample_step`).
    """
    planes = index_planes(stack, bands, names)
    table = np.zeros((n_fields + 1, len(names)), np.float32)
    ok = np.all(np.isfinite(planes), axis=0) if len(names) else np.zeros(field_index.shape, bool)
    fid = np.where(ok, field_index, -1)
    for f in range(n_fields + 1):
        sel = fid == f
        if sel.any():
            table[f] = np.median(planes[:, sel], axis=1)
        elif f > 0:
            table[f] = table[0]
    return table


def compute_features(stack: np.ndarray, bands: Sequence[str], indices: Sequence[str], relative: Sequence[str] = (),
                     reference: np.ndarray | None = None) -> np.ndarray:
    """Stack bands, indices and field-relative indices into model input channels.

    Args:
        stack: ``(len(bands), ...)`` reflectance (NaN for nodata), any trailing shape.
        bands: Names of the planes of ``stack``.
        indices: Index names from :data:`INDICES`.
        relative: Indices given relative to the pixel's field: ``I − median_field(I)``
            (a disease patch is a local departure from its field's canopy, whatever
            the growth stage or illumination of the flight).
        reference: ``(len(relative), ...)`` field medians broadcast to the pixels.

    Returns:
        ``(len(bands) + len(indices) + len(relative), ...)`` float32; NaN inputs become 0.
    """
    problems = check_feature_spec(bands, (*indices, *relative))
    if relative and (reference is None or reference.shape[0] != len(relative)):
        problems.append(f"{len(relative)} relative indices need a reference of as many planes")
    if problems:
        raise InputError("; ".join(problems))
    if stack.shape[0] != len(bands):
        raise InputError(f"feature stack has {stack.shape[0]} planes but {len(bands)} band names {list(bands)}")
    n_bands, shape = len(bands), stack.shape[1:]
    out = np.empty((n_bands + len(indices) + len(relative), *shape), np.float32)
    out[:n_bands] = stack
    _nan_to_num(out[:n_bands])
    pos = {name: i for i, name in enumerate(bands)}
    nd: dict[str, np.ndarray] = {}
    for name in dict.fromkeys((*indices, *relative)):
        nd[name] = normalized_difference(stack[pos[INDICES[name][0]]], stack[pos[INDICES[name][1]]])
    for j, name in enumerate(indices):
        out[n_bands + j] = nd[name]
    if relative and reference is not None:
        invalid = ~valid_mask(stack)
        for j, name in enumerate(relative):
            plane = out[n_bands + len(indices) + j]
            np.subtract(nd[name], reference[j], out=plane)
            plane[invalid] = 0.0
            _nan_to_num(plane)
    return out


def _nan_to_num(a: np.ndarray) -> None:
    """``np.nan_to_num(a, copy=False, nan=0.0)``, skipped when ``a`` is all finite (the usual case)."""
    if not np.isfinite(a).all():
        np.nan_to_num(a, copy=False, nan=0.0)


def valid_mask(stack: np.ndarray) -> np.ndarray:
    """Pixels where every band is finite (the rest is nodata)."""
    return np.all(np.isfinite(stack), axis=0)

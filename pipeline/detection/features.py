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
import torch

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


def nd_tensor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(a - b) / (a + b)`` as float32 tensors, 0 where the sum is ~0 or an input is NaN (any device).

    Float arithmetic only (the boolean-mask ops of torch are several times
    slower on the CPU): ``keep = max(0, sign(|a + b| − 1e-6))`` is 1 where the
    sum is usable, 0 where it is ~0 and NaN where it is NaN; NaN and ±inf of
    the product become 0.
    """
    a, b = a.float(), b.float()
    total = a + b
    out = torch.sub(a, b).div_(total)
    out.mul_(total.abs_().sub_(1e-6).sign_().clamp_(min=0.0))
    return torch.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0, out=out)


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`nd_tensor` of numpy arrays (float32)."""
    return nd_tensor(torch.from_numpy(np.asarray(a)), torch.from_numpy(np.asarray(b))).numpy()


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
    """:func:`feature_tensor` of numpy arrays (training and tests): ``(C, ...)`` float32, NaN inputs become 0."""
    ref = torch.from_numpy(reference) if reference is not None else None
    return feature_tensor(torch.from_numpy(stack), bands, indices, relative, ref).numpy()


def feature_tensor(stack: torch.Tensor, bands: Sequence[str], indices: Sequence[str], relative: Sequence[str] = (),
                   reference: torch.Tensor | None = None) -> torch.Tensor:
    """Stack bands, indices and field-relative indices into model input channels (on ``stack``'s device).

    The one implementation of the model's inputs: training (through
    :func:`compute_features`) and inference (on the CPU or the GPU) both call it.

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
    n_bands = len(bands)
    out = torch.empty((n_bands + len(indices) + len(relative), *stack.shape[1:]), dtype=torch.float32,
                      device=stack.device)
    torch.nan_to_num(stack.float(), nan=0.0, out=out[:n_bands])
    pos = {name: i for i, name in enumerate(bands)}
    nd = {name: nd_tensor(stack[pos[INDICES[name][0]]], stack[pos[INDICES[name][1]]])
          for name in dict.fromkeys((*indices, *relative))}
    for j, name in enumerate(indices):
        out[n_bands + j] = nd[name]
    if relative and reference is not None:
        planes = out[n_bands + len(indices) :]
        torch.sub(torch.stack([nd[name] for name in relative]), reference, out=planes)
        torch.nan_to_num(planes, nan=0.0, posinf=0.0, neginf=0.0, out=planes)
        planes.mul_(valid_tensor(stack))
    return out


def valid_tensor(stack: torch.Tensor) -> torch.Tensor:
    """``(H, W)`` float32: 1 where every band is finite, 0 at nodata (a multiplicative mask).

    ``Σ (x − x)`` is 0 where every plane is finite and NaN otherwise (``inf − inf``
    is NaN); float passes only, much faster on the CPU than ``isfinite(stack).all(0)``.
    """
    zero = torch.sub(stack[0], stack[0]).float()
    for plane in stack[1:]:
        zero.add_(plane).sub_(plane)
    return torch.nan_to_num(zero, nan=-1.0, out=zero).add_(1.0)


def valid_mask(stack: np.ndarray) -> np.ndarray:
    """Boolean :func:`valid_tensor` of a numpy stack: pixels where every band is finite (the rest is nodata)."""
    return valid_tensor(torch.from_numpy(np.asarray(stack))).numpy() > 0

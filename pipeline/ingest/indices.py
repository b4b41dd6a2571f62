"""Vegetation index registry and the pure NumPy core :func:`compute_indices`.

Every index is a frozen :class:`SpectralIndex` (name, formula, bands, reference,
valid range, NumPy function) in :data:`INDICES`. Inputs are surface reflectance
in [0, 1] (float32 or float64); outputs are float32 with NaN where any input band
is NaN or a denominator is 0 (0/0 and x/0 both give NaN, never ±inf).

Indices of the Awesome Spectral Indices catalogue are reachable as
``spyndex:NAME`` (see :mod:`pipeline.ingest.spyndex_bridge`).

Symbols below: B blue, G green, R red, RE red edge (~717-730 nm), N near infrared.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from pipeline.errors import InputError, UnknownNameError
from pipeline.ingest.index_types import SPYNDEX_PREFIX, BandArrays, IndexFunction, ResolvedIndex
from pipeline.ingest.sensors import Sensor, get_sensor
from pipeline.ingest.spyndex_bridge import catalogue_names, find_spyndex, resolve_spyndex

__all__ = ["DEFAULT_INDICES", "INDICES", "SPYNDEX_PREFIX", "BandArrays", "IndexFunction", "ResolvedIndex",
           "SpectralIndex", "compute_indices", "evaluate", "known_index_names", "resolve_indices", "safe_ratio"]


@dataclass(frozen=True)
class SpectralIndex:
    """One vegetation index.

    Attributes:
        name: Registry key (lower case), also the output file stem.
        title: Long name.
        formula: The formula as text, in band symbols.
        bands: Canonical band names the index needs.
        reference: Citation of the original paper.
        valid_range: Theoretical range ``(low, high)``; ``None`` for unbounded.
        function: Pure function of a band-name to reflectance-array mapping.
    """

    name: str
    title: str
    formula: str
    bands: tuple[str, ...]
    reference: str
    valid_range: tuple[float | None, float | None]
    function: IndexFunction


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` as float32 with NaN wherever ``den == 0`` or either side is NaN (never inf)."""
    num32 = np.asarray(num, dtype=np.float32)
    den32 = np.asarray(den, dtype=np.float32)
    out = np.full(np.broadcast_shapes(num32.shape, den32.shape), np.nan, dtype=np.float32)
    np.divide(num32, den32, out=out, where=den32 != 0)
    return out


def _nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Normalised difference ``(a - b) / (a + b)``."""
    return safe_ratio(a - b, a + b)


def _savi(b: BandArrays, soil_l: float = 0.5) -> np.ndarray:
    n, r = b["nir"], b["red"]
    return np.float32(1.0 + soil_l) * safe_ratio(n - r, n + r + np.float32(soil_l))


def _osavi(b: BandArrays) -> np.ndarray:
    n, r = b["nir"], b["red"]
    return safe_ratio(n - r, n + r + np.float32(0.16))


def _evi2(b: BandArrays) -> np.ndarray:
    n, r = b["nir"], b["red"]
    return np.float32(2.5) * safe_ratio(n - r, n + np.float32(2.4) * r + np.float32(1.0))


def _mcari(b: BandArrays) -> np.ndarray:
    re, r, g = b["red_edge"], b["red"], b["green"]
    return ((re - r) - np.float32(0.2) * (re - g)) * safe_ratio(re, r)


def _mtci(b: BandArrays) -> np.ndarray:
    n, re, r = b["nir"], b["red_edge"], b["red"]
    return safe_ratio(n - re, re - r)


def _index(
    name: str,
    title: str,
    formula: str,
    bands: tuple[str, ...],
    reference: str,
    valid_range: tuple[float | None, float | None],
    function: IndexFunction,
) -> SpectralIndex:
    return SpectralIndex(name, title, formula, bands, reference, valid_range, function)


INDICES: Mapping[str, SpectralIndex] = MappingProxyType(
    {
        i.name: i
        for i in (
            _index("ndvi", "Normalized Difference Vegetation Index", "(N - R) / (N + R)", ("nir", "red"),
                   "Rouse et al. 1974, NASA SP-351", (-1.0, 1.0), lambda b: _nd(b["nir"], b["red"])),
            _index("ndre", "Normalized Difference Red Edge", "(N - RE) / (N + RE)", ("nir", "red_edge"),
                   "Barnes et al. 2000, Proc. 5th Int. Conf. Precision Agriculture", (-1.0, 1.0),
                   lambda b: _nd(b["nir"], b["red_edge"])),
            _index("gndvi", "Green Normalized Difference Vegetation Index", "(N - G) / (N + G)", ("nir", "green"),
                   "Gitelson et al. 1996, Remote Sens. Environ. 58:289", (-1.0, 1.0),
                   lambda b: _nd(b["nir"], b["green"])),
            _index("savi", "Soil-Adjusted Vegetation Index (L = 0.5)", "1.5 * (N - R) / (N + R + 0.5)",
                   ("nir", "red"), "Huete 1988, Remote Sens. Environ. 25:295", (-1.5, 1.5), _savi),
            _index("osavi", "Optimized Soil-Adjusted Vegetation Index", "(N - R) / (N + R + 0.16)", ("nir", "red"),
                   "Rondeaux et al. 1996, Remote Sens. Environ. 55:95", (-1.0, 1.0), _osavi),
            _index("evi2", "Two-band Enhanced Vegetation Index", "2.5 * (N - R) / (N + 2.4 * R + 1)", ("nir", "red"),
                   "Jiang et al. 2008, Remote Sens. Environ. 112:3833", (-1.0, 1.0), _evi2),
            _index("cire", "Chlorophyll Index Red Edge", "N / RE - 1", ("nir", "red_edge"),
                   "Gitelson et al. 2003, J. Plant Physiol. 160:271", (-1.0, None),
                   lambda b: safe_ratio(b["nir"], b["red_edge"]) - np.float32(1.0)),
            _index("cigreen", "Chlorophyll Index Green", "N / G - 1", ("nir", "green"),
                   "Gitelson et al. 2003, J. Plant Physiol. 160:271", (-1.0, None),
                   lambda b: safe_ratio(b["nir"], b["green"]) - np.float32(1.0)),
            _index("mcari", "Modified Chlorophyll Absorption in Reflectance Index",
                   "((RE - R) - 0.2 * (RE - G)) * (RE / R)", ("red_edge", "red", "green"),
                   "Daughtry et al. 2000, Remote Sens. Environ. 74:229", (None, None), _mcari),
            _index("mtci", "MERIS Terrestrial Chlorophyll Index (NIR stands in for the 754 nm band)",
                   "(N - RE) / (RE - R)", ("nir", "red_edge", "red"),
                   "Dash & Curran 2004, Int. J. Remote Sens. 25:5403", (None, None), _mtci),
        )
    }
)

#: The six indices the CLI computes when ``--indices`` is not given.
DEFAULT_INDICES: tuple[str, ...] = ("ndvi", "ndre", "gndvi", "savi", "osavi", "evi2")


def known_index_names() -> list[str]:
    """Names accepted by ``--indices`` (registry names plus the spyndex form)."""
    return [*INDICES, f"{SPYNDEX_PREFIX}NAME"]


def _close_matches(name: str) -> list[str]:
    """Up to 5 index names resembling ``name`` (our registry, then spyndex's catalogue)."""
    ours = difflib.get_close_matches(name.lower(), list(INDICES), n=5, cutoff=0.6)
    theirs = {k.lower(): k for k in catalogue_names()}
    more = [theirs[m] for m in difflib.get_close_matches(name.lower(), list(theirs), n=5, cutoff=0.6)]
    return list(dict.fromkeys([*ours, *(m for m in more if m.lower() not in ours)]))[:5]


def resolve_indices(names: Sequence[str], sensor: Sensor) -> list[ResolvedIndex]:
    """Resolve index names for ``sensor``, reporting every bad name at once.

    Name rule: ``spyndex:NAME`` is the Awesome Spectral Indices catalogue; a bare name is our
    registry (:data:`INDICES`, case-insensitive) first, else the catalogue's index of that name
    case-insensitively (``gli`` -> ``GLI``, ``ngrdi`` -> ``NGRDI``).

    Raises:
        UnknownNameError: a name is in neither (the message lists close matches).
        InputError: an index needs a band the sensor lacks, or a name repeats.
    """
    resolved: list[ResolvedIndex] = []
    unknown: list[str] = []
    problems: list[str] = []
    for raw in names:
        name = raw.strip()
        if name.lower().startswith(SPYNDEX_PREFIX) or (name.lower() not in INDICES and find_spyndex(name)):
            bare = name[len(SPYNDEX_PREFIX):] if name.lower().startswith(SPYNDEX_PREFIX) else name
            try:
                resolved.append(resolve_spyndex(bare, sensor))
            except UnknownNameError:
                unknown.append(name)
            except InputError as exc:
                problems.append(str(exc))
            continue
        spec = INDICES.get(name.lower())
        if spec is None:
            unknown.append(name)
            continue
        missing = [b for b in spec.bands if b not in sensor.band_names]
        if missing:
            problems.append(
                f"index {spec.name!r} needs band(s) {', '.join(missing)} that sensor {sensor.name!r} "
                f"(bands {', '.join(sensor.band_names)}) lacks; drop it from --indices"
            )
            continue
        resolved.append(ResolvedIndex(spec.name, spec.bands, spec.function, spec.formula, spec.reference))
    if unknown:
        hints = [f"{n!r} (close: {', '.join(_close_matches(n.removeprefix(SPYNDEX_PREFIX))) or 'none'})"
                 for n in unknown]
        raise UnknownNameError(
            f"unknown index {', '.join(hints)}; use one of {', '.join(INDICES)} or any index of the Awesome "
            "Spectral Indices catalogue by name (e.g. gli, ngrdi, spyndex:NDVI)")
    if problems:
        raise InputError("; ".join(problems))
    seen = [r.name for r in resolved]
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if repeated:
        raise InputError(f"--indices names {', '.join(repeated)} more than once; name each index once")
    if not resolved:
        raise InputError(f"no index requested; choose from {', '.join(known_index_names())}")
    return resolved


def _band_mapping(bands: BandArrays | np.ndarray, sensor: Sensor) -> dict[str, np.ndarray]:
    if isinstance(bands, np.ndarray):
        if bands.ndim < 1 or bands.shape[0] != len(sensor.bands):
            raise InputError(
                f"band stack has shape {bands.shape}; expected {len(sensor.bands)} bands first "
                f"({', '.join(sensor.band_names)}) for sensor {sensor.name!r}"
            )
        return {name: bands[i] for i, name in enumerate(sensor.band_names)}
    return dict(bands)


def compute_indices(
    bands: BandArrays | np.ndarray, sensor: Sensor | str, names: Sequence[str] = DEFAULT_INDICES
) -> dict[str, np.ndarray]:
    """Compute vegetation indices from reflectance bands (pure NumPy, any array shape).

    Args:
        bands: Either a mapping of canonical band name (``blue``, ``green``, ``red``,
            ``red_edge``, ``nir``...) to reflectance arrays of one shape, or an array
            whose first axis holds the sensor's bands in file order (``(C, H, W)``).
            Reflectance in [0, 1]; NaN marks nodata.
        sensor: A :class:`Sensor` or its registry name (e.g. ``"rededge-mx"``).
        names: Index names (``ndvi``...) or ``spyndex:NAME``.

    Returns:
        Index name to a float32 array of the bands' shape; NaN where any input is
        NaN or a denominator is zero (never ±inf).

    Raises:
        UnknownNameError: an index name is unknown.
        InputError: a band is missing or the stack has the wrong band count.
    """
    spec = get_sensor(sensor) if isinstance(sensor, str) else sensor
    resolved = resolve_indices(names, spec)
    mapping = _band_mapping(bands, spec)
    missing = sorted({b for r in resolved for b in r.bands if b not in mapping})
    if missing:
        raise InputError(f"bands {', '.join(missing)} missing from the input; it holds {', '.join(mapping)}")
    return evaluate(resolved, mapping)


def evaluate(resolved: Sequence[ResolvedIndex], bands: BandArrays) -> dict[str, np.ndarray]:
    """Evaluate already resolved indices on float reflectance bands (NaN nodata, no inf)."""
    floats = {k: np.asarray(v, dtype=np.float32) for k, v in bands.items()}
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for r in resolved:
            values = np.asarray(r.function(floats), dtype=np.float32)
            infinite = np.isinf(values)  # overflow (x / tiny) or a spyndex formula dividing by zero
            if infinite.any():
                values[infinite] = np.nan
            out[r.name] = values
    return out

"""Indices of the Awesome Spectral Indices catalogue, evaluated through ``spyndex``.

Our canonical band names map to spyndex's standard band symbols by the table
:data:`SPYNDEX_SYMBOLS` (the drone red edge at 717-730 nm plays ``RE1``; the
panchromatic and thermal bands have no reflectance symbol). Constants (``L``,
``g``, ``C1``...) take spyndex's default values.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from pipeline.errors import InputError, unknown_name
from pipeline.ingest.index_types import SPYNDEX_PREFIX, BandArrays, ResolvedIndex
from pipeline.ingest.sensors import Sensor

#: Canonical band name -> spyndex standard band symbol.
SPYNDEX_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"blue": "B", "green": "G", "red": "R", "red_edge": "RE1", "nir": "N"}
)


def _catalogue() -> Mapping[str, Any]:
    import spyndex

    return spyndex.indices  # type: ignore[no-any-return]


def _constants() -> Mapping[str, Any]:
    import spyndex

    return spyndex.constants  # type: ignore[no-any-return]


def catalogue_names() -> list[str]:
    """Every index name of the catalogue (``NDVI``, ``GLI``...)."""
    return list(_catalogue())


def find_spyndex(name: str) -> str | None:
    """The catalogue's spelling of ``name`` (exact, else the one case-insensitive match), or ``None``."""
    catalogue = _catalogue()
    if name in catalogue:
        return name
    folded = [k for k in catalogue if k.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _lookup(name: str) -> Any:
    found = find_spyndex(name)
    if found is None:
        raise unknown_name("spyndex index", name, [f"{SPYNDEX_PREFIX}{k}" for k in _catalogue()])
    return _catalogue()[found]


def resolve_spyndex(name: str, sensor: Sensor) -> ResolvedIndex:
    """Resolve catalogue index ``name`` (e.g. ``NDVI``) for ``sensor``; kernel indices (``kNDVI``) are unsupported.

    Raises:
        UnknownNameError: the catalogue has no such index.
        InputError: the index needs bands the sensor lacks, or a constant without default.
    """
    spec = _lookup(name.strip())
    constants = _constants()
    symbol_to_band = {sym: band for band, sym in SPYNDEX_SYMBOLS.items() if band in sensor.band_names}
    needed_bands: list[str] = []
    fixed: dict[str, float] = {}
    missing: list[str] = []
    for symbol in spec.bands:
        if symbol in symbol_to_band:
            needed_bands.append(symbol_to_band[symbol])
        elif symbol in constants and constants[symbol].default is not None:
            fixed[symbol] = float(constants[symbol].default)
        else:
            missing.append(symbol)
    if missing:
        available = ", ".join(f"{b}={s}" for s, b in symbol_to_band.items())
        raise InputError(
            f"spyndex index {spec.short_name!r} ({spec.formula}) needs {', '.join(missing)}, which sensor "
            f"{sensor.name!r} cannot supply (it maps {available}); choose an index using only those symbols"
        )
    short_name = str(spec.short_name)
    symbols = {symbol_to_band[s]: s for s in spec.bands if s in symbol_to_band}

    def function(bands: BandArrays) -> np.ndarray:
        import spyndex

        params: dict[str, Any] = {sym: bands[band] for band, sym in symbols.items()}
        params.update(fixed)
        return np.asarray(spyndex.computeIndex(short_name, params=params), dtype=np.float32)

    return ResolvedIndex(
        name=f"{SPYNDEX_PREFIX}{short_name}",
        bands=tuple(needed_bands),
        function=function,
        formula=str(spec.formula),
        reference=str(spec.reference),
    )

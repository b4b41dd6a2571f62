"""Shared types of the index registry and the spyndex bridge (no imports between those two beyond this).

:mod:`pipeline.ingest.indices` (our registry) and
:mod:`pipeline.ingest.spyndex_bridge` (the Awesome Spectral Indices catalogue)
both produce :class:`ResolvedIndex`; keeping it here lets ``indices`` import
the bridge without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

#: Prefix selecting an index of the Awesome Spectral Indices catalogue (via spyndex).
SPYNDEX_PREFIX = "spyndex:"

BandArrays = Mapping[str, np.ndarray]
IndexFunction = Callable[[BandArrays], np.ndarray]


@dataclass(frozen=True)
class ResolvedIndex:
    """An index request resolved against a sensor.

    Attributes:
        name: Canonical request name (``ndvi`` or ``spyndex:NDVI``).
        bands: Canonical band names read.
        function: Pure function of the band mapping (reflectance in, float32 out).
        formula: Formula text for metadata.
        reference: Citation for metadata.
    """

    name: str
    bands: tuple[str, ...]
    function: IndexFunction
    formula: str
    reference: str

    @property
    def file_stem(self) -> str:
        """Output file stem (``ndvi``, ``spyndex_NDVI``)."""
        return self.name.replace(":", "_")

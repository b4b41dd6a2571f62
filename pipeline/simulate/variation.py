"""What the simulator may get wrong, as explicit knobs: domain randomisation and held-out shifts.

A :class:`SimVariation` changes one survey away from the simulator's nominal physics:

* ``disease_strength`` — per disease, how far its end-member moves the PROSAIL parameters
  (every delta of :class:`~pipeline.simulate.canopy.DiseaseEffect` scaled: ``f' = 1 + k (f − 1)``
  for factors, ``a' = k a`` for additions). The model must not learn one exact signature.
* ``background_gain`` — brightness of everything that is not crop (soil, water, roads, forest).
* ``lai_gain`` — canopy density (structure) of every field.
* ``illumination_gain`` — exposure / irradiance error of the whole mosaic.
* ``noise_gain`` and ``psf_sigma_px`` — sensor noise and blur.
* ``misregistration_px`` — one band shifted by ``(dy, dx)`` whole pixels (band alignment error).

:data:`TRAINING` holds the ranges training data are drawn from; :data:`SHIFTED` the ranges the
shifted benchmark uses, outside every training range (held out: training never sees them).
GSD and camera (band response) are not randomised here: a model is trained per sensor and GSD
(``shimanto train`` refuses mixed surveys), so those shifts are scored, not trained on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from pipeline.simulate.canopy import DISEASES, DiseaseEffect


@dataclass(frozen=True)
class SimVariation:
    """One survey's departures from the nominal simulator (all 1 / 0 = nominal)."""

    disease_strength: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    background_gain: float = 1.0
    lai_gain: float = 1.0
    illumination_gain: float = 1.0
    noise_gain: float = 1.0
    psf_sigma_px: float | None = None
    misregistration_px: tuple[int, int] = (0, 0)
    misregistered_band: int = 0

    def effect(self, name: str) -> DiseaseEffect:
        """The disease end-member with its strength ``k`` applied."""
        base = DISEASES[name]
        k = float(self.disease_strength.get(name, 1.0))
        if k == 1.0:
            return base
        return DiseaseEffect(base.name, base.crop, cab_factor=max(0.05, 1 + k * (base.cab_factor - 1)),
                             cbrown_add=k * base.cbrown_add, lai_factor=max(0.05, 1 + k * (base.lai_factor - 1)),
                             cw_factor=max(0.05, 1 + k * (base.cw_factor - 1)), n_add=k * base.n_add,
                             ala_factor=max(0.2, 1 + k * (base.ala_factor - 1)), why=base.why)

    def describe(self) -> dict[str, Any]:
        """JSON-ready (recorded in ``survey.json``)."""
        return {"disease_strength": dict(self.disease_strength), "background_gain": self.background_gain,
                "lai_gain": self.lai_gain, "illumination_gain": self.illumination_gain,
                "noise_gain": self.noise_gain, "psf_sigma_px": self.psf_sigma_px,
                "misregistration_px": list(self.misregistration_px), "misregistered_band": self.misregistered_band}


@dataclass(frozen=True)
class VariationRanges:
    """Uniform ranges each knob is drawn from (``(lo, hi)``; pairs of ranges = either side)."""

    disease_strength: tuple[tuple[float, float], ...]
    background_gain: tuple[tuple[float, float], ...]
    lai_gain: tuple[tuple[float, float], ...]
    illumination_gain: tuple[tuple[float, float], ...]
    noise_gain: tuple[tuple[float, float], ...]
    psf_sigma_px: tuple[tuple[float, float], ...]
    misregistration_px: int


#: Ranges of training-data generation (around nominal).
TRAINING = VariationRanges(disease_strength=((0.7, 1.3),), background_gain=((0.85, 1.15),), lai_gain=((0.85, 1.15),),
                           illumination_gain=((0.9, 1.1),), noise_gain=((0.5, 2.0),), psf_sigma_px=((0.4, 0.9),),
                           misregistration_px=1)
#: Held-out ranges of the shifted benchmark: every knob outside its training range.
SHIFTED = VariationRanges(disease_strength=((0.5, 0.65), (1.4, 1.6)), background_gain=((0.7, 0.8), (1.2, 1.3)),
                          lai_gain=((0.7, 0.8), (1.2, 1.3)), illumination_gain=((0.8, 0.88), (1.12, 1.2)),
                          noise_gain=((2.5, 3.5),), psf_sigma_px=((1.0, 1.3),), misregistration_px=2)


def _draw(rng: np.random.Generator, ranges: tuple[tuple[float, float], ...]) -> float:
    lo, hi = ranges[int(rng.integers(0, len(ranges)))]
    return round(float(rng.uniform(lo, hi)), 4)


def sample_variation(rng: np.random.Generator, ranges: VariationRanges = TRAINING, bands: int = 5) -> SimVariation:
    """One survey's variation drawn from ``ranges`` (every disease its own strength)."""
    strength = {name: _draw(rng, ranges.disease_strength) for name in DISEASES}
    m = ranges.misregistration_px
    shift = (int(rng.integers(-m, m + 1)), int(rng.integers(-m, m + 1)))
    if ranges is SHIFTED and shift == (0, 0):
        shift = (m, 0)
    return SimVariation(disease_strength=MappingProxyType(strength), background_gain=_draw(rng, ranges.background_gain),
                        lai_gain=_draw(rng, ranges.lai_gain), illumination_gain=_draw(rng, ranges.illumination_gain),
                        noise_gain=_draw(rng, ranges.noise_gain), psf_sigma_px=_draw(rng, ranges.psf_sigma_px),
                        misregistration_px=shift, misregistered_band=int(rng.integers(0, bands)))

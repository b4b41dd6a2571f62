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
* ``lesion_scale_m`` and ``lesion_contrast`` — lesion texture: correlation length (m) and amplitude of
  the mottling that modulates severity inside a patch (nominal 0.4 m, 0.3: ``clip(0.75 + c n, 0.3, 1)``).
* ``edge_softness`` — width of a patch's soft edge: severity falls off as
  ``1 − smoothstep(1 − 0.25 k, 1 + 0.3 k, r / r(θ))`` (nominal ``k = 1``: 0.75 … 1.3).
* ``band_shift_nm`` and ``band_width_gain`` — per band (sensor file order), the camera's band centre
  moved by ``Δλ`` nm and its FWHM scaled (filter tolerances; other cameras' responses):
  :meth:`SimVariation.respond` gives the sensor the survey is rendered with (its band tags record it).
* ``shadow_gain`` — depth of cast shadows: ``ρ (1 − g (1 − lit)(1 − f_diffuse))`` (nominal ``g = 1`` is
  ``ρ (lit + (1 − lit) f_diffuse)``, :mod:`pipeline.simulate.shadows`).

:data:`TRAINING` holds the ranges training data are drawn from; :data:`SHIFTED` the ranges the
shifted benchmark uses, outside every training range (held out: training never sees them).
Acquisition (:class:`Acquisition`: GSD and camera) is drawn beside it: :data:`TRAINING_ACQUISITION`
flies 5–10 cm with the registry's 5-band cameras whose bands include the model's (RedEdge-MX,
RedEdge-P; Altum-PT's thermal band is outside what the simulator renders), and
:data:`SHIFTED_ACQUISITION` holds out 3–4 cm and the DJI Phantom 4 Multispectral (other band
centres and widths: blue 450/32 nm, red 650/32 nm, red edge 730/32 nm vs 475/32, 668/14, 717/12).
Detection reads every scene resampled to the model's working GSD (``detection/resample.py``), so
surveys at several GSDs train one model. The two training cameras share their five band responses
(the registry has only two distinct 5-band responses, and one is held out), so training draws
band-response diversity from ``band_shift_nm`` (±8 nm) and ``band_width_gain`` (×0.75–1.5) instead;
the held-out camera's blue (−25 nm), red (−18 nm) and red-edge (+13 nm) centres stay outside them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from pipeline.ingest.sensors import SENSORS, Sensor
from pipeline.simulate.canopy import DISEASES, DiseaseEffect

#: The bands of the detection model (by registry band name); a camera must have every one of them.
MULTISPECTRAL_BANDS = ("blue", "green", "red", "nir", "red_edge")


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
    lesion_scale_m: float = 0.4
    lesion_contrast: float = 0.3
    edge_softness: float = 1.0
    shadow_gain: float = 1.0
    band_shift_nm: tuple[float, ...] = ()
    band_width_gain: tuple[float, ...] = ()

    def respond(self, sensor: Sensor) -> Sensor:
        """``sensor`` with band ``i``'s centre moved by ``band_shift_nm[i]`` and FWHM scaled by
        ``band_width_gain[i]`` (missing entries: unchanged; the registry name is kept)."""
        if not self.band_shift_nm and not self.band_width_gain:
            return sensor
        bands = tuple(
            dataclasses.replace(b, centre_nm=b.centre_nm + (self.band_shift_nm[i] if i < len(self.band_shift_nm)
                                                             else 0.0),
                                fwhm_nm=b.fwhm_nm * (self.band_width_gain[i] if i < len(self.band_width_gain)
                                                     else 1.0))
            for i, b in enumerate(sensor.bands))
        return dataclasses.replace(sensor, bands=bands)

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
                "misregistration_px": list(self.misregistration_px), "misregistered_band": self.misregistered_band,
                "lesion_scale_m": self.lesion_scale_m, "lesion_contrast": self.lesion_contrast,
                "edge_softness": self.edge_softness, "shadow_gain": self.shadow_gain,
                "band_shift_nm": list(self.band_shift_nm), "band_width_gain": list(self.band_width_gain)}


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
    lesion_scale_m: tuple[tuple[float, float], ...] = ((0.4, 0.4),)
    lesion_contrast: tuple[tuple[float, float], ...] = ((0.3, 0.3),)
    edge_softness: tuple[tuple[float, float], ...] = ((1.0, 1.0),)
    shadow_gain: tuple[tuple[float, float], ...] = ((1.0, 1.0),)
    band_shift_nm: tuple[tuple[float, float], ...] = ((0.0, 0.0),)
    band_width_gain: tuple[tuple[float, float], ...] = ((1.0, 1.0),)


#: Ranges of training-data generation (around nominal).
TRAINING = VariationRanges(disease_strength=((0.7, 1.3),), background_gain=((0.85, 1.15),), lai_gain=((0.85, 1.15),),
                           illumination_gain=((0.9, 1.1),), noise_gain=((0.5, 2.0),), psf_sigma_px=((0.4, 0.9),),
                           misregistration_px=1, lesion_scale_m=((0.25, 0.6),), lesion_contrast=((0.15, 0.45),),
                           edge_softness=((0.6, 1.5),), shadow_gain=((0.7, 1.2),), band_shift_nm=((-8.0, 8.0),),
                           band_width_gain=((0.75, 1.5),))
#: Held-out ranges of the shifted benchmark: every knob outside its training range.
SHIFTED = VariationRanges(disease_strength=((0.5, 0.65), (1.4, 1.6)), background_gain=((0.7, 0.8), (1.2, 1.3)),
                          lai_gain=((0.7, 0.8), (1.2, 1.3)), illumination_gain=((0.8, 0.88), (1.12, 1.2)),
                          noise_gain=((2.5, 3.5),), psf_sigma_px=((1.0, 1.3),), misregistration_px=2,
                          lesion_scale_m=((0.12, 0.2), (0.8, 1.1)), lesion_contrast=((0.55, 0.7),),
                          edge_softness=((0.3, 0.5), (1.8, 2.2)), shadow_gain=((0.4, 0.6), (1.3, 1.4)))


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
    base = SimVariation(disease_strength=MappingProxyType(strength), background_gain=_draw(rng, ranges.background_gain),
                        lai_gain=_draw(rng, ranges.lai_gain), illumination_gain=_draw(rng, ranges.illumination_gain),
                        noise_gain=_draw(rng, ranges.noise_gain), psf_sigma_px=_draw(rng, ranges.psf_sigma_px),
                        misregistration_px=shift, misregistered_band=int(rng.integers(0, bands)))
    # drawn after the knobs above, so their draws for a seed stay what they were before these knobs existed
    return dataclasses.replace(base, lesion_scale_m=_draw(rng, ranges.lesion_scale_m),
                               lesion_contrast=_draw(rng, ranges.lesion_contrast),
                               edge_softness=_draw(rng, ranges.edge_softness),
                               shadow_gain=_draw(rng, ranges.shadow_gain),
                               band_shift_nm=_band_draws(rng, ranges.band_shift_nm, bands),
                               band_width_gain=_band_draws(rng, ranges.band_width_gain, bands, 1.0))


def _band_draws(rng: np.random.Generator, ranges: tuple[tuple[float, float], ...], bands: int,
                nominal: float = 0.0) -> tuple[float, ...]:
    """One draw per band, or ``()`` when the range is the nominal point (no draws, nothing recorded)."""
    if ranges == ((nominal, nominal),):
        return ()
    return tuple(_draw(rng, ranges) for _ in range(bands))


def camera_pool(bands: tuple[str, ...] = MULTISPECTRAL_BANDS, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Registry cameras the simulator can render (every band reflective, 400–2500 nm) whose band names include
    every one of ``bands``, less ``exclude`` (registry order)."""
    return tuple(name for name, sensor in SENSORS.items()
                 if name not in exclude and set(bands) <= set(sensor.band_names)
                 and all(400 <= b.centre_nm <= 2500 for b in sensor.bands))


@dataclass(frozen=True)
class Acquisition:
    """How one survey is flown: ground sample distance (cm) and camera (sensor registry name)."""

    gsd_cm: float
    sensor: str


@dataclass(frozen=True)
class AcquisitionRanges:
    """GSD ranges (cm, uniform; several = either) and the cameras drawn from (uniformly)."""

    gsd_cm: tuple[tuple[float, float], ...]
    sensors: tuple[str, ...]


#: Held out: flown finer than any training survey, with a camera of other band responses.
SHIFTED_ACQUISITION = AcquisitionRanges(gsd_cm=((3.0, 4.0),), sensors=("p4m",))
#: Training-data acquisition: 5–10 cm (the demo flies 5 cm, its surveys are 10 cm), cameras with the
#: model's bands except the held-out one.
TRAINING_ACQUISITION = AcquisitionRanges(gsd_cm=((5.0, 10.0),),
                                         sensors=camera_pool(exclude=SHIFTED_ACQUISITION.sensors))


def sample_acquisition(rng: np.random.Generator, ranges: AcquisitionRanges = TRAINING_ACQUISITION) -> Acquisition:
    """One survey's GSD (rounded to 0.1 cm) and camera drawn from ``ranges``."""
    lo, hi = ranges.gsd_cm[int(rng.integers(0, len(ranges.gsd_cm)))]
    return Acquisition(round(float(rng.uniform(lo, hi)), 1), ranges.sensors[int(rng.integers(0, len(ranges.sensors)))])

"""Band-integrated lookup tables of canopy reflectance, interpolated per pixel.

PROSPECT runs once per leaf state (chlorophyll x class x severity) and 4SAIL once
per grid node (a few hundred runs, well under a second), never per pixel. A crop's table has axes::

    (class, lai, cab_factor, severity, band)

``class`` 0 is healthy (its severity axis is constant), classes 1.. follow
:func:`pipeline.simulate.canopy.diseases_of`. Pixels are then interpolated
multilinearly in (lai, cab_factor, severity) with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pipeline.ingest.sensors import Sensor
from pipeline.simulate.canopy import CROPS, DISEASES, DiseaseEffect, crop_background, diseases_of
from pipeline.simulate.spectra import CanopyParams, Geometry, band_response, leaf_optics, sail_reflectance

#: Relative chlorophyll grid (multiplies the growth-stage Cab).
CAB_FACTORS = (0.6, 1.0, 1.4)
#: Severity grid.
SEVERITIES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Number of LAI nodes (spaced densely at low LAI, where reflectance changes fastest).
LAI_NODES = 10


@dataclass(frozen=True)
class CropTable:
    """A crop's band-reflectance lookup table.

    Attributes:
        crop: Crop name.
        classes: ``("healthy", *diseases)``.
        lai: LAI nodes (ascending).
        cab_factor: Chlorophyll-factor nodes.
        severity: Severity nodes.
        table: ``(classes, lai, cab_factor, severity, bands)`` float64 reflectance.
        healthy: Growth-stage healthy parameters the table is built around.
    """

    crop: str
    classes: tuple[str, ...]
    lai: np.ndarray
    cab_factor: np.ndarray
    severity: np.ndarray
    table: np.ndarray
    healthy: CanopyParams

    def lookup(
        self, class_index: np.ndarray, lai: np.ndarray, cab_factor: np.ndarray, severity: np.ndarray
    ) -> np.ndarray:
        """Interpolate band reflectance for pixels.

        Args:
            class_index: ``(n,)`` int index into :attr:`classes`.
            lai: ``(n,)`` potential (healthy) LAI.
            cab_factor: ``(n,)`` chlorophyll factor.
            severity: ``(n,)`` severity in [0, 1].

        Returns:
            ``(n, bands)`` float32 reflectance.
        """
        axes = (self.lai, self.cab_factor, self.severity)
        values = (lai, cab_factor, severity)
        lo, frac = [], []
        for nodes, vals in zip(axes, values, strict=True):
            pos = np.interp(np.asarray(vals, dtype=np.float64), nodes, np.arange(nodes.size, dtype=np.float64))
            i0 = np.minimum(np.floor(pos).astype(np.intp), nodes.size - 2)
            lo.append(i0)
            frac.append((pos - i0).astype(np.float32))
        _, n_lai, n_cab, n_sev, n_band = self.table.shape
        flat = self.table.astype(np.float32).reshape(-1, n_band)
        base = ((np.asarray(class_index, dtype=np.intp) * n_lai + lo[0]) * n_cab + lo[1]) * n_sev + lo[2]
        out = np.zeros((base.size, n_band), dtype=np.float32)
        for corner in range(8):
            bits = [(corner >> k) & 1 for k in range(3)]
            weight = np.ones(base.size, dtype=np.float32)
            for b, f in zip(bits, frac, strict=True):
                weight *= f if b else (1.0 - f)
            offset = (bits[0] * n_cab + bits[1]) * n_sev + bits[2]
            out += weight[:, None] * np.take(flat, base + offset, axis=0)
        return out


def build_crop_table(crop: str, dap: float, sensor: Sensor, geometry: Geometry,
                     effects: Mapping[str, DiseaseEffect] | None = None) -> CropTable:
    """Run PROSAIL over the grid for ``crop`` at ``dap`` days after planting and band-integrate.

    The LAI axis spans 0 to 1.5x the growth-stage LAI (vigour heterogeneity);
    disease end-members are applied with :meth:`DiseaseEffect.apply` (``effects`` replaces
    :data:`~pipeline.simulate.canopy.DISEASES` entries, e.g. a randomised disease strength).
    """
    effects = {**DISEASES, **(effects or {})}
    healthy = CROPS[crop].stage(dap)
    lai_top = max(healthy.lai * 1.5, 0.5)
    lai_nodes = lai_top * np.linspace(0.0, 1.0, LAI_NODES) ** 1.6
    cab_nodes = np.asarray(CAB_FACTORS)
    sev_nodes = np.asarray(SEVERITIES)
    classes = ("healthy", *diseases_of(crop))
    background = crop_background(crop)
    srf = band_response(sensor)
    table = np.empty((len(classes), lai_nodes.size, cab_nodes.size, sev_nodes.size, len(sensor.bands)))
    for j, cf in enumerate(cab_nodes):
        base = healthy.replace(cab=healthy.cab * float(cf))
        # (class, severity) -> canopy parameters at unit potential LAI; PROSPECT once per leaf state
        states = {(0, k): base for k in range(sev_nodes.size)}
        for c, name in enumerate(classes[1:], start=1):
            states |= {(c, k): effects[name].apply(base, float(sev)) for k, sev in enumerate(sev_nodes)}
        for (c, k), params in states.items():
            if c == 0 and k > 0:
                table[0, :, j, k, :] = table[0, :, j, 0, :]
                continue
            leaf = leaf_optics(params)
            lai_factor = params.lai / base.lai if base.lai > 0 else 1.0
            for i, lai in enumerate(lai_nodes):
                canopy = params.replace(lai=float(lai) * lai_factor)
                table[c, i, j, k, :] = sail_reflectance(leaf, canopy, background, geometry) @ srf.T
    return CropTable(crop, classes, lai_nodes, cab_nodes, sev_nodes, table, healthy)


def describe_table(table: CropTable) -> dict[str, object]:
    """JSON-ready record of the parameters behind a table (for ``survey.json``).

    ``healthy`` holds the growth-stage PROSAIL parameters; each disease holds its
    parameters at full severity plus the end-member factors and the reason.
    """
    sev1 = {name: DISEASES[name].apply(table.healthy, 1.0) for name in table.classes[1:]}
    params = {"healthy": table.healthy, **sev1}
    out: dict[str, object] = {}
    for name, p in params.items():
        record: dict[str, object] = {k: round(float(v), 5) for k, v in vars(p).items()}
        if name in DISEASES:
            effect = DISEASES[name]
            record["end_member"] = {k: v for k, v in vars(effect).items() if k not in ("name", "crop", "why")}
            record["why"] = effect.why
        out[name] = record
    return out

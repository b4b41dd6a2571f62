"""Crop growth, disease end-members and land-cover spectra (declarative tables).

Healthy canopies follow a per-crop growth curve over days after planting
(DAP); diseases are end-members that move the healthy PROSAIL parameters as
severity ``s`` goes from 0 (healthy) to 1 (fully symptomatic)::

    p(s) = p_healthy * (1 + s * (factor - 1))      # cab, lai, cw, ala
    cbrown(s) = cbrown_healthy + s * cbrown_add
    n(s) = n_healthy + s * n_add

See :data:`DISEASES` for which parameters each disease changes and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from pipeline.errors import unknown_name
from pipeline.simulate.spectra import (
    CanopyParams,
    Geometry,
    asphalt_spectrum,
    canopy_spectrum,
    roof_spectrum,
    soil_spectrum,
    water_spectrum,
)

#: Flood depth of a paddy, metres (rice background).
PADDY_DEPTH_M = 0.05


@dataclass(frozen=True)
class CropGrowth:
    """Seasonal course of a healthy crop.

    LAI follows a logistic rise then a linear senescent decline::

        LAI(d) = lai_max / (1 + exp(-(d - d50) / k)) * (1 - 0.45 * clip((d - d_senesce) / senesce_days, 0, 1))

    Chlorophyll rises from ``cab_young`` to ``cab_peak`` with the same logistic
    and falls to ``cab_senescent`` during senescence, while brown pigment rises
    to ``cbrown_senescent``.

    Attributes:
        crop: ``rice`` or ``ginger``.
        lai_max: Plateau LAI of a vigorous stand.
        d50: DAP at half of ``lai_max``.
        k: Logistic steepness, days.
        d_senesce: DAP when senescence starts.
        senesce_days: Days from the start to the end of senescence.
        cab_young, cab_peak, cab_senescent: Leaf chlorophyll, ug/cm^2.
        cbrown_senescent: Brown pigment at the end of senescence.
        leaf: Leaf and structure parameters of a healthy mature canopy (LAI and
            Cab there are replaced by the growth curve).
        background: ``water`` (flooded paddy) or ``soil`` (ridged upland field).
    """

    crop: str
    lai_max: float
    d50: float
    k: float
    d_senesce: float
    senesce_days: float
    cab_young: float
    cab_peak: float
    cab_senescent: float
    cbrown_senescent: float
    leaf: CanopyParams
    background: str

    def stage(self, dap: float) -> CanopyParams:
        """Healthy canopy parameters ``dap`` days after planting."""
        rise = 1.0 / (1.0 + math.exp(-(dap - self.d50) / self.k))
        senesce = min(max((dap - self.d_senesce) / self.senesce_days, 0.0), 1.0)
        lai = self.lai_max * rise * (1.0 - 0.45 * senesce)
        cab = self.cab_young + (self.cab_peak - self.cab_young) * rise
        cab = cab + (self.cab_senescent - cab) * senesce
        return self.leaf.replace(lai=lai, cab=cab, cbrown=self.leaf.cbrown + self.cbrown_senescent * senesce)


#: Growth tables. Rice: Kochi early-season crop (transplanted April, headed ~80 DAP,
#: harvested late July), erectophile (ALA 63 deg). Ginger: planted late April on
#: ridges, slow canopy closure, harvested Oct-Nov, leaves spread (ALA 50 deg).
CROPS: Mapping[str, CropGrowth] = MappingProxyType(
    {
        "rice": CropGrowth(
            "rice", lai_max=4.6, d50=42.0, k=9.0, d_senesce=88.0, senesce_days=35.0,
            cab_young=32.0, cab_peak=46.0, cab_senescent=18.0, cbrown_senescent=0.6,
            leaf=CanopyParams(n=1.55, car=10.0, cw=0.014, cm=0.0045, ala=63.0, hotspot=0.08),
            background="water",
        ),
        "ginger": CropGrowth(
            "ginger", lai_max=3.8, d50=62.0, k=13.0, d_senesce=150.0, senesce_days=40.0,
            cab_young=30.0, cab_peak=42.0, cab_senescent=20.0, cbrown_senescent=0.5,
            leaf=CanopyParams(n=1.45, car=9.0, cw=0.018, cm=0.004, ala=50.0, hotspot=0.1),
            background="soil",
        ),
    }
)


@dataclass(frozen=True)
class DiseaseEffect:
    """How a disease moves PROSAIL parameters at full severity (``s = 1``).

    Attributes:
        name: Label class.
        crop: Host crop.
        cab_factor: Multiplier on leaf chlorophyll.
        cbrown_add: Added brown pigment.
        lai_factor: Multiplier on LAI (defoliation, collapse).
        cw_factor: Multiplier on leaf water (drying, wilting).
        n_add: Added leaf structure N (desiccated mesophyll scatters more).
        ala_factor: Multiplier on mean leaf angle (wilting leaves hang down).
        why: The symptoms behind the numbers.
    """

    name: str
    crop: str
    cab_factor: float = 1.0
    cbrown_add: float = 0.0
    lai_factor: float = 1.0
    cw_factor: float = 1.0
    n_add: float = 0.0
    ala_factor: float = 1.0
    why: str = ""

    def apply(self, healthy: CanopyParams, severity: float) -> CanopyParams:
        """Healthy parameters moved ``severity`` (0..1) of the way to the end-member."""
        s = float(severity)
        return healthy.replace(
            cab=healthy.cab * (1.0 + s * (self.cab_factor - 1.0)),
            cbrown=healthy.cbrown + s * self.cbrown_add,
            lai=healthy.lai * (1.0 + s * (self.lai_factor - 1.0)),
            cw=healthy.cw * (1.0 + s * (self.cw_factor - 1.0)),
            n=healthy.n + s * self.n_add,
            ala=min(healthy.ala * (1.0 + s * (self.ala_factor - 1.0)), 85.0),
        )


#: Disease end-members (class name -> effect), in label order per crop.
DISEASES: Mapping[str, DiseaseEffect] = MappingProxyType(
    {
        d.name: d
        for d in (
            DiseaseEffect(
                "blast", "rice", cab_factor=0.35, cbrown_add=1.0, lai_factor=0.45, n_add=0.1,
                why="Magnaporthe oryzae: spindle lesions with grey centres and brown margins destroy "
                "chlorophyll (Cab down, Cbrown up); severe leaf/neck blast kills leaves (LAI down).",
            ),
            DiseaseEffect(
                "brown_spot", "rice", cab_factor=0.45, cbrown_add=1.1, lai_factor=0.75,
                why="Bipolaris oryzae: many small brown oval spots (Cbrown up strongly), moderate "
                "chlorophyll loss, little defoliation; typical of nutrient-poor patches.",
            ),
            DiseaseEffect(
                "bacterial_leaf_blight", "rice", cab_factor=0.5, cbrown_add=0.8, lai_factor=0.6, cw_factor=0.4,
                n_add=0.3,
                why="Xanthomonas oryzae pv. oryzae: leaves dry from tips and margins (Cw down, "
                "straw-brown Cbrown up, desiccated mesophyll N up), kresek wilting thins the stand.",
            ),
            DiseaseEffect(
                "rhizome_rot", "ginger", cab_factor=0.45, cbrown_add=0.4, lai_factor=0.4, cw_factor=0.6,
                ala_factor=1.35,
                why="Pythium zingiberis: rotting rhizomes cut water uptake; shoots wilt (Cw down, "
                "leaves hang: ALA up), yellow from the base (Cab down) and collapse (LAI down).",
            ),
            DiseaseEffect(
                "leaf_spot", "ginger", cab_factor=0.45, cbrown_add=0.6, lai_factor=0.7,
                why="Phyllosticta zingiberis: white-centred brown spots (Cbrown up) with moderate "
                "chlorophyll loss; plants stay standing (LAI slightly down).",
            ),
        )
    }
)


def diseases_of(crop: str) -> tuple[str, ...]:
    """Disease class names of ``crop`` in table order."""
    if crop not in CROPS:
        raise unknown_name("crop", crop, list(CROPS))
    return tuple(name for name, d in DISEASES.items() if d.crop == crop)


def crop_background(crop: str) -> np.ndarray:
    """Background under a crop: 5 cm of paddy water over wet soil (rice) or moist ridge soil (ginger)."""
    growth = CROPS[crop]
    if growth.background == "water":
        return water_spectrum(PADDY_DEPTH_M, bottom=soil_spectrum(0.9, 0.0), chl_mg_m3=8.0, tss_g_m3=15.0)
    return soil_spectrum(1.0, 0.55)


def _forest(geometry: Geometry, conifer: float) -> np.ndarray:
    """Mixed hill forest: Japanese cedar/cypress (conifer=1) to evergreen broadleaf (0)."""
    leaf = CanopyParams(
        n=1.8 + 0.4 * conifer, cab=48.0 - 8.0 * conifer, car=11.0, cbrown=0.15 + 0.2 * conifer, cw=0.018,
        cm=0.011 + 0.008 * conifer, lai=4.5 + 1.5 * conifer, ala=45.0 + 20.0 * conifer, hotspot=0.3,
    )
    return canopy_spectrum(leaf, soil_spectrum(0.5, 0.2), geometry)


def _levee_grass(geometry: Geometry) -> np.ndarray:
    """Mown grass on paddy levees (aze) and verges."""
    leaf = CanopyParams(n=1.6, cab=35.0, car=8.0, cbrown=0.25, cw=0.012, cm=0.006, lai=2.0, ala=60.0, hotspot=0.1)
    return canopy_spectrum(leaf, soil_spectrum(0.9, 0.6), geometry)


def _dry_grass(geometry: Geometry) -> np.ndarray:
    """Tall, partly senescent weeds (susuki/pampas grass, unmown verges)."""
    leaf = CanopyParams(n=1.9, cab=18.0, car=7.0, cbrown=0.9, cw=0.008, cm=0.008, lai=1.6, ala=70.0, hotspot=0.15)
    return canopy_spectrum(leaf, soil_spectrum(1.0, 0.8), geometry)


#: Non-field land covers: name -> spectrum(geometry) on the PROSAIL grid.
LAND_COVERS: Mapping[str, Callable[[Geometry], np.ndarray]] = MappingProxyType(
    {
        "forest_broadleaf": lambda g: _forest(g, 0.0),
        "forest_conifer": lambda g: _forest(g, 1.0),
        "grass": _levee_grass,
        "dry_grass": _dry_grass,
        "bare_soil": lambda g: soil_spectrum(1.1, 0.8),
        "road": lambda g: asphalt_spectrum(0.6),
        "gravel": lambda g: 0.75 * soil_spectrum(1.0, 1.0) + 0.04,
        "roof_metal": lambda g: roof_spectrum("metal"),
        "roof_tile": lambda g: roof_spectrum("tile"),
        "river": lambda g: water_spectrum(1.5, bottom=None, chl_mg_m3=1.0, cdom_440=0.15, tss_g_m3=3.0),
    }
)

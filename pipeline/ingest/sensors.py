"""Declarative multispectral sensor specs and their registry.

Each :class:`Sensor` states its bands in file order with centre wavelength and
full width at half maximum (FWHM), from the makers' published figures, plus how
integer exports map to reflectance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from pipeline.errors import InputError, unknown_name


@dataclass(frozen=True)
class Band:
    """One spectral band.

    Attributes:
        name: Canonical name (blue, green, red, red_edge, nir, pan, lwir).
        centre_nm: Centre wavelength in nanometres.
        fwhm_nm: Full width at half maximum in nanometres.
    """

    name: str
    centre_nm: float
    fwhm_nm: float


@dataclass(frozen=True)
class Sensor:
    """A multispectral sensor.

    Attributes:
        name: Registry key (lower-case, dashes).
        title: Maker and model as printed.
        bands: Bands in the order they appear in files/stacks.
        bit_depth: Bits per raw sample.
        reflectance_scale: Divide integer exports by this to get reflectance
            (``None`` when the maker's tools export float reflectance only; integer
            input from such a sensor then needs an explicit ``--scale``). MicaSense
            stacks store reflectance x 32768 in uint16; DJI Terra exports float
            reflectance, so DJI multispectral sensors have no default scale. RGB cameras
            use 255 (8-bit full scale), with a warning: their values are display
            brightness, not reflectance.
        nodata: Sample value meaning "no data" when the file declares none (``None``: the file's).
    """

    name: str
    title: str
    bands: tuple[Band, ...]
    bit_depth: int = 16
    reflectance_scale: float | None = None
    nodata: float | None = None

    @property
    def band_names(self) -> tuple[str, ...]:
        """Band names in file order."""
        return tuple(b.name for b in self.bands)

    def band_index(self, name: str) -> int:
        """Zero-based position of band ``name`` in file order."""
        try:
            return self.band_names.index(name)
        except ValueError:
            raise InputError(
                f"sensor {self.name!r} has no band {name!r}; its bands are {', '.join(self.band_names)}"
            ) from None

    def with_band_order(self, order: Sequence[str]) -> Sensor:
        """A copy whose bands follow ``order`` (for odd exports; ``--bands``)."""
        by_name = {b.name: b for b in self.bands}
        unknown = [n for n in order if n not in by_name]
        if unknown:
            raise InputError(
                f"--bands names {', '.join(unknown)} not on sensor {self.name!r}; choose from {', '.join(by_name)}"
            )
        if len(set(order)) != len(order):
            raise InputError(f"--bands {','.join(order)} repeats a band; name each band once")
        return Sensor(self.name, self.title, tuple(by_name[n] for n in order), self.bit_depth, self.reflectance_scale,
                      self.nodata)


_B = Band
#: Bayer RGB cameras: no maker publishes band figures for these; centres and widths are the typical
#: peaks and half-maximum widths of consumer CMOS Bayer filters measured by Jiang, Liu, Gu & Süsstrunk
#: 2013, "What is the space of spectral sensitivity functions for digital color cameras?", IEEE WACV
#: (28 cameras: blue ~460 nm, green ~540 nm, red ~610 nm peaks; ~90-100 nm wide). DJI's Phantom 4 RTK
#: (FC6310R, 1" CMOS) and Mavic 3 Enterprise (4/3 CMOS) wide cameras are such Bayer sensors.
_BAYER_RGB = (_B("red", 610, 90), _B("green", 540, 100), _B("blue", 460, 90))  # file order R, G, B
SENSORS: Mapping[str, Sensor] = MappingProxyType(
    {
        s.name: s
        for s in (
            Sensor(
                "rededge-mx",
                "MicaSense RedEdge-MX",
                (_B("blue", 475, 32), _B("green", 560, 27), _B("red", 668, 14), _B("nir", 842, 57),
                 _B("red_edge", 717, 12)),
                bit_depth=16,
                reflectance_scale=32768.0,
            ),
            Sensor(
                "rededge-p",
                "MicaSense RedEdge-P",
                (_B("blue", 475, 32), _B("green", 560, 27), _B("red", 668, 14), _B("nir", 842, 57),
                 _B("red_edge", 717, 12), _B("pan", 634.5, 463)),
                bit_depth=16,
                reflectance_scale=32768.0,
            ),
            Sensor(
                "altum-pt",
                "MicaSense Altum-PT",
                (_B("blue", 475, 32), _B("green", 560, 27), _B("red", 668, 14), _B("nir", 842, 57),
                 _B("red_edge", 717, 12), _B("pan", 634.5, 463), _B("lwir", 10500, 6000)),
                bit_depth=16,
                reflectance_scale=32768.0,
            ),
            Sensor(
                "p4m",
                "DJI Phantom 4 Multispectral",
                (_B("blue", 450, 32), _B("green", 560, 32), _B("red", 650, 32), _B("red_edge", 730, 32),
                 _B("nir", 840, 52)),
                bit_depth=16,
                reflectance_scale=None,
            ),
            Sensor("rgb", "Generic RGB camera (Bayer CMOS, 8-bit)", _BAYER_RGB, bit_depth=8, reflectance_scale=255.0),
            Sensor("p4rtk", "DJI Phantom 4 RTK (FC6310R RGB camera)", _BAYER_RGB, bit_depth=8, reflectance_scale=255.0),
            Sensor("m3e", "DJI Mavic 3 Enterprise (wide RGB camera)", _BAYER_RGB, bit_depth=8, reflectance_scale=255.0),
            Sensor(
                "m3m",
                "DJI Mavic 3 Multispectral",
                (_B("green", 560, 32), _B("red", 650, 32), _B("red_edge", 730, 32), _B("nir", 860, 52)),
                bit_depth=16,
                reflectance_scale=None,
            ),
        )
    }
)


def get_sensor(name: str) -> Sensor:
    """Look a sensor up by registry name (case-insensitive); a sensor file is read by :mod:`.sensor_file`."""
    key = name.strip().lower()
    if key not in SENSORS:
        raise unknown_name("sensor", name, list(SENSORS))
    return SENSORS[key]

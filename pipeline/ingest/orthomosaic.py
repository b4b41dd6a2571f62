"""Open a multispectral orthomosaic: one multi-band GeoTIFF or one file per band.

A last band flagged as alpha (OpenDroneMap) masks pixels where it is 0.

Band order rule (first that applies): ``--bands`` names; else the file's band
descriptions when they are exactly the sensor's band names in some order; else
the sensor's file order.

Scale rule (first that applies), giving ``value = DN x gain + offset`` per band:

1. the file declares GDAL per-band scale/offset metadata (``gdal_edit.py -scale
   -offset``; GDAL's convention is value = DN x scale + offset, a multiplier):
   it is honoured and ``--scale`` is refused as ambiguous;
2. ``--scale D`` is a DIVISOR: reflectance = DN / D (10000 when reflectance 1.0
   is stored as 10000; a GDAL-style multiplier such as 0.0001 is caught by the
   plausibility check below and the message names 10000);
3. float input is reflectance already;
4. integer input is divided by the sensor's default ``reflectance_scale``
   (MicaSense: 32768); with none it is an error, since raw integers are not reflectance.

Then a sample of every band is scaled and checked
(:func:`pipeline.ingest.reflectance.check_reflectance`): reflectance above 1.5 or
negative is refused naming the likely intended ``--scale``.

Per-band files (a folder or a glob) are recognised by the band name at the end of
the file stem: ``*_blue.tif``, ``*_nir.tif``, Pix4D's
``<project>_transparent_reflectance_red edge.tif``...
"""

from __future__ import annotations

import glob
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.transform import Affine

from pipeline.errors import GeoreferenceError, InputError, SceneNotFoundError
from pipeline.ingest.sensors import Sensor

#: Spellings seen in per-band file names -> canonical band name (matched at the end of the stem).
BAND_ALIASES: tuple[tuple[str, str], ...] = (
    ("red_edge", "red_edge"), ("rededge", "red_edge"), ("re", "red_edge"),
    ("near_infrared", "nir"), ("nir", "nir"),
    ("blue", "blue"), ("green", "green"), ("red", "red"),
    ("panchromatic", "pan"), ("pan", "pan"), ("lwir", "lwir"), ("thermal", "lwir"),
)
RASTER_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class BandSource:
    """Where one band lives: file and 1-based band index, with that file's nodata value."""

    band: str
    path: Path
    index: int
    nodata: float | None
    gain: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class Orthomosaic:
    """A validated orthomosaic ready to stream.

    Attributes:
        sources: One entry per band, in the order of ``sensor.bands``.
        sensor: The sensor with the band order actually used.
        width: Columns (pixels).
        height: Rows (pixels).
        transform: Pixel-to-CRS affine transform.
        crs: Raster CRS.
        dtype: Sample type of the input (``float32``, ``uint16``...).
        scale: Divisor turning samples into reflectance (``None``: none, or GDAL metadata).
        block_shape: Internal ``(rows, cols)`` block of the first file.
        alpha: The file's alpha band (0 = nodata), as OpenDroneMap writes one after the spectral bands.
        scaling: Which scale rule applied (``gdal metadata``, ``--scale``, ``sensor default``, ``none``).
        warnings: What the user should know about the values (8-bit input...).
    """

    sources: tuple[BandSource, ...]
    sensor: Sensor
    width: int
    height: int
    transform: Affine
    crs: CRS
    dtype: str
    scale: float | None
    block_shape: tuple[int, int]
    alpha: BandSource | None = None
    scaling: str = "none"
    warnings: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """The distinct files, in first-use order."""
        return tuple(dict.fromkeys(s.path for s in self.sources))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the raster CRS."""
        west, south, east, north = rasterio.transform.array_bounds(self.height, self.width, self.transform)
        return (float(west), float(south), float(east), float(north))

    def to_reflectance(self, samples: np.ndarray, sources: Sequence[BandSource]) -> np.ndarray:
        """A ``(bands, rows, cols)`` block of ``sources`` as float32 reflectance (DN x gain + offset), NaN nodata."""
        out = samples.astype(np.float32, copy=not np.issubdtype(samples.dtype, np.floating))
        for i, src in enumerate(sources):
            if src.nodata is not None and not np.isnan(src.nodata):
                out[i][samples[i] == src.nodata] = np.nan
            if src.gain != 1.0:
                out[i] *= np.float32(src.gain)
            if src.offset != 0.0:
                out[i] += np.float32(src.offset)
        return out


def band_from_filename(path: Path) -> str | None:
    """Canonical band named at the end of ``path``'s stem, or ``None``."""
    stem = re.sub(r"[\s\-.]+", "_", path.stem.lower())
    for alias, band in BAND_ALIASES:
        if stem == alias or stem.endswith("_" + alias):
            return band
    return None


def _list_band_files(scene: Path | str) -> list[Path]:
    text = str(scene)
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text))
        if not files:
            raise SceneNotFoundError(f"no file matches {text!r}; check the glob (e.g. 'ortho/*_nir.tif')")
        return files
    folder = Path(scene)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in RASTER_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise SceneNotFoundError(f"folder {text!r} holds no .tif files; expected one GeoTIFF per band")
    return files


def _open_checked(path: Path) -> rasterio.DatasetReader:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # reported as a GeoreferenceError instead
            return rasterio.open(path)
    except RasterioError as exc:
        raise InputError(f"cannot read {str(path)!r} as a raster ({exc}); expected a GeoTIFF") from exc


def _check_georeferenced(path: Path, crs: CRS | None, transform: Affine) -> None:
    if crs is None or transform == Affine.identity():
        raise GeoreferenceError(
            f"{str(path)!r} is not georeferenced (no CRS or geotransform); export the orthomosaic as a GeoTIFF "
            "with its CRS, or assign one with 'gdal_edit.py -a_srs EPSG:6690 -a_ullr ...'"
        )


def _scale_for(path: Path, dtype: str, scale: float | None, sensor: Sensor) -> tuple[float | None, str]:
    """The divisor and the rule that chose it (rules 2-4 of the module doc)."""
    if scale is not None:
        if not (scale > 0 and np.isfinite(scale)):
            raise InputError(f"--scale {scale} must be a positive divisor (reflectance = sample / scale), "
                             "e.g. 10000 or 32768 for MicaSense uint16 stacks")
        return scale, "--scale"
    if np.issubdtype(np.dtype(dtype), np.floating):
        return None, "none"
    if sensor.reflectance_scale is None:
        hint = "255 for 8-bit RGB" if np.dtype(dtype).itemsize == 1 else "10000 or 65535, whichever maps 1.0"
        raise InputError(
            f"{str(path)!r} holds {dtype} samples and sensor {sensor.name!r} has no default reflectance scale; "
            f"pass --scale DIVISOR (reflectance = sample / DIVISOR; e.g. {hint})"
        )
    return sensor.reflectance_scale, "sensor default"


def _gdal_scaling(path: Path, ds: rasterio.DatasetReader, indexes: Sequence[int],
                  scale: float | None) -> list[tuple[float, float]] | None:
    """Per-band (scale, offset) from GDAL metadata, or ``None`` when the file declares none (rule 1)."""
    pairs = [(float(ds.scales[i - 1] or 1.0), float(ds.offsets[i - 1] or 0.0)) for i in indexes]
    if all(p == (1.0, 0.0) for p in pairs):
        return None
    if scale is not None:
        raise InputError(
            f"{str(path)!r} declares GDAL scale/offset {pairs[0][0]:g}/{pairs[0][1]:g} (value = DN x scale + "
            f"offset), which is applied already; drop --scale {scale:g}")
    return pairs


def _band_order(sensor: Sensor, bands: Sequence[str] | None, descriptions: Sequence[str | None]) -> Sensor:
    if bands:
        return sensor.with_band_order([b.strip() for b in bands])
    names = [d.strip().lower() for d in descriptions if d]
    if len(names) == len(sensor.bands) and sorted(names) == sorted(sensor.band_names):
        return sensor.with_band_order(names)
    return sensor


def open_orthomosaic(
    scene: Path | str, sensor: Sensor, *, bands: Sequence[str] | None = None, scale: float | None = None
) -> Orthomosaic:
    """Validate an orthomosaic and describe where each band lives.

    Args:
        scene: A multi-band GeoTIFF, a folder of per-band GeoTIFFs, or a glob of them.
        sensor: The sensor that took it.
        bands: Band names in file order (``--bands``), overriding the sensor's order.
        scale: Divisor to reflectance (``--scale``); see the module's scale rule.

    Raises:
        SceneNotFoundError: nothing at ``scene``.
        InputError: unreadable file, wrong band count, missing/extra band files, bad scale.
        GeoreferenceError: no CRS/transform, or per-band files on different grids.
    """
    text = str(scene)
    is_glob = any(ch in text for ch in "*?[")
    if not is_glob and not Path(scene).exists():
        raise SceneNotFoundError(f"scene {text!r} does not exist; pass a GeoTIFF, a folder of band files or a glob")
    if is_glob or Path(scene).is_dir():
        return _open_band_files(_list_band_files(scene), sensor, bands, scale)
    path = Path(scene)
    with _open_checked(path) as ds:
        _check_georeferenced(path, ds.crs, ds.transform)
        ordered = _band_order(sensor, bands, ds.descriptions)
        has_alpha = ds.count == len(ordered.bands) + 1 and ds.colorinterp[-1] == ColorInterp.alpha
        alpha = BandSource("alpha", path, ds.count, None) if has_alpha else None
        if ds.count != len(ordered.bands) + (1 if has_alpha else 0):
            how = "--bands" if bands else f"sensor {sensor.name!r}"
            raise InputError(
                f"{text!r} has {ds.count} band(s) but {how} expects {len(ordered.bands)} "
                f"({', '.join(ordered.band_names)}); pick the right --sensor or name the file's bands with --bands"
            )
        sources = [BandSource(n, path, i + 1, ds.nodatavals[i]) for i, n in enumerate(ordered.band_names)]
        pairs = _gdal_scaling(path, ds, [s.index for s in sources], scale)
        scaled, divisor, how = _scaled(sources, pairs, path, ds.dtypes[0], scale, sensor)
        return Orthomosaic(scaled, ordered, ds.width, ds.height, ds.transform, ds.crs, ds.dtypes[0],
                           divisor, tuple(ds.block_shapes[0]), alpha, how)


def _scaled(sources: Sequence[BandSource], pairs: Sequence[tuple[float, float]] | None, path: Path, dtype: str,
            scale: float | None, sensor: Sensor) -> tuple[tuple[BandSource, ...], float | None, str]:
    """Sources with their gain/offset (and the sensor's nodata where the file has none), divisor, rule."""
    def nodata(src: BandSource) -> float | None:
        return src.nodata if src.nodata is not None else sensor.nodata

    if pairs is not None:
        return (tuple(replace(s, nodata=nodata(s), gain=g, offset=o) for s, (g, o) in zip(sources, pairs, strict=True)),
                None, "gdal metadata")
    divisor, how = _scale_for(path, dtype, scale, sensor)
    gain = 1.0 / divisor if divisor else 1.0
    return tuple(replace(s, nodata=nodata(s), gain=gain) for s in sources), divisor, how


def _open_band_files(
    files: list[Path], sensor: Sensor, bands: Sequence[str] | None, scale: float | None
) -> Orthomosaic:
    wanted = sensor.with_band_order([b.strip() for b in bands]) if bands else sensor
    by_band: dict[str, list[Path]] = {}
    unnamed: list[str] = []
    for f in files:
        band = band_from_filename(f)
        if band is None:
            unnamed.append(f.name)
        else:
            by_band.setdefault(band, []).append(f)
    problems: list[str] = []
    if unnamed:
        problems.append(f"no band name at the end of {', '.join(unnamed)} (expected e.g. *_nir.tif)")
    problems += [f"band {b} has several files ({', '.join(p.name for p in ps)})" for b, ps in by_band.items()
                 if len(ps) > 1]
    extra = [b for b in by_band if b not in wanted.band_names]
    if extra:
        problems.append(f"band(s) {', '.join(extra)} are not bands of {wanted.name!r} as used")
    missing = [b for b in wanted.band_names if b not in by_band]
    if missing:
        problems.append(f"band(s) {', '.join(missing)} have no file")
    if problems:
        raise InputError(
            f"per-band scene: {'; '.join(problems)}; expected one file per band of {wanted.name!r} "
            f"({', '.join(wanted.band_names)}), or use --bands to name the bands present"
        )
    sources: list[BandSource] = []
    pairs: list[tuple[float, float]] = []
    grid: tuple[int, int, Affine, CRS] | None = None
    first: Path = by_band[wanted.band_names[0]][0]
    dtype, block = "float32", (512, 512)
    for name in wanted.band_names:
        path = by_band[name][0]
        with _open_checked(path) as ds:
            _check_georeferenced(path, ds.crs, ds.transform)
            if ds.count != 1:
                raise InputError(f"{str(path)!r} has {ds.count} bands; per-band files must hold exactly one")
            this = (ds.width, ds.height, ds.transform, ds.crs)
            if grid is None:
                grid, dtype, block = this, ds.dtypes[0], tuple(ds.block_shapes[0])
            elif this != grid or ds.dtypes[0] != dtype:
                raise GeoreferenceError(
                    f"{str(path)!r} ({ds.width}x{ds.height}, {ds.crs}, {ds.dtypes[0]}) is not on the grid of "
                    f"{str(first)!r} ({grid[0]}x{grid[1]}, {grid[3]}, {dtype}); band files must share one grid"
                )
            sources.append(BandSource(name, path, 1, ds.nodatavals[0]))
            pairs.append((float(ds.scales[0] or 1.0), float(ds.offsets[0] or 0.0)))
    assert grid is not None
    declared = None if all(p == (1.0, 0.0) for p in pairs) else pairs
    if declared is not None and scale is not None:
        raise InputError(f"{str(first)!r} and its sibling band files declare GDAL scale/offset (value = DN x "
                         f"scale + offset), which is applied already; drop --scale {scale:g}")
    scaled, divisor, how = _scaled(sources, declared, first, dtype, scale, sensor)
    return Orthomosaic(scaled, wanted, grid[0], grid[1], grid[2], grid[3], dtype,
                       divisor, (int(block[0]), int(block[1])), None, how)

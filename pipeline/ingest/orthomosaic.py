"""Open a multispectral orthomosaic: one multi-band GeoTIFF or one file per band.

A last band flagged as alpha (OpenDroneMap) masks pixels where it is 0.

Band order rule (first that applies): ``--bands`` names; else the file's band
descriptions when they are exactly the sensor's band names in some order; else
the sensor's file order.

Scale rule: float input is reflectance already (``--scale`` divides it if given);
integer input is divided by ``--scale``, else by the sensor's default
``reflectance_scale`` (MicaSense: 32768); with neither it is an error, since raw
integers are not reflectance.

Per-band files (a folder or a glob) are recognised by the band name at the end of
the file stem: ``*_blue.tif``, ``*_nir.tif``, Pix4D's
``<project>_transparent_reflectance_red edge.tif``...
"""

from __future__ import annotations

import glob
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
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
        scale: Divisor turning samples into reflectance (``None``: none).
        block_shape: Internal ``(rows, cols)`` block of the first file.
        alpha: The file's alpha band (0 = nodata), as OpenDroneMap writes one after the spectral bands.
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

    @property
    def paths(self) -> tuple[Path, ...]:
        """The distinct files, in first-use order."""
        return tuple(dict.fromkeys(s.path for s in self.sources))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the raster CRS."""
        west, south, east, north = rasterio.transform.array_bounds(self.height, self.width, self.transform)
        return (float(west), float(south), float(east), float(north))

    def to_reflectance(self, samples: np.ndarray, nodata: Sequence[float | None]) -> np.ndarray:
        """Turn a ``(bands, rows, cols)`` block of samples into float32 reflectance with NaN nodata."""
        out = samples.astype(np.float32, copy=not np.issubdtype(samples.dtype, np.floating))
        for i, value in enumerate(nodata):
            if value is not None and not np.isnan(value):
                out[i][samples[i] == value] = np.nan
        if self.scale is not None:
            out *= np.float32(1.0 / self.scale)
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


def _scale_for(path: Path, dtype: str, scale: float | None, sensor: Sensor) -> float | None:
    if scale is not None:
        if not scale > 0:
            raise InputError(f"--scale {scale} must be a positive divisor (e.g. 32768 for MicaSense uint16 stacks)")
        return scale
    if np.issubdtype(np.dtype(dtype), np.floating):
        return None
    if sensor.reflectance_scale is None:
        raise InputError(
            f"{str(path)!r} holds {dtype} samples and sensor {sensor.name!r} has no default reflectance scale; "
            "pass --scale (e.g. --scale 65535 when reflectance 1.0 is stored as 65535)"
        )
    return sensor.reflectance_scale


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
        sources = tuple(BandSource(n, path, i + 1, ds.nodatavals[i]) for i, n in enumerate(ordered.band_names))
        return Orthomosaic(sources, ordered, ds.width, ds.height, ds.transform, ds.crs, ds.dtypes[0],
                           _scale_for(path, ds.dtypes[0], scale, sensor), tuple(ds.block_shapes[0]), alpha)


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
    assert grid is not None
    return Orthomosaic(tuple(sources), wanted, grid[0], grid[1], grid[2], grid[3], dtype,
                       _scale_for(first, dtype, scale, sensor), (int(block[0]), int(block[1])))

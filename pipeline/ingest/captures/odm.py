"""Reading OpenDroneMap outputs (the orthomosaic route for whole flights).

For a full flight, stitch the raw captures with OpenDroneMap rather than
processing frames one by one (see the package docstring for the docker
command). ODM writes ``odm_orthophoto/odm_orthophoto.tif``: a georeferenced
GeoTIFF with one band per camera band plus an alpha band (RGBA for an RGB
camera; for a MicaSense flight with ``--radiometric-calibration camera+sun``,
float reflectance bands plus alpha). That file is what ``shimanto indices``
takes; :func:`read_orthophoto` checks it and separates the alpha mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.transform import Affine

from pipeline.errors import GeoreferenceError, InputError, SceneNotFoundError


@dataclass(frozen=True)
class Orthophoto:
    """An ODM orthophoto split into data bands and a validity mask.

    Attributes:
        bands: ``(n, rows, cols)`` data bands (alpha removed), native dtype.
        valid: ``(rows, cols)`` True where the alpha band is non-zero (all True without alpha).
        crs: Its CRS.
        transform: Pixel -> CRS affine.
        colour: Colour interpretation of each data band (``red``, ``green``, ``gray``, ...).
    """

    bands: np.ndarray
    valid: np.ndarray
    crs: CRS
    transform: Affine
    colour: tuple[str, ...]

    @property
    def pixel_size(self) -> tuple[float, float]:
        """(x, y) ground sampling distance in CRS units."""
        return abs(self.transform.a), abs(self.transform.e)


def read_orthophoto(path: Path | str) -> Orthophoto:
    """Read an OpenDroneMap orthophoto GeoTIFF.

    Raises:
        SceneNotFoundError: the file does not exist.
        InputError: not a raster rasterio can read.
        GeoreferenceError: it has no CRS (not an ODM orthophoto).
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(
            f"orthophoto {str(path)!r} does not exist; ODM writes it to <project>/odm_orthophoto/odm_orthophoto.tif"
        )
    try:
        with rasterio.open(path) as src:
            data = src.read()
            interp = tuple(src.colorinterp)
            crs, transform = src.crs, src.transform
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{str(path)!r} is not a readable GeoTIFF ({exc})") from exc
    if crs is None:
        raise GeoreferenceError(f"{str(path)!r} has no CRS; expected an ODM orthophoto (georeferenced GeoTIFF)")
    alpha = [i for i, c in enumerate(interp) if c == ColorInterp.alpha]
    keep = [i for i in range(data.shape[0]) if i not in alpha]
    valid = data[alpha[0]] > 0 if alpha else np.ones(data.shape[1:], dtype=bool)
    return Orthophoto(data[keep], valid, crs, transform, tuple(interp[i].name for i in keep))

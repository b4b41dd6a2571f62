"""Small rasters and field files built on the fly for the ingest tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

#: Upper-left corner (EPSG:6690, Shimanto) and pixel size (m) of every test raster.
ORIGIN = (307000.0, 3672000.0)
PIXEL = 0.5
RMX_ORDER = ("blue", "green", "red", "nir", "red_edge")


def reflectance(rows: int = 300, cols: int = 400, seed: int = 3) -> np.ndarray:
    """Seeded 5-band RedEdge-MX-order reflectance with nodata and 0/0 cases in the top-left corner."""
    rng = np.random.default_rng(seed)
    data = (rng.random((5, rows, cols)) * np.array([0.1, 0.15, 0.1, 0.6, 0.3])[:, None, None] + 0.01).astype(
        np.float32
    )
    data[:, 0, 0] = np.nan  # nodata in every band
    data[2, 0, 1] = np.nan  # nodata in red only
    data[:, 1, 0] = 0.0  # 0/0 for every normalized difference
    data[3, 1, 1], data[2, 1, 1] = 0.0, 0.0  # nir = red = 0
    return data


def write_tif(path: Path, data: np.ndarray, *, nodata: Any = "nan", crs: Any = "EPSG:6690",
              descriptions: tuple[str, ...] | None = None, block: int = 128) -> Path:
    """Write ``(bands, rows, cols)`` as a tiled DEFLATE GeoTIFF (``crs=None``: not georeferenced)."""
    count, rows, cols = data.shape
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": cols, "height": rows, "count": count, "dtype": data.dtype.name,
        "tiled": True, "blockxsize": block, "blockysize": block, "compress": "DEFLATE",
    }
    if nodata is not None:
        profile["nodata"] = float("nan") if nodata == "nan" else nodata
    if crs is not None:
        profile.update(crs=crs, transform=from_origin(*ORIGIN, PIXEL, PIXEL))
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        if descriptions:
            for i, name in enumerate(descriptions, start=1):
                ds.set_band_description(i, name)
    return path


def field_geojson(path: Path, rings: dict[str, list[tuple[float, float]]], crs_name: str | None = None) -> Path:
    """A FeatureCollection of polygons ``{field_id: ring}``, with an optional legacy ``crs`` member."""
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"field_id": fid, "crop": "rice"},
             "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}
            for fid, ring in rings.items()
        ],
    }
    if crs_name:
        doc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def pixel_rect(col0: int, row0: int, col1: int, row1: int) -> list[tuple[float, float]]:
    """Closed ring (EPSG:6690) covering pixel columns ``col0:col1`` and rows ``row0:row1`` exactly."""
    x0, x1 = ORIGIN[0] + col0 * PIXEL, ORIGIN[0] + col1 * PIXEL
    y0, y1 = ORIGIN[1] - row0 * PIXEL, ORIGIN[1] - row1 * PIXEL
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


class Kit:
    """The helpers above, handed to tests as the ``kit`` fixture (test modules cannot import conftest reliably)."""

    ORIGIN = ORIGIN
    PIXEL = PIXEL
    RMX_ORDER = RMX_ORDER
    reflectance = staticmethod(reflectance)
    write_tif = staticmethod(write_tif)
    field_geojson = staticmethod(field_geojson)
    pixel_rect = staticmethod(pixel_rect)


@pytest.fixture
def kit() -> type[Kit]:
    """Raster and field helpers."""
    return Kit


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A float32 RedEdge-MX scene and its reflectance array."""
    data = reflectance()
    return write_tif(tmp_path / "scene.tif", data), data


@pytest.fixture
def cli(run_cli: Callable[[list[str]], int]) -> Callable[..., int]:
    """``cli(*args)``: run ``shimanto`` in-process with string arguments."""
    return lambda *args: run_cli([str(a) for a in args])

"""The map on the open-data page: its configuration (embedded in ``index.html``) and its static files.

The map itself is ``web/opendata-map/main.js`` bundled with esbuild into
``pipeline/outputs/web/opendata-map.js`` (OpenLayers and proj4 from the npm registry, no CDN; rebuild
with ``make opendata-map``). It reads the published COGs directly with ``ol/source/GeoTIFF`` (HTTP
range requests), so it needs a static web server that honours ``Range`` (nginx, Apache, Caddy, or
``shimanto opendata-serve``). Opened from ``file://`` the page keeps the plain list with thumbnails.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from pyproj import CRS

from pipeline.common.fontfile import ipa_licence_path, ipaex_gothic_path

WEB_DIR = Path(__file__).resolve().parent / "web"
MAP_SCRIPT = "assets/opendata-map.js"
MAP_STYLE = "assets/opendata-map.css"
#: Index value range drawn by the map, the thumbnails and the legend (dimensionless ratios).
INDEX_RANGE = (-0.2, 1.0)
INDEX_UNIT = "無次元（-1〜1 の比）"
#: Chromium flags for WebGL without a GPU (SwiftShader through ANGLE): the map's layers are WebGL.
CHROMIUM_WEBGL_ARGS = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader")
COLORMAP = "viridis"
COLORMAP_STOPS = 9


def static_files() -> dict[str, Path]:
    """Published path (POSIX, relative to the publication root) → packaged file copied there verbatim."""
    font = ipaex_gothic_path()
    files = {f"fonts/{font.name}": font, MAP_SCRIPT: WEB_DIR / "opendata-map.js",
             MAP_STYLE: WEB_DIR / "opendata-map.css",
             "assets/opendata-map.LICENSES.txt": WEB_DIR / "opendata-map.LICENSES.txt"}
    licence = ipa_licence_path()
    if licence.is_file():
        files[f"fonts/{licence.name}"] = licence
    return {k: v for k, v in files.items() if v.is_file()}


def colour_stops(vmin: float, vmax: float, n: int = COLORMAP_STOPS) -> list[list[float]]:
    """``[[value, r, g, b], ...]`` of :data:`COLORMAP` at ``n`` evenly spaced values (r, g, b 0–255)."""
    cmap = colormaps[COLORMAP]
    out = []
    for i in range(n):
        f = i / (n - 1)
        r, g, b, _a = cmap(f)
        out.append([round(vmin + f * (vmax - vmin), 4), round(r * 255), round(g * 255), round(b * 255)])
    return out


def _proj4(crs: CRS) -> str:
    """The PROJ string proj4js needs to place the COGs (pyproj warns that PROJ strings drop datum
    details; for the map's purpose, drawing on screen, a sub-metre datum difference does not show)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return str(crs.to_proj4())


@dataclass(frozen=True)
class MapLayer:
    """One published index COG of one flight (``href`` relative to ``index.html``)."""

    index: str
    date: str
    href: str
    crs: CRS


def map_config(layers: Sequence[MapLayer], fields: Sequence[str], meshes: Sequence[str], csv_href: str,
               disease_names: Mapping[str, str]) -> dict[str, Any]:
    """The JSON the map script reads from ``<script type="application/json" id="map-config">``."""
    names = list(dict.fromkeys(layer.index for layer in layers))
    crss = {layer.crs.to_string(): layer.crs for layer in layers}
    vmin, vmax = INDEX_RANGE
    return {
        "projections": [{"code": code, "proj4": _proj4(crs)} for code, crs in crss.items()],
        "indices": [{"name": n, "label": n.upper(), "min": vmin, "max": vmax, "unit": INDEX_UNIT,
                     "layers": [{"href": layer.href, "date": layer.date} for layer in layers if layer.index == n]}
                    for n in names],
        "colormap": colour_stops(vmin, vmax),
        "colormapName": COLORMAP,
        "fields": list(fields),
        "meshes": list(meshes),
        "csv": csv_href,
        "fieldIdColumn": "圃場ID",
        "diseaseNames": dict(disease_names),
    }

"""Fixtures for the search tests: synthetic areas, a secret file, headless Chromium, free ports."""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from shapely.geometry import LineString, Polygon

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for, write_geojson_features

SHIMANTO = (33.21, 133.13)  # lat, lon


def polygon_from_metres(points: list[tuple[float, float]], origin: tuple[float, float] = SHIMANTO) -> Polygon:
    """A WGS84 polygon from metres east/north of ``origin`` (via the UTM zone, exact)."""
    crs = utm_crs_for(origin[1], origin[0])
    o = reproject_geometry(Polygon([(origin[1], origin[0])] * 3).centroid, WGS84, crs)
    return reproject_geometry(Polygon([(o.x + x, o.y + y) for x, y in points]), crs, WGS84)  # type: ignore[return-value]


def river_strip(length_m: float = 1800.0, half_width_m: float = 110.0, bend_m: float = 250.0) -> Polygon:
    """A bent riverside strip near Shimanto (WGS84)."""
    n = 12
    centre = [(length_m * i / n - length_m / 2, bend_m * math.sin(math.pi * i / n)) for i in range(n + 1)]
    crs = utm_crs_for(SHIMANTO[1], SHIMANTO[0])
    o = reproject_geometry(Polygon([(SHIMANTO[1], SHIMANTO[0])] * 3).centroid, WGS84, crs)
    line = LineString([(o.x + x, o.y + y) for x, y in centre])
    return reproject_geometry(line.buffer(half_width_m, cap_style="flat"), crs, WGS84)  # type: ignore[return-value]


def write_area(path: Path, polygon: Polygon, name: str = "test area") -> Path:
    """Write ``polygon`` as a one-feature GeoJSON FeatureCollection."""
    return write_geojson_features(path, [(polygon, {"name": name})])


@pytest.fixture
def make_area(tmp_path: Path) -> Callable[..., Path]:
    """``make_area(name=..., polygon=...)`` -> GeoJSON path (default: the river strip)."""

    def make(name: str = "test area", polygon: Polygon | None = None, filename: str = "area.geojson") -> Path:
        return write_area(tmp_path / filename, polygon if polygon is not None else river_strip(), name)

    return make


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A fresh 0600 stream secret."""
    from pipeline.search.tokens import write_new_secret

    return write_new_secret(tmp_path / "stream.secret")


def free_port() -> int:
    """A currently free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> Callable[[], int]:
    """``port()`` -> a free loopback TCP port."""
    return free_port


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., str]:
    """``chromium(url, screenshot=None, budget_ms=None)`` -> the DOM after scripts ran (headless Chromium).

    A private fontconfig adds the IPAexGothic font shipped by japanize-matplotlib
    so Japanese text renders in screenshots on machines without CJK fonts.
    """
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("needs 'chromium' (Debian package chromium; install with: bash .ci/system-deps.sh)")
    import japanize_matplotlib

    font_dir = Path(japanize_matplotlib.__file__).parent / "fonts"
    fc = tmp_path / "fontconfig"
    fc.mkdir(exist_ok=True)
    (fc / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{font_dir}</dir>'
        f"<cachedir>{fc / 'cache'}</cachedir></fontconfig>"
    )

    def run(url: str, screenshot: Path | None = None, budget_ms: int | None = None) -> str:
        base = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'chromium-profile'}"]
        env = {**os.environ, "FONTCONFIG_FILE": str(fc / "fonts.conf")}
        if screenshot is not None:
            subprocess.run([*base, "--window-size=1400,1000", f"--screenshot={screenshot}", url],
                           env=env, capture_output=True, timeout=60, check=True)
        timers = [f"--virtual-time-budget={budget_ms}"] if budget_ms else []  # let the page's timers fire
        out = subprocess.run([*base, *timers, "--dump-dom", url], env=env, capture_output=True, timeout=60, check=True)
        return out.stdout.decode("utf-8")

    return run

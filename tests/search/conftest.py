"""Fixtures for the search tests: synthetic areas, a secret file, free ports, headless Chromium (a DOM dump, or a
DevTools-protocol session over a pipe), and the real streaming server (nginx-rtmp + the token check) fed by ffmpeg."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from shapely.geometry import LineString, Polygon

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for, write_geojson_features

if TYPE_CHECKING:
    from pipeline.common.devtools import DevTools

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

    A private fontconfig adds the IPAexGothic font shipped inside the package
    so Japanese text renders in screenshots on machines without CJK fonts.
    """
    binary = _chromium_binary()
    from pipeline.common.fontfile import FONT_DIR as font_dir

    fc = tmp_path / "fontconfig"
    fc.mkdir(exist_ok=True)
    (fc / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{font_dir}</dir>'
        f"<cachedir>{fc / 'cache'}</cachedir></fontconfig>"
    )

    def run(url: str, screenshot: Path | None = None, budget_ms: int | None = None) -> str:
        base = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", NO_NAME_LOOKUPS,
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


#: Chromium flag: every host but loopback is unreachable and no name is looked up (no DNS query leaves the machine).
NO_NAME_LOOKUPS = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"


def _chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("needs 'chromium' (Debian package chromium; install with: bash .ci/system-deps.sh)")
    return binary


@pytest.fixture
def devtools(tmp_path: Path) -> Iterator[DevTools]:
    """A headless Chromium page driven over the DevTools protocol (skips without the Debian package)."""
    from pipeline.common.devtools import DevTools

    browser = DevTools(_chromium_binary(), tmp_path / "devtools-profile", extra_args=(NO_NAME_LOOKUPS,))
    try:
        yield browser
    finally:
        browser.close()


def need_binary(binary: str, package: str) -> str:
    """Path of ``binary`` (also looked up in /usr/sbin), or skip naming its Debian package."""
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        pytest.skip(f"needs '{binary}' (Debian package {package}; install with: bash .ci/system-deps.sh)")
    return path


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """``(status, body)`` of a GET (0 when nothing answered)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), b""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def push_test_pattern(url: str, seconds: float) -> subprocess.Popen[bytes]:
    """ffmpeg pushing a 320x240 H.264 test pattern to an RTMP URL for ``seconds`` (real time)."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "testsrc=size=320x240:rate=15", "-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast",
         "-tune", "zerolatency", "-g", "15", "-pix_fmt", "yuv420p", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@dataclass(frozen=True)
class StreamServer:
    """A running ``shimanto search serve`` (nginx + nginx-rtmp + token check) and its board."""

    plan: Path
    work: Path
    board: dict[str, Any]
    secret: bytes
    http_port: int
    rtmp_port: int
    pid: int

    @staticmethod
    def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """``(status, body)`` of a GET (0 when nothing answered)."""
        return http_get(url, timeout)

    @staticmethod
    def push(url: str, seconds: float) -> subprocess.Popen[bytes]:
        """Start ffmpeg pushing a test pattern to ``url`` (stop it by its pid: terminate/wait)."""
        return push_test_pattern(url, seconds)


@pytest.fixture
def stream_server(run_cli, make_area, secret_file: Path, port) -> Iterator[StreamServer]:
    """``shimanto search serve`` on loopback for a two-drone plan, in a folder nginx's workers may enter.

    Started as root (CI), nginx runs its workers as www-data, which cannot enter pytest's 0700 temporary
    folders, so the plan and the server's work folder live in a fresh 0755 folder under the system temp
    folder, removed afterwards.
    """
    need_binary("nginx", "nginx")
    if not Path("/usr/lib/nginx/modules/ngx_rtmp_module.so").exists():
        pytest.skip("needs ngx_rtmp_module.so (Debian package libnginx-mod-rtmp)")
    need_binary("ffmpeg", "ffmpeg")
    from pipeline.search.tokens import read_secret

    root = Path(tempfile.mkdtemp(prefix="shimanto-stream-test-"))
    root.chmod(0o755)
    plan, work = root / "plan", root / "server"
    proc = None
    try:
        assert run_cli(["search", "plan", str(make_area()), "--out", str(plan), "--drones", "2"]) == 0
        rtmp, http = port(), port()
        assert run_cli(["search", "board", str(plan), "--stream-host", "127.0.0.1", "--secret-file",
                        str(secret_file), "--rtmp-port", str(rtmp), "--hls-port", str(http)]) == 0
        cli = Path(__file__).resolve().parents[2] / "cli.py"
        proc = subprocess.Popen(
            [sys.executable, str(cli), "search", "serve", "--board", str(plan), "--secret-file", str(secret_file),
             "--work", str(work), "--rtmp-port", str(rtmp), "--http-port", str(http), "--duration", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while http_get(f"http://127.0.0.1:{http}/")[0] != 404:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the streaming server did not start: {proc.communicate()[1].decode()[-2000:]}")
            time.sleep(0.2)
        board = json.loads((plan / "board.json").read_text(encoding="utf-8"))
        yield StreamServer(plan, work, board, read_secret(secret_file), http, rtmp, proc.pid)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)

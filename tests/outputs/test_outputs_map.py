"""Issue 17.3/17.4: the open-data map in a real browser (headless Chromium over the DevTools protocol), served
by a range-capable static server (Debian's nginx, and the package's own ``opendata-serve``); the file://
fallback; the range server itself."""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rasterio
from matplotlib import colormaps
from outputs_fixtures import FIELDS
from PIL import Image
from pyproj import Transformer

from pipeline.common.devtools import DevTools
from pipeline.outputs.portal import FILE_MESSAGE
from pipeline.outputs.privacy import anonymous_field_id
from pipeline.outputs.serve import make_server, parse_range
from pipeline.outputs.webmap import CHROMIUM_WEBGL_ARGS

NGINX_TYPES = ("text/html html; text/css css; application/javascript js; application/json json; "
               "application/geo+json geojson; text/csv csv; image/tiff tif; image/png png; font/ttf ttf; "
               "text/plain txt;")
#: A point inside field YA-R01 away from its hotspots, metres from the scene's south-west corner.
PROBE_M = (45.0, 62.0)


def _require(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").is_file() else None)
    if path is None:
        pytest.skip(f"needs '{name}' (Debian package {package}; install with: bash .ci/system-deps.sh)")
    return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    binary = _require("chromium", "chromium")
    page = DevTools(binary, tmp_path / "profile", (1200, 1000), CHROMIUM_WEBGL_ARGS)
    try:
        yield page
    finally:
        page.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def _nginx(root: Path, work: Path) -> Iterator[tuple[str, Path | None]]:
    binary = _require("nginx", "nginx")
    port = _free_port()
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / d).mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(
        f"daemon off; master_process off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ types {{ {NGINX_TYPES} }} default_type application/octet-stream;\n"
        f"  access_log {work}/access.log; client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;\n"
        f"  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;\n"
        f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n", encoding="utf-8")
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(work)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_port(port, proc)
        yield f"http://127.0.0.1:{port}", work / "access.log"
    finally:
        proc.terminate()  # the nginx this test started, by its pid
        proc.wait(timeout=10)


def _builtin(root: Path) -> Iterator[tuple[str, Path | None]]:
    server = make_server(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", None
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["nginx", "opendata-serve"])
def served(request: pytest.FixtureRequest, opendata: Path, tmp_path: Path) -> Iterator[tuple[str, Path | None]]:
    """``(base URL, access log or None)`` of the publication served over HTTP with range requests."""
    gen = _nginx(opendata, tmp_path / "nginx") if request.param == "nginx" else _builtin(opendata)
    yield next(gen)
    for _ in gen:
        pass


def _probe_lonlat(opendata: Path) -> tuple[float, float, np.ndarray, np.ndarray]:
    """``(lon, lat, ndvi, ndre)`` at :data:`PROBE_M`: the 5 x 5 published pixels around it (rasterio), so a
    screen pixel that rounds to a neighbouring raster pixel still matches exactly."""
    tif = next(opendata.glob("data/*/ndvi.tif"))
    values = []
    for name in ("ndvi.tif", "ndre.tif"):
        with rasterio.open(tif.with_name(name)) as src:
            x = src.bounds.left + PROBE_M[0]
            y = src.bounds.bottom + PROBE_M[1]
            row, col = src.index(x, y)
            values.append(src.read(1, window=((row - 2, row + 3), (col - 2, col + 3))).ravel().astype(float))
            crs = src.crs
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    return lon, lat, values[0], values[1]


def _click(page: DevTools, x: float, y: float) -> None:
    for kind in ("mousePressed", "mouseReleased"):
        page.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                  session=page.session)


def _rect(page: DevTools, selector: str) -> dict[str, float]:
    rect: dict[str, float] = page.eval(
        f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
        " return {x: r.x, y: r.y, w: r.width, h: r.height}; })()")
    return rect


def _wait_rendered(page: DevTools, index: str) -> None:
    try:
        page.wait_for(lambda: page.eval(
            f"document.body.dataset.mapState === 'rendered' && document.body.dataset.mapIndex === {index!r}"),
            60, f"the map never finished drawing {index}")
    except AssertionError as exc:
        status = page.eval("document.getElementById('map-status').textContent")
        raise AssertionError(f"{exc}; the page says: {status}") from exc


def _viridis(value: float) -> np.ndarray:
    return np.array(colormaps["viridis"]((value + 0.2) / 1.2)[:3]) * 255


def test_map_draws_switches_and_shows_csv_row(browser: DevTools, served: tuple[str, Path | None], opendata: Path,
                                              opendata_key_file: Path, tmp_path: Path) -> None:
    base, access_log = served
    lon, lat, ndvi, ndre = _probe_lonlat(opendata)
    browser.open(f"{base}/index.html")
    _wait_rendered(browser, "ndvi")
    browser.eval("document.getElementById('map-switcher').scrollIntoView()")
    map_rect = _rect(browser, "#map")
    pixel: list[float] = browser.eval(f"shimantoMap.pixelOf({lon}, {lat})")
    assert 0 < pixel[0] < map_rect["w"] and 0 < pixel[1] < map_rect["h"]
    # The layer holds the published value (read independently with rasterio) at that point...
    value: list[float] = browser.eval(f"shimantoMap.valueAt([{pixel[0]}, {pixel[1]}])")
    assert np.isclose(ndvi, value[0], atol=1e-6).any() and value[1] > 0, (value, ndvi)
    # ...and the canvas shows it: many non-empty pixels, the probe pixel in the legend's colour.
    shot = Image.open(browser.screenshot(tmp_path / "map.png")).convert("RGB")
    box = (round(map_rect["x"]), round(map_rect["y"]), round(map_rect["x"] + map_rect["w"]),
           round(map_rect["y"] + map_rect["h"]))
    rgb = np.asarray(shot.crop(box)).astype(float)
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 60  # saturated: drawn index pixels, not grey/white
    assert coloured.mean() > 0.15
    probe = rgb[round(pixel[1]), round(pixel[0])]
    assert np.abs(probe - _viridis(value[0])).max() < 45, (probe, _viridis(value[0]))
    # Switch to NDRE with a real click on the layer switcher.
    radio = _rect(browser, "#map-switcher input[value=ndre]")
    _click(browser, radio["x"] + radio["w"] / 2, radio["y"] + radio["h"] / 2)
    _wait_rendered(browser, "ndre")
    value = browser.eval(f"shimantoMap.valueAt([{pixel[0]}, {pixel[1]}])")
    assert np.isclose(ndre, value[0], atol=1e-6).any(), (value, ndre)
    legend = browser.eval("document.getElementById('map-legend-title').textContent")
    assert "NDRE" in legend and "無次元" in legend
    # A click on the field shows its CSV row.
    map_rect = _rect(browser, "#map")
    _click(browser, map_rect["x"] + pixel[0], map_rect["y"] + pixel[1])
    browser.wait_for(lambda: browser.eval("!!document.getElementById('map-selection-table')"), 20,
                     "no CSV row shown after clicking the field")
    cells: list[list[str]] = browser.eval(
        "Array.from(document.querySelectorAll('#map-selection-table tr'))"
        ".map(tr => Array.from(tr.cells).map(c => c.textContent))")
    key = bytes.fromhex(opendata_key_file.read_text(encoding="ascii").strip())
    anon = anonymous_field_id(FIELDS[0][0], key)
    csv = pd.read_csv(opendata / "394122_drone_field_stats.csv", encoding="utf-8-sig", dtype=str)
    expected = csv[csv["圃場ID"] == anon]
    assert cells[0] == list(csv.columns)
    assert cells[1:] == expected.fillna("").values.tolist()
    # Nothing left the machine: every request went to the local server (or stayed in the page).
    outside = [u for u in browser.requests if not u.startswith((f"{base}/", "blob:", "data:"))]
    assert outside == []
    if access_log is not None:  # nginx answered the COG reads with partial content
        log = access_log.read_text(encoding="utf-8")
        assert any(".tif " in line and '" 206 ' in line for line in log.splitlines()), log[-2000:]


def test_file_url_degrades_to_list_with_thumbnails(browser: DevTools, opendata: Path) -> None:
    browser.open((opendata / "index.html").as_uri())
    browser.wait_for(lambda: browser.eval("document.body.dataset.mapState") == "file", 20,
                     "the page did not notice it was opened from a file")
    assert browser.eval("document.getElementById('map-panel').hidden") is True
    assert browser.eval("document.getElementById('map-status').textContent") == FILE_MESSAGE
    images: list[dict[str, Any]] = browser.eval(
        "Array.from(document.images).map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))")
    assert images and all(i["ok"] for i in images), images
    outside = [u for u in browser.requests if not u.startswith(("file://", "data:"))]
    assert outside == []


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-99", 1000, (0, 99)), ("bytes=990-2000", 1000, (990, 999)), ("bytes=-10", 1000, (990, 999)),
    ("bytes=500-", 1000, (500, 999)), ("bytes=1000-", 1000, False), ("bytes=5-2", 1000, False),
    ("bytes=0-1,5-6", 1000, None), ("items=0-1", 1000, None), ("bytes=-", 1000, None), ("bytes=-0", 1000, False),
])
def test_parse_range(header: str, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected


def test_range_server_over_a_socket(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 40
    (tmp_path / "a.tif").write_bytes(payload)
    gen = _builtin(tmp_path)
    base, _ = next(gen)
    host, port = base.removeprefix("http://").split(":")
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for header, status, body in (("bytes=10-19", 206, payload[10:20]), ("bytes=-5", 206, payload[-5:]),
                                     ("bytes=0-1,4-5", 200, payload)):
            conn.request("GET", "/a.tif", headers={"Range": header})  # one kept-alive connection (HTTP/1.1)
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (status, body)
            assert resp.getheader("Accept-Ranges") == "bytes"
        conn.request("GET", "/a.tif", headers={"Range": "bytes=99999-"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 416 and resp.getheader("Content-Range") == f"bytes */{len(payload)}"
        conn.request("GET", "/a.tif", headers={"Range": "bytes=10-19"})
        resp = conn.getresponse()
        assert resp.getheader("Content-Range") == f"bytes 10-19/{len(payload)}"
        resp.read()
        conn.close()
    finally:
        for _ in gen:
            pass


def test_opendata_serve_command(opendata: Path, tmp_path: Path, run_cli, capsys) -> None:
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve().parents[2] / "cli.py"), "opendata-serve",
                             str(opendata), "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)/index\.html", line)
        assert match, line
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        conn.request("GET", "/index.html", headers={"Range": "bytes=0-14"})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (206, b"<!DOCTYPE html>")
        conn.close()
    finally:
        proc.terminate()  # the server this test started, by its pid
        proc.wait(timeout=10)
    assert run_cli(["opendata-serve", str(tmp_path)]) == 2
    assert "holds no index.html" in capsys.readouterr().err

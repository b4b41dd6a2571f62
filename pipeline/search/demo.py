"""Demo stage ``search``: a three-drone search along the Shimanto river and its command-post board.

The area is synthetic: a 200 m wide strip (both banks) following a bend of
the river near 33.21 N, 133.13 E, about 50 ha. It is searched with a creeping
line (legs across the river, advancing along it) by three drones with the
H20T thermal camera for a person; the board gets links for a streaming server
on ``localhost`` signed with a fresh secret (``stream.secret``, mode 0600). The pilots' publish
links go to ``plan/pilot-sheets.html`` (mode 0600); with Chromium installed the stage writes a
screenshot of the board opened from its file, ``search/board.png``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from shapely.geometry import LineString, Polygon

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for, write_geojson_features
from pipeline.demo import DemoContext
from pipeline.search.board import BOARD_HTML, StreamEndpoints, build_board, build_pilot_sheets
from pipeline.search.board_html import write_board_files
from pipeline.search.config import search_params
from pipeline.search.plan_io import read_area, write_search_plan
from pipeline.search.planner import PlanRequest, plan_search
from pipeline.search.tokens import parse_ttl, read_secret, write_new_secret

#: River centre line (lon, lat) of the synthetic search area, downstream order.
RIVER_CENTRELINE: tuple[tuple[float, float], ...] = (
    (133.1185, 33.2040), (133.1240, 33.2078), (133.1305, 33.2094), (133.1365, 33.2128), (133.1400, 33.2170),
)
HALF_WIDTH_M = 100.0
#: Where the three pilots stand (lat, lon): on the banks near each stretch, within sight of their sector.
LAUNCH_POINTS: tuple[tuple[float, float], ...] = ((33.2050, 133.1225), (33.2085, 133.1300), (33.2140, 133.1390))
AREA_NAME = "四万十川 右岸・左岸 (synthetic)"


def riverside_area() -> Polygon:
    """The synthetic riverside search polygon (WGS84)."""
    crs = utm_crs_for(*RIVER_CENTRELINE[0])
    line = reproject_geometry(LineString(RIVER_CENTRELINE), WGS84, crs)
    strip = line.buffer(HALF_WIDTH_M, cap_style="flat", join_style="round")
    area = reproject_geometry(strip.simplify(2.0), crs, WGS84)
    assert isinstance(area, Polygon)
    return area


def find_chromium() -> str | None:
    """Path of a Chromium binary (Debian package ``chromium``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot_board(page: Path, png: Path, timeout_s: float = 90.0) -> list[Path]:
    """Screenshot ``page`` (opened from the file, as at a command post without the server) into ``png``.

    Without Chromium, or when it fails, says how to view the page instead and returns no file.
    """
    binary = find_chromium()
    view = f"open {page.resolve().as_uri()} in a browser"
    if binary is None:
        print(f"  board screenshot skipped: Chromium is not installed (apt install chromium); {view}", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory(prefix="shimanto-chromium-") as profile:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--window-size=1400,1000", "--virtual-time-budget=4000",
               f"--screenshot={png.resolve()}", page.resolve().as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=True)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"  board screenshot failed ({type(exc).__name__}); {view}", file=sys.stderr)
            return []
    print(f"  board screenshot: {png}; live page: {view} (video plays once 'shimanto search serve' runs)",
          file=sys.stderr)
    return [png] if png.is_file() else []


def run(ctx: DemoContext) -> list[Path]:
    """Plan the search into ``ctx.stage_dir('search')/plan`` and write its board there."""
    out = ctx.stage_dir("search")
    area_path = write_geojson_features(out / "area.geojson", [(riverside_area(), {"name": AREA_NAME})])
    polygon, name = read_area(area_path)
    cfg = search_params(ctx.params)
    req = PlanRequest(polygon, name, "creeping-line", 3, "h20t-thermal", "person", launches=LAUNCH_POINTS)
    plan_dir = out / "plan"
    files = [area_path, *write_search_plan(plan_search(req, cfg), plan_dir)]
    secret_path = out / "stream.secret"
    if not secret_path.exists():
        write_new_secret(secret_path)
    secret, ep, ttl_s = read_secret(secret_path), StreamEndpoints("localhost"), parse_ttl("6h")
    board = build_board(plan_dir, secret, ep, ttl_s, cfg.board_poll_s)
    files += write_board_files(plan_dir, board, build_pilot_sheets(plan_dir, secret, ep, ttl_s,
                                                                   now=board["generated_unix"]))
    if not ctx.quick:  # tests run the screenshot step on its own (tests/search/test_search_demo.py)
        files += screenshot_board(plan_dir / BOARD_HTML, out / "board.png")
    return files

"""Demo stages of the outputs package: grower reports and the town's open data."""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

from pipeline.common.atomic import atomic_write_bytes
from pipeline.config import section
from pipeline.demo import DemoContext
from pipeline.outputs.config import OutputsConfig


def _config(ctx: DemoContext) -> OutputsConfig:
    return section(OutputsConfig, ctx.params.get("outputs"), "outputs")


def run_reports(ctx: DemoContext) -> list[Path]:
    """Reports for every grower of ``ctx.out/survey`` (with ``indices`` and ``predictions``) into ``reports/``."""
    from pipeline.outputs.report import make_reports

    return make_reports(
        ctx.out / "survey", ctx.out / "indices", ctx.out / "predictions", ctx.stage_dir("reports"),
        _config(ctx).report,
    )


def screenshot_map(root: Path, png: Path, timeout_s: float = 90.0) -> list[Path]:
    """Serve the publication ``root`` on loopback (range requests), let headless Chromium draw its map,
    and write the page with the map as ``png``; without Chromium, say how to view the page instead."""
    view = f"to view the map run: shimanto opendata-serve {root}  (then open the address it prints)"
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        print(f"  map screenshot skipped: Chromium is not installed (apt install chromium); {view}", file=sys.stderr)
        return []
    from pipeline.common.devtools import DevTools
    from pipeline.outputs.serve import make_server
    from pipeline.outputs.webmap import CHROMIUM_WEBGL_ARGS

    server = make_server(root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="shimanto-chromium-") as tmp:
            page = DevTools(binary, Path(tmp) / "profile", (1200, 1000), CHROMIUM_WEBGL_ARGS)
            try:
                page.open(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for(lambda: page.eval("document.body.dataset.mapState") == "rendered", timeout_s,
                              "the map did not finish drawing")
                page.eval("document.getElementById('map-switcher').scrollIntoView()")
                shot = page.screenshot(Path(tmp) / "map.png")
                atomic_write_bytes(png, shot.read_bytes())
            except (AssertionError, TimeoutError, RuntimeError, OSError) as exc:
                print(f"  map screenshot failed ({exc}); {view}", file=sys.stderr)
                return []
            finally:
                page.close()
    finally:
        server.shutdown()
        server.server_close()
    print(f"  map screenshot: {png}; {view}", file=sys.stderr)
    return [png]


def run_opendata(ctx: DemoContext) -> list[Path]:
    """Publish the demo flight as open data into ``opendata/`` (STAC, COGs, CSV, index.html with a map) and
    screenshot its map into ``opendata/map.png`` when Chromium is installed."""
    from pipeline.outputs.opendata import publish

    out = ctx.stage_dir("opendata")
    predictions = [ctx.out / "predictions"] if (ctx.out / "predictions").is_dir() else []
    files = publish([ctx.out / "survey"], out, _config(ctx).opendata, indices=[ctx.out / "indices"],
                    predictions=predictions)
    return files + screenshot_map(out, out / "map.png")

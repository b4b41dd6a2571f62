"""``pilot-sheets.html``: the pilots' printable sheet, one A4 page per drone with its publish link and QR code.

Publish links let their holder push video into a sector, so they never appear on the board (which is
served to every viewer and shared into the web conference). The sheet is written beside the board with
mode 0600 under a name the generated nginx config never serves (it serves an allow-list of board
files: :data:`pipeline.search.auth_server.SERVED_BOARD_FILE`); print it and hand each pilot their
page. Scanning the QR in DJI Pilot 2 (Live Streaming -> RTMP) or typing the URL starts the stream.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

from pipeline.common.atomic import atomic_path
from pipeline.search.board import PILOT_SHEETS_HTML
from pipeline.search.qr import qr_svg

_CSS = """
@font-face{font-family:"IPAexGothic";src:url("fonts/ipaexg.ttf") format("truetype")}
body{margin:0;font:15px/1.45 "IPAexGothic","Hiragino Sans","Yu Gothic",sans-serif;color:#111}
.page{padding:14mm 16mm;page-break-after:always;break-after:page;border-top:10mm solid var(--c)}
.page:last-child{page-break-after:auto;break-after:auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px;color:#333}
.qr svg{width:90mm;height:90mm}.url{font:13px/1.3 monospace;word-break:break-all;border:1px solid #999;
padding:6px;margin:8px 0}.warn{border:2px solid #b00;padding:6px 10px;color:#600;font-weight:600}
ol{padding-left:1.3em}table{border-collapse:collapse}td{padding:2px 10px 2px 0}
@media screen{.page{max-width:210mm;margin:10px auto;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.3)}
body{background:#e8ebee}}
"""


def _utc(unix: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _page(sheets: dict[str, Any], s: dict[str, Any]) -> str:
    return (
        f'<section class="page" style="--c:{escape(s["colour"])}">'
        f'<h1>パイロット用 · Pilot sheet — {escape(s["name"])}</h1>'
        f'<h2>{escape(s["drone"])} · {escape(sheets["area_name"])}</h2>'
        '<p class="warn">This page lets its holder send video into this sector. Give it only to this drone\'s'
        " pilot; do not photograph, forward or show it in the web conference.</p>"
        f'<div class="qr">{qr_svg(s["publish"], "publish URL for " + s["name"])}</div>'
        f'<div class="url">{escape(s["publish"])}</div>'
        "<ol><li>DJI Pilot 2: Live Streaming → RTMP → scan this code (or type the URL above).</li>"
        "<li>Start the live stream before take-off; the command-post board shows the tile as <b>live</b>.</li>"
        f"<li>Fly the mission {escape(s['plan_file'])} (QGroundControl) / {escape(s['waypoints_file'])}"
        " (Mission Planner).</li></ol>"
        f"<table><tr><td>flight time</td><td>{escape(str(s['time_min']))} min, {escape(str(s['batteries']))}"
        f" battery(ies)</td></tr><tr><td>height</td><td>{escape(str(sheets['height_agl_m']))} m above ground"
        f"</td></tr><tr><td>link expires</td><td>{escape(_utc(sheets['expires_unix']))}</td></tr></table>"
        "</section>"
    )


def render_pilot_sheets(sheets: dict[str, Any]) -> str:
    """The printable sheet for ``sheets`` (see :func:`pipeline.search.board.build_pilot_sheets`)."""
    title = f"Pilot sheets — {sheets['area_name']}"
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(_page(sheets, s) for s in sheets["sectors"])
        + "</body></html>\n"
    )


def write_pilot_sheets(board_dir: Path, sheets: dict[str, Any]) -> Path:
    """Write ``board_dir/pilot-sheets.html`` with mode 0600 (atomically, never readable by others in between)."""
    final = Path(board_dir) / PILOT_SHEETS_HTML
    with atomic_path(final) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render_pilot_sheets(sheets))
    os.chmod(final, 0o600)
    return final

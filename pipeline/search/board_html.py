"""``board.html``: the command-post page: sector map, one live video tile per drone, play links and QR codes.

Everything the page loads is local: CSS, script and SVG inline, hls.js (vendored from npm) and the
IPAexGothic font copied beside it, so no request leaves the command post's network and the page works
offline from a file (map, sectors, QR codes; it says so in its banner). Each tile polls its stream's
HLS playlist (play token only) to show planned / live / lost signal (time since the last segment) and
plays it with hls.js, or the browser's own HLS where there is no Media Source Extensions; a click
enlarges one tile to the whole window, for sharing that window into the web conference.

Every piece of user text is escaped with :func:`html.escape` when the page is
rendered, and the page's script only ever writes ``textContent`` and SVG
attributes, never HTML, so a sector called ``<script>`` stays text. The board
document is embedded as JSON (``<`` ``>`` ``&`` escaped as ``\\u003c``...) so the
page works from ``file://``; served over http(s) it re-reads ``board.json``
every ``poll_s`` seconds (cache-busting query, the page's token passed on).
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from pathlib import Path
from typing import Any

from pipeline.common.atomic import atomic_write_json, atomic_write_text
from pipeline.search.board import BOARD_HTML, BOARD_JSON
from pipeline.search.pilot_sheet import write_pilot_sheets
from pipeline.search.qr import qr_svg

_STATIC = Path(__file__).with_name("static")


def _static(name: str) -> str:
    """A file of ``pipeline/search/static`` (the page's CSS and script, kept as real files for editors and linters)."""
    return (_STATIC / name).read_text(encoding="utf-8")


def _map_svg(board: dict[str, Any]) -> str:
    m = board["map"]
    w, h = m["width"], m["height"]
    stroke = max(w, h) / 300.0
    strip = max(w, h) / 15.0  # band under the map for the scale bar and north arrow
    out = [f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:g} {h + strip:g}" role="img">',
           f'<rect y="{h:g}" width="{w:g}" height="{strip:g}" fill="#fff"/>',
           f'<title>{escape(board["area_name"])}</title>',
           f'<path d="{escape(m["area"])}" fill="#dfe6ec" stroke="#5b6b79" stroke-width="{stroke * 1.5:g}"/>']
    for s in m["sectors"]:
        colour = escape(s["colour"])
        if s.get("region"):
            out.append(f'<path d="{escape(s["region"])}" fill="{colour}" fill-opacity="0.18" stroke="{colour}"'
                       f' stroke-width="{stroke:g}" stroke-dasharray="{stroke * 4:g}"/>')
        if s.get("transit"):
            out.append(f'<path d="{escape(s["transit"])}" fill="none" stroke="{colour}" stroke-width="{stroke * 0.8:g}"'
                       f' stroke-dasharray="{stroke * 3:g} {stroke * 3:g}" stroke-opacity="0.7"/>')
        if s.get("track"):
            out.append(f'<path d="{escape(s["track"])}" fill="none" stroke="{colour}" stroke-width="{stroke * 1.4:g}"'
                       ' stroke-linejoin="round" stroke-opacity="0.9"/>')
    r = stroke * 5
    for point in m["points"]:
        x, y = point["xy"]
        if point["role"] == "launch":
            out.append(f'<path d="M{x:g},{y - r:g} L{x + r:g},{y + r:g} L{x - r:g},{y + r:g} Z" fill="#111"/>')
        elif point["role"] == "datum":
            cross = f"M{x - r:g},{y - r:g} L{x + r:g},{y + r:g} M{x + r:g},{y - r:g} L{x - r:g},{y + r:g}"
            out.append(f'<path d="{cross}" stroke="#111" stroke-width="{stroke * 1.5:g}"/>')
    out.append(_scale_and_north(w, h, strip, stroke))
    for s in board["sectors"]:
        out.append(f'<g id="drone-{escape(s["id"])}" visibility="hidden"><circle r="{r * 1.3:g}"'
                   f' fill="{escape(s["colour"])}" stroke="#fff" stroke-width="{stroke:g}"/></g>')
    out.append("</svg>")
    return "".join(out)


def _scale_and_north(w: float, h: float, strip: float, stroke: float) -> str:
    """A scale bar (1-2-5 x 10^n metres, about a fifth of the width) and a north arrow, in the band under the map."""
    target = w / 5.0
    length = max(v * 10**e for e in range(0, 6) for v in (1, 2, 5) if v * 10**e <= max(target, 1.0))
    font = strip / 3.2
    x0, y0 = w * 0.03, h + strip * 0.8
    nx, ny = w * 0.95, h + strip * 0.08
    return (
        f'<g stroke="#222" stroke-width="{stroke * 1.2:g}" fill="#222">'
        f'<path d="M{x0:g},{y0:g} h{length:g} M{x0:g},{y0 - font * 0.4:g} v{font * 0.4:g}'
        f' M{x0 + length:g},{y0 - font * 0.4:g} v{font * 0.4:g}" fill="none"/>'
        f'<text x="{x0 + length / 2:g}" y="{y0 - font * 0.6:g}" font-size="{font:g}" text-anchor="middle"'
        f' stroke="none">{length:g} m</text>'
        f'<path d="M{nx:g},{ny:g} l{font * 0.5:g},{font * 1.4:g} l-{font * 0.5:g},-{font * 0.4:g}'
        f' l-{font * 0.5:g},{font * 0.4:g} Z" stroke="none"/>'
        f'<text x="{nx - font * 1.1:g}" y="{ny + font * 1.3:g}" font-size="{font:g}" text-anchor="middle"'
        ' stroke="none">N</text>'
        "</g>"
    )


def _legend(board: dict[str, Any]) -> str:
    items = [f'<span><i class="sw" style="background:{escape(s["colour"])}"></i>{escape(s["name"])} — '
             f'{escape(s["drone"])}</span>' for s in board["sectors"]]
    items.append('<span><i class="sw" style="background:#dfe6ec"></i>search area</span>')
    items.append("<span>▲ launch</span>")
    if any(p["role"] == "datum" for p in board["map"]["points"]):
        items.append("<span>✕ datum</span>")
    items.append("<span>- - transit</span><span>● drone (live)</span>")
    return '<div class="legend">' + "".join(items) + "</div>"


def _link(label: str, url: str) -> str:
    return f'<div><b>{escape(label)}</b><a href="{escape(url)}">{escape(url)}</a></div>'


def _tile(s: dict[str, Any]) -> str:
    """One drone's video tile: sector colour, video state, flight status, play links and QR (no publish link)."""
    sid = escape(s["id"])
    links = s["links"]
    return (
        f'<section class="tile" id="tile-{sid}" data-sector="{sid}" data-video="planned" data-player="none"'
        f' style="--c:{escape(s["colour"])}" title="click to enlarge (Esc to return)">'
        f'<div class="bar"><h2>{escape(s["name"])}</h2><span class="drone">{escape(s["drone"])}</span></div>'
        f'<div class="screen"><video muted playsinline autoplay preload="none"'
        f' aria-label="{escape("live video, " + s["name"])}"></video>'
        '<span class="vstate" data-v="planned">planned · no video yet</span></div>'
        f'<div class="meta">flight <span class="status" id="status-{sid}" data-s="{escape(s["status"])}">'
        f'{escape(s["status"])}</span> · {escape(str(s["time_min"]))} min · {escape(str(s["batteries"]))}'
        f' battery(ies) · coverage {escape(str(s["coverage_pct"]))} % · plan {escape(s["plan_file"])}'
        f'<div id="tele-{sid}">no telemetry yet</div></div>'
        f'<details><summary>play links and QR (VLC, OBS, phones)</summary>'
        f'<div class="links">{_link("HLS", links["hls"])}{_link("RTMP play", links["rtmp_play"])}</div>'
        f'<div class="qr">{qr_svg(links["hls"], "HLS play link for " + s["name"])}<br>scan to watch</div>'
        "</details></section>"
    )


def _json_for_script(doc: dict[str, Any]) -> str:
    """JSON safe inside ``<script>`` (``<`` ``>`` ``&`` as ``\\u`` escapes)."""
    return json.dumps(doc, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_board_html(board: dict[str, Any]) -> str:
    """The board page for ``board`` (the document of :func:`pipeline.search.board.build_board`).

    Scripts, styles and the font are local: the page script and CSS inline, hls.js and IPAexGothic beside the
    page (``vendor/``, ``fonts/``; see :func:`pipeline.search.board_assets.copy_board_assets`).
    """
    title = f"Search board — {board['area_name']}"
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_static('board.css')}</style></head><body>"
        f"<header><h1>捜索ボード · {escape(title)}</h1><p>pattern {escape(board['pattern'])} · target "
        f"{escape(board['target'])} · camera {escape(board['camera'])} · {escape(str(board['height_agl_m']))} m above"
        f" ground · spacing {escape(str(board['track_spacing_m']))} m · coverage {escape(str(board['coverage_pct']))} %"
        f" · links expire {escape(_utc(board['expires_unix']))} · updated <span id=\"updated\"></span></p></header>"
        '<p id="conn" data-state="trying">Map, sectors and QR codes work offline; live video needs the streaming'
        " server.</p>"
        f'<main><div class="panel">{_map_svg(board)}{_legend(board)}'
        f'<p class="note">{escape(board["webrtc"]["note"])}</p>'
        f'<p class="note">Board: <a href="{escape(board["board_url"])}">{escape(board["board_url"])}</a></p></div>'
        f'<div class="tiles">{"".join(_tile(s) for s in board["sectors"])}</div></main>'
        "<footer>Play links only: pilots' publish links are on the pilots' sheet, never on this board. Links carry"
        " signed tokens bound to one stream and role; they expire. Font: IPAexGothic (IPA Font License,"
        ' <a href="fonts/IPA_Font_License_Agreement_v1.0.txt">licence</a>); video: hls.js (Apache-2.0,'
        ' <a href="vendor/hls.js-LICENSE.txt">licence</a>).</footer>'
        f'<script id="board-data" type="application/json">{_json_for_script(board)}</script>'
        f'<script src="vendor/hls.light.min.js"></script><script>{_static("board.js")}</script></body></html>\n'
    )


def _utc(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_board_files(board_dir: Path | str, board: dict[str, Any], sheets: dict[str, Any]) -> list[Path]:
    """Write the board (``board.json``, ``board.html``, its font and hls.js) and the pilots' sheet.

    The sheet (``pilot-sheets.html``, publish links) gets mode 0600 and a name nginx never serves. Returns every
    path written.
    """
    from pipeline.search.board_assets import copy_board_assets

    out = Path(board_dir)
    written = copy_board_assets(out)
    written.append(atomic_write_json(out / BOARD_JSON, board))
    written.append(atomic_write_text(out / BOARD_HTML, render_board_html(board)))
    written.append(write_pilot_sheets(out, sheets))
    return written

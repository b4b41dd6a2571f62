"""``board.html``: one self-contained page (inline CSS, JS and SVG; no network) for the command post.

Every piece of user text is escaped with :func:`html.escape` when the page is
rendered, and the page's script only ever writes ``textContent`` and SVG
attributes, never HTML, so a sector called ``<script>`` stays text. The board
document is embedded as JSON (``<`` ``>`` ``&`` escaped as ``\\u003c``...) so the
page works from ``file://``; served over http(s) it re-reads ``board.json``
every ``poll_s`` seconds (cache-busting query, the page's token passed on).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

import qrcode

_CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,"Noto Sans CJK JP","IPAexGothic",sans-serif;
color:#1d232a;background:#eef1f4}header{background:#123047;color:#fff;padding:10px 18px}
header h1{margin:0;font-size:20px}header p{margin:2px 0 0;font-size:13px;opacity:.9}
main{display:grid;grid-template-columns:minmax(360px,1fr) minmax(420px,1.1fr);gap:14px;padding:14px}
.panel{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:12px}
svg.map{width:100%;height:auto;max-height:70vh;background:#f7f9fb;border:1px solid #d5dbe1;border-radius:6px}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin-top:8px;font-size:13px}
.legend span{display:inline-flex;align-items:center;gap:5px}.sw{width:14px;height:14px;border-radius:3px;
display:inline-block;border:1px solid rgba(0,0,0,.3)}.cards{display:grid;gap:12px}
.card{border-left:6px solid var(--c);padding:8px 10px;background:#fff;border-radius:6px;
box-shadow:0 1px 3px rgba(0,0,0,.15);display:grid;grid-template-columns:1fr 156px;gap:6px 12px}
.card h2{margin:0;font-size:16px;grid-column:1/3}.meta{font-size:13px;color:#3b4650}
.status{display:inline-block;padding:1px 8px;border-radius:10px;background:#dde3e8;font-weight:600}
.status[data-s=flying],.status[data-s=armed]{background:#c8f0d0}.status[data-s=link-lost]{background:#ffd0cc}
.links{grid-column:1/2;font-size:12px}.links div{margin:3px 0}.links b{display:inline-block;width:92px}
.links a{word-break:break-all;color:#0b5394}.qr{grid-row:2/4;grid-column:2/3;text-align:center;font-size:11px}
.qr svg{width:152px;height:152px}.note{font-size:12px;color:#4a5560;margin-top:10px}
footer{padding:0 14px 14px;font-size:12px;color:#4a5560}
@media (max-width:900px){main{grid-template-columns:1fr}}
"""

_JS = """
(function(){
  var snap = JSON.parse(document.getElementById('board-data').textContent);
  function txt(id, value){ var el = document.getElementById(id); if (el) el.textContent = value; }
  function fmtTime(unix){ return new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'; }
  function apply(board){
    board.sectors.forEach(function(s){
      var st = document.getElementById('status-' + s.id);
      if (st) { st.textContent = s.status; st.setAttribute('data-s', s.status); }
      var t = s.telemetry, marker = document.getElementById('drone-' + s.id);
      if (t) {
        txt('tele-' + s.id, 'alt ' + (t.alt_rel_m == null ? '-' : t.alt_rel_m.toFixed(0)) + ' m, ' +
          (t.groundspeed_m_s == null ? '-' : t.groundspeed_m_s.toFixed(1)) + ' m/s, battery ' +
          (t.battery_pct == null ? '-' : t.battery_pct + ' %') + ', waypoint ' +
          (t.mission_seq == null ? '-' : t.mission_seq) + ', seen ' + fmtTime(t.last_seen_unix));
        if (marker && t.xy) { marker.setAttribute('transform', 'translate(' + t.xy[0] + ',' + t.xy[1] + ')');
          marker.setAttribute('visibility', 'visible'); }
      }
    });
    txt('updated', fmtTime(board.updated_unix));
  }
  apply(snap);
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    var token = new URLSearchParams(location.search).get('token');
    setInterval(function(){
      var q = (token ? 'token=' + encodeURIComponent(token) + '&' : '') + '_=' + Date.now();
      fetch('board.json?' + q, {cache: 'no-store'}).then(function(r){ return r.ok ? r.json() : null; })
        .then(function(b){ if (b) apply(b); }).catch(function(){});
    }, Math.max(1, snap.poll_s) * 1000);
  }
})();
"""


def qr_svg(data: str, title: str) -> str:
    """A QR code of ``data`` as an inline SVG (error correction M, 2-module quiet zone)."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    cells = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" shape-rendering="crispEdges" role="img">'
        f'<title>{escape(title)}</title><rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{cells}" fill="#000"/></svg>'
    )


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


def _card(s: dict[str, Any]) -> str:
    sid = escape(s["id"])
    links = s["links"]
    return (
        f'<section class="card" data-sector="{sid}" style="--c:{escape(s["colour"])}">'
        f'<h2>{escape(s["name"])}</h2>'
        f'<div class="meta">{escape(s["drone"])} · '
        f'<span class="status" id="status-{sid}" data-s="{escape(s["status"])}">'
        f'{escape(s["status"])}</span> · {escape(str(s["time_min"]))} min · {escape(str(s["batteries"]))} battery(ies)'
        f' · coverage {escape(str(s["coverage_pct"]))} % · plan {escape(s["plan_file"])}'
        f'<div id="tele-{sid}">no telemetry yet</div></div>'
        f'<div class="links">{_link("Pilot publish", links["publish"])}{_link("HLS (HQ)", links["hls"])}'
        f'{_link("RTMP play", links["rtmp_play"])}</div>'
        f'<div class="qr">{qr_svg(links["publish"], "publish URL for " + s["name"])}<br>pilot: scan to publish</div>'
        "</section>"
    )


def render_board_html(board: dict[str, Any]) -> str:
    """The board page for ``board`` (the document of :func:`pipeline.search.board.build_board`)."""
    data = json.dumps(board, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    title = f"Search board — {board['area_name']}"
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>捜索ボード · {escape(title)}</h1><p>pattern {escape(board['pattern'])} · target "
        f"{escape(board['target'])} · camera {escape(board['camera'])} · {escape(str(board['height_agl_m']))} m above"
        f" ground · spacing {escape(str(board['track_spacing_m']))} m · coverage {escape(str(board['coverage_pct']))} %"
        f" · links expire {escape(_utc(board['expires_unix']))} · updated <span id=\"updated\"></span></p></header>"
        f'<main><div class="panel">{_map_svg(board)}{_legend(board)}'
        f'<p class="note">{escape(board["webrtc"]["note"])}</p>'
        f'<p class="note">Board: <a href="{escape(board["board_url"])}">{escape(board["board_url"])}</a></p></div>'
        f'<div class="cards">{"".join(_card(s) for s in board["sectors"])}</div></main>'
        "<footer>Links carry signed tokens bound to one stream and role; they expire. Do not forward pilot links."
        "</footer>"
        f'<script id="board-data" type="application/json">{data}</script><script>{_JS}</script></body></html>\n'
    )


def _utc(unix: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_board_files(board_dir: Any, board: dict[str, Any]) -> list[Any]:
    """Write ``board.json`` and ``board.html`` into ``board_dir`` atomically; return both paths."""
    from pathlib import Path

    from pipeline.common.atomic import atomic_write_json, atomic_write_text

    out = Path(board_dir)
    html_path = atomic_write_text(out / "board.html", render_board_html(board))
    return [atomic_write_json(out / "board.json", board), html_path]

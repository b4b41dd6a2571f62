"""The command-post board document (``board.json``): sectors, drones, status, signed stream links, map.

Per sector ``sN`` the board carries play links only (role ``read``):

* ``hls`` — ``http://HOST:HTTP/hls/sN.m3u8?token=...`` (path ``/hls/sN``), played in
  the board's own video tile and usable in VLC, Safari/Edge or any HLS player;
* ``rtmp_play`` — ``rtmp://HOST:RTMP/live/sN?token=...`` (path ``/live/sN``) for OBS/VLC.

The publish link ``rtmp://HOST:RTMP/live/sN?token=...`` (role ``publish``) is
typed or scanned (QR) into the pilot's controller app (DJI Pilot 2: Live
Streaming -> RTMP). Whoever sees the board (it is shared into the web
conference with headquarters) must never be able to push video, so publish
links live only in the pilots' sheet (:func:`build_pilot_sheets`), written
beside the board with mode 0600 and never served by nginx.

WebRTC is not offered: nginx-rtmp serves RTMP and HLS only (a WebRTC gateway
such as MediaMTX would be needed); the board says so. The board itself is
served at ``/board/board.html?token=...`` (role ``read``, path ``/board``).
The map is given in local projected metres (UTM, origin at the area's
north-west corner, y down) so the page can draw it as SVG without any
projection code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj import CRS, Transformer

from pipeline.common.geo import WGS84, read_geojson_features
from pipeline.errors import InputError, SceneNotFoundError
from pipeline.search.plan_io import PLAN_SUMMARY, SEARCH_GEOJSON
from pipeline.search.tokens import MAX_TTL_S, sign_token

BOARD_JSON = "board.json"
BOARD_HTML = "board.html"
#: A live stream whose playlist gained no segment for this long shows "lost signal", s (nginx-rtmp cuts 1 s
#: fragments; a few missed ones are a dropped link, not jitter).
VIDEO_LOST_AFTER_S = 6.0
#: How often the board page re-reads each stream's playlist to tell planned / live / lost signal, s.
VIDEO_POLL_S = 2.0
#: The pilots' printable sheet (publish links and QR codes): beside the board, never served.
PILOT_SHEETS_HTML = "pilot-sheets.html"
BOARD_PATH = "/board"
WEBRTC_NOTE = (
    "WebRTC playback is not available: nginx-rtmp serves RTMP and HLS only. Use the HLS link (VLC, Safari, Edge) "
    "and share that window into the web conference."
)


@dataclass(frozen=True)
class StreamEndpoints:
    """Where the streaming server answers.

    Attributes:
        host: Host name or address the drones and headquarters reach (town network).
        rtmp_port: nginx-rtmp port.
        http_port: nginx HTTP port (HLS and the board).
    """

    host: str
    rtmp_port: int = 1935
    http_port: int = 8080

    def problems(self) -> list[str]:
        """Every invalid field, as messages."""
        out = []
        if not self.host or any(c in self.host for c in "/?#@ \t\n\"'<>"):
            out.append(f"stream host {self.host!r} must be a bare host name or address (no scheme, path or spaces)")
        for name in ("rtmp_port", "http_port"):
            port = getattr(self, name)
            if not 1 <= port <= 65535:
                out.append(f"{name} {port} must be between 1 and 65535")
        return out


def stream_links(secret: bytes, ep: StreamEndpoints, sector_id: str, expires: int) -> dict[str, str]:
    """Signed playback URLs of one sector (role ``read``): what the board may carry."""
    live, hls = f"/live/{sector_id}", f"/hls/{sector_id}"
    return {
        "hls": f"http://{ep.host}:{ep.http_port}{hls}.m3u8?token={sign_token(secret, hls, 'read', expires)}",
        "rtmp_play": f"rtmp://{ep.host}:{ep.rtmp_port}{live}?token={sign_token(secret, live, 'read', expires)}",
    }


def publish_link(secret: bytes, ep: StreamEndpoints, sector_id: str, expires: int) -> str:
    """The signed RTMP publish URL of one sector (role ``publish``): for the pilots' sheet only."""
    live = f"/live/{sector_id}"
    return f"rtmp://{ep.host}:{ep.rtmp_port}{live}?token={sign_token(secret, live, 'publish', expires)}"


def board_url(secret: bytes, ep: StreamEndpoints, expires: int) -> str:
    """The URL of the board page served by nginx."""
    token = sign_token(secret, BOARD_PATH, "read", expires)
    return f"http://{ep.host}:{ep.http_port}{BOARD_PATH}/{BOARD_HTML}?token={token}"


@dataclass(frozen=True)
class MapFrame:
    """Local map frame: ``x = E - e0``, ``y = n0 - N`` metres in ``crs``."""

    crs: str
    e0: float
    n0: float

    def transformer(self) -> Transformer:
        """lon/lat -> projected transformer."""
        return Transformer.from_crs(WGS84, CRS.from_user_input(self.crs), always_xy=True)

    def xy(self, tr: Transformer, lon: float, lat: float) -> tuple[float, float]:
        """Local map coordinates of a WGS84 point, rounded to 0.1 m."""
        e, n = tr.transform(lon, lat)
        return (round(e - self.e0, 1), round(self.n0 - n, 1))


def _rings(geom: Any) -> list[list[tuple[float, float]]]:
    if geom.geom_type == "Polygon":
        return [list(geom.exterior.coords), *[list(r.coords) for r in geom.interiors]]
    if geom.geom_type == "LineString":
        return [list(geom.coords)]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection", "MultiLineString"):
        return [r for g in geom.geoms for r in _rings(g)]
    return []


def _svg_path(frame: MapFrame, tr: Transformer, geom: Any, closed: bool) -> str:
    parts = []
    for ring in _rings(geom):
        pts = [frame.xy(tr, lon, lat) for lon, lat, *_ in ring]
        parts.append("M" + " L".join(f"{x:g},{y:g}" for x, y in pts) + (" Z" if closed else ""))
    return " ".join(parts)


def build_map(plan_dir: Path, crs: str) -> dict[str, Any]:
    """SVG-ready map of ``search.geojson`` in local projected metres."""
    features, _ = read_geojson_features(plan_dir / SEARCH_GEOJSON)
    tr = Transformer.from_crs(WGS84, CRS.from_user_input(crs), always_xy=True)
    area = next(g for g, p in features if p.get("role") == "area")
    all_pts = [tr.transform(c[0], c[1]) for g, _ in features for ring in _rings(g) for c in ring]
    all_pts += [tr.transform(g.x, g.y) for g, p in features if g.geom_type == "Point"]
    e_min, e_max = min(p[0] for p in all_pts), max(p[0] for p in all_pts)
    n_min, n_max = min(p[1] for p in all_pts), max(p[1] for p in all_pts)
    pad = 0.04 * max(e_max - e_min, n_max - n_min, 1.0)
    frame = MapFrame(crs, e_min - pad, n_max + pad)
    sectors: dict[str, dict[str, Any]] = {}
    for geom, props in features:
        role, sid = props.get("role"), props.get("sector")
        if role in ("sector", "track", "transit") and sid:
            entry = sectors.setdefault(str(sid), {"id": str(sid), "colour": str(props.get("colour", "#444"))})
            key = {"sector": "region", "track": "track", "transit": "transit"}[str(role)]
            path = _svg_path(frame, tr, geom, closed=role == "sector")
            entry[key] = f"{entry[key]} {path}" if key in entry else path
    points = [{"role": str(p["role"]), "xy": list(frame.xy(tr, g.x, g.y))} for g, p in features
              if g.geom_type == "Point"]
    return {
        "crs": crs,
        "origin": [round(frame.e0, 2), round(frame.n0, 2)],
        "width": round(e_max - e_min + 2 * pad, 1),
        "height": round(n_max - n_min + 2 * pad, 1),
        "area": _svg_path(frame, tr, area, closed=True),
        "sectors": list(sectors.values()),
        "points": points,
    }


def load_plan_summary(plan_dir: Path) -> dict[str, Any]:
    """``plan.json`` of a plan folder.

    Raises:
        SceneNotFoundError: the folder holds no search plan.
    """
    path = plan_dir / PLAN_SUMMARY
    if not path.is_file() or not (plan_dir / SEARCH_GEOJSON).is_file():
        raise SceneNotFoundError(
            f"{str(plan_dir)!r} holds no search plan ({PLAN_SUMMARY}, {SEARCH_GEOJSON});"
            " run 'shimanto search plan AREA.geojson --out DIR' first"
        )
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _check_settings(ep: StreamEndpoints, ttl_s: int) -> None:
    problems = ep.problems()
    if not 0 < ttl_s <= MAX_TTL_S:
        problems.append(f"--ttl must be positive and at most 72h ({MAX_TTL_S} s), got {ttl_s} s")
    if problems:
        raise InputError("bad board settings: " + "; ".join(problems))


def build_pilot_sheets(plan_dir: Path, secret: bytes, ep: StreamEndpoints, ttl_s: int,
                       now: float | None = None) -> dict[str, Any]:
    """The pilots' sheet document: one entry per drone with its publish link (same expiry rule as the board)."""
    _check_settings(ep, ttl_s)
    summary = load_plan_summary(plan_dir)
    now = time.time() if now is None else now
    expires = int(now) + int(ttl_s)
    return {
        "area_name": summary["area_name"],
        "expires_unix": expires,
        "height_agl_m": summary["height_agl_m"],
        "sectors": [
            {"id": s["sector"], "name": s["name"], "drone": s["drone"], "colour": s["colour"],
             "time_min": s["time_min"], "batteries": s["batteries"], "plan_file": s["files"]["plan"],
             "waypoints_file": s["files"]["waypoints"], "publish": publish_link(secret, ep, s["sector"], expires)}
            for s in summary["sectors"]
        ],
    }


def build_board(plan_dir: Path, secret: bytes, ep: StreamEndpoints, ttl_s: int, poll_s: float,
                now: float | None = None) -> dict[str, Any]:
    """The board document of the plan in ``plan_dir`` with play links valid for ``ttl_s`` seconds.

    It holds no publish link (see :func:`build_pilot_sheets`).
    """
    _check_settings(ep, ttl_s)
    summary = load_plan_summary(plan_dir)
    now = time.time() if now is None else now
    expires = int(now) + int(ttl_s)
    sectors = [
        {
            "id": s["sector"],
            "name": s["name"],
            "drone": s["drone"],
            "colour": s["colour"],
            "status": "planned",
            "time_min": s["time_min"],
            "batteries": s["batteries"],
            "coverage_pct": s["coverage_pct"],
            "height_agl_m": s["height_agl_m"],
            "plan_file": s["files"]["plan"],
            "links": stream_links(secret, ep, s["sector"], expires),
            "telemetry": None,
        }
        for s in summary["sectors"]
    ]
    return {
        "version": 1,
        "generated_unix": int(now),
        "updated_unix": int(now),
        "expires_unix": expires,
        "area_name": summary["area_name"],
        "pattern": summary["pattern"],
        "target": summary["target"],
        "camera": summary["camera"],
        "height_agl_m": summary["height_agl_m"],
        "track_spacing_m": summary["track_spacing_m"],
        "coverage_pct": summary["coverage_pct"],
        "imbalance_max_over_min": summary["imbalance_max_over_min"],
        "poll_s": poll_s,
        "stream": {"host": ep.host, "rtmp_port": ep.rtmp_port, "http_port": ep.http_port},
        "board_url": board_url(secret, ep, expires),
        "webrtc": {"available": False, "note": WEBRTC_NOTE},
        "video": {"lost_after_s": VIDEO_LOST_AFTER_S, "poll_s": VIDEO_POLL_S},
        "map": build_map(plan_dir, summary["crs"]),
        "sectors": sectors,
    }

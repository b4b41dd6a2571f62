"""The board in a real browser (headless Chromium over the DevTools protocol) against the real nginx-rtmp.

ffmpeg pushes a test pattern for each drone with the publish link from the pilots' sheet; the board,
opened with only its read token, plays every drone's tile (the video element's playback position
advances), holds no publish token, and loads nothing from outside the machine. Opened from a file with
no server, it still shows the map, sectors and QR codes and says it is offline.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline.search.board import PILOT_SHEETS_HTML

pytestmark = pytest.mark.system
LOCAL_SCHEMES = ("file", "data", "blob")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _outside(urls: list[str]) -> list[str]:
    """Requests that would leave the machine."""
    return [u for u in urls if urlsplit(u).scheme not in LOCAL_SCHEMES and urlsplit(u).hostname not in LOCAL_HOSTS]


def _publish_tokens(plan: Path) -> list[str]:
    sheet = (plan / PILOT_SHEETS_HTML).read_text(encoding="utf-8")
    return [part.split("<", 1)[0] for part in sheet.split("?token=")[1:]]


def _tile_states(devtools: Any) -> list[dict[str, Any]]:
    return list(devtools.eval(
        "[...document.querySelectorAll('.tile')].map(t => ({id: t.dataset.sector, video: t.dataset.video,"
        " player: t.dataset.player, time: t.querySelector('video').currentTime,"
        " label: t.querySelector('.vstate').textContent}))"))


def _wait_all_playing(devtools: Any, count: int, timeout: float) -> list[dict[str, Any]]:
    def playing() -> list[dict[str, Any]] | None:
        states = _tile_states(devtools)
        return states if len(states) == count and all(s["time"] > 0.3 for s in states) else None

    result: list[dict[str, Any]] = devtools.wait_for(playing, timeout, "not every drone's tile started playing")
    return result


@pytest.mark.slow
def test_each_drone_tile_plays_with_only_a_play_token(stream_server: Any, devtools: Any, tmp_path: Path) -> None:
    srv = stream_server
    sectors = srv.board["sectors"]
    publish = dict(zip([s["id"] for s in sectors], _publish_tokens(srv.plan), strict=True))
    pushers = [srv.push(f"rtmp://127.0.0.1:{srv.rtmp_port}/live/{sid}?token={token}", 40)
               for sid, token in publish.items()]
    try:
        devtools.open(srv.board["board_url"])
        first = _wait_all_playing(devtools, len(sectors), 40)
        time.sleep(2.0)
        later = _tile_states(devtools)
        for before, after in zip(first, later, strict=True):
            assert after["time"] > before["time"] + 0.5, (before, after)  # playback position advances
            assert after["video"] == "live" and after["label"] == "live"
            assert after["player"] in ("hls.js", "native")
        page = devtools.eval("document.documentElement.outerHTML")
        assert all(token not in page for token in publish.values())
        assert "IPAexGothic" in devtools.eval("[...document.fonts].filter(f => f.status == 'loaded')"
                                              ".map(f => f.family).join(',')")
        # click-to-enlarge: one tile fills the window, Esc returns
        devtools.eval("document.getElementById('tile-s1').click()")
        assert devtools.eval("(() => { const r = document.getElementById('tile-s1').getBoundingClientRect();"
                             " return r.width >= innerWidth - 1 && r.height >= innerHeight - 1; })()")
        devtools.screenshot(tmp_path / "board-enlarged.png")
        devtools.eval("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
        assert devtools.eval("document.querySelectorAll('.tile.big').length") == 0
    finally:
        for proc in pushers:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
    urls = devtools.requests
    assert any("/hls/s1.m3u8" in u for u in urls) and any("fonts/ipaexg.ttf" in u for u in urls)
    assert any("vendor/hls.light.min.js" in u for u in urls)
    assert _outside(urls) == []  # no script, style, font or stream request leaves the machine
    assert all(token not in u for u in urls for token in publish.values())


def test_tile_says_lost_signal_after_the_drone_stops(stream_server: Any, devtools: Any) -> None:
    srv = stream_server
    token = _publish_tokens(srv.plan)[0]
    pusher = srv.push(f"rtmp://127.0.0.1:{srv.rtmp_port}/live/s1?token={token}", 5)
    try:
        devtools.open(srv.board["board_url"])
        devtools.wait_for(lambda: _tile_states(devtools)[0]["video"] == "live", 25, "tile s1 never went live")
        assert _tile_states(devtools)[1]["video"] == "planned"  # drone 2 never streamed
        pusher.wait(timeout=20)
        lost = devtools.wait_for(
            lambda: (s := _tile_states(devtools)[0])["video"] == "lost" and s, 30, "tile s1 never said lost signal")
        assert "since last segment" in lost["label"] and "lost signal" in lost["label"]
        # a page opened after the drone stopped never shows the stale stream as live
        devtools.open("about:blank")
        devtools.open(srv.board["board_url"])
        seen = set()
        for _ in range(15):
            seen.add(_tile_states(devtools)[0]["video"])
            time.sleep(0.2)
        assert "live" not in seen, seen
    finally:
        if pusher.poll() is None:
            pusher.terminate()
            pusher.wait(timeout=10)


def test_board_from_a_file_works_offline_and_says_so(run_cli, make_area, secret_file: Path, tmp_path: Path,
                                                     port, devtools: Any) -> None:
    plan = tmp_path / "plan"
    assert run_cli(["search", "plan", str(make_area(name="四万十 <&> 'q'")), "--out", str(plan),
                    "--drones", "3"]) == 0
    nobody = port()  # nothing listens there: the streaming server is unreachable
    assert run_cli(["search", "board", str(plan), "--stream-host", "127.0.0.1", "--secret-file", str(secret_file),
                    "--hls-port", str(nobody)]) == 0
    devtools.open((plan / "board.html").as_uri())
    devtools.wait_for(lambda: devtools.eval("document.getElementById('conn').dataset.state") == "offline", 20,
                      "the board never said it is offline")
    banner = devtools.eval("document.getElementById('conn').textContent")
    assert "Offline" in banner and "Map, sectors and QR codes still work" in banner
    board = json.loads((plan / "board.json").read_text(encoding="utf-8"))
    assert devtools.eval("document.querySelectorAll('svg.map path').length") > len(board["sectors"])
    assert devtools.eval("document.querySelectorAll('.tile .qr svg').length") == len(board["sectors"])
    assert [s["video"] for s in _tile_states(devtools)] == ["offline"] * 3
    assert devtools.eval("document.title").endswith("四万十 <&> 'q'")  # text, not markup
    assert _outside(devtools.requests) == []

"""The real streaming server: ``shimanto search serve`` (nginx + libnginx-mod-rtmp + the token check) and ffmpeg.

A test pattern is pushed over RTMP to a signed publish URL (from the pilots' sheet) and the HLS playlist
is fetched at its signed playback URL; tampered, expired, wrong-drone and wrong-role tokens are refused
(publish: ffmpeg fails; playback: HTTP 403). Whatever a read token can fetch holds no publish token, the
pilots' sheet is never served, the logs hold no token, and the workers run unprivileged.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.search.board import PILOT_SHEETS_HTML
from pipeline.search.tokens import sign_token, verify_token

pytestmark = pytest.mark.system
TOKEN = re.compile(r"token=(\d+\.[A-Za-z0-9_-]{43})")


def publish_links(plan: Path) -> dict[str, str]:
    """``{sector: publish URL}`` read from the pilots' sheet."""
    sheet = (plan / PILOT_SHEETS_HTML).read_text(encoding="utf-8")
    return {sid: url for url, sid in re.findall(r'<div class="url">(rtmp://[^/<]+/live/(s\d+)\?token=[^<]+)</div>',
                                                sheet)}


def _wait_playlist(srv: Any, url: str, timeout: float = 15.0) -> bytes:
    deadline = time.monotonic() + timeout
    status, body = 0, b""
    while time.monotonic() < deadline:
        status, body = srv.get(url)
        if status == 200 and b".ts" in body:
            return body
        time.sleep(0.3)
    pytest.fail(f"no HLS playlist at {url.split('?')[0]} (last status {status})")


def test_publish_then_play_hls_with_signed_links(stream_server: Any) -> None:
    srv = stream_server
    s1, s2 = srv.board["sectors"][0], srv.board["sectors"][1]
    pub = publish_links(srv.plan)
    assert sorted(pub) == ["s1", "s2"]
    now = int(time.time())
    s1_base, s2_base = pub["s1"].split("?")[0], pub["s2"].split("?")[0]
    good_pub = pub["s1"].split("token=")[1]
    bad_urls = [
        s1["links"]["rtmp_play"],  # a play token cannot publish
        f"{s1_base}?token={good_pub[:-2]}{'AA' if good_pub[-2:] != 'AA' else 'BB'}",  # tampered
        f"{s1_base}?token={sign_token(srv.secret, '/live/s1', 'publish', now - 5)}",  # expired
        f"{s2_base}?token={good_pub}",  # drone 1's publish token cannot publish as drone 2
    ]
    refused = [srv.push(url, 3) for url in bad_urls]
    pusher = srv.push(pub["s1"], 10)
    try:
        hls = s1["links"]["hls"]
        body = _wait_playlist(srv, hls)
        assert body.startswith(b"#EXTM3U")
        segment = next(line for line in body.decode().splitlines() if ".ts" in line)
        assert "token=" in segment  # the playlist's own token rides on its segment URIs
        seg_status, seg_body = srv.get(hls.rsplit("/", 1)[0] + "/" + segment)
        assert seg_status == 200 and seg_body[:1] == b"\x47"  # MPEG-TS sync byte
        # playback refusals: tampered, wrong path, wrong role, expired, none
        token = hls.split("token=")[1]
        base = hls.split("?")[0]
        assert srv.get(f"{base}?token={token[:-1]}{'A' if token[-1] != 'A' else 'B'}")[0] == 403
        assert srv.get(f"{base}?token={s2['links']['hls'].split('token=')[1]}")[0] == 403
        assert srv.get(f"{base}?token={good_pub}")[0] == 403
        assert srv.get(f"{base}?token={sign_token(srv.secret, '/hls/s1', 'read', now - 1)}")[0] == 403
        assert srv.get(base)[0] == 403
        assert srv.get(hls.rsplit("/", 1)[0] + "/" + segment.split("?")[0])[0] == 403
        for proc in refused:
            assert proc.wait(timeout=15) != 0, "a publisher with a bad token was let in"
        assert not (srv.work / "hls" / "s2.m3u8").exists()
    finally:
        for proc in [pusher, *refused]:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=5)


def test_nothing_served_to_a_read_token_holds_a_publish_token(stream_server: Any) -> None:
    srv = stream_server
    publish_tokens = [url.split("token=")[1] for url in publish_links(srv.plan).values()]
    (srv.plan / "notes.secret").write_text("not for the network")
    board_url = srv.board["board_url"]
    assert srv.get(board_url.split("?")[0])[0] == 403  # the board needs its read token
    served = {}
    for path in sorted(p for p in srv.plan.rglob("*") if p.is_file()):
        rel = path.relative_to(srv.plan).as_posix()
        status, body = srv.get(board_url.replace("board.html", rel))
        if status == 200:
            served[rel] = body
    assert {"board.html", "board.json", "search.geojson", "s1.plan", "vendor/hls.light.min.js",
            "fonts/ipaexg.ttf"} <= set(served)
    assert PILOT_SHEETS_HTML not in served and "notes.secret" not in served
    for rel, body in served.items():
        for token in publish_tokens:
            assert token.encode() not in body, rel
        for token in TOKEN.findall(body.decode("utf-8", errors="replace")):  # every token served is a read token
            for sid in ("s1", "s2"):
                assert not verify_token(srv.secret, token, f"/live/{sid}", "publish", time.time()).ok, rel
    # the sheet stays unreachable by any other spelling
    for spelling in (PILOT_SHEETS_HTML, "pilot-sheets.HTML", "./pilot-sheets.html", "x/../pilot-sheets.html"):
        assert srv.get(board_url.replace("board.html", spelling))[0] in (400, 403, 404), spelling


def test_logs_hold_no_token_and_workers_are_unprivileged(stream_server: Any) -> None:
    srv = stream_server
    sector = srv.board["sectors"][0]
    pusher = srv.push(publish_links(srv.plan)["s1"], 6)
    bad = srv.push(sector["links"]["rtmp_play"], 2)
    try:
        _wait_playlist(srv, sector["links"]["hls"])
        srv.get(sector["links"]["hls"].replace("s1.m3u8", "s9.m3u8"))
        srv.get(srv.board["board_url"])
        assert bad.wait(timeout=15) != 0
    finally:
        for proc in (pusher, bad):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=5)
    logs = srv.work / "logs"
    access = (logs / "access.log").read_text(encoding="utf-8", errors="replace")
    assert "/hls/s1.m3u8" in access and "/board/board.html" in access  # requests are logged...
    for log in logs.glob("*.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "token=" not in text and not re.search(r"\d{10}\.[A-Za-z0-9_-]{43}", text), log.name  # ...tokens not
    master = int((srv.work / "nginx.pid").read_text().strip())
    workers = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == master]
    assert workers, "nginx has no worker process"
    if os.geteuid() == 0:
        for pid in workers:
            assert _uid(pid) != 0, f"nginx worker {pid} runs as root"


def _status_field(pid: int, field: str) -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return line.split()[1]
    except OSError:
        pass
    return ""


def _ppid(pid: int) -> int:
    value = _status_field(pid, "PPid")
    return int(value) if value else -1


def _uid(pid: int) -> int:
    return int(_status_field(pid, "Uid"))

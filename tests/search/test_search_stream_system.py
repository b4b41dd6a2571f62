"""The real streaming server: ``shimanto search serve`` (nginx + libnginx-mod-rtmp + the token check) and ffmpeg.

A test pattern is pushed over RTMP to a signed publish URL and the HLS playlist
is fetched at its signed playback URL; tampered, expired, wrong-path and
wrong-role tokens are refused (publish: ffmpeg fails; playback: HTTP 403).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.search.tokens import read_secret, sign_token

pytestmark = pytest.mark.system
CLI = Path(__file__).resolve().parents[2] / "cli.py"


def _need(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        pytest.skip(f"needs '{binary}' (Debian package {package}; install with: bash .ci/system-deps.sh)")
    return path


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), b""
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


def _push(url: str, seconds: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "testsrc=size=320x240:rate=15", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
         "-g", "15", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.fixture
def server(run_cli, make_area, secret_file: Path, tmp_path: Path, port) -> Iterator[tuple[Path, dict, bytes, int]]:
    _need("nginx", "nginx")
    if not Path("/usr/lib/nginx/modules/ngx_rtmp_module.so").exists():
        pytest.skip("needs ngx_rtmp_module.so (Debian package libnginx-mod-rtmp)")
    _need("ffmpeg", "ffmpeg")
    plan = tmp_path / "plan"
    assert run_cli(["search", "plan", str(make_area()), "--out", str(plan), "--drones", "2"]) == 0
    rtmp, http = port(), port()
    assert run_cli(["search", "board", str(plan), "--stream-host", "127.0.0.1", "--secret-file", str(secret_file),
                    "--rtmp-port", str(rtmp), "--hls-port", str(http)]) == 0
    work = tmp_path / "server"
    proc = subprocess.Popen(
        [sys.executable, str(CLI), "search", "serve", "--board", str(plan), "--secret-file", str(secret_file),
         "--work", str(work), "--bind", "127.0.0.1", "--rtmp-port", str(rtmp), "--http-port", str(http),
         "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _get(f"http://127.0.0.1:{http}/")[0] != 404:
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.2)
    board = json.loads((plan / "board.json").read_text())
    try:
        yield plan, board, read_secret(secret_file), http
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        pid_file = work / "nginx.pid"
        assert not pid_file.exists() or not pid_file.read_text().strip() or proc.returncode is not None


def test_publish_then_play_hls_with_signed_links(server) -> None:
    plan, board, secret, _ = server
    s1, s2 = board["sectors"][0], board["sectors"][1]
    now = int(time.time())
    # refused publishers, in parallel: read token (wrong role), tampered, expired, another sector's token
    publish_base = s1["links"]["publish"].split("?")[0]
    good_pub = s1["links"]["publish"].split("token=")[1]
    bad_urls = [
        s1["links"]["rtmp_play"],
        f"{publish_base}?token={good_pub[:-2]}{'AA' if good_pub[-2:] != 'AA' else 'BB'}",
        f"{publish_base}?token={sign_token(secret, '/live/s1', 'publish', now - 5)}",
        f"{publish_base}?token={s2['links']['publish'].split('token=')[1]}",
    ]
    refused = [_push(url, 3) for url in bad_urls]
    pusher = _push(s1["links"]["publish"], 8)
    try:
        hls = s1["links"]["hls"]
        status, body = 0, b""
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            status, body = _get(hls)
            if status == 200 and b".ts" in body:
                break
            time.sleep(0.3)
        assert status == 200 and body.startswith(b"#EXTM3U"), (status, body[:200])
        segment = next(line for line in body.decode().splitlines() if ".ts" in line)
        assert "token=" in segment  # the playlist's own token rides on its segment URIs
        seg_status, seg_body = _get(hls.rsplit("/", 1)[0] + "/" + segment)
        assert seg_status == 200 and seg_body[:1] == b"\x47"  # MPEG-TS sync byte
        # playback refusals: tampered, wrong path, wrong role, expired, none
        token = hls.split("token=")[1]
        base = hls.split("?")[0]
        assert _get(f"{base}?token={token[:-1]}{'A' if token[-1] != 'A' else 'B'}")[0] == 403
        assert _get(f"{base}?token={s2['links']['hls'].split('token=')[1]}")[0] == 403
        assert _get(f"{base}?token={good_pub}")[0] == 403
        assert _get(f"{base}?token={sign_token(secret, '/hls/s1', 'read', now - 1)}")[0] == 403
        assert _get(base)[0] == 403
        assert _get(hls.rsplit("/", 1)[0] + "/" + segment.split("?")[0])[0] == 403
        # the board page itself, behind its own read token
        board_status, page = _get(board["board_url"])
        assert board_status == 200 and b"board-data" in page
        assert _get(board["board_url"].split("?")[0])[0] == 403
        (plan / "notes.secret").write_text("not for the network")
        assert _get(board["board_url"].replace("board.html", "notes.secret"))[0] == 404  # only board files
        assert _get(board["board_url"].replace("board.html", "s1.plan"))[0] == 200
        for proc in refused:
            assert proc.wait(timeout=15) != 0, "a publisher with a bad token was let in"
        assert not (plan.parent / "server" / "hls" / "s2.m3u8").exists()
    finally:
        for proc in [pusher, *refused]:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=5)

"""Signed stream tokens and the auth callback nginx calls (real HTTP on loopback)."""

from __future__ import annotations

import os
import re
import stat
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import InputError, SceneNotFoundError
from pipeline.search.auth_server import http_decision, make_auth_server, parse_listen, protected_path
from pipeline.search.tokens import TokenVerdict, parse_ttl, read_secret, sign_token, verify_token, write_new_secret

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000


def _flip(token: str, index: int) -> str:
    chars = list(token)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


def test_token_accepted_for_its_path_and_role_only() -> None:
    token = sign_token(SECRET, "/live/s1", "publish", NOW + 60)
    assert verify_token(SECRET, token, "/live/s1", "publish", NOW).ok
    assert verify_token(SECRET, token, "/live/s2", "publish", NOW).verdict is TokenVerdict.BAD_SIGNATURE
    assert verify_token(SECRET, token, "/live/s1", "read", NOW).verdict is TokenVerdict.BAD_SIGNATURE
    assert verify_token(b"another-secret-of-32-bytes......", token, "/live/s1", "publish", NOW).verdict is (
        TokenVerdict.BAD_SIGNATURE
    )


def test_token_expires() -> None:
    token = sign_token(SECRET, "/hls/s1", "read", NOW + 10)
    assert verify_token(SECRET, token, "/hls/s1", "read", NOW + 9.9).ok
    assert verify_token(SECRET, token, "/hls/s1", "read", NOW + 10).verdict is TokenVerdict.EXPIRED


def test_tampered_tokens_are_refused() -> None:
    token = sign_token(SECRET, "/hls/s1", "read", NOW + 60)
    expiry, mac = token.split(".")
    later = f"{int(expiry) + 3600}.{mac}"  # extend the expiry without re-signing
    assert verify_token(SECRET, later, "/hls/s1", "read", NOW).verdict is TokenVerdict.BAD_SIGNATURE
    for index in (len(expiry) + 1, len(token) - 1):
        assert verify_token(SECRET, _flip(token, index), "/hls/s1", "read", NOW).verdict is TokenVerdict.BAD_SIGNATURE
    for bad in ("", "abc", "1.2.3", "x.y", f"{expiry}.", "99999999999999.abc", token + "é"):
        assert not verify_token(SECRET, bad, "/hls/s1", "read", NOW).ok


def test_token_is_url_safe_and_does_not_contain_the_secret() -> None:
    token = sign_token(SECRET, "/live/s1", "publish", NOW)
    assert re.fullmatch(r"\d+\.[A-Za-z0-9_-]{43}", token)
    assert SECRET.decode() not in token


def test_bad_role_and_short_secret_are_refused() -> None:
    with pytest.raises(InputError, match="publish, read"):
        sign_token(SECRET, "/live/s1", "admin", NOW)
    with pytest.raises(InputError, match="at least 16"):
        sign_token(b"short", "/live/s1", "read", NOW)
    assert verify_token(SECRET, sign_token(SECRET, "/x", "read", NOW + 5), "/x", "admin", NOW).verdict is (
        TokenVerdict.MALFORMED
    )


def test_secret_file_is_0600_and_checked(tmp_path: Path) -> None:
    path = write_new_secret(tmp_path / "s.secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(read_secret(path)) == 64
    os.chmod(path, 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        read_secret(path)
    with pytest.raises(SceneNotFoundError, match="search secret"):
        read_secret(tmp_path / "missing")
    short = tmp_path / "short"
    short.write_text("abc")
    os.chmod(short, 0o600)
    with pytest.raises(InputError, match="at least 16"):
        read_secret(short)


@pytest.mark.parametrize(("text", "seconds"), [("6h", 21600), ("90m", 5400), ("45s", 45), ("2d", 172800), ("30", 30)])
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-1h", "0", "abc", "6x", "inf", "nan", "1e30", "Infinityh", "72.01h",
                                  "4d", "0.4"])
def test_parse_ttl_rejects(text: str) -> None:
    with pytest.raises(InputError, match="at most 72h") as err:
        parse_ttl(text)
    assert repr(text) in str(err.value)


def test_parse_ttl_upper_bound_is_72_hours() -> None:
    assert parse_ttl("72h") == parse_ttl("3d") == 259200


def test_protected_paths() -> None:
    assert protected_path("/hls/s1.m3u8") == "/hls/s1"
    assert protected_path("/hls/s1-12.ts") == "/hls/s1"
    assert protected_path("/hls/s1-12.m3u8") is None  # a playlist name never ends in -<number>
    assert protected_path("/board/board.json") == "/board"
    for bad in ("/hls/../etc/passwd", "/hls/", "/board/../x", "/other", "/hls/s1.mp4"):
        assert protected_path(bad) is None, bad
    token = sign_token(SECRET, "/hls/s1", "read", NOW + 60)
    assert http_decision(f"/hls/s1-3.ts?token={token}", SECRET, NOW)[0].ok
    assert not http_decision(f"/hls/s2-3.ts?token={token}", SECRET, NOW)[0].ok


def test_parse_listen_keeps_the_callback_on_loopback() -> None:
    assert parse_listen("127.0.0.1:8089") == ("127.0.0.1", 8089)
    with pytest.raises(InputError, match="loopback"):
        parse_listen("0.0.0.0:8089")
    with pytest.raises(InputError, match="HOST:PORT"):
        parse_listen("8089")


@pytest.fixture
def auth_url() -> Iterator[str]:
    server = make_auth_server(SECRET, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _notify(url: str, call: str, name: str, token: str) -> int:
    # the form nginx-rtmp posts for on_publish/on_play, with the publish URL's query args appended
    form = {"call": call, "addr": "127.0.0.1", "clientid": "7", "app": "live", "flashver": "FMLE/3.0",
            "swfurl": "", "tcurl": "rtmp://127.0.0.1:1935/live", "pageurl": "", "name": name, "type": "live",
            "token": token}
    body = urllib.parse.urlencode(form).encode()
    path = "/publish" if call == "publish" else "/play"
    return _status(urllib.request.Request(url + path, data=body, method="POST"))


def test_auth_server_answers_nginx_rtmp_and_auth_request(auth_url: str) -> None:
    import time

    future = int(time.time()) + 300
    publish = sign_token(SECRET, "/live/s1", "publish", future)
    read = sign_token(SECRET, "/live/s1", "read", future)
    assert _notify(auth_url, "publish", "s1", publish) == 200
    assert _notify(auth_url, "publish", "s2", publish) == 403  # wrong path
    assert _notify(auth_url, "publish", "s1", read) == 403  # wrong role
    assert _notify(auth_url, "play", "s1", read) == 200
    assert _notify(auth_url, "play", "s1", _flip(read, len(read) - 2)) == 403  # tampered
    expired = sign_token(SECRET, "/live/s1", "publish", int(time.time()) - 1)
    assert _notify(auth_url, "publish", "s1", expired) == 403
    hls = sign_token(SECRET, "/hls/s1", "read", future)

    def sub(uri: str) -> int:
        return _status(urllib.request.Request(auth_url + "/auth", headers={"X-Original-URI": uri}))

    assert sub(f"/hls/s1.m3u8?token={hls}") == 200
    assert sub(f"/hls/s1-4.ts?token={hls}") == 200
    assert sub(f"/hls/s2.m3u8?token={hls}") == 403
    assert sub("/hls/s1.m3u8") == 403
    assert sub(f"/hls/s1.m3u8?token={publish}") == 403
    assert _status(urllib.request.Request(auth_url + "/nothing")) == 403


def test_serve_auth_command_answers_on_loopback(secret_file: Path, port) -> None:
    import subprocess
    import sys
    import time

    cli = Path(__file__).resolve().parents[2] / "cli.py"
    listen = port()
    proc = subprocess.Popen([sys.executable, str(cli), "search", "serve-auth", "--secret-file", str(secret_file),
                             "--listen", f"127.0.0.1:{listen}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        secret = read_secret(secret_file)
        token = sign_token(secret, "/hls/s1", "read", int(time.time()) + 60)
        url = f"http://127.0.0.1:{listen}/auth"
        deadline = time.monotonic() + 20
        status = 0
        while time.monotonic() < deadline:
            try:
                status = _status(urllib.request.Request(url, headers={"X-Original-URI": f"/hls/s1.m3u8?token={token}"}))
                break
            except urllib.error.URLError:
                assert proc.poll() is None, proc.communicate()[1].decode()
                time.sleep(0.2)
        assert status == 200
        assert _status(urllib.request.Request(url, headers={"X-Original-URI": "/hls/s1.m3u8?token=1.x"})) == 403
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert secret_file.read_bytes().strip() not in err

"""The generated nginx config (unprivileged workers, token-free logs, bind address, upstream keep-alive) and the
token check's connection handling (listen backlog, HTTP/1.1 keep-alive), on real sockets and the real nginx."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from pipeline.errors import DependencyMissingError, InputError
from pipeline.search.auth_server import LISTEN_BACKLOG, make_auth_server
from pipeline.search.nginx import NginxSettings, nginx_config, prepare_prefix
from pipeline.search.tokens import sign_token

SECRET = b"0123456789abcdef0123456789abcdef"


def _settings(tmp_path: Path, bind: str = "127.0.0.1", **kw: object) -> NginxSettings:
    board = tmp_path / "board"
    board.mkdir(exist_ok=True)
    return NginxSettings(tmp_path / "srv", board, bind, 19350, 18080, 18089,
                         Path("/usr/lib/nginx/modules/ngx_rtmp_module.so"), **kw)  # type: ignore[arg-type]


def test_workers_run_unprivileged_when_started_as_root(tmp_path: Path) -> None:
    as_root = nginx_config(_settings(tmp_path), as_root=True)
    assert "user www-data;" in as_root and "user root" not in as_root
    assert "user " not in nginx_config(_settings(tmp_path), as_root=False).split("events")[0]
    assert "user nobody;" in nginx_config(_settings(tmp_path, worker_user="nobody"), as_root=True)
    with pytest.raises(InputError, match="unprivileged"):
        nginx_config(_settings(tmp_path, worker_user="root"), as_root=True)


def test_logs_keep_tokens_out(tmp_path: Path) -> None:
    conf = nginx_config(_settings(tmp_path), as_root=False)
    fmt = next(line for line in conf.splitlines() if "log_format" in line)
    assert "$uri" in fmt
    for leaky in ("$request ", "$request_uri", "$args", "$query_string", "$http_referer", "$arg_"):
        assert leaky not in fmt, leaky
    assert "access_log" in conf and "shimanto_notoken;" in conf.split("access_log", 1)[1].split("\n", 1)[0]
    assert "error.log warn;" in conf  # nginx-rtmp logs publish/play arguments at info level


def test_binds_the_address_given(tmp_path: Path) -> None:
    conf = nginx_config(_settings(tmp_path), as_root=False)
    assert "listen 127.0.0.1:19350;" in conf and "listen 127.0.0.1:18080 backlog=1024;" in conf
    lan = nginx_config(_settings(tmp_path, bind="192.168.10.5"), as_root=False)
    assert "listen 192.168.10.5:19350;" in lan and "0.0.0.0" not in lan
    assert "listen [::1]:18080" in nginx_config(_settings(tmp_path, bind="::1"), as_root=False)


def test_cli_defaults_to_loopback() -> None:
    import inspect

    from pipeline.search import cli

    for command in (cli._serve, cli._nginx_config):
        assert inspect.signature(command).parameters["bind"].default.default == "127.0.0.1"


def test_auth_upstream_is_kept_alive(tmp_path: Path) -> None:
    conf = nginx_config(_settings(tmp_path), as_root=False)
    upstream = conf.split("upstream shimanto_auth", 1)[1].split("}", 1)[0]
    assert "server 127.0.0.1:18089;" in upstream and "keepalive 32;" in upstream
    auth = conf.split("location = /_auth", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://shimanto_auth/auth;" in auth and "proxy_http_version 1.1;" in auth
    assert 'proxy_set_header Connection "";' in auth


def test_pilot_sheet_is_never_served(tmp_path: Path) -> None:
    conf = nginx_config(_settings(tmp_path), as_root=False)
    assert "pilot-sheets" not in conf
    import re

    board_location = re.search(r"location ~ \^/board/\((.*)\)\$ \{", conf)
    assert board_location is not None
    pattern = re.compile(board_location.group(1))
    for name in ("board.html", "board.json", "search.geojson", "s1.plan", "s1.waypoints"):
        assert pattern.fullmatch(name), name
    for name in ("pilot-sheets.html", "notes.html", "stream.secret", "../x.json", "a/b.json"):
        assert not pattern.fullmatch(name), name


def test_root_refuses_folders_the_workers_cannot_enter(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    s = NginxSettings(closed / "srv", closed, "127.0.0.1", 19350, 18080, 18089, Path("/x.so"))
    with pytest.raises(InputError, match=r"cannot enter .*closed.*chmod o\+x"):
        prepare_prefix(s, as_root=True)


@pytest.mark.system
def test_real_nginx_accepts_the_root_config(tmp_path: Path) -> None:
    from pipeline.search.nginx import check_config, find_nginx, find_rtmp_module, write_nginx_config

    if os.geteuid() != 0:
        pytest.skip("checks the config nginx gets when started as root; run as root (CI does)")
    try:
        nginx, module = find_nginx(), find_rtmp_module()
    except DependencyMissingError as exc:  # names the Debian package to install
        pytest.skip(str(exc))
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="shimanto-nginx-test-"))
    try:
        root.chmod(0o755)
        (root / "board").mkdir()
        s = NginxSettings(root / "srv", root / "board", "127.0.0.1", 19350, 18080, 18089, module)
        write_nginx_config(s, as_root=True)
        check_config(nginx, s.prefix)  # nginx -t, as root with 'user www-data'
        assert (root / "srv" / "hls").stat().st_uid != 0  # the workers own what they write
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def _connects_completed(backlog: int, attempts: int) -> int:
    """Connections the kernel completes to a server that is busy (not accepting), within 0.5 s each."""
    server = make_auth_server(SECRET, "127.0.0.1", 0, backlog=backlog)
    socks, done = [], 0
    try:
        for _ in range(attempts):
            sock = socket.socket()
            sock.settimeout(0.5)
            socks.append(sock)
            try:
                sock.connect(server.server_address)
                done += 1
            except (TimeoutError, OSError):
                pass
    finally:
        for sock in socks:
            sock.close()
        server.server_close()
    return done


def test_listen_backlog_absorbs_a_burst_of_connections() -> None:
    """With socketserver's backlog of 5 a burst overflows the queue (the SYN is dropped: a 1 s retry for the
    viewer); with :data:`LISTEN_BACKLOG` every connection of the burst is queued."""
    assert LISTEN_BACKLOG >= 512
    assert _connects_completed(LISTEN_BACKLOG, 40) == 40
    assert _connects_completed(5, 12) < 12  # the old configuration, for contrast


def test_auth_server_keeps_connections_alive() -> None:
    server = make_auth_server(SECRET, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        token = sign_token(SECRET, "/hls/s1", "read", int(time.time()) + 60)
        conn = http.client.HTTPConnection(*server.server_address, timeout=5)
        statuses = []
        for uri in (f"/hls/s1.m3u8?token={token}", "/hls/s1.m3u8?token=1.x", f"/hls/s1-3.ts?token={token}"):
            conn.request("GET", "/auth", headers={"X-Original-URI": uri})
            response = conn.getresponse()
            response.read()
            assert response.version == 11 and not response.will_close
            statuses.append(response.status)
        assert statuses == [200, 403, 200]  # three checks, one connection
        conn.close()
    finally:
        server.shutdown()
        server.server_close()


def test_project_scripts_stop_only_their_own_processes_and_benchmarks_install_nothing() -> None:
    """Issue 12.4: ``.ci/system-deps.sh`` ran ``pkill -x nginx`` and ``systemctl disable --now nginx``."""
    import re

    root = Path(__file__).resolve().parents[2]
    scripts = [*root.joinpath(".ci").iterdir(), root / "Makefile", *root.joinpath("bench").glob("*.py")]
    by_name = re.compile(r"\b(pkill|killall)\b|systemctl\s+(stop|disable|kill|restart)|kill\s+-\d+\s+-1\b")
    install = re.compile(r"""["'](apt-get|apt|pip|npm)["']\s*,\s*["'](install|ci)["']|\bensurepip\b""")
    for path in scripts:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
            assert not by_name.search(code), f"{path.name} stops processes by name"
            if path.parent.name == "bench":
                assert not install.search(code), f"{path.name} installs packages"


def test_cached_auth_decisions_are_keyed_by_stream_and_token(tmp_path: Path) -> None:
    """nginx caches a check under (stream, token); any two requests sharing a key get the same decision."""
    import re

    from pipeline.search.auth_server import http_decision

    conf = nginx_config(_settings(tmp_path), as_root=False)
    line = next(x for x in conf.splitlines() if x.strip().startswith('"~^/hls/'))
    pattern = re.compile(line.strip().split('" "')[0][2:].replace("(?<", "(?P<"))

    def key(uri: str) -> str:
        m = pattern.match(uri)
        return f"hls/{m['ak_s']} {m['ak_t']}" if m else uri

    now = int(time.time())
    t1 = sign_token(SECRET, "/hls/s1", "read", now + 60)
    t2 = sign_token(SECRET, "/hls/s2", "read", now + 60)
    uris = [f"/hls/s1.m3u8?token={t1}", f"/hls/s1-7.ts?token={t1}", f"/hls/s1-8.ts?_=1&token={t1}",
            f"/hls/s2.m3u8?token={t1}", f"/hls/s2-1.ts?token={t2}", f"/hls/s1.m3u8?token={t1}&token={t2}",
            f"/hls/s1.m3u8?token={t2}&token={t1}", f"/hls/s1-hd-3.ts?token={t1}", f"/hls/s1-3.m3u8?token={t1}",
            "/hls/s1.m3u8", f"/hls/s1.m3u8?token={t1[:-1]}A", f"/board/board.json?token={t1}"]
    assert key(uris[0]) == key(uris[1]) == key(uris[2]) == f"hls/s1 {t1}"
    assert key(uris[5]) == key(uris[0]) and key(uris[6]) == f"hls/s1 {t2}"  # the first token counts, as in the check
    assert len({key(u) for u in uris}) == len(uris) - 3
    for a in uris:
        for b in uris:
            if key(a) == key(b):
                assert http_decision(a, SECRET, now)[0] == http_decision(b, SECRET, now)[0], (a, b)

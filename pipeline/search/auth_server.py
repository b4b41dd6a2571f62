"""The stream authentication callback nginx asks before it lets anyone publish or watch.

Endpoints (stdlib :class:`http.server.ThreadingHTTPServer`, loopback only):

* ``POST /publish`` — nginx-rtmp ``on_publish``: a form with ``app``, ``name``,
  ``tcurl``, ``call``... plus the publish URL's own query arguments (``token``);
  the token must be a ``publish`` token for ``/<app>/<name>``.
* ``POST /play`` — nginx-rtmp ``on_play``: same, role ``read``.
* ``GET /auth`` — nginx ``auth_request`` for HTTP: the original URI arrives in
  ``X-Original-URI``; ``/hls/<name>.m3u8`` and its segments ``/hls/<name>-<n>.ts``
  need a ``read`` token for ``/hls/<name>``; ``/board/...`` one for ``/board``.

2xx allows, 403 refuses (nginx-rtmp then drops the publisher; auth_request
returns 403 to the viewer). Tokens are never logged in full and the secret
never leaves the process.

Throughput: every HLS segment a viewer fetches is one check, so the server
speaks HTTP/1.1 with keep-alive (nginx keeps a pool of upstream connections
open, ``keepalive`` in the generated config) and listens with a backlog of
:data:`LISTEN_BACKLOG` instead of :mod:`socketserver`'s 5, whose overflow made
1 % of checks wait a full second for a SYN retry under load
(``bench/bench_auth_load.py`` measures both configurations).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pipeline.errors import InputError
from pipeline.search.tokens import TokenCheck, TokenVerdict, verify_token

log = logging.getLogger(__name__)

_STREAM_NAME = r"[A-Za-z0-9_]+(?:-[A-Za-z]+[A-Za-z0-9_]*)*"
_HLS_PLAYLIST = re.compile(rf"^/hls/(?P<name>{_STREAM_NAME})\.m3u8$")
_HLS_SEGMENT = re.compile(rf"^/hls/(?P<name>{_STREAM_NAME})-\d+\.ts$")
#: Files of the board folder that are served (behind a read token), as a regex over the name. Only the board page
#: itself is HTML: the pilots' sheet (publish links) never matches, whatever else the folder holds.
SERVED_BOARD_FILE = r"board[.]html|[A-Za-z0-9_-]+[.](?:json|geojson|plan|waypoints)"
_BOARD = re.compile(rf"^/board/(?:{SERVED_BOARD_FILE})$")
_APP_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
#: Pending-connection queue of the listening socket (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
#: An idle kept-alive connection is closed after this many seconds (nginx's upstream pool closes first, at 30 s).
IDLE_TIMEOUT_S = 75.0


def protected_path(uri_path: str) -> str | None:
    """The token path that guards an HTTP request path (None: nothing may be served there)."""
    for pattern in (_HLS_PLAYLIST, _HLS_SEGMENT):
        match = pattern.match(uri_path)
        if match:
            return f"/hls/{match.group('name')}"
    if _BOARD.match(uri_path):
        return "/board"
    return None


def _first(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key) or [""]
    return values[0]


def rtmp_decision(form: dict[str, list[str]], role: str, secret: bytes, now: float) -> tuple[TokenCheck, str]:
    """Check an nginx-rtmp notify form; return the verdict and the stream path it was for."""
    app, name = _first(form, "app"), _first(form, "name")
    if "?" in name:  # some clients leave the query on the stream name
        name, _, query = name.partition("?")
        form = {**parse_qs(query), **form}
    token = _first(form, "token")
    if not token:
        for extra in (_first(form, "args"), urlsplit(_first(form, "tcurl")).query):
            token = _first(parse_qs(extra), "token")
            if token:
                break
    path = f"/{app}/{name}"
    if not (_APP_NAME.match(app) and _APP_NAME.match(name)):
        return TokenCheck(TokenVerdict.MALFORMED), path
    return verify_token(secret, token, path, role, now), path


def http_decision(original_uri: str, secret: bytes, now: float) -> tuple[TokenCheck, str]:
    """Check an ``auth_request`` subrequest from its ``X-Original-URI``."""
    parts = urlsplit(original_uri)
    path = protected_path(parts.path)
    if path is None:
        return TokenCheck(TokenVerdict.MALFORMED), parts.path
    return verify_token(secret, _first(parse_qs(parts.query), "token"), path, "read", now), path


def make_handler(secret: bytes, clock: Callable[[], float] = time.time,
                 keep_alive: bool = True) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``secret`` (kept in a closure, never in a response or log).

    ``keep_alive=False`` answers HTTP/1.0 and closes after each check (the old behaviour, kept for the benchmark).
    """

    class AuthHandler(BaseHTTPRequestHandler):
        server_version = "shimanto-stream-auth"
        sys_version = ""
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        timeout = IDLE_TIMEOUT_S

        def _answer(self, check: TokenCheck, what: str) -> None:
            status = 200 if check.ok else 403
            log.info("%s %s: %s", self.command, what, check.verdict.value)
            body = check.verdict.value.encode() + b"\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            role = {"/publish": "publish", "/play": "read"}.get(urlsplit(self.path).path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 65536)).decode("utf-8", errors="replace")
            if role is None:
                self._answer(TokenCheck(TokenVerdict.MALFORMED), self.path)
                return
            check, path = rtmp_decision(parse_qs(body, keep_blank_values=True), role, secret, clock())
            self._answer(check, f"{role} {path}")

        def do_GET(self) -> None:
            if urlsplit(self.path).path != "/auth":
                self._answer(TokenCheck(TokenVerdict.MALFORMED), self.path)
                return
            check, path = http_decision(self.headers.get("X-Original-URI", ""), secret, clock())
            self._answer(check, f"read {path}")

        def log_message(self, format: str, *args: object) -> None:
            return  # decisions are logged by _answer, without tokens

    return AuthHandler


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> ``(host, port)``; only loopback hosts are accepted (nginx is the only client)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InputError(f"--listen {text!r} must be HOST:PORT, e.g. 127.0.0.1:8089")
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise InputError(f"--listen host {host!r} must be loopback (127.0.0.1); only nginx on this machine asks it")
    return host.strip("[]"), int(port_text)


def make_auth_server(secret: bytes, host: str, port: int, *, backlog: int = LISTEN_BACKLOG,
                     keep_alive: bool = True) -> ThreadingHTTPServer:
    """A ready (bound, not yet serving) auth server; call ``serve_forever()`` and ``shutdown()``.

    Args:
        secret: The stream secret.
        host: Loopback address to bind.
        port: Port (0 = any free one; read it from ``server.server_address``).
        backlog: Listen backlog (``socketserver`` defaults to 5; see :data:`LISTEN_BACKLOG`).
        keep_alive: HTTP/1.1 persistent connections (False: HTTP/1.0, one connection per check).
    """

    class AuthServer(ThreadingHTTPServer):
        request_queue_size = backlog
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            """A client that went away is routine under load (one log line); anything else is logged in full."""
            exc = sys.exc_info()[1]
            if isinstance(exc, (ConnectionError, TimeoutError)):
                log.debug("client %s went away: %s", client_address, exc)
            else:
                log.exception("token check failed for client %s", client_address)

    return AuthServer((host, port), make_handler(secret, keep_alive=keep_alive))

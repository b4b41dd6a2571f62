"""nginx (Debian ``nginx`` + ``libnginx-mod-rtmp``) as the streaming server: config and process.

Drones push RTMP to ``application live``; nginx-rtmp asks the auth callback
(``on_publish``/``on_play``) and writes HLS into ``PREFIX/hls``. The HTTP server
serves ``/hls/`` and the board folder at ``/board/``, each behind
``auth_request`` to the same callback; ``sub_filter`` appends the playlist's own
token to the segment URIs inside it, so a player that got one signed playlist
URL can fetch its segments. Everything nginx writes (pid, logs, temp, HLS)
stays under a prefix folder, so no root is needed.

Hardening: started as root, the workers run as an unprivileged user
(``user www-data``), only the folders they write are handed to it; both logs
are kept free of tokens (access log without query strings or Referer, error
log at ``warn``); nginx binds the address given (loopback unless told
otherwise); it keeps its connections to the token check alive and reuses a
decision for the same stream and token for :data:`AUTH_CACHE_S` seconds; the
board folder is served by an allow-list of names
(:data:`~pipeline.search.auth_server.SERVED_BOARD_FILE`), so the pilots' sheet
with the publish links beside the board is never served.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.atomic import atomic_write_text
from pipeline.errors import DependencyMissingError, InputError
from pipeline.search.auth_server import SERVED_BOARD_FILE
from pipeline.search.board_assets import BOARD_ASSETS

RTMP_MODULE_CANDIDATES = ("/usr/lib/nginx/modules/ngx_rtmp_module.so",)
MODULES_ENABLED_GLOB = "/etc/nginx/modules-enabled/*rtmp*"


def find_nginx() -> str:
    """Path of the nginx binary (Debian package ``nginx``)."""
    path = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if path is None:
        raise DependencyMissingError(
            "nginx is not installed; install the Debian packages: apt install nginx libnginx-mod-rtmp"
        )
    return path


def find_rtmp_module() -> Path:
    """Path of ``ngx_rtmp_module.so`` (Debian package ``libnginx-mod-rtmp``)."""
    for candidate in RTMP_MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    for conf in glob.glob(MODULES_ENABLED_GLOB):
        match = re.search(r"load_module\s+([^;]+);", Path(conf).read_text(encoding="utf-8", errors="replace"))
        if match:
            path = Path(match.group(1).strip())
            path = path if path.is_absolute() else Path("/usr/share/nginx") / path
            if path.is_file():
                return path
    raise DependencyMissingError(
        "the nginx RTMP module is not installed (ngx_rtmp_module.so); install it: apt install libnginx-mod-rtmp"
    )


#: Default worker user when nginx is started as root (Debian's nginx package runs its workers as www-data).
WORKER_USERS = ("www-data", "nobody")
#: Public files of the board folder served without a token (open-source code and font, no data).
PUBLIC_BOARD_ASSETS = BOARD_ASSETS
#: How long nginx reuses a token decision for the same stream and token, s. A token is therefore honoured
#: for at most this long after it expires (links live hours; a viewer's player asks every segment, ~1 s).
AUTH_CACHE_S = 2
#: Access-log format without query strings (``$uri`` is the path only) and without the Referer
#: (a board page's Referer carries its token): tokens never reach a log.
LOG_FORMAT = '$remote_addr [$time_local] "$request_method $uri $server_protocol" $status $body_bytes_sent'


@dataclass(frozen=True)
class NginxSettings:
    """Where the generated server listens and keeps its files.

    Attributes:
        prefix: Work folder for pid, logs, temp files and HLS segments.
        board_dir: The search plan folder holding board.html/board.json.
        bind: Address nginx listens on: ``127.0.0.1`` by default; the command post's LAN address only when
            given explicitly (``--bind``).
        rtmp_port: RTMP port.
        http_port: HTTP port (HLS, board).
        auth_port: Loopback port of ``shimanto search serve-auth``.
        module_path: ``ngx_rtmp_module.so``.
        hls_fragment_s: HLS segment length, s (short keeps the delay low).
        worker_user: Unprivileged user the workers run as when nginx is started as root (ignored otherwise:
            an unprivileged master cannot switch users).
        auth_keepalive: Idle connections nginx keeps open to the token check (``upstream ... keepalive``).
    """

    prefix: Path
    board_dir: Path
    bind: str
    rtmp_port: int
    http_port: int
    auth_port: int
    module_path: Path
    hls_fragment_s: int = 1
    worker_user: str = "www-data"
    auth_keepalive: int = 32

    def problems(self) -> list[str]:
        """Every invalid field, as messages."""
        out = []
        for name in ("rtmp_port", "http_port", "auth_port"):
            if not 1 <= getattr(self, name) <= 65535:
                out.append(f"{name} {getattr(self, name)} must be between 1 and 65535")
        if len({self.rtmp_port, self.http_port, self.auth_port}) != 3:
            out.append("the RTMP, HTTP and auth ports must differ")
        if not re.fullmatch(r"[0-9A-Za-z.:\[\]-]+", self.bind):
            out.append(f"bind address {self.bind!r} is not an address")
        if not re.fullmatch(r"[a-z_][a-z0-9_-]*", self.worker_user) or self.worker_user == "root":
            out.append(f"worker user {self.worker_user!r} must be an unprivileged user name, e.g. www-data")
        for name in ("prefix", "board_dir"):
            if re.search(r"[\s;{}'\"$]", str(getattr(self, name))):
                value = str(getattr(self, name))
                out.append(f"{name} {value!r} must not contain spaces, quotes, ';', '{{', '}}' or '$'")
        return out


def default_worker_user() -> str:
    """The first of :data:`WORKER_USERS` that exists on this machine (``nobody`` as the last resort)."""
    for name in WORKER_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return "nobody"


def _listen(bind: str, port: int) -> str:
    return f"[{bind.strip('[]')}]:{port}" if ":" in bind.strip("[]") else f"{bind}:{port}"


def nginx_config(s: NginxSettings, as_root: bool | None = None) -> str:
    """The nginx.conf text for ``s`` (paths absolute).

    Args:
        s: The settings.
        as_root: Whether nginx will be started as root (default: whether this process is root); then the
            workers run as ``s.worker_user``.
    """
    problems = s.problems()
    if problems:
        raise InputError("bad streaming server settings: " + "; ".join(problems))
    as_root = os.geteuid() == 0 if as_root is None else as_root
    p, board = s.prefix.resolve(), s.board_dir.resolve()
    user = f"user {s.worker_user};\n" if as_root else ""
    temps = "".join(f"    {k}_temp_path {p}/tmp/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    assets = "".join(
        f"        location = /board/{a} {{\n            alias {board}/{a};\n"
        "            add_header Cache-Control max-age=3600;\n        }\n"
        for a in PUBLIC_BOARD_ASSETS
    )
    return f"""# generated by 'shimanto search nginx-config' — nginx + libnginx-mod-rtmp
load_module {s.module_path};
{user}worker_processes 1;
daemon off;
pid {p}/nginx.pid;
# warn, not info: nginx-rtmp logs each publish/play with its arguments (the token) at info level
error_log {p}/logs/error.log warn;
events {{ worker_connections 1024; }}

rtmp {{
    server {{
        listen {_listen(s.bind, s.rtmp_port)};
        chunk_size 4096;
        notify_method post;
        application live {{
            live on;
            record off;
            on_publish http://127.0.0.1:{s.auth_port}/publish;
            on_play http://127.0.0.1:{s.auth_port}/play;
            hls on;
            hls_path {p}/hls;
            hls_fragment {s.hls_fragment_s}s;
            hls_playlist_length {max(6, 6 * s.hls_fragment_s)}s;
            hls_cleanup on;
        }}
    }}
}}

http {{
    log_format shimanto_notoken '{LOG_FORMAT}';
    access_log {p}/logs/access.log shimanto_notoken;
    log_not_found off;
{temps}    default_type application/octet-stream;
    types {{
        text/html html;
        application/json json;
        application/geo+json geojson;
        text/javascript js;
        text/plain txt;
        font/ttf ttf;
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }}
    server_tokens off;
    keepalive_timeout 30s;
    # The decision depends only on the stream (from the path) and the token, so it is cached for
    # {AUTH_CACHE_S} s under that key: one check per viewer and stream every few seconds, not one per segment.
    # Any other request is keyed by its whole URI (never shared with a different request).
    map $request_uri $shimanto_auth_key {{
        "~^/hls/(?<ak_s>[A-Za-z0-9_]+)(?:-[0-9]+[.]ts|[.]m3u8)[?](?:[^#]*?&)??token=(?<ak_t>[^&#]+)" "hls/$ak_s $ak_t";
        default $request_uri;
    }}
    proxy_cache_path {p}/tmp/authcache levels=1 keys_zone=shimanto_auth:1m max_size=16m inactive=60s use_temp_path=off;
    upstream shimanto_auth {{
        server 127.0.0.1:{s.auth_port};
        keepalive {s.auth_keepalive};
        keepalive_timeout 30s;
    }}
    server {{
        listen {_listen(s.bind, s.http_port)} backlog=1024;
        location = /_auth {{
            internal;
            proxy_pass http://shimanto_auth/auth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_cache shimanto_auth;
            proxy_cache_key $shimanto_auth_key;
            proxy_cache_valid 200 403 {AUTH_CACHE_S}s;
        }}
        location /hls/ {{
            auth_request /_auth;
            root {p};
            add_header Cache-Control no-cache;
            add_header Access-Control-Allow-Origin *;
            add_header Access-Control-Expose-Headers Date;
            sub_filter_types application/vnd.apple.mpegurl;
            sub_filter '.ts' '.ts?token=$arg_token';
            sub_filter_once off;
            sub_filter_last_modified on;  # the board reads the playlist's age (Date - Last-Modified)
        }}
        location ~ ^/board/({SERVED_BOARD_FILE})$ {{
            auth_request /_auth;
            alias {board}/$1;
            add_header Cache-Control no-store;
        }}
{assets}        location / {{
            return 404;
        }}
    }}
}}
"""


def prepare_prefix(s: NginxSettings, as_root: bool | None = None) -> None:
    """Create the prefix folders; as root, hand the ones workers write (HLS, temp) to the worker user.

    Raises:
        InputError: as root, the worker user cannot reach the prefix or the board folder (a parent folder
            not searchable by others, e.g. a 0700 home or temp folder).
    """
    as_root = os.geteuid() == 0 if as_root is None else as_root
    dirs = [s.prefix / "logs", s.prefix / "hls", s.prefix / "tmp",
            *(s.prefix / "tmp" / k for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "authcache"))]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    if not as_root:
        return
    try:
        pw = pwd.getpwnam(s.worker_user)
    except KeyError:
        raise InputError(f"worker user {s.worker_user!r} does not exist; pass an existing unprivileged user"
                         f" with --user (e.g. {default_worker_user()})") from None
    blocked = [str(d) for target in (s.prefix.resolve(), s.board_dir.resolve())
               for d in (target, *target.parents) if not _searchable_by(d, pw.pw_uid, pw.pw_gid)]
    if blocked:
        raise InputError(
            f"nginx workers run as {s.worker_user!r}, which cannot enter {blocked[0]!r}; put --work and --board"
            f" under a folder others can enter (e.g. /srv/shimanto) or chmod o+x {blocked[0]}"
        )
    for d in (s.prefix / "hls", *(d for d in dirs if d.parent.name == "tmp")):
        os.chown(d, pw.pw_uid, pw.pw_gid)


def _searchable_by(path: Path, uid: int, gid: int) -> bool:
    """Whether ``uid``/``gid`` may enter folder ``path`` (POSIX mode bits; ACLs not considered)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def write_nginx_config(s: NginxSettings, as_root: bool | None = None) -> Path:
    """Prepare the prefix folders and write ``PREFIX/nginx.conf``; return its path."""
    prepare_prefix(s, as_root)
    return atomic_write_text(s.prefix / "nginx.conf", nginx_config(s, as_root))


def nginx_command(nginx: str, prefix: Path) -> list[str]:
    """The command line running nginx in the foreground with ``prefix``."""
    p = prefix.resolve()
    return [nginx, "-p", f"{p}/", "-c", f"{p}/nginx.conf", "-e", f"{p}/logs/error.log"]


def check_config(nginx: str, prefix: Path) -> None:
    """Run ``nginx -t`` on the generated config.

    Raises:
        InputError: nginx rejects it (its message is included).
    """
    result = subprocess.run([*nginx_command(nginx, prefix), "-t"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise InputError(f"nginx rejected the generated config: {result.stderr.strip()}")


def start_nginx(nginx: str, prefix: Path) -> subprocess.Popen[bytes]:
    """Start nginx in the foreground (``daemon off``) as a child process."""
    log = (prefix / "logs" / "stderr.log").open("ab")
    return subprocess.Popen(nginx_command(nginx, prefix), stdout=log, stderr=subprocess.STDOUT)

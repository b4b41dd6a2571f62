"""CLI of the search stage: ``shimanto search plan|secret|board|serve-auth|nginx-config|serve|monitor``."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import typer

from pipeline.common.cli_options import overwrite_option, params_option, read_params
from pipeline.errors import InputError


def _lat_lon(text: str | None, option: str) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{option} {text!r} is not LAT,LON; use decimal degrees, e.g. 33.2101,133.1302") from None
    return lat, lon


def _plan(
    area: Path = typer.Argument(..., help="Search area: a GeoJSON polygon (WGS84)."),
    out: Path = typer.Option(..., "--out", help="Folder for the plans, summaries and search.geojson."),
    pattern: str = typer.Option("parallel", "--pattern", help="parallel | creeping-line | expanding-square | sector."),
    drones: int = typer.Option(1, "--drones", help="Number of drones (one sector each)."),
    camera: str = typer.Option("h20t-thermal", "--camera", help="Camera: h20t-thermal, h20t-wide, m3t-thermal, "
                               "m3t-wide (flight registry) or a camera YAML/JSON file."),
    target: str = typer.Option("person", "--target", help="person | vehicle."),
    datum: str | None = typer.Option(None, "--datum", help="Last known position LAT,LON (datum patterns)."),
    launch: list[str] = typer.Option([], "--launch", help="Launch point LAT,LON: once (shared) or once per drone "
                                     "(each sector gets the nearest in time); default: datum or area centroid."),
    radius: float | None = typer.Option(None, "--radius", help="Datum patterns: radius to search, m."),
    dem: Path | None = typer.Option(None, "--dem", help="DEM GeoTIFF: keep the height above ground."),
    speed: float | None = typer.Option(None, "--speed", help="Search speed, m/s (default: params)."),
    overwrite: bool = overwrite_option(),
    params: Path | None = params_option(),
) -> None:
    """Plan an IAMSAR search for N drones: one .plan/.waypoints/summary per sector and search.geojson."""
    from pipeline.flight.terrain import load_dem
    from pipeline.search.config import search_params
    from pipeline.search.plan_io import plan_summary, read_area, write_search_plan
    from pipeline.search.planner import PlanRequest, plan_search

    cfg = search_params(read_params(params))
    polygon, name = read_area(area)
    ground_of = load_dem(dem).ground_fn if dem is not None else None
    req = PlanRequest(polygon, name, pattern, drones, camera, target, _lat_lon(datum, "--datum"),
                      tuple(p for p in (_lat_lon(t, "--launch") for t in launch) if p is not None), speed, radius)
    plan = plan_search(req, cfg, ground_of)
    write_search_plan(plan, out, overwrite)
    s = plan_summary(plan)
    typer.echo(f"{s['pattern']} search of {s['area_ha']} ha, {s['drones']} drone(s), {s['camera']} for a "
               f"{s['target']}: "
               f"{s['height_agl_m']} m above ground ({s['height_limited_by']}), GSD {s['gsd_cm']} cm, "
               f"spacing {s['track_spacing_m']} m, coverage {s['coverage_pct']} %, "
               f"time max/min {s['imbalance_max_over_min']}")
    for sec in s["sectors"]:
        typer.echo(f"  {sec['sector']} {sec['drone']}: {sec['time_min']} min, {sec['batteries']} battery(ies), "
                   f"{sec['waypoints']} waypoints, coverage {sec['coverage_pct']} % -> {out / sec['files']['plan']}")


def _secret(path: Path = typer.Argument(..., help="Secret file to create (mode 0600).")) -> None:
    """Create a new random stream secret (invalidates every link signed with the old one)."""
    from pipeline.search.tokens import write_new_secret

    if path.exists():
        raise InputError(
            f"{str(path)!r} exists; remove it first if you really want a new secret (old links stop working)"
        )
    write_new_secret(path)
    typer.echo(f"wrote {path} (mode 0600)")


def _board(
    plan_dir: Path = typer.Argument(..., help="Folder written by 'search plan'."),
    stream_host: str = typer.Option(..., "--stream-host", help="Host name/address of the streaming server."),
    secret_file: Path = typer.Option(..., "--secret-file", help="Stream secret (mode 0600)."),
    ttl: str = typer.Option("6h", "--ttl", help="Link lifetime, e.g. 6h, 90m (at most 72h)."),
    hls_port: int = typer.Option(8080, "--hls-port", help="HTTP port of HLS and the board."),
    rtmp_port: int = typer.Option(1935, "--rtmp-port", help="RTMP port."),
    params: Path | None = params_option(),
) -> None:
    """Write board.json and board.html (map, video tiles, play links) and pilot-sheets.html (publish links)."""
    from pipeline.search.board import PILOT_SHEETS_HTML, StreamEndpoints, build_board, build_pilot_sheets
    from pipeline.search.board_html import write_board_files
    from pipeline.search.config import search_params
    from pipeline.search.tokens import parse_ttl, read_secret

    cfg = search_params(read_params(params))
    ep = StreamEndpoints(stream_host, rtmp_port, hls_port)
    ttl_s, secret = parse_ttl(ttl), read_secret(secret_file)
    board = build_board(plan_dir, secret, ep, ttl_s, cfg.board_poll_s)
    sheets = build_pilot_sheets(plan_dir, secret, ep, ttl_s, now=board["generated_unix"])
    for path in write_board_files(plan_dir, board, sheets):
        if path.parent == plan_dir:
            typer.echo(f"wrote {path}")
    typer.echo(f"board (when served): {board['board_url'].split('?')[0]}?token=…")
    typer.echo(f"pilots' publish links: {plan_dir / PILOT_SHEETS_HTML} (mode 0600, never served: print one page"
               " per pilot, do not share)")


def _serve_auth(
    secret_file: Path = typer.Option(..., "--secret-file", help="Stream secret (mode 0600)."),
    listen: str = typer.Option("127.0.0.1:8089", "--listen", help="Loopback HOST:PORT nginx calls."),
) -> None:
    """Run the token check nginx calls (on_publish, on_play, auth_request) until Ctrl-C."""
    from pipeline.search.auth_server import make_auth_server, parse_listen
    from pipeline.search.tokens import read_secret

    host, port = parse_listen(listen)
    server = make_auth_server(read_secret(secret_file), host, port)
    typer.echo(f"stream auth on http://{host}:{server.server_address[1]} (publish, play, auth); Ctrl-C to stop",
               err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


_BIND_HELP = ("Address nginx listens on: loopback by default; give the command post's LAN address explicitly"
              " (e.g. 192.168.10.5) for drones and headquarters to reach it.")
_USER_HELP = "Unprivileged user the nginx workers run as when started as root (default: www-data, else nobody)."


def _nginx_settings(board: Path, work: Path, bind: str, rtmp_port: int, http_port: int, auth_port: int,
                    user: str | None) -> object:
    from pipeline.search.nginx import NginxSettings, default_worker_user, find_rtmp_module

    return NginxSettings(work, board, bind, rtmp_port, http_port, auth_port, find_rtmp_module(),
                         worker_user=user or default_worker_user())


def _nginx_config(
    board: Path = typer.Option(..., "--board", help="Folder with board.html/board.json."),
    work: Path = typer.Option(Path("stream-server"), "--work", help="nginx prefix: config, logs, HLS."),
    bind: str = typer.Option("127.0.0.1", "--bind", help=_BIND_HELP),
    rtmp_port: int = typer.Option(1935, "--rtmp-port"),
    http_port: int = typer.Option(8080, "--http-port"),
    auth_port: int = typer.Option(8089, "--auth-port", help="Port of 'search serve-auth' on 127.0.0.1."),
    user: str | None = typer.Option(None, "--user", help=_USER_HELP),
) -> None:
    """Write the nginx config (RTMP in, HLS + board out, token checks via serve-auth) and test it (nginx -t)."""
    from pipeline.search.nginx import NginxSettings, check_config, find_nginx, nginx_command, write_nginx_config

    settings = _nginx_settings(board, work, bind, rtmp_port, http_port, auth_port, user)
    assert isinstance(settings, NginxSettings)
    path = write_nginx_config(settings)
    nginx = find_nginx()
    check_config(nginx, work)
    typer.echo(f"wrote {path} (nginx -t ok); run: {' '.join(nginx_command(nginx, work))}")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(
    board: Path = typer.Option(..., "--board", help="Folder with board.html/board.json."),
    secret_file: Path = typer.Option(..., "--secret-file", help="Stream secret (mode 0600)."),
    work: Path = typer.Option(Path("stream-server"), "--work", help="nginx prefix: config, logs, HLS."),
    bind: str = typer.Option("127.0.0.1", "--bind", help=_BIND_HELP),
    rtmp_port: int = typer.Option(1935, "--rtmp-port"),
    http_port: int = typer.Option(8080, "--http-port"),
    auth_port: int = typer.Option(0, "--auth-port", help="Loopback port of the token check (0 = any free)."),
    user: str | None = typer.Option(None, "--user", help=_USER_HELP),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
) -> None:
    """Run the streaming server: the token check and nginx (RTMP -> HLS) in the foreground until Ctrl-C."""
    from pipeline.search.auth_server import make_auth_server
    from pipeline.search.nginx import NginxSettings, check_config, find_nginx, start_nginx, write_nginx_config
    from pipeline.search.tokens import read_secret

    if secret_file.resolve().is_relative_to(board.resolve()):
        raise InputError(f"the secret file {str(secret_file)!r} is inside the served board folder {str(board)!r};"
                         " move it out (only board files may be served)")
    nginx = find_nginx()
    signal.signal(signal.SIGTERM, _raise_interrupt)  # stop nginx too when asked to terminate
    server = make_auth_server(read_secret(secret_file), "127.0.0.1", auth_port)
    threading.Thread(target=server.serve_forever, name="stream-auth", daemon=True).start()
    proc = None
    try:
        settings = _nginx_settings(board, work, bind, rtmp_port, http_port, server.server_address[1], user)
        assert isinstance(settings, NginxSettings)
        write_nginx_config(settings)
        check_config(nginx, work)
        proc = start_nginx(nginx, work)
        typer.echo(f"streaming server: rtmp://{bind}:{rtmp_port}/live/<sector>, http://{bind}:{http_port}/hls/ and "
                   f"/board/ (logs in {work / 'logs'}); Ctrl-C to stop", err=True)
        end = None if duration is None else time.monotonic() + duration
        while proc.poll() is None and (end is None or time.monotonic() < end):
            time.sleep(0.5)
        if proc.poll() is not None:
            raise InputError(f"nginx exited with status {proc.returncode}; see {work / 'logs' / 'error.log'}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=10)
            except Exception:
                proc.kill()
        server.shutdown()
        server.server_close()


def _monitor(
    board: Path = typer.Argument(..., help="Folder with board.json."),
    connect: list[str] = typer.Option(..., "--connect", help="MAVLink URL per drone, in sector order, or "
                                      "SECTOR=URL (e.g. s2=udpin:0.0.0.0:14552); repeat the option."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
) -> None:
    """Follow each drone's MAVLink telemetry and update board.json every second (the page refreshes from it)."""
    from pipeline.search.monitor import run_monitor

    def show(doc: dict[str, object]) -> None:
        sectors = doc.get("sectors")
        if isinstance(sectors, list):
            typer.echo("  ".join(f"{s['id']}:{s['status']}" for s in sectors), err=True)

    run_monitor(board, connect, duration, on_update=show)


def register(app: typer.Typer) -> None:
    """Add ``shimanto search ...`` to the root app."""
    grp = typer.Typer(help="Disaster search: multi-drone IAMSAR plans, signed live-stream links, command-post board.",
                      no_args_is_help=True)
    grp.command("plan")(_plan)
    grp.command("secret")(_secret)
    grp.command("board")(_board)
    grp.command("serve-auth")(_serve_auth)
    grp.command("nginx-config")(_nginx_config)
    grp.command("serve")(_serve)
    grp.command("monitor")(_monitor)
    app.add_typer(grp, name="search")

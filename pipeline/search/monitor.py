"""Live picture: follow each drone's MAVLink telemetry and keep ``board.json`` current.

One thread per drone link (the MAVLink stage's :class:`~pipeline.mavlink.client.GroundStation`:
real MAVLink 2 over UDP/TCP, data streams requested as ArduPilot needs) folds
HEARTBEAT, GLOBAL_POSITION_INT, MISSION_CURRENT, SYS_STATUS and BATTERY_STATUS
into a per-sector state; once a second the main loop merges the states into
``board.json`` and replaces it atomically. The board page polls that file.

Sector status: ``planned`` (never heard), ``connected`` (heartbeat, disarmed),
``armed``, ``flying`` (armed and more than 2 m above home), ``link-lost``
(no message for :data:`LINK_LOST_S`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.common.atomic import atomic_write_json
from pipeline.errors import InputError, LinkError, SceneNotFoundError
from pipeline.mavlink.client import GroundStation
from pipeline.mavlink.monitor import request_streams
from pipeline.search.board import BOARD_JSON, MapFrame

log = logging.getLogger(__name__)

LINK_LOST_S = 5.0
FLYING_ABOVE_HOME_M = 2.0


def parse_connections(specs: Sequence[str], sector_ids: Sequence[str]) -> list[tuple[str, str]]:
    """``SECTOR=URL`` or bare ``URL`` (given in sector order) -> ``[(sector, url)]``.

    Raises:
        InputError: every problem (unknown sector, a sector twice, more links than sectors).
    """
    problems: list[str] = []
    pairs: list[tuple[str, str]] = []
    named = {spec.split("=", 1)[0] for spec in specs if "=" in spec and ":" not in spec.split("=", 1)[0]}
    free = [s for s in sector_ids if s not in named]
    for spec in specs:
        head, sep, tail = spec.partition("=")
        if sep and ":" not in head:
            sector, url = head, tail
            if sector not in sector_ids:
                problems.append(f"unknown sector {sector!r} in {spec!r}; the board has {', '.join(sector_ids)}")
                continue
        elif free:
            sector, url = free.pop(0), spec
        else:
            problems.append(f"more connections than sectors ({len(sector_ids)}): {spec!r} has no sector left")
            continue
        if any(sector == s for s, _ in pairs):
            problems.append(f"sector {sector!r} has two connections")
        pairs.append((sector, url))
    if not specs:
        problems.append("give at least one --connect URL (e.g. udpin:0.0.0.0:14551 or s1=udpout:10.0.0.21:14550)")
    if problems:
        raise InputError("bad --connect: " + "; ".join(problems))
    return pairs


def fold_message(state: dict[str, Any], msg: Any, now_unix: float) -> dict[str, Any]:
    """State after one MAVLink message (pure: returns a new dict)."""
    kind = msg.get_type()
    new = dict(state)
    if kind == "HEARTBEAT":
        if msg.type == mav2.MAV_TYPE_GCS:
            return state
        new["armed"] = bool(msg.base_mode & mav2.MAV_MODE_FLAG_SAFETY_ARMED)
        new["custom_mode"] = int(msg.custom_mode)
    elif kind == "GLOBAL_POSITION_INT":
        new.update(
            lat=msg.lat / 1e7,
            lon=msg.lon / 1e7,
            alt_rel_m=round(msg.relative_alt / 1000.0, 1),
            groundspeed_m_s=round(math.hypot(msg.vx, msg.vy) / 100.0, 1),
            heading_deg=None if msg.hdg == 65535 else round(msg.hdg / 100.0, 1),
        )
    elif kind == "MISSION_CURRENT":
        new["mission_seq"] = int(msg.seq)
    elif kind == "SYS_STATUS":
        if msg.battery_remaining >= 0:
            new["battery_pct"] = int(msg.battery_remaining)
        if msg.voltage_battery not in (0, 65535):
            new["voltage_v"] = round(msg.voltage_battery / 1000.0, 2)
    elif kind == "BATTERY_STATUS":
        if msg.battery_remaining >= 0:
            new["battery_pct"] = int(msg.battery_remaining)
    else:
        return state
    new["last_seen_unix"] = now_unix
    new["messages"] = int(state.get("messages", 0)) + 1
    return new


def sector_status(state: dict[str, Any] | None, now_unix: float) -> str:
    """The board status of a sector from its drone state."""
    if not state or "last_seen_unix" not in state:
        return "planned"
    if now_unix - float(state["last_seen_unix"]) > LINK_LOST_S:
        return "link-lost"
    if state.get("armed"):
        return "flying" if (state.get("alt_rel_m") or 0.0) > FLYING_ABOVE_HOME_M else "armed"
    return "connected"


def merge_telemetry(board: dict[str, Any], states: dict[str, dict[str, Any]], now_unix: float) -> dict[str, Any]:
    """``board`` with each sector's status and telemetry from ``states`` (pure: returns a new dict)."""
    m = board["map"]
    frame = MapFrame(m["crs"], float(m["origin"][0]), float(m["origin"][1]))
    tr = frame.transformer()
    sectors = []
    for sector in board["sectors"]:
        state = states.get(sector["id"])
        entry = dict(sector, status=sector_status(state, now_unix))
        if state and "last_seen_unix" in state:
            tele = {k: v for k, v in state.items() if k != "custom_mode"}
            if "lat" in state and "lon" in state:
                tele["xy"] = list(frame.xy(tr, float(state["lon"]), float(state["lat"])))
            entry["telemetry"] = tele
        sectors.append(entry)
    return {**board, "sectors": sectors, "updated_unix": int(now_unix)}


class DroneFollower:
    """A background thread that keeps one drone's state from its MAVLink link (reconnecting on failure)."""

    def __init__(self, sector: str, url: str, stop: threading.Event, connect_timeout_s: float = 5.0) -> None:
        self.sector, self.url, self.stop = sector, url, stop
        self.connect_timeout_s = connect_timeout_s
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"url": url}
        self.thread = threading.Thread(target=self.run, name=f"follow-{sector}", daemon=True)

    def snapshot(self) -> dict[str, Any]:
        """A copy of the current state."""
        with self.lock:
            return dict(self.state)

    def run(self) -> None:
        """Connect, ask for streams, fold messages; retry after link errors until stopped."""
        while not self.stop.is_set():
            gcs = GroundStation(self.url, connect_timeout_s=self.connect_timeout_s)
            try:
                gcs.connect()
                request_streams(gcs)
                while not self.stop.is_set():
                    msg = gcs.recv(0.2)
                    if msg is not None:
                        with self.lock:
                            self.state = fold_message(self.state, msg, time.time())
            except (LinkError, OSError) as exc:
                log.warning("sector %s: %s", self.sector, exc)
                self.stop.wait(1.0)
            finally:
                gcs.close()


def read_board(board_dir: Path) -> dict[str, Any]:
    """``board.json`` of ``board_dir``.

    Raises:
        SceneNotFoundError: no board yet.
    """
    path = board_dir / BOARD_JSON
    if not path.is_file():
        raise SceneNotFoundError(f"{str(path)!r} does not exist; run 'shimanto search board {board_dir} ...' first")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def run_monitor(
    board_dir: Path,
    specs: Sequence[str],
    duration_s: float | None,
    period_s: float = 1.0,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Follow the drones and rewrite ``board.json`` every ``period_s`` until ``duration_s`` (None: Ctrl-C).

    Returns:
        The last board written.
    """
    board = read_board(board_dir)
    pairs = parse_connections(specs, [s["id"] for s in board["sectors"]])
    stop = threading.Event()
    followers = [DroneFollower(sector, url, stop) for sector, url in pairs]
    for f in followers:
        f.thread.start()
    end = None if duration_s is None else time.monotonic() + duration_s
    try:
        while True:
            board = merge_telemetry(read_board(board_dir), {f.sector: f.snapshot() for f in followers}, time.time())
            atomic_write_json(board_dir / BOARD_JSON, board)
            if on_update is not None:
                on_update(board)
            if end is not None and time.monotonic() >= end:
                break
            stop.wait(period_s if end is None else max(0.0, min(period_s, end - time.monotonic())))
    finally:
        stop.set()
        for f in followers:
            f.thread.join(timeout=3.0)
    return board

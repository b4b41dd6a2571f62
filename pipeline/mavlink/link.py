"""The I/O edge: a MAVLink 2 connection over a pymavlink URL, and message <-> protocol event/action codecs.

URLs are pymavlink's: ``udpin:HOST:PORT`` (listen), ``udpout:HOST:PORT`` (send
first), ``udp:HOST:PORT`` (listen), ``tcp:HOST:PORT`` (connect),
``tcpin:HOST:PORT`` (accept) and a ``.tlog`` file path (replay).

The v20 ``ardupilotmega`` dialect is chosen explicitly per connection, so no
process-wide ``MAVLINK20`` environment switch is needed.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.errors import InputError, LinkError, SceneNotFoundError
from pipeline.mavlink.protocol import (
    Ack,
    Action,
    Count,
    Event,
    ItemReceived,
    ItemRequest,
    SendAck,
    SendClearAll,
    SendCount,
    SendItem,
    SendRequest,
    SendRequestList,
)
from pipeline.mavlink.wire import WireItem, decode_xy, encode_xy

GCS_SYSTEM_ID = 255
GCS_COMPONENT_ID = int(mav2.MAV_COMP_ID_MISSIONPLANNER)
_SOCKET_PREFIXES = ("udpin:", "udpout:", "udp:", "tcp:", "tcpin:")
_LOG_SUFFIXES = (".tlog", ".mavlink", ".raw")


class _TcpInReaccept(mavutil.mavtcpin):  # type: ignore[misc]
    """``tcpin:`` that notices a closed client and accepts the next one (pymavlink's spins on EOF)."""

    def recv(self, n: int | None = None) -> Any:
        had_port = getattr(self, "port", None) is not None
        data = super().recv(n)
        port: Any = getattr(self, "port", None)
        # pymavlink returns str "" when nothing is pending and bytes b"" only at end of stream
        if had_port and port is not None and isinstance(data, bytes) and not data:
            port.close()
            self.port = None
            self.fd = self.listen.fileno()
        return data


class MavConnection:
    """One MAVLink 2 link. ``recv`` returns decoded pymavlink messages (BAD_DATA dropped)."""

    def __init__(self, url: str, system_id: int = GCS_SYSTEM_ID, component_id: int = GCS_COMPONENT_ID) -> None:
        self.url = url
        self.is_log = not url.startswith(_SOCKET_PREFIXES)
        try:
            if self.is_log:
                path = Path(url)
                if not path.is_file():
                    raise SceneNotFoundError(
                        f"connection {url!r} is neither a socket URL ({', '.join(_SOCKET_PREFIXES)}) nor an existing "
                        f"telemetry log ({', '.join(_LOG_SUFFIXES)})"
                    )
                self.conn: Any = mavutil.mavlogfile(str(path), notimestamps=False)
            elif url.startswith("tcpin:"):
                self.conn = _TcpInReaccept(url[6:], source_system=system_id, source_component=component_id)
            else:
                self.conn = mavutil.mavlink_connection(
                    url, source_system=system_id, source_component=component_id, retries=2, reconnect_delay=0.2
                )
        except (OSError, ValueError) as exc:
            if isinstance(exc, SceneNotFoundError):
                raise
            raise LinkError(f"cannot open MAVLink connection {url!r}: {exc}; expected e.g. udpin:0.0.0.0:14550, "
                            "udpout:127.0.0.1:14550, tcp:127.0.0.1:5760 or a .tlog file") from exc
        # Choose MAVLink 2 explicitly for this connection only (no global dialect/env switch).
        self.mav: Any = mav2.MAVLink(self.conn, srcSystem=system_id, srcComponent=component_id)
        self.mav.robust_parsing = True
        self.conn.mav = self.mav
        self.conn.first_byte = False
        self.conn.WIRE_PROTOCOL_VERSION = "2.0"

    def send(self, msg: Any) -> None:
        """Encode and send one pymavlink message object."""
        if self.is_log:
            raise InputError(f"cannot send on {self.url!r}: a telemetry log is read-only (use a socket URL)")
        self.mav.send(msg)

    def recv(self, timeout: float) -> Any | None:
        """Next message within ``timeout`` seconds, or None (also None at the end of a log)."""
        end = time.monotonic() + max(0.0, timeout)
        while True:
            msg = self.conn.recv_msg()
            if msg is not None:
                if msg.get_type() == "BAD_DATA":
                    continue
                return msg
            if self.is_log:
                return None
            remaining = end - time.monotonic()
            if remaining <= 0:
                return None
            self.conn.select(min(remaining, 0.05))

    def close(self) -> None:
        """Close the socket or file."""
        with contextlib.suppress(OSError):
            self.conn.close()

    def __enter__(self) -> MavConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wire_from_msg(msg: Any) -> WireItem:
    """MISSION_ITEM_INT or legacy MISSION_ITEM (float param5/param6) -> :class:`WireItem` (x/y per frame)."""
    legacy = msg.get_type() == "MISSION_ITEM"
    x, y = encode_xy(int(msg.frame), float(msg.x), float(msg.y)) if legacy else (int(msg.x), int(msg.y))
    return WireItem(
        seq=int(msg.seq),
        frame=int(msg.frame),
        command=int(msg.command),
        param1=float(msg.param1),
        param2=float(msg.param2),
        param3=float(msg.param3),
        param4=float(msg.param4),
        x=x,
        y=y,
        z=float(msg.z),
        autocontinue=int(msg.autocontinue),
        current=int(msg.current),
        mission_type=int(getattr(msg, "mission_type", 0)),
    )


def decode_event(msg: Any) -> Event | None:
    """The mission-protocol event a message carries, or None for other messages."""
    kind = msg.get_type()
    mission_type = int(getattr(msg, "mission_type", 0))
    if kind in ("MISSION_REQUEST", "MISSION_REQUEST_INT"):
        return ItemRequest(int(msg.seq), mission_type, legacy=kind == "MISSION_REQUEST")
    if kind == "MISSION_ACK":
        return Ack(int(msg.type), mission_type)
    if kind == "MISSION_COUNT":
        return Count(int(msg.count), mission_type)
    if kind in ("MISSION_ITEM_INT", "MISSION_ITEM"):
        return ItemReceived(wire_from_msg(msg))
    return None


def encode_action(action: Action, target_system: int, target_component: int) -> Any:
    """The pymavlink message for a protocol :data:`Action` addressed to ``target_system/component``."""
    ts, tc = target_system, target_component
    if isinstance(action, SendCount):
        return mav2.MAVLink_mission_count_message(ts, tc, action.count, action.mission_type)
    if isinstance(action, SendItem):
        it = action.item
        if action.legacy:
            param5, param6 = decode_xy(it.frame, it.x, it.y)
            return mav2.MAVLink_mission_item_message(
                ts, tc, it.seq, it.frame, it.command, it.current, it.autocontinue, it.param1, it.param2,
                it.param3, it.param4, param5, param6, it.z, it.mission_type,
            )
        return mav2.MAVLink_mission_item_int_message(
            ts, tc, it.seq, it.frame, it.command, it.current, it.autocontinue, it.param1, it.param2,
            it.param3, it.param4, it.x, it.y, it.z, it.mission_type,
        )
    if isinstance(action, SendRequestList):
        return mav2.MAVLink_mission_request_list_message(ts, tc, action.mission_type)
    if isinstance(action, SendRequest):
        if action.legacy:
            return mav2.MAVLink_mission_request_message(ts, tc, action.seq, action.mission_type)
        return mav2.MAVLink_mission_request_int_message(ts, tc, action.seq, action.mission_type)
    if isinstance(action, SendAck):
        return mav2.MAVLink_mission_ack_message(ts, tc, action.result, action.mission_type)
    if isinstance(action, SendClearAll):
        return mav2.MAVLink_mission_clear_all_message(ts, tc, action.mission_type)
    raise TypeError(f"unknown protocol action {action!r}")


def heartbeat(mav_type: int, autopilot: int, base_mode: int = 0, custom_mode: int = 0, status: int = 0) -> Any:
    """A HEARTBEAT message object."""
    return mav2.MAVLink_heartbeat_message(mav_type, autopilot, base_mode, custom_mode, status, 3)


def gcs_heartbeat() -> Any:
    """The HEARTBEAT a ground station sends (type GCS, autopilot INVALID)."""
    return heartbeat(int(mav2.MAV_TYPE_GCS), int(mav2.MAV_AUTOPILOT_INVALID))

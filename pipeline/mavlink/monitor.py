"""Telemetry monitor: position, mission progress, camera triggers and battery from a live link or a .tlog.

:func:`telemetry_event` is a pure mapping from one MAVLink message to a flat event
dict (JSON-ready); :class:`TelemetrySummary` folds events into a summary. The I/O
loop :func:`monitor` reads a socket (asking the vehicle for data streams first,
since ArduPilot sends only HEARTBEAT to a quiet link) or replays a telemetry log,
where ``duration_s`` counts log time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.mavlink.client import GroundStation
from pipeline.mavlink.link import MavConnection

#: Messages the monitor turns into events.
MONITORED = ("GLOBAL_POSITION_INT", "MISSION_CURRENT", "MISSION_ITEM_REACHED", "CAMERA_FEEDBACK", "SYS_STATUS",
             "BATTERY_STATUS", "HEARTBEAT", "STATUSTEXT")
STREAM_RATE_HZ = 4


#: Height above home (m) above which the vehicle counts as airborne, for lift-off/touchdown times.
AIRBORNE_M = 0.3


def _position(msg: Any) -> dict[str, Any]:
    return {
        "boot_s": msg.time_boot_ms / 1000,
        "lat": msg.lat / 1e7,
        "lon": msg.lon / 1e7,
        "alt_amsl_m": msg.alt / 1000,
        "rel_alt_m": msg.relative_alt / 1000,
    }


def _camera(msg: Any) -> dict[str, Any]:
    return {"image": int(msg.img_idx), "lat": msg.lat / 1e7, "lon": msg.lng / 1e7, "rel_alt_m": float(msg.alt_rel)}


def _sys_status(msg: Any) -> dict[str, Any]:
    return {"voltage_v": msg.voltage_battery / 1000, "remaining_pct": int(msg.battery_remaining)}


def _battery(msg: Any) -> dict[str, Any]:
    cells = [v for v in msg.voltages if v != 65535]
    return {"voltage_v": sum(cells) / 1000 if cells else None, "remaining_pct": int(msg.battery_remaining)}


def _heartbeat(msg: Any) -> dict[str, Any]:
    return {"mode": mavutil.mode_string_v10(msg), "armed": bool(msg.base_mode & mav2.MAV_MODE_FLAG_SAFETY_ARMED)}


_EXTRACT: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "GLOBAL_POSITION_INT": ("position", _position),
    "MISSION_CURRENT": ("mission_current", lambda m: {"seq": int(m.seq)}),
    "MISSION_ITEM_REACHED": ("item_reached", lambda m: {"seq": int(m.seq)}),
    "CAMERA_FEEDBACK": ("camera", _camera),
    "SYS_STATUS": ("battery", _sys_status),
    "BATTERY_STATUS": ("battery", _battery),
    "HEARTBEAT": ("heartbeat", _heartbeat),
    "STATUSTEXT": ("status_text", lambda m: {"text": str(m.text), "severity": int(m.severity)}),
}


def telemetry_event(msg: Any, t: float) -> dict[str, Any] | None:
    """The event for one message at ``t`` seconds since the start, or None if not monitored."""
    entry = _EXTRACT.get(msg.get_type())
    if entry is None:
        return None
    if msg.get_type() == "HEARTBEAT" and msg.type == mav2.MAV_TYPE_GCS:
        return None
    kind, extract = entry
    return {"t": round(t, 3), "event": kind, **extract(msg)}


@dataclass
class TelemetrySummary:
    """What a monitoring session saw."""

    messages: int = 0
    duration_s: float = 0.0
    last_position: dict[str, Any] | None = None
    mission_current: int | None = None
    items_reached: list[int] = field(default_factory=list)
    camera_triggers: int = 0
    last_camera: dict[str, Any] | None = None
    battery: dict[str, Any] | None = None
    modes: list[str] = field(default_factory=list)
    status_texts: list[str] = field(default_factory=list)
    armed: bool | None = None
    was_armed: bool = False
    landed_after_flight: bool = False
    liftoff_boot_s: float | None = None
    touchdown_boot_s: float | None = None

    def add(self, event: dict[str, Any]) -> None:
        """Fold one event in."""
        kind = event["event"]
        self.duration_s = max(self.duration_s, float(event["t"]))
        if kind == "position":
            self.last_position = {k: event[k] for k in ("lat", "lon", "alt_amsl_m", "rel_alt_m")}
            if event["rel_alt_m"] > AIRBORNE_M:
                if self.liftoff_boot_s is None:
                    self.liftoff_boot_s = event["boot_s"]
                self.touchdown_boot_s = event["boot_s"]
        elif kind == "heartbeat":
            if event["armed"]:
                self.was_armed = True
            elif self.was_armed:
                self.landed_after_flight = True
            self.armed = event["armed"]
        elif kind == "mission_current":
            self.mission_current = event["seq"]
        elif kind == "item_reached" and event["seq"] not in self.items_reached:
            self.items_reached.append(event["seq"])
        elif kind == "camera":
            self.camera_triggers += 1
            self.last_camera = {k: event[k] for k in ("image", "lat", "lon", "rel_alt_m")}
        elif kind == "battery":
            merged = dict(self.battery or {})
            merged.update({k: event[k] for k in ("voltage_v", "remaining_pct") if event[k] not in (None, 0, -1)})
            self.battery = merged or None
        if kind == "heartbeat" and (not self.modes or self.modes[-1] != event["mode"]):
            self.modes.append(event["mode"])
        elif kind == "status_text":
            self.status_texts.append(event["text"])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "event": "summary",
            "messages": self.messages,
            "duration_s": round(self.duration_s, 3),
            "last_position": self.last_position,
            "mission_current": self.mission_current,
            "items_reached": self.items_reached,
            "camera_triggers": self.camera_triggers,
            "last_camera": self.last_camera,
            "battery": self.battery,
            "modes": self.modes,
            "status_texts": len(self.status_texts),
            "airborne_s": self.airborne_s,
        }

    @property
    def airborne_s(self) -> float | None:
        """Lift-off to touchdown by the vehicle's clock (GLOBAL_POSITION_INT.time_boot_ms), s."""
        if self.liftoff_boot_s is None or self.touchdown_boot_s is None:
            return None
        return round(self.touchdown_boot_s - self.liftoff_boot_s, 2)


def request_streams(gcs: GroundStation, rate_hz: int = STREAM_RATE_HZ) -> None:
    """Ask for all data streams (REQUEST_DATA_STREAM, as ground stations do for ArduPilot)."""
    if gcs.vehicle is None:
        return
    gcs.send(mav2.MAVLink_request_data_stream_message(
        gcs.vehicle.system_id, gcs.vehicle.component_id, int(mav2.MAV_DATA_STREAM_ALL), rate_hz, 1))


def _replay(url: str, duration_s: float | None, on_event: Callable[[dict[str, Any]], None]) -> TelemetrySummary:
    summary = TelemetrySummary()
    with MavConnection(url) as link:
        start: float | None = None
        while True:
            msg = link.recv(0.0)
            if msg is None:
                break
            stamp = float(getattr(msg, "_timestamp", 0.0))
            start = stamp if start is None else start
            if duration_s is not None and stamp - start > duration_s:
                break
            summary.messages += 1
            event = telemetry_event(msg, stamp - start)
            if event is not None:
                summary.add(event)
                on_event(event)
    return summary


def monitor(
    url: str,
    duration_s: float | None,
    on_event: Callable[[dict[str, Any]], None],
    gcs: GroundStation | None = None,
    until_landed: bool = False,
) -> TelemetrySummary:
    """Watch a vehicle (or replay a log) and call ``on_event`` for each telemetry event.

    Args:
        url: Socket URL or telemetry log path.
        duration_s: How long to watch (wall time live, log time for a log); None = to the end of a log.
        on_event: Called with every event dict.
        gcs: An already connected ground station to reuse (live links only).
        until_landed: Live: stop early once the vehicle disarms after having been armed (the mission
            ended with a landing); ``duration_s`` stays the upper bound.
    """
    if gcs is None and not url.startswith(("udpin:", "udpout:", "udp:", "tcp:", "tcpin:")):
        return _replay(url, duration_s, on_event)
    own = gcs is None
    station = gcs or GroundStation(url)
    summary = TelemetrySummary()
    try:
        if station.vehicle is None:
            station.connect()
        request_streams(station)
        start = time.monotonic()
        end = start + (duration_s if duration_s is not None else 10.0)
        while time.monotonic() < end:
            msg = station.recv(max(0.0, end - time.monotonic()))
            if msg is None:
                continue
            summary.messages += 1
            event = telemetry_event(msg, time.monotonic() - start)
            if event is not None:
                summary.add(event)
                on_event(event)
                if until_landed and summary.landed_after_flight:
                    break
    finally:
        if own:
            station.close()
    return summary

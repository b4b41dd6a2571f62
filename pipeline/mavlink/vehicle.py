"""A simulated autopilot that speaks real MAVLink 2 over UDP or TCP: the test double for a flight controller.

It is NOT a flight controller: it answers the mission protocol the way ArduPilot
(or PX4) does (see :mod:`pipeline.mavlink.vehicle_mission`), runs ArduPilot-style
arming checks with ``PreArm:`` STATUSTEXT, and flies the mission kinematically in
simulated time (:mod:`pipeline.mavlink.flightsim`), emitting HEARTBEAT,
MISSION_CURRENT, MISSION_ITEM_REACHED, GLOBAL_POSITION_INT, SYS_STATUS,
BATTERY_STATUS and CAMERA_FEEDBACK.

Like ArduPilot, a new link gets only HEARTBEATs until the ground station asks for
data (REQUEST_DATA_STREAM or MAV_CMD_SET_MESSAGE_INTERVAL), STATUSTEXT goes only
to a link that has sent something, and CAMERA_FEEDBACK goes to every link.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.mavlink.flightsim import CameraShot, CurrentChanged, FlightEvent, FlightSim, Landed, Reached
from pipeline.mavlink.link import MavConnection, encode_action, heartbeat
from pipeline.mavlink.modes import ARM_MODE, MISSION_MODE, mode_number
from pipeline.mavlink.protocol import ItemReceived, ItemRequest
from pipeline.mavlink.vehicle_mission import (
    SEVERITY_CRITICAL,
    ClearAll,
    CountReceived,
    GcsEvent,
    ListRequested,
    MissionServerConfig,
    StatusText,
    VehicleMissionServer,
)
from pipeline.mavlink.vehicle_store import received_item
from pipeline.mavlink.wire import DEG_E7, check_firmware

#: Shimanto town office, Kochi (lat, lon, ground AMSL m): the default simulated home.
SHIMANTO_HOME = (33.2096, 133.1360, 210.0)
_AUTOPILOT = {"ardupilot": int(mav2.MAV_AUTOPILOT_ARDUPILOTMEGA), "px4": int(mav2.MAV_AUTOPILOT_PX4)}
_PREARM_PREFIX = {"ardupilot": "PreArm: ", "px4": "Preflight Fail: "}
_BATTERY_FULL_V = 16.8
_BATTERY_EMPTY_V = 14.0
_ENDURANCE_S = 1200.0


@dataclass(frozen=True)
class VehicleConfig:
    """Behaviour of the simulated vehicle.

    Attributes:
        firmware: ``"ardupilot"`` or ``"px4"``.
        system_id: MAVLink system id.
        home: Home ``(lat, lon, alt_amsl_m)``.
        heartbeat_s: HEARTBEAT period (real seconds).
        stream_hz: Telemetry rate once requested (real Hz).
        time_scale: Simulated seconds per real second (flight only).
        speed_m_s: Cruise speed.
        prearm_ready_after_s: Pre-arm checks fail this long after boot (real ArduPilot: ~40 s).
        prearm_failures: Extra permanent pre-arm failures, e.g. ``("GPS 1: Bad fix",)``.
        ignore_mission: Never answer the mission protocol (a silent vehicle, for timeout tests).
        mission: Mission-protocol behaviour (boot refusal, re-requests, fault injection).
    """

    firmware: str = "ardupilot"
    system_id: int = 1
    home: tuple[float, float, float] = SHIMANTO_HOME
    heartbeat_s: float = 1.0
    stream_hz: float = 4.0
    time_scale: float = 1.0
    speed_m_s: float = 10.0
    prearm_ready_after_s: float = 0.0
    prearm_failures: tuple[str, ...] = ()
    ignore_mission: bool = False
    mission: MissionServerConfig | None = None


def default_mission_config(firmware: str) -> MissionServerConfig:
    """ArduPilot refuses uploads ~1 s after boot; PX4 does not."""
    return MissionServerConfig(firmware=firmware, refuse_after_boot_s=1.0 if firmware == "ardupilot" else 0.0)


class SimVehicle:
    """Serve ``url`` (e.g. ``udpin:127.0.0.1:14550`` or ``tcpin:127.0.0.1:5760``) as a simulated vehicle.

    Use as a context manager (runs in a background thread) or call :meth:`run` (blocks until :meth:`stop`).
    """

    def __init__(self, url: str, config: VehicleConfig | None = None) -> None:
        self.config = config or VehicleConfig()
        self.firmware = check_firmware(self.config.firmware)
        self.link = MavConnection(url, system_id=self.config.system_id, component_id=1)
        self.boot = time.monotonic()
        mission_cfg = self.config.mission or default_mission_config(self.firmware)
        self.server = VehicleMissionServer(mission_cfg, self.config.home, self.boot)
        self.flight = FlightSim(self.config.home, self.config.speed_m_s)
        self.first_seq = 1 if self.firmware == "ardupilot" else 0
        self.mission_version = -1
        self.armed = False
        self.armed_time_s = 0.0
        self.mode = mode_number(self.firmware, "STABILIZE" if self.firmware == "ardupilot" else "POSCTL")
        self.heard_from_gcs = False
        self.received: Counter[str] = Counter()  # message types heard from ground stations (for tests)
        self.stream_period_s: float | None = None
        self._next_heartbeat = 0.0
        self._next_stream = 0.0
        self._last_step = self.boot
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----- lifecycle --------------------------------------------------------------------------------------------
    def __enter__(self) -> SimVehicle:
        self._thread = threading.Thread(target=self.run, name="sim-vehicle", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the loop and close the link."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.link.close()

    def run(self) -> None:
        """Serve until :meth:`stop`."""
        while not self._stop.is_set():
            msg = self.link.recv(0.01)
            now = time.monotonic()
            if msg is not None:
                self._on_message(msg, now)
            self._tick(now)

    # ----- sending ----------------------------------------------------------------------------------------------
    def _send(self, msg: Any) -> None:
        self.link.send(msg)

    def _text(self, severity: int, text: str) -> None:
        if self.heard_from_gcs:
            self._send(mav2.MAVLink_statustext_message(severity, text.encode()[:50]))

    def _send_outputs(self, outputs: list[Any], target: tuple[int, int]) -> None:
        for out in outputs:
            if isinstance(out, StatusText):
                self._text(out.severity, out.text)
            else:
                self._send(encode_action(out, *target))

    def _heartbeat(self) -> None:
        base = int(mav2.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) | (int(mav2.MAV_MODE_FLAG_SAFETY_ARMED) if self.armed else 0)
        status = int(mav2.MAV_STATE_ACTIVE if self.armed else mav2.MAV_STATE_STANDBY)
        self._send(heartbeat(int(mav2.MAV_TYPE_QUADROTOR), _AUTOPILOT[self.firmware], base, self.mode, status))

    # ----- receiving --------------------------------------------------------------------------------------------
    def _on_message(self, msg: Any, now: float) -> None:
        self.heard_from_gcs = True
        self.received[msg.get_type()] += 1
        if getattr(msg, "target_system", self.config.system_id) not in (0, self.config.system_id):
            return
        kind = msg.get_type()
        target = (msg.get_srcSystem(), msg.get_srcComponent())
        event = _decode_gcs(msg)
        if event is not None:
            if not self.config.ignore_mission:
                self._send_outputs(list(self.server.handle(event, now)), target)
            return
        if kind == "COMMAND_LONG":
            self._on_command(msg, now, target)
        elif kind == "REQUEST_DATA_STREAM" and msg.start_stop:
            rate = float(msg.req_message_rate) or self.config.stream_hz
            self.stream_period_s = 1.0 / max(rate, 0.1)
        elif kind == "SET_MODE":
            self.mode = int(msg.custom_mode)

    def _ack(self, command: int, result: int, target: tuple[int, int]) -> None:
        self._send(mav2.MAVLink_command_ack_message(command, result, 0, 0, target[0], target[1]))

    def _on_command(self, msg: Any, now: float, target: tuple[int, int]) -> None:
        cmd = int(msg.command)
        handler = {
            int(mav2.MAV_CMD_DO_SET_MODE): self._cmd_set_mode,
            int(mav2.MAV_CMD_COMPONENT_ARM_DISARM): self._cmd_arm,
            int(mav2.MAV_CMD_MISSION_START): self._cmd_mission_start,
            int(mav2.MAV_CMD_SET_MESSAGE_INTERVAL): self._cmd_message_interval,
            int(mav2.MAV_CMD_REQUEST_MESSAGE): self._cmd_request_message,
        }.get(cmd)
        result = handler(msg, now) if handler is not None else int(mav2.MAV_RESULT_UNSUPPORTED)
        self._ack(cmd, result, target)

    def _cmd_set_mode(self, msg: Any, now: float) -> int:
        self.mode = int(msg.param2)
        return int(mav2.MAV_RESULT_ACCEPTED)

    def _cmd_message_interval(self, msg: Any, now: float) -> int:
        if msg.param2 > 0:
            self.stream_period_s = min(self.stream_period_s or 1e9, msg.param2 / 1e6)
        return int(mav2.MAV_RESULT_ACCEPTED)

    def _cmd_request_message(self, msg: Any, now: float) -> int:
        if int(msg.param1) != int(mav2.MAVLINK_MSG_ID_HOME_POSITION):
            return int(mav2.MAV_RESULT_UNSUPPORTED)
        lat, lon, alt = self.config.home
        self._send(mav2.MAVLink_home_position_message(round(lat * DEG_E7), round(lon * DEG_E7), round(alt * 1000),
                                                      0.0, 0.0, 0.0, [1.0, 0.0, 0.0, 0.0], 0.0, 0.0, 0.0))
        return int(mav2.MAV_RESULT_ACCEPTED)

    def prearm_failures(self, now: float) -> list[str]:
        """Every failing pre-arm check now (empty when the vehicle may arm)."""
        failures = list(self.config.prearm_failures)
        if now - self.boot < self.config.prearm_ready_after_s:
            failures += ["GPS 1: Bad fix", "EKF3 waiting for GPS config data"]
        return failures

    def _cmd_arm(self, msg: Any, now: float) -> int:
        if msg.param1 < 0.5:
            self.armed = False
            return int(mav2.MAV_RESULT_ACCEPTED)
        if self.firmware == "ardupilot" and self.mode == mode_number("ardupilot", "AUTO"):
            self._text(SEVERITY_CRITICAL, "Arm: Mode not armable")
            return int(mav2.MAV_RESULT_FAILED)
        failures = self.prearm_failures(now)
        for text in failures:
            self._text(SEVERITY_CRITICAL, _PREARM_PREFIX[self.firmware] + text)
        if failures:
            return int(mav2.MAV_RESULT_FAILED)
        self.armed = True
        return int(mav2.MAV_RESULT_ACCEPTED)

    def _cmd_mission_start(self, msg: Any, now: float) -> int:
        self._sync_mission()
        if len(self.server.mission()) <= self.first_seq:
            self._text(SEVERITY_CRITICAL, "Mission start failed: no mission loaded")
            return int(mav2.MAV_RESULT_FAILED)
        if not self.armed:
            self._text(SEVERITY_CRITICAL, "Mission start failed: vehicle not armed")
            return int(mav2.MAV_RESULT_FAILED)
        self.mode = mode_number(self.firmware, MISSION_MODE[self.firmware])
        first = int(msg.param1) if msg.param1 >= self.first_seq else self.first_seq
        self._on_flight_events(self.flight.start(first))
        return int(mav2.MAV_RESULT_ACCEPTED)

    # ----- periodic ---------------------------------------------------------------------------------------------
    def _sync_mission(self) -> None:
        if self.server.version != self.mission_version:
            self.mission_version = self.server.version
            self.flight.load(self.server.mission(), self.first_seq)

    def _tick(self, now: float) -> None:
        self._send_outputs(list(self.server.tick(now)), (255, 0))
        self._sync_mission()
        dt = (now - self._last_step) * self.config.time_scale
        self._last_step = now
        if self.armed:
            self.armed_time_s += dt
            if self.mode == mode_number(self.firmware, MISSION_MODE[self.firmware]):
                self._on_flight_events(self.flight.step(dt))
        if now >= self._next_heartbeat:
            self._heartbeat()
            self._next_heartbeat = now + self.config.heartbeat_s
        if self.stream_period_s is not None and now >= self._next_stream:
            self._stream(now)
            self._next_stream = now + self.stream_period_s

    def _on_flight_events(self, events: list[FlightEvent]) -> None:
        for ev in events:
            if isinstance(ev, CurrentChanged):
                self._send_mission_current()
            elif isinstance(ev, Reached):
                self._send(mav2.MAVLink_mission_item_reached_message(ev.seq))
            elif isinstance(ev, CameraShot):
                self._send(mav2.MAVLink_camera_feedback_message(
                    int(time.time() * 1e6), 0, 0, ev.index, round(ev.lat * DEG_E7), round(ev.lon * DEG_E7),
                    ev.rel_alt + self.config.home[2], ev.rel_alt, 0.0, 0.0, 0.0, 0.0, 0, ev.index,
                ))
            elif isinstance(ev, Landed):
                self.armed = False
                self.mode = mode_number(self.firmware, ARM_MODE[self.firmware])

    def _send_mission_current(self) -> None:
        total = len(self.server.mission())
        state = 5 if self.flight.complete else 3 if self.flight.active else 2 if total > self.first_seq else 1
        self._send(mav2.MAVLink_mission_current_message(min(self.flight.seq, max(total - 1, 0)), total, state, 0))

    def battery(self) -> tuple[float, int]:
        """(voltage V, remaining %): linear drain over the endurance while armed."""
        remaining = max(0.0, 1.0 - self.armed_time_s / _ENDURANCE_S)
        return _BATTERY_EMPTY_V + (_BATTERY_FULL_V - _BATTERY_EMPTY_V) * remaining, round(remaining * 100)

    def _stream(self, now: float) -> None:
        f = self.flight
        boot_ms = int((now - self.boot) * 1000) & 0xFFFFFFFF
        vn, ve, vu = f.velocity if f.active else (0.0, 0.0, 0.0)
        self._send(mav2.MAVLink_global_position_int_message(
            boot_ms, round(f.lat * DEG_E7), round(f.lon * DEG_E7), round((f.rel_alt + self.config.home[2]) * 1000),
            round(f.rel_alt * 1000), round(vn * 100), round(ve * 100), round(-vu * 100), 0,
        ))
        volts, percent = self.battery()
        current_ca = 1500 if self.armed else 50
        self._send(mav2.MAVLink_sys_status_message(0, 0, 0, 100, round(volts * 1000), current_ca, percent,
                                                   0, 0, 0, 0, 0, 0))
        cells = [round(volts * 1000)] + [65535] * 9
        self._send(mav2.MAVLink_battery_status_message(0, 0, 0, 2500, cells, current_ca, -1, -1, percent))
        self._send_mission_current()


def _decode_gcs(msg: Any) -> GcsEvent | None:
    kind = msg.get_type()
    mission_type = int(getattr(msg, "mission_type", 0))
    if kind == "MISSION_COUNT":
        return CountReceived(int(msg.count), mission_type)
    if kind in ("MISSION_ITEM_INT", "MISSION_ITEM"):
        return ItemReceived(received_item(msg))
    if kind == "MISSION_REQUEST_LIST":
        return ListRequested(mission_type)
    if kind in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
        return ItemRequest(int(msg.seq), mission_type, legacy=kind == "MISSION_REQUEST")
    if kind == "MISSION_CLEAR_ALL":
        return ClearAll(mission_type)
    return None

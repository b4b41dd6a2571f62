"""Vehicle commands: set mode, arm with pre-arm feedback, start the mission.

Each command is a COMMAND_LONG answered by COMMAND_ACK. It is re-sent (with the
``confirmation`` field counting up) when no ack arrives within the policy's
timeout. A refusal raises :class:`~pipeline.mavlink.errors.CommandRejectedError`
that names the MAV_RESULT and relays the STATUSTEXT the vehicle sent meanwhile
(e.g. ``PreArm: GPS 1: Bad fix``).

Start sequence (ArduCopter will not arm in AUTO): set the arming mode (GUIDED on
ArduPilot), arm, send ``MAV_CMD_MISSION_START`` (ArduPilot switches to AUTO
itself), then make sure the vehicle reports the requested mission mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.errors import LinkError
from pipeline.mavlink.client import GroundStation
from pipeline.mavlink.errors import CommandRejectedError, LinkTimeoutError
from pipeline.mavlink.modes import ARM_MODE, mode_name, mode_number

#: Trailing window (s) after a refusal in which further STATUSTEXT lines are still collected.
_TEXT_GRACE_S = 0.2


def result_text(result: int) -> str:
    """Name of a MAV_RESULT value."""
    entry = mav2.enums["MAV_RESULT"].get(int(result))
    return entry.name if entry is not None and entry.name else f"MAV_RESULT({result})"


def command_name(command: int) -> str:
    """Name of a MAV_CMD value."""
    entry = mav2.enums["MAV_CMD"].get(int(command))
    return entry.name if entry is not None and entry.name else f"MAV_CMD({command})"


#: STATUSTEXT prefixes of an arming refusal's own reasons (ArduPilot ``PreArm:``/``Arm:``, PX4 ``Preflight Fail:``).
REFUSAL_PREFIXES = ("PreArm:", "Arm:", "Preflight Fail:")


def refusal_reasons(texts: list[str]) -> list[str]:
    """The refusal's own messages among ``texts`` (all of them when none has a refusal prefix), de-duplicated."""
    own = [t for t in texts if t.startswith(REFUSAL_PREFIXES)]
    return list(dict.fromkeys(own or [t for t in texts if t]))


def send_command(gcs: GroundStation, command: int, *params: float, what: str = "") -> None:
    """Send COMMAND_LONG and wait for an accepted COMMAND_ACK.

    Raises:
        CommandRejectedError: The ack was not ACCEPTED (message has the result and the vehicle's STATUSTEXT).
        LinkTimeoutError: No ack after the policy's retries.
    """
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    values = [float(p) for p in params] + [0.0] * (7 - len(params))
    first_text = len(gcs.status_texts)
    label = what or command_name(command)
    for attempt in range(gcs.policy.retries + 1):
        gcs.send(mav2.MAVLink_command_long_message(
            gcs.vehicle.system_id, gcs.vehicle.component_id, command, min(attempt, 255), *values))
        end = time.monotonic() + gcs.policy.timeout_s
        while time.monotonic() < end:
            msg = gcs.recv(max(0.0, end - time.monotonic()))
            if msg is None or msg.get_type() != "COMMAND_ACK" or int(msg.command) != command:
                continue
            if int(msg.result) == mav2.MAV_RESULT_ACCEPTED:
                return
            if int(msg.result) == mav2.MAV_RESULT_IN_PROGRESS:
                end = time.monotonic() + gcs.policy.timeout_s
                continue
            grace = time.monotonic() + _TEXT_GRACE_S
            while time.monotonic() < grace:
                gcs.recv(max(0.0, grace - time.monotonic()))
            said = refusal_reasons(gcs.status_texts[first_text:])
            reasons = ("; vehicle said: " + " | ".join(said)) if said else ""
            raise CommandRejectedError(f"{label} refused: {result_text(int(msg.result))}{reasons}")
    raise LinkTimeoutError(
        f"no COMMAND_ACK for {label} after {gcs.policy.retries} retries of {gcs.policy.timeout_s:g} s"
    )


def set_mode(gcs: GroundStation, mode: str) -> None:
    """Switch flight mode with MAV_CMD_DO_SET_MODE (custom mode)."""
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    number = mode_number(gcs.vehicle.firmware, mode)
    send_command(gcs, int(mav2.MAV_CMD_DO_SET_MODE), float(mav2.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), float(number),
                 what=f"mode change to {mode.upper()}")


def arm(gcs: GroundStation, wait_ready_s: float = 0.0, progress: Callable[[str], None] | None = None,
        retry_s: float = 2.0) -> None:
    """Arm; a refusal relays the vehicle's own ``PreArm:``/``Arm:`` messages.

    With ``wait_ready_s`` > 0 a refusal is retried every ``retry_s`` until the pre-arm checks pass
    (a cold ArduCopter needs some tens of seconds for GPS and EKF), calling ``progress`` with each
    new set of reasons; the last refusal is raised when the time is up.
    """
    start = time.monotonic()
    last_reasons = ""
    while True:
        try:
            send_command(gcs, int(mav2.MAV_CMD_COMPONENT_ARM_DISARM), 1.0, what="arming")
            return
        except CommandRejectedError as exc:
            waited = time.monotonic() - start
            if waited + retry_s > wait_ready_s:
                raise
            reasons = str(exc).partition("vehicle said: ")[2] or str(exc)
            if progress is not None and reasons != last_reasons:
                progress(f"waiting for pre-arm checks ({waited:.0f} s of {wait_ready_s:g} s): {reasons}")
            last_reasons = reasons
            end = time.monotonic() + retry_s
            while time.monotonic() < end:
                gcs.recv(max(0.0, end - time.monotonic()))


def current_mode(gcs: GroundStation, wait_s: float) -> tuple[str, bool]:
    """(mode name, armed) from the next vehicle HEARTBEAT within ``wait_s``."""
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    gcs.last_heartbeat = None
    end = time.monotonic() + wait_s
    while time.monotonic() < end and gcs.last_heartbeat is None:
        gcs.recv(max(0.0, end - time.monotonic()))
    hb = gcs.last_heartbeat
    if hb is None:
        raise LinkTimeoutError(f"no HEARTBEAT from the vehicle within {wait_s:g} s")
    return mode_name(gcs.vehicle.firmware, int(hb.custom_mode)), bool(hb.base_mode & mav2.MAV_MODE_FLAG_SAFETY_ARMED)


@dataclass(frozen=True)
class StartReport:
    """Outcome of :func:`start_mission`."""

    arm_mode: str
    mode: str
    armed: bool


def start_mission(gcs: GroundStation, mode: str = "AUTO", heartbeat_wait_s: float = 3.0, wait_ready_s: float = 0.0,
                  progress: Callable[[str], None] | None = None) -> StartReport:
    """Set the arming mode, arm (waiting up to ``wait_ready_s`` for pre-arm checks), MAV_CMD_MISSION_START,
    and confirm ``mode`` from the HEARTBEAT."""
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    firmware = gcs.vehicle.firmware
    wanted = mode_name(firmware, mode_number(firmware, mode))
    arm_mode = ARM_MODE[firmware]
    set_mode(gcs, arm_mode)
    arm(gcs, wait_ready_s, progress)
    send_command(gcs, int(mav2.MAV_CMD_MISSION_START), 0.0, 0.0, what="mission start")
    now_mode, armed = current_mode(gcs, heartbeat_wait_s)
    if now_mode != wanted:
        set_mode(gcs, wanted)
        now_mode, armed = current_mode(gcs, heartbeat_wait_s)
    if now_mode != wanted:
        raise CommandRejectedError(f"vehicle is in {now_mode}, not {wanted}, after the mission start")
    return StartReport(arm_mode, now_mode, armed)

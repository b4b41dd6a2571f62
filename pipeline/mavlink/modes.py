"""Flight-mode tables: name <-> HEARTBEAT.custom_mode per firmware.

ArduCopter numbers its modes directly; PX4 packs ``main_mode << 16 | sub_mode << 24``.
"""

from __future__ import annotations

from pipeline.errors import unknown_name

ARDUCOPTER_MODES: dict[str, int] = {
    "STABILIZE": 0,
    "ACRO": 1,
    "ALT_HOLD": 2,
    "AUTO": 3,
    "GUIDED": 4,
    "LOITER": 5,
    "RTL": 6,
    "LAND": 9,
}


def _px4(main: int, sub: int = 0) -> int:
    return (main << 16) | (sub << 24)


PX4_MODES: dict[str, int] = {
    "MANUAL": _px4(1),
    "POSCTL": _px4(3),
    "AUTO.TAKEOFF": _px4(4, 2),
    "AUTO.LOITER": _px4(4, 3),
    "AUTO.MISSION": _px4(4, 4),
    "AUTO.RTL": _px4(4, 5),
    "AUTO.LAND": _px4(4, 6),
}
#: Short names accepted for PX4 (``--mode AUTO`` means mission mode).
PX4_ALIASES: dict[str, str] = {"AUTO": "AUTO.MISSION", "GUIDED": "AUTO.LOITER", "LOITER": "AUTO.LOITER",
                               "RTL": "AUTO.RTL", "LAND": "AUTO.LAND"}

MODE_TABLES: dict[str, dict[str, int]] = {"ardupilot": ARDUCOPTER_MODES, "px4": PX4_MODES}
#: Mode a copter is armed in before MAV_CMD_MISSION_START (ArduCopter will not arm in AUTO).
ARM_MODE: dict[str, str] = {"ardupilot": "GUIDED", "px4": "AUTO.LOITER"}
#: Mode the mission runs in.
MISSION_MODE: dict[str, str] = {"ardupilot": "AUTO", "px4": "AUTO.MISSION"}


def mode_number(firmware: str, name: str) -> int:
    """custom_mode for a mode name (case-insensitive; PX4 aliases allowed)."""
    table = MODE_TABLES[firmware]
    key = name.upper()
    if firmware == "px4":
        key = PX4_ALIASES.get(key, key)
    if key not in table:
        raise unknown_name(f"{firmware} flight mode", name, tuple(table))
    return table[key]


def mode_name(firmware: str, number: int) -> str:
    """Mode name for a custom_mode, or ``"MODE(n)"``."""
    for name, value in MODE_TABLES.get(firmware, {}).items():
        if value == number:
            return name
    return f"MODE({number})"

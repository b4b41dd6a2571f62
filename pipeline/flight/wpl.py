"""``QGC WPL 110`` waypoint files (Mission Planner / ArduPilot format).

One tab-separated row per item: ``seq current frame command p1 p2 p3 p4 lat lon alt
autocontinue``; ``#`` lines are comments. Mission Planner's convention, as ArduPilot's
wiki writes the format: row 0 is the home position, a ``NAV_WAYPOINT`` (16) with an
absolute altitude. A file whose row 0 is another command (a ``NAV_TAKEOFF``, as in
MAVSDK's ``mission_planner_sample.txt``) has no home row: that row is kept as the first
mission item and the plan has no home (:attr:`Mission.home_source` says which case
applied, and ``plan check`` prints it).
"""

from __future__ import annotations

import math
from pathlib import Path

from pipeline.common.atomic import atomic_write_text
from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.flight.errors import MissionFileError

WPL_HEADER = "QGC WPL 110"


def _fmt(value: float, digits: int) -> str:
    return "nan" if math.isnan(value) else f"{value:.{digits}f}"


def waypoints_text(mission: Mission) -> str:
    """The ``QGC WPL 110`` text of ``mission`` (row 0 home, then the items)."""
    home = mission.home or (0.0, 0.0, 0.0)
    rows = [WPL_HEADER]
    home_item = MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL), lat=home[0], lon=home[1], alt=home[2])
    for seq, item in enumerate((home_item, *mission.items)):
        cells = [str(seq), "1" if seq == 0 else "0", str(int(item.frame)), str(int(item.command))]
        cells += [_fmt(p, 8) for p in item.params]
        cells += [_fmt(item.lat, 8), _fmt(item.lon, 8), _fmt(item.alt, 6), "1" if item.autocontinue else "0"]
        rows.append("\t".join(cells))
    return "\n".join(rows) + "\n"


def write_waypoints(mission: Mission, path: Path | str) -> Path:
    """Write ``mission`` as a ``QGC WPL 110`` file, atomically; return the path."""
    return atomic_write_text(path, waypoints_text(mission))


def parse_waypoints(text: str, source: str = "<text>") -> Mission:
    """Parse ``QGC WPL 110`` text into a :class:`Mission`.

    Raises:
        MissionFileError: wrong header, a row without 12 numeric fields, or no items.
    """
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not lines or not lines[0][1].startswith("QGC WPL"):
        raise MissionFileError(f"{source}: first line must be 'QGC WPL 110'; this is not a waypoint file")
    if lines[0][1].split()[-1] != "110":
        raise MissionFileError(
            f"{source}: waypoint file version {lines[0][1]!r} is not supported; expected QGC WPL 110"
        )
    rows: list[MissionItem] = []
    home: tuple[float, float, float] | None = None
    home_source = ""
    for lineno, line in lines[1:]:
        cells = line.split("\t") if "\t" in line else line.split()
        if len(cells) != 12:
            raise MissionFileError(f"{source}:{lineno}: expected 12 tab-separated fields, got {len(cells)}: {line!r}")
        try:
            seq, frame, command = int(cells[0]), int(cells[2]), int(cells[3])
            nums = [float(c) for c in cells[4:11]]
            autocontinue = int(float(cells[11])) != 0
        except ValueError as exc:
            raise MissionFileError(f"{source}:{lineno}: a field is not a number ({exc}): {line!r}") from exc
        if seq == 0 and not rows and not home_source and command == int(Cmd.NAV_WAYPOINT):
            home_source = f"row 0 of the QGC WPL file (line {lineno})"
            if nums[4] != 0.0 or nums[5] != 0.0:
                home = (nums[4], nums[5], nums[6])
            else:
                home_source += ", all zero: no planned home"
            continue
        if not rows and not home_source:
            home_source = (f"none: row 0 (line {lineno}) is command {command}, not a NAV_WAYPOINT home, "
                           "and is kept as mission item 1")
        rows.append(MissionItem(command, frame, (nums[0], nums[1], nums[2], nums[3]), nums[4], nums[5], nums[6],
                                autocontinue))
    if not rows:
        raise MissionFileError(f"{source}: the waypoint file has no mission items after the header and home row")
    return Mission(items=tuple(rows), home=home, home_source=home_source)


def read_waypoints(path: Path | str) -> Mission:
    """Read a ``QGC WPL 110`` file (see :func:`parse_waypoints`)."""
    path = Path(path)
    return parse_waypoints(path.read_text(encoding="utf-8", errors="replace"), str(path))

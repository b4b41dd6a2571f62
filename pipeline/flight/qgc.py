"""Mission file I/O in one place: QGC ``.plan`` and ``QGC WPL 110``, read and write.

:func:`read_mission_file` looks at the content (not the extension) and
dispatches to the right reader.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.mission import Mission
from pipeline.errors import SceneNotFoundError
from pipeline.flight.errors import MissionFileError
from pipeline.flight.qgc_plan import parse_plan, plan_dict, read_plan, write_plan
from pipeline.flight.wpl import parse_waypoints, read_waypoints, waypoints_text, write_waypoints

__all__ = [
    "parse_plan", "parse_waypoints", "plan_dict", "read_mission_file", "read_plan", "read_waypoints",
    "waypoints_text", "write_plan", "write_waypoints",
]


def read_mission_file(path: Path | str) -> Mission:
    """Read any supported mission file, choosing the reader from its content.

    JSON with ``fileType: "Plan"`` goes to the QGC plan reader; text starting
    (after ``#`` comments) with ``QGC WPL`` to the waypoint reader.

    Raises:
        SceneNotFoundError: the file does not exist.
        MissionFileError: the content is not a supported mission (a KML boundary,
            a licence text, a malformed plan...), with the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"mission file {str(path)!r} does not exist; check the path")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MissionFileError(f"{path}: binary content, not a mission file (expected a .plan or QGC WPL 110)") from exc
    head = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
    if head.startswith("{"):
        import json

        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MissionFileError(f"{path}: malformed JSON ({exc}); expected a QGroundControl .plan file") from exc
        return parse_plan(doc, str(path))
    if head.startswith("QGC WPL"):
        return parse_waypoints(text, str(path))
    if head.startswith("<") and "<kml" in text[:2000]:
        raise MissionFileError(f"{path}: a KML file holds a boundary, not a mission; plan one from it with "
                               "'shimanto plan survey BOUNDARY.kml ...'")
    raise MissionFileError(f"{path}: not a mission file (first line {head[:40]!r}); expected a QGroundControl "
                           ".plan (JSON) or a 'QGC WPL 110' waypoint file")

"""The checks a plan passes before it is written or sent to a vehicle, shared by ``plan check`` and ``fly upload``.

:func:`plan_issues` runs :func:`~pipeline.flight.checks.check_mission` (150 m above
ground, no-fly zones and geofences, distance from home, daylight/sun; terrain from a DEM
when given). :func:`refuse_unless_cleared` turns the result into a decision: any
``error`` is a hard limit (:class:`~pipeline.errors.SafetyLimitError`, exit 3), and every
``warning`` must be accepted by its code (``--accept agl-unknown``), so that nothing
reaches a vehicle on a warning nobody read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from pipeline.core.mission import Mission
from pipeline.errors import InputError, SafetyLimitError
from pipeline.flight.checks import CheckSettings, Issue, check_mission
from pipeline.flight.config import FlightParams

#: Codes of the warnings the checks can raise (what ``--accept`` takes).
WARNING_CODES = ("agl-unknown", "imaging-window", "vlos-distance")


def parse_date(text: str | None, option: str = "--date") -> dt.date | None:
    """``YYYY-MM-DD`` of a ``--date`` option, or None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date; use YYYY-MM-DD, e.g. 2026-07-01") from None


def parse_time(text: str | None) -> dt.time | None:
    """``HH:MM`` local time of a ``--start`` option, or None."""
    if text is None:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise InputError(f"--start {text!r} is not a clock time; use HH:MM local time, e.g. 10:30") from None


def check_settings(cfg: FlightParams, max_distance_m: float | None, date: dt.date | None,
                   start: dt.time | None) -> CheckSettings:
    """Limits from ``params.yaml`` (``flight`` section); ``max_distance_m`` given on the command line is hard."""
    return CheckSettings(cfg.max_agl_m, max_distance_m or cfg.max_distance_m, max_distance_m is not None,
                         cfg.min_sun_elevation_deg, date, start)


def plan_issues(mission: Mission, settings: CheckSettings, dem: Path | None = None,
                no_fly: Path | None = None) -> list[Issue]:
    """Every issue of ``mission`` (errors first), loading the DEM and no-fly file when given."""
    from pipeline.flight.boundary import read_no_fly
    from pipeline.flight.terrain import load_dem

    return check_mission(mission, settings, load_dem(dem) if dem else None, read_no_fly(no_fly) if no_fly else ())


def check_accept_names(accept: Iterable[str]) -> tuple[str, ...]:
    """The ``--accept`` codes, refused when one is not a warning code."""
    names = tuple(accept)
    unknown = [n for n in names if n not in WARNING_CODES]
    if unknown:
        raise InputError(f"--accept {', '.join(unknown)}: not a warning code; expected one of "
                         f"{', '.join(WARNING_CODES)} (errors cannot be accepted)")
    return names


def refuse_unless_cleared(issues: Iterable[Issue], accept: Iterable[str] = (), action: str = "upload") -> None:
    """Raise :class:`SafetyLimitError` on any error, or on a warning whose code is not in ``accept``."""
    issues = list(issues)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise SafetyLimitError(f"{len(errors)} hard limit(s) broken, {action} refused: "
                               + " | ".join(f"[{i.code}] {i.message}" for i in errors))
    accepted = set(check_accept_names(accept))
    pending = [i for i in issues if i.severity == "warning" and i.code not in accepted]
    if pending:
        codes = " ".join(f"--accept {c}" for c in dict.fromkeys(i.code for i in pending))
        raise SafetyLimitError(f"{len(pending)} warning(s) not accepted, {action} refused: "
                               + " | ".join(f"[{i.code}] {i.message}" for i in pending)
                               + f"; after checking them, pass {codes}")


def home_line(mission: Mission) -> str:
    """What was taken as home, for ``plan check`` (``home: ... (source)``)."""
    if mission.home is None:
        return f"home: {mission.home_source or 'none in the file'}"
    lat, lon, alt = mission.home
    source = f" ({mission.home_source})" if mission.home_source else ""
    return f"home: {lat:.7f}, {lon:.7f}, {alt:.2f} m AMSL{source}"

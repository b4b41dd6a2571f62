"""Flights: the one definition of a dated flight folder.

Folder convention (batch reprocessing, ``shimanto simulate season``): ``ROOT/<area>_<YYYYMMDD>_<sensor>/``,
e.g. ``data/raw/kubokawa-east_20260612_rededge-mx/``. ``area`` is letters, digits and dashes; ``sensor`` a
sensor registry name (``shimanto indices --sensor``). A flight folder is a survey folder
(:mod:`pipeline.core.survey`). A survey folder with another name is still a flight: its date then comes
from ``survey.json`` (:func:`flight_date`). Pure: no file I/O here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.survey import SurveyFolder
from pipeline.errors import InputError

FLIGHT_DIR_PATTERN = re.compile(r"^(?P<area>[A-Za-z0-9][A-Za-z0-9-]*)_(?P<date>\d{8})_(?P<sensor>[a-z0-9][a-z0-9-]*)$")


@dataclass(frozen=True)
class Flight:
    """One flight: a survey folder flown on one date.

    Attributes:
        path: The flight's survey folder.
        date: Flight date (local date in Japan).
        area: Area or field-group name from the folder name (``""`` when the name does not follow
            the convention).
        sensor: Sensor registry name from the folder name (or ``survey.json``; ``""`` when unknown).
    """

    path: Path
    date: dt.date
    area: str = ""
    sensor: str = ""

    @property
    def flight_id(self) -> str:
        """The folder name, unique under its root."""
        return self.path.name

    @property
    def survey(self) -> SurveyFolder:
        """The survey-folder contract of this flight's folder."""
        return SurveyFolder(self.path)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (path as a string, ISO date)."""
        return {"path": str(self.path), "date": self.date.isoformat(), "area": self.area, "sensor": self.sensor}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Flight:
        """Inverse of :meth:`to_dict`."""
        return cls(Path(doc["path"]), dt.date.fromisoformat(str(doc["date"])), str(doc.get("area") or ""),
                   str(doc.get("sensor") or ""))


def parse_flight_dir(path: Path) -> Flight | str:
    """A :class:`Flight` for a folder named by the convention, else the reason it is not one."""
    match = FLIGHT_DIR_PATTERN.match(path.name)
    if match is None:
        return "name does not follow <area>_<YYYYMMDD>_<sensor>"
    try:
        day = dt.datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return f"{match['date']!r} is not a valid YYYYMMDD date"
    return Flight(path=path, date=day, area=match["area"], sensor=match["sensor"])


def flight_date(meta: Mapping[str, Any], where: str) -> dt.date:
    """The flight date from ``survey.json``'s ``date`` (ISO date or datetime).

    Raises:
        InputError: no date, or not an ISO date.
    """
    raw = meta.get("date")
    if raw is None:
        raise InputError(f"{where}: survey.json has no 'date'; add the flight date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise InputError(f"{where}: survey.json date {raw!r} is not an ISO date; expected YYYY-MM-DD") from None


def flight_of(path: Path, meta: Mapping[str, Any], where: str) -> Flight:
    """The flight of a survey folder: named by the convention, else dated by ``survey.json``."""
    parsed = parse_flight_dir(path)
    if isinstance(parsed, Flight):
        return parsed
    return Flight(path=path, date=flight_date(meta, where), sensor=str(meta.get("sensor") or ""))

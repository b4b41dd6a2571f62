"""Find flights under a root folder by the documented folder convention.

Convention: ``ROOT/<area>_<YYYYMMDD>_<sensor>/`` — one folder per flight, e.g.
``data/raw/kubokawa-east_20260612_rededge-mx/``. ``area`` is letters, digits and
dashes; ``sensor`` a registry name (``shimanto indices --sensor``). Each flight
folder is a survey folder (``scene.tif``, ``fields.geojson``, optional
``labels.geojson``, ``survey.json``; see :mod:`pipeline.common.survey`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.errors import SceneNotFoundError

FLIGHT_DIR_PATTERN = re.compile(r"^(?P<area>[A-Za-z0-9][A-Za-z0-9-]*)_(?P<date>\d{8})_(?P<sensor>[a-z0-9][a-z0-9-]*)$")


@dataclass(frozen=True)
class Flight:
    """One flight folder.

    Attributes:
        path: The folder.
        area: Area or field-group name.
        date: Flight date.
        sensor: Sensor registry name.
    """

    path: Path
    area: str
    date: date
    sensor: str

    @property
    def flight_id(self) -> str:
        """The folder name, unique under the root."""
        return self.path.name


@dataclass(frozen=True)
class Discovery:
    """Flights found, and folders that did not follow the convention (with why)."""

    flights: tuple[Flight, ...]
    ignored: tuple[tuple[Path, str], ...]


def parse_flight_dir(path: Path) -> Flight | str:
    """A :class:`Flight` for a conforming folder name, else the reason it is not one."""
    match = FLIGHT_DIR_PATTERN.match(path.name)
    if match is None:
        return "name does not follow <area>_<YYYYMMDD>_<sensor>"
    try:
        day = datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return f"{match['date']!r} is not a valid YYYYMMDD date"
    return Flight(path=path, area=match["area"], date=day, sensor=match["sensor"])


def discover_flights(root: Path) -> Discovery:
    """List the flights under ``root`` sorted by area then date.

    Raises:
        SceneNotFoundError: ``root`` is not a folder.
    """
    if not root.is_dir():
        raise SceneNotFoundError(
            f"flight root {str(root)!r} is not a folder; expected folders named <area>_<YYYYMMDD>_<sensor>"
        )
    flights: list[Flight] = []
    ignored: list[tuple[Path, str]] = []
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        parsed = parse_flight_dir(child)
        if isinstance(parsed, str):
            ignored.append((child, parsed))
        else:
            flights.append(parsed)
    flights.sort(key=lambda f: (f.area, f.date, f.flight_id))
    return Discovery(tuple(flights), tuple(ignored))

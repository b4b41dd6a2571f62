"""Find flights under a root folder by the folder convention of :mod:`pipeline.core.flight`
(``ROOT/<area>_<YYYYMMDD>_<sensor>/``, each a survey folder; see :mod:`pipeline.core.survey`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.flight import Flight, parse_flight_dir
from pipeline.errors import SceneNotFoundError


@dataclass(frozen=True)
class Discovery:
    """Flights found, and folders that did not follow the convention (with why)."""

    flights: tuple[Flight, ...]
    ignored: tuple[tuple[Path, str], ...]


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

"""Specs for a season of flights over the same site (for ``simulate season`` / batch reprocessing).

Every flight keeps the base spec's layout seed (same fields, growers, planting
dates, disease origins and static textures), gets its own noise seed
(``base.seed + i``), and takes its growth from its date. Disease progress grows
linearly from the onset date::

    progress(d) = clip((d - onset) / spread_days, 0, max_progress)

so patches appear at their origins first and spread over the season.

:class:`SeasonSpec` and :func:`simulate_season` (batch reprocessing, issue 8)
write a whole season to disk under the folder convention of
:mod:`pipeline.batch.discover`: ``ROOT/<area>_<YYYYMMDD>_<sensor>/``, one
survey folder per flight, plus a ``season.json`` manifest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from pipeline.common.atomic import atomic_write_json
from pipeline.errors import InputError
from pipeline.simulate.survey import SurveySpec, simulate_survey

AREA_HELP = "letters, digits and dashes"


def disease_progress_on(day: dt.date, onset: dt.date, spread_days: float, max_progress: float = 2.0) -> float:
    """Disease progress on ``day``: 0 before ``onset``, 1 after ``spread_days`` days, capped at ``max_progress``."""
    return min(max((day - onset).days / spread_days, 0.0), max_progress)


def season_specs(
    base: SurveySpec,
    dates: Sequence[dt.date],
    onset: dt.date,
    spread_days: float = 30.0,
    max_progress: float = 2.0,
) -> list[SurveySpec]:
    """One :class:`SurveySpec` per flight date over the site of ``base``.

    Args:
        base: Site and sensor settings; its ``layout_seed`` (or ``seed``) fixes the site.
        dates: Flight dates (any order; kept as given).
        onset: Date the first (origin) patches appear.
        spread_days: Days from onset to nominal disease extent (progress 1), > 0.
        max_progress: Cap on progress (patches stay inside their fields anyway).

    Raises:
        InputError: no dates, repeated dates, or ``spread_days <= 0``.
    """
    problems = []
    if not dates:
        problems.append("a season needs at least one flight date")
    if len(set(dates)) != len(dates):
        problems.append("flight dates repeat; give each date once")
    if not spread_days > 0:
        problems.append(f"spread_days {spread_days!r} must be > 0 (e.g. 30)")
    if problems:
        raise InputError("cannot plan the season: " + "; ".join(problems))
    return [
        dataclasses.replace(
            base,
            seed=base.seed + i,
            layout_seed=base.site_seed,
            date=day,
            disease_progress=disease_progress_on(day, onset, spread_days, max_progress),
        )
        for i, day in enumerate(dates)
    ]


@dataclasses.dataclass(frozen=True)
class SeasonSpec:
    """A season of evenly spaced flights over one site, written by :func:`simulate_season`.

    Attributes:
        seed: Season seed: the layout seed (fields, growers, disease origins);
            flight ``i`` gets noise seed ``seed * 1000 + i``.
        flights: Number of flights (>= 2).
        area: Area name used in folder names (letters, digits, dashes).
        start: Date of the first flight.
        interval_days: Days between flights (>= 1).
        hectares: Survey footprint, ha.
        gsd_cm: Ground sample distance, cm/pixel.
        onset_offset_days: Disease onset relative to ``start`` (negative: before
            the first flight, so the first flight already shows small patches).
        spread_days: Days from onset to nominal disease extent (progress 1).
        max_progress: Cap on disease progress.
        sensor: Sensor registry name.
    """

    seed: int
    flights: int = 6
    area: str = "kubokawa"
    start: dt.date = dt.date(2026, 6, 1)
    interval_days: int = 7
    hectares: float = 2.0
    gsd_cm: float = 10.0
    onset_offset_days: int = -9
    spread_days: float = 30.0
    max_progress: float = 2.0
    sensor: str = "rededge-mx"

    def problems(self) -> list[str]:
        """Every reason this season cannot be simulated."""
        out = []
        if self.flights < 2:
            out.append(f"flights {self.flights} must be at least 2 (a season needs several flights)")
        if self.interval_days < 1:
            out.append(f"interval_days {self.interval_days} must be at least 1")
        if not self.area or not self.area.isascii() or not all(c.isalnum() or c == "-" for c in self.area):
            out.append(f"area {self.area!r} must be {AREA_HELP} (it names the flight folders)")
        if "_" in self.sensor:
            out.append(f"sensor {self.sensor!r} must not contain '_' (it names the flight folders)")
        return out

    def dates(self) -> list[dt.date]:
        """Flight dates, ``interval_days`` apart."""
        return [self.start + dt.timedelta(days=i * self.interval_days) for i in range(self.flights)]

    def flight_specs(self) -> list[tuple[str, SurveySpec]]:
        """``(folder name, survey spec)`` of every flight, in date order."""
        base = SurveySpec(seed=self.seed * 1000, hectares=self.hectares, gsd_cm=self.gsd_cm,
                          layout_seed=self.seed, sensor=self.sensor)
        onset = self.start + dt.timedelta(days=self.onset_offset_days)
        specs = season_specs(base, self.dates(), onset, self.spread_days, self.max_progress)
        return [(f"{self.area}_{spec.date:%Y%m%d}_{self.sensor}", spec) for spec in specs]


def simulate_season(root: Path, season: SeasonSpec) -> list[Path]:
    """Write every flight of ``season`` under ``root`` and a ``season.json`` manifest.

    Returns:
        The flight folders, in date order.

    Raises:
        InputError: the season spec is invalid (every problem listed) or ``root`` is a file.
    """
    problems = season.problems()
    if root.exists() and not root.is_dir():
        problems.append(f"{str(root)!r} is a file; give a folder")
    if problems:
        raise InputError("cannot simulate the season: " + "; ".join(problems))
    root.mkdir(parents=True, exist_ok=True)
    written, manifest = [], []
    for name, spec in season.flight_specs():
        simulate_survey(root / name, spec)
        written.append(root / name)
        manifest.append({"folder": name, "date": spec.date.isoformat(), "seed": spec.seed,
                         "layout_seed": spec.site_seed, "disease_progress": round(spec.disease_progress, 4)})
    atomic_write_json(root / "season.json", {"area": season.area, "sensor": season.sensor, "flights": manifest})
    return written

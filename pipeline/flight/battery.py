"""Battery endurance model and sortie split (pure).

Usable flight time per battery is ``endurance_s · (1 − reserve)``. A survey
is a sequence of *chunks* (one transect with its turnarounds, or a field
transit); a sortie flies ``home → chunk_i … chunk_j → home`` and is closed
before the chunk that would leave less than the reserve for the flight home.
The next sortie takes off again and resumes at the start of chunk ``j+1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.flight.flight_time import CopterParams, flight_phases
from pipeline.flight.route import Kinematics, path_time_s

Point3 = tuple[float, float, float]


@dataclass(frozen=True)
class Battery:
    """Endurance figures of one battery.

    Attributes:
        endurance_s: Hover/cruise flight time of a full battery, s.
        reserve_fraction: Share of the endurance kept in reserve on landing (0.25 = 25 %).
        swap_s: Time on the ground to land, swap the battery and take off again, s.
    """

    endurance_s: float = 1500.0
    reserve_fraction: float = 0.25
    swap_s: float = 180.0

    @property
    def usable_s(self) -> float:
        """Flight time available per sortie, s."""
        return self.endurance_s * (1.0 - self.reserve_fraction)


@dataclass(frozen=True)
class Sortie:
    """One battery's share of a survey.

    Attributes:
        first_chunk: Index of the first chunk flown.
        last_chunk: Index of the last chunk flown (inclusive).
        flight_time_s: Take-off to landing, s (home legs and climbs included).
        resume_xy: Where the sortie starts surveying (start of ``first_chunk``).
    """

    first_chunk: int
    last_chunk: int
    flight_time_s: float
    resume_xy: tuple[float, float]


def sortie_time_s(home: Point3, chunks: Sequence[Sequence[Point3]], kin: Kinematics,
                  copter: CopterParams | None = None) -> float:
    """Time of ``home → chunks → home`` including the climb from and descent to home.

    With ``copter`` the phases are ArduCopter's (:func:`~pipeline.flight.flight_time.flight_phases`:
    vertical take-off, survey at ``kin.speed_m_s``, RTL and landing); without, the polyline model of
    :func:`~pipeline.flight.route.path_time_s`.
    """
    pts = [p for c in chunks for p in c]
    if copter is not None and pts:
        route = [(x - home[0], y - home[1], z - home[2]) for x, y, z in pts]
        return flight_phases(route, route[0][2], kin.speed_m_s, copter)["total"]
    return path_time_s([home, *pts, home], kin)


def split_sorties(home: Point3, chunks: Sequence[Sequence[Point3]], battery: Battery, kin: Kinematics,
                  copter: CopterParams | None = None) -> list[Sortie]:
    """Split chunks into sorties that each land with the reserve.

    Raises:
        ValueError: a single chunk cannot be flown on one battery (its index and time are named).
    """
    sorties: list[Sortie] = []
    i = 0
    while i < len(chunks):
        j = i
        t = sortie_time_s(home, chunks[i:i + 1], kin, copter)
        if t > battery.usable_s:
            raise ValueError(f"chunk {i} alone needs {t:.0f} s but one battery gives {battery.usable_s:.0f} s "
                             "usable; move home closer, lower the reserve or split the field")
        while j + 1 < len(chunks):
            t_next = sortie_time_s(home, chunks[i:j + 2], kin, copter)
            if t_next > battery.usable_s:
                break
            j, t = j + 1, t_next
        start = chunks[i][0]
        sorties.append(Sortie(i, j, t, (start[0], start[1])))
        i = j + 1
    return sorties

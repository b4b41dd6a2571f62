"""Settings of the search stage (``search:`` section of params.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import Params, section


@dataclass(frozen=True)
class SearchParams:
    """Search planning and board settings.

    Attributes:
        max_height_agl_m: Planner's height cap above ground, m (never above the 150 m legal limit).
        side_overlap: Fraction of the camera swath shared by adjacent tracks.
        speed_m_s: Default search ground speed, m/s (video search: slow enough to look).
        turn_s: Time lost per turn (braking + accelerating), s.
        climb_m_s: Climb/descent speed, m/s.
        battery_min: Usable flight time of one battery with reserve, minutes.
        terrain_step_m: Ground sampling step along legs when following a DEM, m.
        terrain_tolerance_m: Largest departure of the ground from a straight leg, m.
        board_poll_s: How often the board page re-reads board.json, s.
        colours: Sector colours, in order (CSS hex).
    """

    max_height_agl_m: float = 120.0
    side_overlap: float = 0.2
    speed_m_s: float = 6.0
    turn_s: float = 4.0
    climb_m_s: float = 3.0
    battery_min: float = 25.0
    terrain_step_m: float = 10.0
    terrain_tolerance_m: float = 3.0
    board_poll_s: float = 3.0
    colours: tuple[str, ...] = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")

    def __post_init__(self) -> None:
        problems = [
            f"{name}={getattr(self, name)!r} must be a positive number"
            for name in ("max_height_agl_m", "speed_m_s", "climb_m_s", "battery_min", "terrain_step_m",
                         "terrain_tolerance_m", "board_poll_s")
            if not isinstance(getattr(self, name), (int, float)) or getattr(self, name) <= 0
        ]
        if not isinstance(self.turn_s, (int, float)) or self.turn_s < 0:
            problems.append(f"turn_s={self.turn_s!r} must be >= 0")
        if not isinstance(self.side_overlap, (int, float)) or not 0.0 <= self.side_overlap < 0.9:
            problems.append(f"side_overlap={self.side_overlap!r} must be in [0, 0.9)")
        bad_colours = [c for c in self.colours if not re.fullmatch(r"#[0-9a-fA-F]{6}", str(c))]
        if bad_colours or not self.colours:
            problems.append(f"colours must be a list of #rrggbb values, got {list(self.colours)!r}")
        if problems:
            raise ValueError("; ".join(problems))


def search_params(params: Params) -> SearchParams:
    """Build :class:`SearchParams` from the ``search`` section of ``params``."""
    return section(SearchParams, params.get("search"), "search")

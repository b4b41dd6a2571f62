"""The ``simulate:`` section of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulateConfig:
    """Defaults of ``shimanto simulate survey`` and the demo survey.

    Attributes:
        hectares: Footprint area, ha.
        gsd_cm: Ground sample distance, cm/pixel.
        date: Flight date, ISO (local).
        time: Flight time, ``HH:MM`` local (JST).
        sensor: Sensor registry name.
        disease_progress: Disease spread (1 = nominal).
        quick_hectares: Footprint of the demo in quick mode, ha.
        quick_gsd_cm: GSD of the demo in quick mode, cm.
    """

    hectares: float = 4.0
    gsd_cm: float = 10.0
    date: str = "2026-07-01"
    time: str = "10:30"
    sensor: str = "rededge-mx"
    disease_progress: float = 1.0
    quick_hectares: float = 1.0
    quick_gsd_cm: float = 20.0

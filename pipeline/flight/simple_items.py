"""One QGroundControl ``SimpleItem`` (JSON) as a :class:`~pipeline.core.mission.MissionItem`.

Shared by the plan reader (:mod:`pipeline.flight.qgc_plan`) and the complex-item expansion
(:mod:`pipeline.flight.complex_items`, whose Survey items are SimpleItems), so neither imports the other.
"""

from __future__ import annotations

import math
from typing import Any

from pipeline.core.mission import Frame, MissionItem
from pipeline.flight.errors import MissionFileError


def float_or_nan(value: Any, default: float = math.nan) -> float:
    """``value`` as a float; ``None`` (JSON null) as ``default``."""
    return default if value is None else float(value)


def parse_simple_item(doc: dict[str, Any], where: str) -> MissionItem:
    """One QGC ``SimpleItem`` (mission v2 7-param form or the old 4-param + ``coordinate`` form)."""
    try:
        command, frame = int(doc["command"]), int(doc["frame"])
        params = list(doc.get("params", []))
        if "coordinate" in doc:  # old form: 4 params + [lat, lon, alt]
            params = params[:4] + list(doc["coordinate"])
        if len(params) != 7:
            raise MissionFileError(f"{where}: expected 7 params (p1-p4, lat, lon, alt), got {len(params)}")
        p = [float_or_nan(v) for v in params]
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFileError(f"{where}: malformed SimpleItem ({exc!r}); needs command, frame and params") from exc
    alt = p[6]
    if math.isnan(alt) and doc.get("Altitude") is not None:
        # QGC leaves alt null for "calculated above terrain" items until terrain is known:
        # keep the intent as a terrain-frame altitude.
        alt, frame = float(doc["Altitude"]), int(Frame.GLOBAL_TERRAIN_ALT)
    lat, lon = (0.0 if math.isnan(p[4]) else p[4]), (0.0 if math.isnan(p[5]) else p[5])
    return MissionItem(command, frame, (p[0], p[1], p[2], p[3]), lat, lon, alt, bool(doc.get("autoContinue", True)))

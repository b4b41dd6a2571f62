"""Japanese standard grid squares (地域メッシュ, JIS X 0410) and disease counts aggregated to them.

JIS X 0410 divides latitude/longitude (JGD2011; WGS84 is used as-is, differences are < 1 m here):

======================  ===================  ===================  =======================
level                   latitude step        longitude step       code digits
======================  ===================  ===================  =======================
1st mesh (~80 km)       40'  (2/3 deg)       1 deg                ``pp uu``: p = lat·1.5, u = lon − 100
2nd mesh (~10 km)       5'   (1/12 deg)      7'30" (1/8 deg)      ``q v``: 8 × 8 inside the 1st mesh
3rd mesh (~1 km)        30"  (1/120 deg)     45"  (1/80 deg)      ``r w``: 10 × 10 inside the 2nd mesh
1/2 mesh (~500 m)       15"  (1/240 deg)     22.5" (1/160 deg)    ``m``: 1 SW, 2 SE, 3 NW, 4 NE
======================  ===================  ===================  =======================

so a 1/2 mesh code is 9 digits ``ppuuqvrwm`` (e.g. Sapporo 43.062072 N 141.354368 E → ``644142781``).
Everything is computed on integer cell indices ``floor(lat·240)`` and ``floor((lon − 100)·160)`` taken
with exact rational arithmetic, so a point on a cell edge falls in the cell to its north/east as the
standard prescribes, without floating-point drift.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from pipeline.errors import InputError

#: 1/2 mesh cells per degree of latitude / longitude.
HALF_LAT_PER_DEG = 240
HALF_LON_PER_DEG = 160


def _cell(value: float, origin: int, per_degree: int) -> int:
    return math.floor((Fraction(value) - origin) * per_degree)


def half_mesh_code(lat: float, lon: float) -> str:
    """The 9-digit JIS X 0410 1/2 mesh (2分の1地域メッシュ, ~500 m) code holding ``(lat, lon)`` (degrees).

    Raises:
        InputError: the point lies outside the area the code covers (lat 0–66.66 N, lon 100–199.99 E).
    """
    if not (0.0 <= lat < 200 / 3 and 100.0 <= lon < 200.0):
        raise InputError(f"point {lat}, {lon} is outside the JIS X 0410 grid (latitude 0-66.6 N, longitude 100-200 E)")
    i = _cell(lat, 0, HALF_LAT_PER_DEG)
    j = _cell(lon, 100, HALF_LON_PER_DEG)
    p, q, r, s = i // 160, (i % 160) // 20, (i % 20) // 2, i % 2
    u, v, w, t = j // 160, (j % 160) // 20, (j % 20) // 2, j % 2
    return f"{p:02d}{u:02d}{q}{v}{r}{w}{2 * s + t + 1}"


def third_mesh_code(lat: float, lon: float) -> str:
    """The 8-digit 3rd mesh (基準地域メッシュ, ~1 km) code: the 1/2 mesh code without its last digit."""
    return half_mesh_code(lat, lon)[:8]


def half_mesh_bounds(code: str) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` in degrees of a 9-digit 1/2 mesh code.

    Raises:
        InputError: not 9 digits, or a digit out of its range (2nd mesh 0–7, last digit 1–4).
    """
    if len(code) != 9 or not code.isdigit() or int(code[4]) > 7 or int(code[5]) > 7 or code[8] not in "1234":
        raise InputError(f"mesh code {code!r} is not a JIS X 0410 1/2 mesh code; expected 9 digits like 644142781")
    p, u, q, v, r, w, m = int(code[:2]), int(code[2:4]), int(code[4]), int(code[5]), int(code[6]), int(code[7]), \
        int(code[8])
    s, t = (m - 1) // 2, (m - 1) % 2
    i = p * 160 + q * 20 + r * 2 + s
    j = u * 160 + v * 20 + w * 2 + t
    south, west = i / HALF_LAT_PER_DEG, 100.0 + j / HALF_LON_PER_DEG
    return west, south, west + 1 / HALF_LON_PER_DEG, south + 1 / HALF_LAT_PER_DEG


@dataclass(frozen=True)
class MeshCount:
    """Withheld fields in one 1/2 mesh square (no field is identified).

    Attributes:
        code: 9-digit 1/2 mesh code.
        fields: Withheld fields whose representative point lies in the square.
        fields_with_concern: Of those, fields with at least one suspected-disease area.
        by_class: Suspected disease class → number of those fields showing it.
    """

    code: str
    fields: int
    fields_with_concern: int
    by_class: Mapping[str, int]


def aggregate_to_mesh(points: Iterable[tuple[float, float, frozenset[str]]]) -> list[MeshCount]:
    """Count fields per 1/2 mesh square.

    Args:
        points: ``(lat, lon, suspected classes)`` of each withheld field (classes empty when healthy).

    Returns:
        One :class:`MeshCount` per square holding at least one field, sorted by code.
    """
    squares: dict[str, list[frozenset[str]]] = {}
    for lat, lon, classes in points:
        squares.setdefault(half_mesh_code(lat, lon), []).append(classes)
    out = []
    for code, fields in sorted(squares.items()):
        names = sorted({c for f in fields for c in f})
        out.append(MeshCount(code, len(fields), sum(1 for f in fields if f),
                             {n: sum(1 for f in fields if n in f) for n in names}))
    return out

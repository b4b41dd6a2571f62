"""Search height and track spacing from the camera and the target to be found.

Pinhole model (nadir camera, flat ground under the footprint)::

    GSD [m/px]      = H [m] * sensor_width [mm] / (focal [mm] * image_width [px])
    H_max [m]       = GSD_required * focal * image_width / sensor_width
    GSD_required    = critical_dimension [m] / pixels_required
    swath [m]       = GSD * image_width            (image's long side across track)
    track spacing S = swath * (1 - side_overlap)

Detection figures (:data:`TARGETS`): Johnson (1958, "Analysis of image forming
systems") gives ~1 cycle (2 px) across a target's critical dimension for
*detection*, 4 cycles (8 px) for recognition. Thermal camera makers state DRI
ranges with 1.5 cycles = 3 px for detection (a warm body stands out against
cool wet ground and water). For a person watched on a live, compressed video
stream from a moving drone, a visual camera needs more margin: we require
**6 px across a 0.5 m shoulder width** (GSD <= 8.3 cm/px) visual and **3 px**
(GSD <= 16.7 cm/px) thermal; a car is 1.8 m wide with the same pixel counts.
The height is then capped by the planner's limit, itself never above the
Japanese 150 m above-ground limit (Civil Aeronautics Act, art. 132).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import InputError, SafetyLimitError, unknown_name

#: Hard legal limit above ground in Japan (Civil Aeronautics Act art. 132-85/132), metres.
JAPAN_MAX_AGL_M = 150.0
SENSOR_KINDS: tuple[str, ...] = ("visual", "thermal")


@dataclass(frozen=True)
class Target:
    """What is searched for.

    Attributes:
        name: Registry key.
        critical_dimension_m: Size across which pixels are counted (shoulder width for a person).
        pixels_required: Pixels across the critical dimension, per sensor kind.
        source: Where the figures come from.
    """

    name: str
    critical_dimension_m: float
    pixels_required: tuple[tuple[str, float], ...]
    source: str

    def pixels_for(self, kind: str) -> float:
        """Pixels required across the critical dimension for a ``visual`` or ``thermal`` sensor."""
        table = dict(self.pixels_required)
        if kind not in table:
            raise unknown_name("sensor kind", kind, list(table))
        return table[kind]

    def required_gsd_m(self, kind: str) -> float:
        """Largest ground sample distance (m/px) at which the target is still detected."""
        return self.critical_dimension_m / self.pixels_for(kind)


JOHNSON = "Johnson 1958 (detection ~1-1.5 cycles = 2-3 px); visual margin for live compressed video"
TARGETS: dict[str, Target] = {
    "person": Target("person", 0.5, (("visual", 6.0), ("thermal", 3.0)), JOHNSON + "; 0.5 m shoulder width"),
    "vehicle": Target("vehicle", 1.8, (("visual", 6.0), ("thermal", 3.0)), JOHNSON + "; 1.8 m car width"),
}


def get_target(name: str) -> Target:
    """The :class:`Target` called ``name`` (``person`` or ``vehicle``)."""
    if name not in TARGETS:
        raise unknown_name("search target", name, list(TARGETS))
    return TARGETS[name]


@dataclass(frozen=True)
class SearchCamera:
    """The optics the search plan needs (one sensor of a camera).

    Attributes:
        name: Camera name as given by the user.
        kind: ``visual`` or ``thermal``.
        focal_mm: Focal length, mm.
        sensor_width_mm: Sensor width (long side), mm.
        image_width_px: Image width (long side), pixels.
        image_height_px: Image height, pixels.
    """

    name: str
    kind: str
    focal_mm: float
    sensor_width_mm: float
    image_width_px: int
    image_height_px: int

    def gsd_m(self, height_m: float) -> float:
        """Ground sample distance (m/px) at ``height_m`` above ground."""
        return height_m * self.sensor_width_mm / (self.focal_mm * self.image_width_px)

    def height_for_gsd(self, gsd_m: float) -> float:
        """Height above ground (m) giving ``gsd_m``."""
        return gsd_m * self.focal_mm * self.image_width_px / self.sensor_width_mm


@dataclass(frozen=True)
class SearchGeometry:
    """Height and spacing chosen for a search.

    Attributes:
        height_agl_m: Flight height above ground.
        gsd_m: Ground sample distance at that height.
        swath_m: Footprint width across track.
        footprint_along_m: Footprint length along track.
        spacing_m: Distance between adjacent tracks.
        pixels_on_target: Pixels across the target's critical dimension.
        height_limited_by: ``detection`` (target pixels) or ``altitude-limit``.
    """

    height_agl_m: float
    gsd_m: float
    swath_m: float
    footprint_along_m: float
    spacing_m: float
    pixels_on_target: float
    height_limited_by: str


def search_geometry(
    camera: SearchCamera, target: Target, max_height_agl_m: float, side_overlap: float
) -> SearchGeometry:
    """Choose the highest height at which ``target`` is still detected, and the track spacing.

    Args:
        camera: The sensor used for searching.
        target: What is searched for.
        max_height_agl_m: Planner's height cap; must not exceed :data:`JAPAN_MAX_AGL_M`.
        side_overlap: Fraction of the swath shared by adjacent tracks, 0 <= x < 0.9.

    Raises:
        SafetyLimitError: ``max_height_agl_m`` is above 150 m.
        InputError: bad overlap or non-positive height.
    """
    if max_height_agl_m > JAPAN_MAX_AGL_M:
        raise SafetyLimitError(
            f"max height {max_height_agl_m:g} m above ground breaks the {JAPAN_MAX_AGL_M:g} m limit in Japan;"
            " set search.max_height_agl_m to 150 or less"
        )
    problems = []
    if max_height_agl_m <= 0:
        problems.append(f"max height {max_height_agl_m:g} m must be positive")
    if not 0.0 <= side_overlap < 0.9:
        problems.append(f"side overlap {side_overlap:g} must be in [0, 0.9)")
    if problems:
        raise InputError("; ".join(problems))
    detect_height = camera.height_for_gsd(target.required_gsd_m(camera.kind))
    height = min(detect_height, max_height_agl_m)
    gsd = camera.gsd_m(height)
    swath = gsd * camera.image_width_px
    return SearchGeometry(
        height_agl_m=height,
        gsd_m=gsd,
        swath_m=swath,
        footprint_along_m=gsd * camera.image_height_px,
        spacing_m=swath * (1.0 - side_overlap),
        pixels_on_target=target.critical_dimension_m / gsd,
        height_limited_by="detection" if detect_height <= max_height_agl_m else "altitude-limit",
    )


def check_sensor_kind(kind: str) -> str:
    """Return ``kind`` if it is ``visual`` or ``thermal``, else raise :class:`InputError`."""
    if kind not in SENSOR_KINDS:
        raise InputError(f"sensor kind {kind!r} is not one of {', '.join(SENSOR_KINDS)}")
    return kind

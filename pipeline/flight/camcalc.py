"""Photogrammetry numbers computed the way QGroundControl's ``CameraCalc`` does.

With distance to surface ``H`` (m), sensor width ``Sw`` (mm), focal length
``f`` (mm) and image width ``Iw`` (px), QGC's ground sample distance is::

    GSD = Sw · H · 100 / (f · Iw)            [cm/px]   (landscape)
    GSD = Sh · H · 100 / (f · Ih)            [cm/px]   (portrait)
    H   = GSD · f · Iw / (Sw · 100)          [m]       (inverse)

The footprint of one image on flat ground is ``Sw·H/f`` by ``Sh·H/f`` metres.
In *landscape* orientation the image's long side lies across the flight line
(footprint_side = Sw·H/f, footprint_front = Sh·H/f); *portrait* swaps them.
Lane spacing and trigger distance follow::

    lane_spacing     = footprint_side  · (1 − side_overlap)
    trigger_distance = footprint_front · (1 − front_overlap)
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import InputError
from pipeline.flight.cameras import Camera

ORIENTATIONS = ("landscape", "portrait")


def _check_orientation(orientation: str) -> None:
    if orientation not in ORIENTATIONS:
        raise InputError(f"camera orientation {orientation!r} is not known; expected one of {ORIENTATIONS}")


def gsd_cm(camera: Camera, altitude_m: float, orientation: str = "landscape") -> float:
    """Ground sample distance in cm/px at ``altitude_m`` above the surface."""
    _check_orientation(orientation)
    if orientation == "landscape":
        return camera.sensor_width_mm * altitude_m * 100.0 / (camera.focal_length_mm * camera.image_width_px)
    return camera.sensor_height_mm * altitude_m * 100.0 / (camera.focal_length_mm * camera.image_height_px)


def altitude_for_gsd(camera: Camera, gsd_cm_px: float, orientation: str = "landscape") -> float:
    """Distance to surface in metres giving ``gsd_cm_px`` (inverse of :func:`gsd_cm`)."""
    _check_orientation(orientation)
    if gsd_cm_px <= 0:
        raise InputError(f"GSD must be positive, got {gsd_cm_px} cm/px")
    if orientation == "landscape":
        return gsd_cm_px * camera.focal_length_mm * camera.image_width_px / (camera.sensor_width_mm * 100.0)
    return gsd_cm_px * camera.focal_length_mm * camera.image_height_px / (camera.sensor_height_mm * 100.0)


def footprint_m(camera: Camera, altitude_m: float, orientation: str = "landscape") -> tuple[float, float]:
    """``(side, front)`` footprint of one image in metres (across, along the flight line)."""
    _check_orientation(orientation)
    wide = camera.sensor_width_mm * altitude_m / camera.focal_length_mm
    tall = camera.sensor_height_mm * altitude_m / camera.focal_length_mm
    return (wide, tall) if orientation == "landscape" else (tall, wide)


@dataclass(frozen=True)
class GridGeometry:
    """Everything CameraCalc derives for one survey.

    Attributes:
        altitude_m: Distance to surface, m.
        gsd_cm: Ground sample distance, cm/px.
        orientation: ``"landscape"`` or ``"portrait"``.
        footprint_side_m: Image footprint across the flight line, m.
        footprint_front_m: Image footprint along the flight line, m.
        lane_spacing_m: Distance between transects, m.
        trigger_distance_m: Distance between photos along a transect, m.
    """

    altitude_m: float
    gsd_cm: float
    orientation: str
    footprint_side_m: float
    footprint_front_m: float
    lane_spacing_m: float
    trigger_distance_m: float


def grid_geometry(
    camera: Camera,
    front_overlap: float,
    side_overlap: float,
    altitude_m: float | None = None,
    gsd_cm_px: float | None = None,
    orientation: str = "landscape",
) -> GridGeometry:
    """CameraCalc for either a given altitude or a given GSD (exactly one).

    Args:
        camera: The camera.
        front_overlap: Fraction in [0, 1) of overlap along the flight line.
        side_overlap: Fraction in [0, 1) of overlap between lanes.
        altitude_m: Distance to surface in metres.
        gsd_cm_px: Wanted GSD in cm/px.
        orientation: ``"landscape"`` or ``"portrait"``.

    Raises:
        InputError: overlaps outside [0, 0.95], neither or both of altitude/GSD given, non-positive values.
    """
    problems = [
        f"{name} overlap must be a fraction in [0, 0.95] (e.g. 0.75), got {value}"
        for name, value in (("front", front_overlap), ("side", side_overlap))
        if not 0.0 <= value <= 0.95
    ]
    if (altitude_m is None) == (gsd_cm_px is None):
        problems.append("give exactly one of altitude (--altitude M) or GSD (--gsd-cm X)")
    elif altitude_m is not None and altitude_m <= 0:
        problems.append(f"altitude must be positive, got {altitude_m} m")
    if problems:
        raise InputError("; ".join(problems))
    height = altitude_m if altitude_m is not None else altitude_for_gsd(camera, float(gsd_cm_px or 0), orientation)
    side, front = footprint_m(camera, height, orientation)
    return GridGeometry(
        altitude_m=height,
        gsd_cm=gsd_cm(camera, height, orientation),
        orientation=orientation,
        footprint_side_m=side,
        footprint_front_m=front,
        lane_spacing_m=side * (1.0 - side_overlap),
        trigger_distance_m=front * (1.0 - front_overlap),
    )


def speed_limits_m_s(
    geometry: GridGeometry, min_trigger_interval_s: float, exposure_s: float, max_blur_px: float = 0.5
) -> dict[str, float]:
    """The camera's two ground-speed ceilings, m/s.

    ``trigger_interval``: ``v ≤ trigger_distance / min_trigger_interval`` (capture rate);
    ``motion_blur``: ``v ≤ max_blur_px · GSD / exposure`` (motion blur during the exposure).
    """
    return {
        "trigger_interval": geometry.trigger_distance_m / min_trigger_interval_s,
        "motion_blur": max_blur_px * geometry.gsd_cm / 100.0 / exposure_s,
    }


def max_speed_m_s(
    geometry: GridGeometry, min_trigger_interval_s: float, exposure_s: float, max_blur_px: float = 0.5
) -> float:
    """Fastest ground speed that the camera can keep up with (the lower of :func:`speed_limits_m_s`)."""
    return min(speed_limits_m_s(geometry, min_trigger_interval_s, exposure_s, max_blur_px).values())

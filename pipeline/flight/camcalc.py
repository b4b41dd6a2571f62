"""Photogrammetry numbers computed exactly as QGroundControl's ``CameraCalc`` does.

Source: QGroundControl ``src/MissionManager/CameraCalc.cc``, ``CameraCalc::_recalcTriggerDistance``.
With distance to surface ``H`` (m), sensor width ``Sw`` (mm), focal length ``f`` (mm) and image
width/height ``Iw``/``Ih`` (px), in either orientation::

    GSD = H · Sw · 100 / (Iw · f)            [cm/px]  (always the sensor and image *width*)
    H   = Iw · GSD · f / (Sw · 100)          [m]      (inverse, when the GSD is given)

and the footprints are pixels times GSD (not sensor size times H / f, which differs whenever
the pixels are not square)::

    landscape: side = Iw · GSD / 100,  front = Ih · GSD / 100      [m]
    portrait:  side = Ih · GSD / 100,  front = Iw · GSD / 100

Lane spacing and trigger distance (QGC's ``AdjustedFootprintSide``/``AdjustedFootprintFrontal``)::

    lane_spacing     = side  · (100 − side_overlap_%) / 100
    trigger_distance = front · (100 − front_overlap_%) / 100
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import InputError
from pipeline.flight.cameras import Camera

ORIENTATIONS = ("landscape", "portrait")


def parse_overlap(text: str, option: str = "--front-overlap") -> tuple[float, str]:
    """An overlap as users type it (QGC and Mission Planner show percent): ``75``, ``75%`` or ``0.75``.

    A value above 1, or one with ``%``, is a percent; 1 or less is a fraction. Returns
    ``(fraction, how it was understood)``, e.g. ``(0.75, "75 read as 75 % (a value above 1 is a percent)")``.

    Raises:
        InputError: not a number, or outside 0-95 %.
    """
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise InputError(f"{option} {text!r} is not an overlap; give a percent (75 or 75%) or a fraction "
                         "(0.75)") from None
    if percent:
        fraction, how = value / 100.0, f"{raw} read as {value:g} %"
    elif value > 1.0:
        fraction, how = value / 100.0, f"{raw} read as {value:g} % (a value above 1 is a percent)"
    else:
        fraction, how = value, f"{raw} read as a fraction, {value * 100:g} %"
    if not 0.0 <= fraction <= 0.95:
        raise InputError(f"{option} {text!r} ({fraction * 100:g} %) is outside 0-95 %; e.g. 75, 75% or 0.75")
    return fraction, how


def _check_orientation(orientation: str) -> None:
    if orientation not in ORIENTATIONS:
        raise InputError(f"camera orientation {orientation!r} is not known; expected one of {ORIENTATIONS}")


def gsd_cm(camera: Camera, altitude_m: float, orientation: str = "landscape") -> float:
    """Ground sample distance in cm/px at ``altitude_m`` above the surface (QGC: width-based in both orientations)."""
    _check_orientation(orientation)
    return altitude_m * camera.sensor_width_mm * 100.0 / (camera.image_width_px * camera.focal_length_mm)


def altitude_for_gsd(camera: Camera, gsd_cm_px: float, orientation: str = "landscape") -> float:
    """Distance to surface in metres giving ``gsd_cm_px`` (inverse of :func:`gsd_cm`)."""
    _check_orientation(orientation)
    if gsd_cm_px <= 0:
        raise InputError(f"GSD must be positive, got {gsd_cm_px} cm/px")
    return camera.image_width_px * gsd_cm_px * camera.focal_length_mm / (camera.sensor_width_mm * 100.0)


def footprint_m(camera: Camera, altitude_m: float, orientation: str = "landscape") -> tuple[float, float]:
    """``(side, front)`` footprint of one image in metres (across, along the flight line): pixels × GSD."""
    gsd = gsd_cm(camera, altitude_m, orientation)
    wide = camera.image_width_px * gsd / 100.0
    tall = camera.image_height_px * gsd / 100.0
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
        lane_spacing_m=side * (100.0 - side_overlap * 100.0) / 100.0,
        trigger_distance_m=front * (100.0 - front_overlap * 100.0) / 100.0,
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

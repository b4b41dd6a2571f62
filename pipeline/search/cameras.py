"""Search cameras: the flight stage's camera registry seen through :class:`SearchCamera`.

The flight stage owns the registry (:mod:`pipeline.flight.cameras`, with one
entry per imager of the search cameras: ``h20t-thermal``, ``h20t-wide``,
``m3t-thermal``, ``m3t-wide``); this module maps a registry camera (or a custom
camera file) onto the few fields the search planner needs.
"""

from __future__ import annotations

from pipeline.flight.cameras import Camera, resolve_camera
from pipeline.search.optics import SearchCamera

#: Cameras typical of search work, listed in the CLI help.
SEARCH_CAMERAS: tuple[str, ...] = ("h20t-thermal", "h20t-wide", "m3t-thermal", "m3t-wide")


def to_search_camera(camera: Camera) -> SearchCamera:
    """The :class:`SearchCamera` view of a flight-registry :class:`Camera`."""
    return SearchCamera(
        name=camera.name,
        kind="thermal" if camera.thermal else "visual",
        focal_mm=camera.focal_length_mm,
        sensor_width_mm=camera.sensor_width_mm,
        image_width_px=camera.image_width_px,
        image_height_px=camera.image_height_px,
    )


def search_camera(spec: str) -> SearchCamera:
    """The search optics of camera ``spec`` (a registry name or a camera YAML/JSON file).

    Raises:
        UnknownNameError: the name is not in the flight camera registry.
    """
    return to_search_camera(resolve_camera(spec))

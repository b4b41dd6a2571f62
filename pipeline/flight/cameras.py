"""Camera specifications for survey planning: a registry plus custom camera files.

Figures are the makers' published ones (sensor size, image size, focal length,
capture rate). Where a maker publishes pixel pitch instead of sensor size, the
sensor size is ``pitch × image size``. For multi-camera arrays (MicaSense) the
multispectral imagers define the geometry; the panchromatic or thermal imagers
are listed as bands only. Search cameras (DJI H20T, Mavic 3 Thermal) have one
entry per imager (``-wide``, ``-thermal``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from pipeline.errors import ConfigError, SceneNotFoundError, unknown_name


@dataclass(frozen=True)
class Camera:
    """A frame camera's geometry for survey planning.

    Attributes:
        name: Registry name (lower case, e.g. ``"rededge-mx"``).
        title: Maker and model.
        sensor_width_mm: Sensor width along the image's long side, mm.
        sensor_height_mm: Sensor height, mm.
        image_width_px: Image width, pixels.
        image_height_px: Image height, pixels.
        focal_length_mm: Focal length, mm.
        min_trigger_interval_s: Shortest time between two captures, s.
        bands: Band names (for multispectral cameras, in band order).
        thermal: True for a thermal (LWIR) imager.
    """

    name: str
    title: str
    sensor_width_mm: float
    sensor_height_mm: float
    image_width_px: int
    image_height_px: int
    focal_length_mm: float
    min_trigger_interval_s: float
    bands: tuple[str, ...] = ("red", "green", "blue")
    thermal: bool = False

    def __post_init__(self) -> None:
        problems = camera_problems(self)
        if problems:
            raise ConfigError(f"camera {self.name!r} is invalid: " + "; ".join(problems))


def camera_problems(cam: Camera | dict[str, Any]) -> list[str]:
    """Every problem with a camera spec (empty when valid).

    Args:
        cam: A :class:`Camera` or a mapping of its fields (from a YAML/JSON file).

    Returns:
        One message per problem, naming the field, the bad value and what is expected.
    """
    values = cam if isinstance(cam, dict) else {f.name: getattr(cam, f.name) for f in fields(Camera)}
    problems: list[str] = []
    known = {f.name for f in fields(Camera)}
    required = ("name", "sensor_width_mm", "sensor_height_mm", "image_width_px", "image_height_px",
                "focal_length_mm", "min_trigger_interval_s")
    for key in sorted(set(values) - known):
        problems.append(f"unknown field {key!r} (expected some of: {', '.join(sorted(known))})")
    for key in required:
        if key not in values:
            problems.append(f"missing field {key!r}")
    if "name" in values and (not isinstance(values["name"], str) or not values["name"].strip()):
        problems.append(f"name must be a non-empty string, got {values['name']!r}")
    for key in ("sensor_width_mm", "sensor_height_mm", "focal_length_mm", "min_trigger_interval_s"):
        if key in values:
            v = values[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                problems.append(f"{key} must be a positive number, got {v!r}")
    for key in ("image_width_px", "image_height_px"):
        if key in values:
            v = values[key]
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                problems.append(f"{key} must be a positive integer, got {v!r}")
    bands = values.get("bands", ("x",))
    if not isinstance(bands, (list, tuple)) or not bands or not all(isinstance(b, str) for b in bands):
        problems.append(f"bands must be a non-empty list of band names, got {bands!r}")
    if "thermal" in values and not isinstance(values["thermal"], bool):
        problems.append(f"thermal must be true or false, got {values['thermal']!r}")
    return problems


def _cam(**kw: Any) -> Camera:
    return Camera(**kw)


_MS5 = ("blue", "green", "red", "red_edge", "nir")

#: Built-in cameras by name.
CAMERAS: MappingProxyType[str, Camera] = MappingProxyType({c.name: c for c in (
    # MicaSense RedEdge-MX: 1280x960, 3.75 um pitch (4.8x3.6 mm), f 5.4 mm, 1 capture/s; 8 cm/px at 120 m.
    _cam(name="rededge-mx", title="MicaSense RedEdge-MX", sensor_width_mm=4.8, sensor_height_mm=3.6,
         image_width_px=1280, image_height_px=960, focal_length_mm=5.4, min_trigger_interval_s=1.0, bands=_MS5),
    # MicaSense RedEdge-P: MS 1456x1088, 3.45 um pitch, f 5.5 mm, 3 captures/s; + panchromatic.
    _cam(name="rededge-p", title="MicaSense RedEdge-P", sensor_width_mm=5.023, sensor_height_mm=3.754,
         image_width_px=1456, image_height_px=1088, focal_length_mm=5.5, min_trigger_interval_s=0.34,
         bands=(*_MS5, "panchromatic")),
    # MicaSense Altum-PT: MS 2064x1544, 3.45 um pitch, f 8 mm, 2 captures/s; + pan + LWIR 320x256.
    _cam(name="altum-pt", title="MicaSense Altum-PT", sensor_width_mm=7.121, sensor_height_mm=5.327,
         image_width_px=2064, image_height_px=1544, focal_length_mm=8.0, min_trigger_interval_s=0.5,
         bands=(*_MS5, "panchromatic", "lwir")),
    # DJI P4 Multispectral: 1/2.9" CMOS 1600x1300, f 5.74 mm, GSD = H/18.9 cm/px; 2 s timed shot.
    _cam(name="p4m", title="DJI P4 Multispectral", sensor_width_mm=4.86, sensor_height_mm=3.95,
         image_width_px=1600, image_height_px=1300, focal_length_mm=5.74, min_trigger_interval_s=2.0,
         bands=_MS5),
    # DJI Mavic 3 Multispectral: MS 1/2.8" 2592x1944, f 4.34 mm (25 mm eq.), GSD = H/21.6 cm/px; 2 s.
    _cam(name="m3m", title="DJI Mavic 3 Multispectral", sensor_width_mm=5.21, sensor_height_mm=3.91,
         image_width_px=2592, image_height_px=1944, focal_length_mm=4.34, min_trigger_interval_s=2.0,
         bands=("green", "red", "red_edge", "nir")),
    # DJI Zenmuse H20T wide: 1/2.3" 12 MP 4056x3040, f 4.5 mm (24 mm eq.).
    _cam(name="h20t-wide", title="DJI Zenmuse H20T (wide)", sensor_width_mm=6.17, sensor_height_mm=4.55,
         image_width_px=4056, image_height_px=3040, focal_length_mm=4.5, min_trigger_interval_s=2.0),
    # DJI Zenmuse H20T thermal: 640x512 VOx, 12 um pitch, f 13.5 mm.
    _cam(name="h20t-thermal", title="DJI Zenmuse H20T (thermal)", sensor_width_mm=7.68, sensor_height_mm=6.144,
         image_width_px=640, image_height_px=512, focal_length_mm=13.5, min_trigger_interval_s=2.0,
         bands=("lwir",), thermal=True),
    # DJI Mavic 3 Thermal wide: 1/2" 48 MP 8000x6000, f 4.4 mm (24 mm eq.), 0.7 s interval.
    _cam(name="m3t-wide", title="DJI Mavic 3 Thermal (wide)", sensor_width_mm=6.4, sensor_height_mm=4.8,
         image_width_px=8000, image_height_px=6000, focal_length_mm=4.4, min_trigger_interval_s=0.7),
    # DJI Mavic 3 Thermal thermal: 640x512, 12 um pitch, f 9.1 mm (40 mm eq.).
    _cam(name="m3t-thermal", title="DJI Mavic 3 Thermal (thermal)", sensor_width_mm=7.68, sensor_height_mm=6.144,
         image_width_px=640, image_height_px=512, focal_length_mm=9.1, min_trigger_interval_s=1.0,
         bands=("lwir",), thermal=True),
)})


def get_camera(name: str) -> Camera:
    """The built-in camera ``name`` (case-insensitive).

    Raises:
        UnknownNameError: no such camera; the message lists the known ones.
    """
    key = name.strip().lower()
    if key not in CAMERAS:
        raise unknown_name("camera", name, tuple(CAMERAS))
    return CAMERAS[key]


def load_camera_file(path: Path | str) -> Camera:
    """Read a custom camera from a YAML or JSON mapping of :class:`Camera` fields.

    Raises:
        SceneNotFoundError: the file does not exist.
        ConfigError: the file is not a mapping or has problems (all are listed).
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"camera file {str(path)!r} does not exist; check the --camera path")
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"camera file {str(path)!r} is not valid YAML/JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"camera file {str(path)!r} must be a mapping of camera fields (name, sensor_width_mm, ...)")
    doc.setdefault("title", doc.get("name", path.stem))
    problems = camera_problems(doc)
    if problems:
        raise ConfigError(f"camera file {str(path)!r} has {len(problems)} problem(s): " + "; ".join(problems))
    if "bands" in doc:
        doc["bands"] = tuple(doc["bands"])
    return Camera(**doc)


def resolve_camera(spec: str) -> Camera:
    """A camera from a registry name or a path to a ``.yaml``/``.yml``/``.json`` file."""
    if spec.lower().endswith((".yaml", ".yml", ".json")) or Path(spec).is_file():
        return load_camera_file(spec)
    return get_camera(spec)

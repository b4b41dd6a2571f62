"""Sensors from a YAML/JSON file (``--sensor path/to/sensor.yaml``), validated with every problem listed.

File format (YAML or JSON; ``scale`` and ``nodata`` optional)::

    name: sequoia-like            # default: the file name's stem
    title: Parrot Sequoia         # default: the name
    bit_depth: 16                 # default 16
    scale: 32768                  # divide integer samples by this to get reflectance (null: none)
    nodata: 0                     # sample value meaning no data when the file declares none
    bands:                        # in file order
      - {name: green, centre_nm: 550, fwhm_nm: 40}
      - {name: red, centre_nm: 660, fwhm_nm: 40}
      - {name: red_edge, centre_nm: 735, fwhm_nm: 10}
      - {name: nir, centre_nm: 790, fwhm_nm: 40}

Band names are the canonical ones the indices use (:data:`CANONICAL_BANDS`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError, SceneNotFoundError
from pipeline.ingest.sensors import Band, Sensor, get_sensor

CANONICAL_BANDS: tuple[str, ...] = ("blue", "green", "red", "red_edge", "nir", "pan", "lwir")
SENSOR_FILE_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")
_KEYS = {"name", "title", "bit_depth", "scale", "nodata", "bands"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _band_problems(i: int, item: Any) -> tuple[Band | None, list[str]]:
    where = f"bands[{i}]"
    if not isinstance(item, dict):
        return None, [f"{where} is {item!r}, expected a mapping with name, centre_nm, fwhm_nm"]
    problems = [f"{where} lacks {key!r}" for key in ("name", "centre_nm", "fwhm_nm") if key not in item]
    problems += [f"{where} has unknown key {key!r}" for key in item if key not in ("name", "centre_nm", "fwhm_nm")]
    name = item.get("name")
    if "name" in item and (not isinstance(name, str) or name.strip().lower() not in CANONICAL_BANDS):
        problems.append(f"{where}.name {name!r} is not one of {', '.join(CANONICAL_BANDS)}")
    values: dict[str, float] = {}
    for key in ("centre_nm", "fwhm_nm"):
        if key in item:
            number = _number(item[key])
            if number is None or number <= 0:
                problems.append(f"{where}.{key} {item[key]!r} is not a positive number of nanometres")
            else:
                values[key] = number
    if problems:
        return None, problems
    return Band(str(name).strip().lower(), values["centre_nm"], values["fwhm_nm"]), []


def sensor_problems(doc: Any, default_name: str) -> tuple[Sensor | None, list[str]]:
    """Validate a parsed sensor document; return the sensor (or ``None``) and every problem."""
    if not isinstance(doc, dict):
        return None, [f"the document is {type(doc).__name__}, expected a mapping with a 'bands' list"]
    problems = [f"unknown key {key!r} (expected {', '.join(sorted(_KEYS))})" for key in doc if key not in _KEYS]
    raw_bands = doc.get("bands")
    bands: list[Band] = []
    if not isinstance(raw_bands, list) or not raw_bands:
        problems.append("'bands' is missing or empty; list the bands in file order")
    else:
        for i, item in enumerate(raw_bands):
            band, found = _band_problems(i, item)
            problems += found
            if band is not None:
                bands.append(band)
        names = [str(b.get("name", "")).strip().lower() for b in raw_bands if isinstance(b, dict)]
        problems += [f"band name {n!r} appears {names.count(n)} times; name each band once"
                     for n in sorted({n for n in names if n and names.count(n) > 1})]
    scale = doc.get("scale")
    if scale is not None and ((_number(scale) or 0.0) <= 0):
        problems.append(f"scale {scale!r} must be a positive divisor (reflectance = sample / scale) or null")
    nodata = doc.get("nodata")
    if nodata is not None and _number(nodata) is None and not (isinstance(nodata, float) and math.isnan(nodata)):
        problems.append(f"nodata {nodata!r} is not a number")
    bit_depth = doc.get("bit_depth", 16)
    if not isinstance(bit_depth, int) or isinstance(bit_depth, bool) or not 1 <= bit_depth <= 32:
        problems.append(f"bit_depth {bit_depth!r} must be an integer 1-32")
    name = str(doc.get("name") or default_name)
    if problems:
        return None, problems
    return Sensor(name, str(doc.get("title") or name), tuple(bands), int(bit_depth),
                  float(scale) if scale is not None else None, float(nodata) if nodata is not None else None), []


def load_sensor_file(path: Path | str) -> Sensor:
    """Read and validate a sensor file.

    Raises:
        SceneNotFoundError: no such file.
        ConfigError: unreadable, or any problem (all listed in one line).
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"sensor file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"sensor file {str(path)!r} is not readable YAML/JSON ({exc})") from exc
    sensor, problems = sensor_problems(doc, path.stem)
    if problems or sensor is None:
        raise ConfigError(f"sensor file {str(path)!r}: {'; '.join(problems)}; see 'shimanto indices --help'")
    return sensor


def resolve_sensor(text: str) -> Sensor:
    """``--sensor``: a registry name (``rededge-mx``, ``rgb``...) or a path to a ``.yaml``/``.yml``/``.json`` file."""
    if text.lower().endswith(SENSOR_FILE_SUFFIXES) or Path(text).is_file():
        return load_sensor_file(text)
    return get_sensor(text)

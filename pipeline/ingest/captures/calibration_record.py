"""``calibration.json``: what an agronomist checks before trusting a season's reflectance.

Written by ``shimanto ingest captures`` beside the stacks; ``--report`` prints the same table.

* ``method``: ``panel`` (reflectance = F · L with F = ρ_panel / mean panel radiance,
  from the panel capture nearest in time) or ``dls`` (F = π / E_DLS per capture);
* ``panels``: per panel capture, a ``bands`` list in band-number order (1 blue, 2 green,
  3 red, 4 NIR, 5 red edge) with the panel ``region`` used (pixel rows/cols, end
  exclusive), ``panel_raw_mean`` (DN, before the radiometric model),
  ``panel_radiance`` (W/m²/sr/nm), ``panel_reflectance`` (ρ, MicaSense's figure for
  the panel serial or ``--panel-reflectance``), ``irradiance`` E = π · L / ρ
  (W/m²/nm, the sunlight the panel saw) and the reflectance ``factor`` F = ρ / L;
* ``captures``: per capture, the DLS irradiance per band (W/m²/nm, and how it was
  obtained: DLS2 horizontal, DLS1 tilt-corrected, raw) and the sun's elevation and
  azimuth (degrees, NOAA formulas) at the capture's time and place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tifffile

from pipeline.errors import PipelineError
from pipeline.ingest.captures.dls import solar_position
from pipeline.ingest.captures.process import BAND_ORDER, Calibration, RadianceCapture, dls_irradiance

RECORD_NAME = "calibration.json"


def _panel_bands(panel: RadianceCapture, rho: Sequence[float]) -> list[dict[str, Any]]:
    bands: list[dict[str, Any]] = []
    for number, (meta, radiance, region, reflectance) in enumerate(
            zip(panel.metas, panel.radiance, panel.panels, rho, strict=True), start=1):
        row: dict[str, Any] = {"band": number, "name": BAND_ORDER[number - 1], "centre_nm": meta.centre_nm,
                               "file": meta.path.name, "panel_reflectance": reflectance}
        if region is None:
            row.update(region=None, panel_raw_mean=None, panel_radiance=None, irradiance=None, factor=None)
        else:
            raw = np.asarray(tifffile.imread(meta.path), dtype=np.float64)
            radiance_mean = region.mean(radiance)
            row.update(region={"row0": region.row0, "col0": region.col0, "row1": region.row1, "col1": region.col1},
                       panel_raw_mean=round(region.mean(raw), 3), panel_radiance=radiance_mean,
                       irradiance=math.pi * radiance_mean / reflectance if reflectance else None,
                       factor=reflectance / radiance_mean if radiance_mean > 0 else None)
        bands.append(row)
    return bands


def _capture_row(capture: RadianceCapture) -> dict[str, Any]:
    meta = capture.metas[0]
    sun: dict[str, float] | None = None
    if meta.has_gps and meta.time_utc is not None:
        assert meta.lat is not None and meta.lon is not None
        elevation, azimuth = solar_position(meta.lat, meta.lon, meta.time_utc)
        sun = {"elevation_deg": round(math.degrees(elevation), 3), "azimuth_deg": round(math.degrees(azimuth), 3)}
    dls: list[dict[str, Any]] = []
    for number, m in enumerate(capture.metas, start=1):
        try:
            value, kind = dls_irradiance(m)
        except PipelineError:
            value, kind = None, "none"
        dls.append({"band": number, "name": BAND_ORDER[number - 1], "irradiance": value, "source": kind})
    return {"capture": capture.group.label, "capture_id": capture.group.capture_id,
            "time_utc": meta.time_utc.isoformat() if meta.time_utc else None, "panel": capture.has_panel,
            "sun": sun, "dls": dls}


def calibration_record(panels: Sequence[RadianceCapture], calibrations: Mapping[str, Calibration],
                       captures: Sequence[RadianceCapture], rho: Sequence[float], dls_forced: bool) -> dict[str, Any]:
    """The JSON document (see the module doc)."""
    usable = [p for p in panels if p.group.label in calibrations]
    method = "panel" if usable and not dls_forced else "dls"
    return {
        "method": method,
        "why": ("--dls given" if dls_forced else "panel capture found" if usable
                else "no usable panel capture: DLS fallback"),
        "panels": [{"capture": p.group.label, "capture_id": p.group.capture_id,
                    "time_utc": p.time.isoformat() if p.time else None, "bands": _panel_bands(p, rho)}
                   for p in usable],
        "captures": [_capture_row(c) for c in captures],
    }


def report_lines(record: Mapping[str, Any]) -> list[str]:
    """The record as a plain-text table (``shimanto ingest captures --report``)."""
    lines = [f"calibration method: {record['method']} ({record['why']})"]
    for panel in record["panels"]:
        lines.append(f"panel capture {panel['capture']} ({panel['time_utc']})")
        lines.append(f"{'band':<12}{'region r0,c0-r1,c1':<22}{'raw DN':>9}{'L W/m2/sr/nm':>14}{'rho':>6}"
                     f"{'E W/m2/nm':>11}{'factor':>9}")
        for b in panel["bands"]:
            reg = b["region"]
            where = f"{reg['row0']},{reg['col0']}-{reg['row1']},{reg['col1']}" if reg else "not found"
            lines.append(f"{b['band']} {b['name']:<10}{where:<22}{_fmt(b['panel_raw_mean'], 9, 1)}"
                         f"{_fmt(b['panel_radiance'], 14, 5)}{b['panel_reflectance']:>6.2f}"
                         f"{_fmt(b['irradiance'], 11, 4)}{_fmt(b['factor'], 9, 3)}")
    for c in record["captures"]:
        sun = c["sun"]
        where = (f"sun elevation {sun['elevation_deg']:.1f}°, azimuth {sun['azimuth_deg']:.1f}°" if sun
                 else "sun position unknown")
        dls = ", ".join(f"{d['name']} {d['irradiance']:.4f}" if d["irradiance"] is not None else f"{d['name']} -"
                        for d in c["dls"])
        lines.append(f"capture {c['capture']}: {where}; DLS E W/m2/nm: {dls}")
    return lines


def _fmt(value: float | None, width: int, digits: int) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"

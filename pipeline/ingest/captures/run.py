"""``shimanto ingest captures``: the whole batch, from a folder of raw captures to reflectance stacks.

Outputs in ``out``, each written atomically:

* ``<capture>_reflectance.tif``: 5-band float32 Cloud-Optimized GeoTIFF in
  RedEdge-MX order (blue, green, red, nir, red_edge), band descriptions set,
  approximately georeferenced in the local UTM zone (see
  :mod:`pipeline.ingest.captures.geometry`) when the capture has GPS, else
  without CRS (pixel grid only; a warning says so);
* ``captures.geojson``: ground footprints (flat-ground assumption) of the written captures;
* ``calibration.json``: the calibration record (panel region, raw mean, radiance,
  reflectance, irradiance and factor per band; DLS irradiance and sun angles per
  capture; the method), see :mod:`pipeline.ingest.captures.calibration_record`;
* ``captures.csv``: one row per capture (written or failed) with id, time,
  position, panel flag, calibration, status, error and per-band mean reflectance.
"""

from __future__ import annotations

import csv
import io
import math
import warnings as warnings_module
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from pipeline.common.atomic import atomic_write_json, atomic_write_text
from pipeline.common.cog import write_cog
from pipeline.common.geo import reproject_geometry, write_geojson_features
from pipeline.common.progress import progress_task
from pipeline.errors import InputError, PipelineError
from pipeline.ingest.captures.calibration_record import RECORD_NAME, calibration_record
from pipeline.ingest.captures.discover import CaptureGroup, discover_captures
from pipeline.ingest.captures.geometry import camera_view, footprint, pixel_transform
from pipeline.ingest.captures.panel import panel_reflectance
from pipeline.ingest.captures.process import (
    BAND_ORDER,
    Calibration,
    RadianceCapture,
    choose_panels,
    dls_calibration,
    load_radiance,
    nearest_panel,
    panel_calibration,
    reflectance_stack,
)

CSV_FIELDS = ("capture", "capture_id", "time_utc", "lat", "lon", "alt_m", "height_agl_m", "panel", "calibration",
              "status", "error", *(f"mean_{b}" for b in BAND_ORDER), "file")


@dataclass(frozen=True)
class CaptureResult:
    """What happened to one capture (``error`` is empty when it was written)."""

    label: str
    capture_id: str
    row: dict[str, Any]
    path: Path | None = None
    footprint: BaseGeometry | None = None
    error: str = ""


@dataclass(frozen=True)
class CapturesReport:
    """The batch outcome: one result per capture, plus run-level warnings."""

    results: tuple[CaptureResult, ...]
    warnings: tuple[str, ...] = field(default=())
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[CaptureResult, ...]:
        return tuple(r for r in self.results if r.error)

    @property
    def written(self) -> tuple[CaptureResult, ...]:
        return tuple(r for r in self.results if not r.error)


@dataclass(frozen=True)
class CapturesOptions:
    """Command options.

    Attributes:
        panel: Capture label or CaptureId forced to be the panel capture (``None``: auto-detect).
        panel_reflectance: Per-band panel reflectance (``None``: registry value of the default serial).
        dls: Calibrate with the downwelling light sensor instead of the panel (also the fallback when
            no panel capture is found, with a warning).
        ground_alt: Ground altitude (m, GPS datum); ``None``: the lowest panel capture's altitude, else 0.
    """

    panel: str | None = None
    panel_reflectance: tuple[float, ...] | None = None
    dls: bool = False
    ground_alt: float | None = None


def _base_row(group: CaptureGroup) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CSV_FIELDS, "")
    row.update(capture=group.label, capture_id=group.capture_id)
    if group.bands:
        meta = group.bands[0]
        row.update(time_utc=meta.time_utc.isoformat() if meta.time_utc else "",
                   lat=round(meta.lat, 7) if meta.lat is not None else "",
                   lon=round(meta.lon, 7) if meta.lon is not None else "",
                   alt_m=round(meta.alt, 3) if meta.alt is not None else "")
    return row


def _ground_altitude(options: CapturesOptions, panels: Sequence[RadianceCapture], warnings: list[str]) -> float:
    if options.ground_alt is not None:
        return options.ground_alt
    alts = [p.metas[0].alt for p in panels if p.metas[0].alt is not None]
    if alts:
        return float(min(a for a in alts if a is not None))
    warnings.append("no --ground-alt and no panel capture with GPS: heights above ground assume ground at 0 m")
    return 0.0


def _write_capture(
    capture: RadianceCapture,
    calibration: Calibration,
    out: Path,
    ground_alt: float,
    row: dict[str, Any],
    warnings: list[str],
) -> CaptureResult:
    stack, window, shifts = reflectance_stack(capture, calibration)
    r0, c0, r1, c1 = window
    reference = capture.metas[BAND_ORDER.index("green")]
    tags = {
        "capture_id": capture.group.capture_id,
        "calibration": calibration.source,
        "calibration_notes": ";".join(calibration.notes),
        "calibration_factors": ",".join(f"{f:.6g}" for f in calibration.factors),
        "band_shifts_px": ";".join(f"{a:.1f},{b:.1f}" for a, b in shifts),
        "crop_window": f"{r0},{c0},{r1},{c1}",
        "units": "reflectance (0-1)",
        "time_utc": row["time_utc"],
    }
    band_tags = [{"centre_nm": m.centre_nm, "fwhm_nm": m.fwhm_nm, "source": m.path.name} for m in capture.metas]
    path = out / f"{capture.group.label}_reflectance.tif"
    poly_wgs84 = None
    if reference.has_gps:
        view = camera_view(reference, ground_alt)
        transform = pixel_transform(view, c1 - c0, r1 - r0, (r0, c0))
        poly = footprint(view, c1 - c0, r1 - r0, (r0, c0))
        poly_wgs84 = reproject_geometry(poly, view.crs, 4326)
        tags.update(georeference="approximate: flat ground, pinhole camera, attitude from " + view.pose_source)
        row["height_agl_m"] = round(view.height_m, 2)
        write_cog(path, stack, transform=transform, crs=view.crs.to_wkt(), nodata=float("nan"),
                  band_descriptions=BAND_ORDER, tags=tags, band_tags=band_tags)
    else:
        warnings.append(f"capture {capture.group.label} has no GPS position: {path.name} is written without CRS "
                        "(pixel grid only); georeference it with ODM or ground control points")
        tags.update(georeference="none: the capture has no GPS position")
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore", NotGeoreferencedWarning)
            write_cog(path, stack, transform=Affine.identity(), crs="", nodata=float("nan"),
                      band_descriptions=BAND_ORDER, tags=tags, band_tags=band_tags)
    for name, band in zip(BAND_ORDER, stack, strict=True):
        row[f"mean_{name}"] = round(float(np.nanmean(band)), 5)
    row.update(status="written", file=path.name, calibration=calibration.source)
    return CaptureResult(capture.group.label, capture.group.capture_id, row, path, poly_wgs84)


def run_captures(directory: Path | str, out: Path | str, options: CapturesOptions | None = None) -> CapturesReport:
    """Process every capture under ``directory`` into ``out``; see the module doc for the outputs.

    Raises:
        SceneNotFoundError / InputError: the folder is missing or holds no TIFF, the forced
            ``--panel`` is unknown, or no calibration is possible at all. Per-capture problems
            do not raise: they are in the report.
    """
    options = options or CapturesOptions()
    out = Path(out)
    groups = discover_captures(directory)
    rho = panel_reflectance(override=options.panel_reflectance)
    warnings: list[str] = []
    results: dict[str, CaptureResult] = {}
    panel_labels: set[str] = set()
    panels: list[RadianceCapture] = []
    readable: list[RadianceCapture] = []
    with progress_task("captures: radiance and panel search", len(groups)) as (progress, task):
        for group in groups:
            try:
                capture = load_radiance(group)
            except PipelineError as exc:
                results[group.label] = CaptureResult(group.label, group.capture_id, _base_row(group), error=str(exc))
            else:
                readable.append(capture)
            progress.advance(task)  # type: ignore[arg-type]
    if readable:
        panels = choose_panels(readable, options.panel)
        panel_labels = {p.group.label for p in panels}
    calibrations = {}
    if not options.dls:
        for p in panels:
            try:
                calibrations[p.group.label] = panel_calibration(p, rho)
            except PipelineError as exc:
                if options.panel is not None:
                    raise
                warnings.append(str(exc))
        if not calibrations and readable:
            warnings.append("no usable reflectance panel capture found: calibrating with the DLS instead")
    ground_alt = _ground_altitude(options, panels, warnings)
    usable_panels = [p for p in panels if p.group.label in calibrations]
    with progress_task("captures: reflectance", len(readable)) as (progress, task):
        for capture in readable:
            row = _base_row(capture.group)
            row["panel"] = "yes" if capture.group.label in panel_labels else "no"
            try:
                if usable_panels:
                    calibration = calibrations[nearest_panel(capture, usable_panels).group.label]
                else:
                    calibration = dls_calibration(capture)
                results[capture.group.label] = _write_capture(capture, calibration, out, ground_alt, row, warnings)
            except PipelineError as exc:
                row.update(status="failed", error=str(exc))
                results[capture.group.label] = CaptureResult(capture.group.label, capture.group.capture_id, row,
                                                             error=str(exc))
            progress.advance(task)  # type: ignore[arg-type]
    ordered = tuple(results[g.label] for g in groups)
    for r in ordered:
        if r.error:
            r.row.update(status="failed", error=r.error)
    _write_summary(out, ordered)
    record = calibration_record(panels, calibrations, readable, rho, options.dls)
    atomic_write_json(out / RECORD_NAME, record)
    return CapturesReport(ordered, tuple(warnings), record)


def _write_summary(out: Path, results: Sequence[CaptureResult]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow(r.row)
    atomic_write_text(out / "captures.csv", buffer.getvalue())
    features = [
        (r.footprint, {k: r.row[k] for k in ("capture", "capture_id", "time_utc", "panel", "height_agl_m", "file")}
         | {"assumption": "flat ground at the panel capture's / --ground-alt altitude"})
        for r in results
        if r.footprint is not None
    ]
    write_geojson_features(out / "captures.geojson", features)


def failure_message(report: CapturesReport) -> str:
    """One line naming every failed capture and why."""
    parts = [r.error if r.error.startswith(f"capture {r.label}") else f"capture {r.label}: {r.error}"
             for r in report.failed]
    return f"{len(report.failed)} of {len(report.results)} capture(s) failed — " + " | ".join(parts)


def check_report(report: CapturesReport) -> None:
    """Raise :class:`InputError` naming the failed captures (after the good ones were written)."""
    if report.failed:
        raise InputError(failure_message(report))
    if not report.results:
        raise InputError("no captures found")
    if any(math.isnan(float(r.row.get("mean_nir") or "nan")) for r in report.written):
        raise InputError("a written capture has no valid pixels")

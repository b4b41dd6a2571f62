"""Synthetic survey orchestration: spec in, survey folder out (contract: :mod:`pipeline.core.survey`).

Seeds and seasons
-----------------
``SurveySpec.layout_seed`` (default: ``seed``) fixes everything static: the
footprint, fields (outlines, crops, growers, planting dates, vigour), the
disease patches' origins, shapes and onsets, and the static textures. ``seed``
drives only per-flight effects (lesion mottling, sensor noise). A season of
flights over the SAME fields is therefore a sequence of specs with one
``layout_seed`` and changing ``date`` (growth follows each field's days after
planting) and ``disease_progress`` (0 = no disease; 1 = every patch at its
nominal size and severity; >1 keeps spreading, clipped to the field). A patch
with onset ``t`` appears once progress exceeds ``t``; the first patch of every
diseased field has onset 0 (the origin), so disease spreads from the origins.
``days_after_planting`` overrides the planting dates (every field planted that
many days before ``date``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

from pipeline.common.atomic import atomic_dir, atomic_write_json, check_output_folder
from pipeline.common.cog import write_cog
from pipeline.common.geo import JGD2011_UTM53N, WGS84, write_geojson_features
from pipeline.core.fields import Field
from pipeline.core.survey import FIELDS_NAME, LABELS_NAME, META_NAME, SCENE_NAME, SurveyFolder
from pipeline.errors import InputError, UnknownNameError
from pipeline.ingest.sensors import get_sensor
from pipeline.simulate.canopy import CROPS
from pipeline.simulate.layout import Layout, build_layout
from pipeline.simulate.lut import CropTable, build_crop_table, describe_table
from pipeline.simulate.scene import PSF_SIGMA_PX, READ_NOISE, SHOT_NOISE, grid_for, render_scene
from pipeline.simulate.spectra import Geometry
from pipeline.simulate.sun import sun_position
from pipeline.simulate.variation import SimVariation

GENERATOR = "shimanto-simulate/1"
#: Largest raster the simulator renders (pixels); 4 ha at 10 cm (6.2 M px) peaks near 1 GB of memory.
MAX_PIXELS = 25_000_000
#: Smallest footprint that holds six fields with their levees, ha.
MIN_HECTARES = 0.1
#: Flights with the sun lower than 90 - this (degrees) are refused.
MAX_SUN_ZENITH_DEG = 80.0

#: The command whose output marker simulated survey folders carry (also for ``simulate season``'s flights).
SIMULATE_COMMAND = "simulate survey"


@dataclass(frozen=True)
class SurveySpec:
    """What to simulate (see the module docstring for seeds and seasons).

    Attributes:
        seed: Per-flight random seed (noise, lesion mottling), >= 0.
        hectares: Footprint area, ha (> 0).
        gsd_cm: Ground sample distance, cm/pixel (> 0).
        date: Flight date (local).
        local_time: Flight time, local clock.
        utc_offset_h: Local time zone offset, hours (JST = 9).
        layout_seed: Seed of the static site; ``None`` uses ``seed``.
        days_after_planting: Override every field's days after planting; ``None``
            uses the layout's planting dates.
        disease_progress: Disease spread, 0 (none) .. 1 (nominal) .. >1 (further).
        sensor: Sensor registry name (reflective bands only).
        centre_lat: Site centre latitude, degrees N (Kubokawa, Shimanto).
        centre_lon: Site centre longitude, degrees E.
        variation: Departures from the nominal simulator (:mod:`variation`: disease strength, background,
            canopy, illumination, noise, blur, band misregistration); nominal by default.
    """

    seed: int
    hectares: float = 4.0
    gsd_cm: float = 10.0
    date: dt.date = field(default_factory=lambda: dt.date(2026, 7, 1))
    local_time: dt.time = field(default_factory=lambda: dt.time(10, 30))
    utc_offset_h: float = 9.0
    layout_seed: int | None = None
    days_after_planting: float | None = None
    disease_progress: float = 1.0
    sensor: str = "rededge-mx"
    centre_lat: float = 33.20
    centre_lon: float = 133.14
    variation: SimVariation = field(default_factory=SimVariation)

    @property
    def site_seed(self) -> int:
        """The layout seed in effect."""
        return self.seed if self.layout_seed is None else self.layout_seed

    @property
    def when(self) -> dt.datetime:
        """Timezone-aware flight datetime."""
        tz = dt.timezone(dt.timedelta(hours=self.utc_offset_h))
        return dt.datetime.combine(self.date, self.local_time, tzinfo=tz)

    def problems(self) -> list[str]:
        """Every reason this spec cannot be simulated (empty when fine)."""
        out = []
        if not isinstance(self.date, dt.date) or not isinstance(self.local_time, dt.time):
            out.append(f"date {self.date!r} / local_time {self.local_time!r} must be datetime.date / datetime.time")
        elif -90 <= self.centre_lat <= 90 and -12 <= self.utc_offset_h <= 14:
            sun = sun_position(self.when, self.centre_lat, self.centre_lon)
            if sun.zenith_deg > MAX_SUN_ZENITH_DEG:
                out.append(f"the sun is {sun.elevation_deg:.1f} deg above the horizon at {self.when.isoformat()}; "
                           f"pick a daytime flight time (sun elevation >= {90 - MAX_SUN_ZENITH_DEG:g} deg)")
        try:
            thermal = [b.name for b in get_sensor(self.sensor).bands if not 400 <= b.centre_nm <= 2500]
            if thermal:
                out.append(f"sensor {self.sensor!r} band(s) {', '.join(thermal)} lie outside 400-2500 nm; the "
                           "simulator covers reflective bands only; pick a sensor without thermal bands")
        except UnknownNameError as exc:
            out.append(str(exc))
        if not isinstance(self.seed, int) or self.seed < 0:
            out.append(f"seed {self.seed!r} must be a non-negative integer")
        if self.layout_seed is not None and (not isinstance(self.layout_seed, int) or self.layout_seed < 0):
            out.append(f"layout_seed {self.layout_seed!r} must be a non-negative integer or None")
        if not self.hectares > 0:
            out.append(f"hectares {self.hectares!r} must be > 0 (e.g. 4)")
        elif self.hectares < MIN_HECTARES:
            out.append(f"hectares {self.hectares!r} is too small for six fields with levees; use >= {MIN_HECTARES}")
        if not self.gsd_cm > 0:
            out.append(f"gsd_cm {self.gsd_cm!r} must be > 0 (e.g. 10)")
        elif self.hectares > 0 and self.hectares * 1e4 * 1.4 / (self.gsd_cm / 100) ** 2 > MAX_PIXELS:
            out.append(f"{self.hectares} ha at {self.gsd_cm} cm/px exceeds {MAX_PIXELS:,} pixels; "
                       "use fewer hectares or a coarser --gsd-cm")
        if self.days_after_planting is not None and not 0 <= self.days_after_planting <= 365:
            out.append(f"days_after_planting {self.days_after_planting!r} must be within 0..365")
        if not 0 <= self.disease_progress <= 5:
            out.append(f"disease_progress {self.disease_progress!r} must be within 0..5 (1 = nominal)")
        if not -12 <= self.utc_offset_h <= 14:
            out.append(f"utc_offset_h {self.utc_offset_h!r} must be within -12..14 (JST = 9)")
        if not (-60 <= self.centre_lat <= 60 and -180 <= self.centre_lon <= 180):
            out.append(f"centre ({self.centre_lat}, {self.centre_lon}) must be a lat/lon (lat within +-60)")
        elif not 132.0 <= self.centre_lon <= 138.0:
            out.append(f"centre_lon {self.centre_lon} lies outside UTM zone 53 (132-138 E) of EPSG:6690")
        return out


def field_days_after_planting(layout: Layout, spec: SurveySpec) -> dict[str, float]:
    """Days after planting of each field at the flight date (never negative)."""
    if spec.days_after_planting is not None:
        return {f.field_id: float(spec.days_after_planting) for f in layout.fields}
    return {f.field_id: float(max((spec.date - _planted(f, spec)).days, 0)) for f in layout.fields}


def _planted(f: Field, spec: SurveySpec) -> dt.date:
    if spec.days_after_planting is None:
        assert f.planted is not None, "the simulated layout dates every field"
        return f.planted
    return spec.date - dt.timedelta(days=round(spec.days_after_planting))


def site_layout(spec: SurveySpec) -> Layout:
    """The static site of ``spec`` (fields, patches, footprint) in EPSG:6690."""
    to_utm = Transformer.from_crs(WGS84, JGD2011_UTM53N, always_xy=True)
    e, n = to_utm.transform(spec.centre_lon, spec.centre_lat)
    return build_layout(spec.site_seed, spec.hectares, (round(e), round(n)), spec.date.year)


def simulate_survey(out: Path, spec: SurveySpec, overwrite: bool = False) -> SurveyFolder:
    """Simulate one flight and write a complete survey folder atomically.

    Args:
        out: Destination folder; replaced when it is empty or an earlier simulated survey, refused when it
            is a file or holds other things unless ``overwrite`` (:func:`~pipeline.common.atomic.atomic_dir`).
        spec: What to simulate.

    Returns:
        The written survey folder.

    Raises:
        InputError: the spec is invalid (every problem listed) or ``out`` cannot be used.
    """
    out = Path(out)
    problems = spec.problems()
    if problems:
        raise InputError("cannot simulate the survey: " + "; ".join(problems))
    check_output_folder(out, SIMULATE_COMMAND, overwrite)
    sensor = spec.variation.respond(get_sensor(spec.sensor))  # band-response variation, if any
    sun = sun_position(spec.when, spec.centre_lat, spec.centre_lon)
    geometry = Geometry(sun_zenith=sun.zenith_deg, sun_azimuth=sun.azimuth_deg)
    layout = site_layout(spec)
    daps = field_days_after_planting(layout, spec)
    tables: dict[str, CropTable] = {}
    for crop in CROPS:
        crop_daps = [daps[f.field_id] for f in layout.fields if f.crop == crop]
        if crop_daps:
            effects = {name: spec.variation.effect(name) for name in spec.variation.disease_strength}
            tables[crop] = build_crop_table(crop, float(np.mean(crop_daps)), sensor, geometry, effects)
    grid = grid_for(layout, spec.gsd_cm / 100.0)
    image, _severity = render_scene(layout, grid, sensor, geometry, tables, daps, spec.disease_progress,
                                    spec.seed, spec.site_seed, spec.variation)
    with atomic_dir(out, SIMULATE_COMMAND, overwrite) as tmp:
        write_cog(tmp / SCENE_NAME, image, transform=grid.transform, crs=JGD2011_UTM53N.to_wkt(),
                  nodata=float("nan"), band_descriptions=sensor.band_names,
                  tags={"SENSOR": sensor.name, "GENERATOR": GENERATOR, "SEED": spec.seed,
                        "LAYOUT_SEED": spec.site_seed, "DATE": spec.when.isoformat()},
                  band_tags=[{"CENTRE_NM": b.centre_nm, "FWHM_NM": b.fwhm_nm} for b in sensor.bands])
        write_geojson_features(tmp / FIELDS_NAME, _field_features(layout, spec), crs=JGD2011_UTM53N)
        write_geojson_features(tmp / LABELS_NAME, _label_features(layout, spec), crs=JGD2011_UTM53N)
        atomic_write_json(tmp / META_NAME, _metadata(spec, layout, grid.shape, sun, tables, daps))
    return SurveyFolder(out)


def _field_features(layout: Layout, spec: SurveySpec) -> list[tuple[Any, dict[str, Any]]]:
    return [
        (f.geometry, {"field_id": f.field_id, "crop": f.crop, "grower": f.grower,
                     "planted": _planted(f, spec).isoformat(), "open_data": f.open_data,
                     "area_m2": round(f.geometry.area, 1)})
        for f in layout.fields
    ]


def _label_features(layout: Layout, spec: SurveySpec) -> list[tuple[Any, dict[str, Any]]]:
    fields = {f.field_id: f for f in layout.fields}
    out: list[tuple[Any, dict[str, Any]]] = []
    counters: dict[str, int] = {}
    for patch in layout.patches:
        outline = patch.outline(spec.disease_progress, fields[patch.field_id].geometry)
        if outline is None:
            continue
        counters[patch.field_id] = counters.get(patch.field_id, 0) + 1
        out.append((outline, {
            "class": patch.disease, "crop": patch.crop, "field_id": patch.field_id,
            "patch_id": f"{patch.field_id}-P{counters[patch.field_id]}",
            "severity": round(patch.peak_at(spec.disease_progress), 3), "area_m2": round(outline.area, 1),
            "origin": patch.onset == 0.0,
        }))
    return out


def _metadata(spec: SurveySpec, layout: Layout, shape: tuple[int, int], sun: Any, tables: dict[str, CropTable],
              daps: dict[str, float]) -> dict[str, Any]:
    return {
        "generator": GENERATOR,
        "seed": spec.seed,
        "layout_seed": spec.site_seed,
        "sensor": spec.sensor,
        "bands": list(get_sensor(spec.sensor).band_names),
        "gsd_cm": spec.gsd_cm,
        "hectares": spec.hectares,
        "footprint_m2": round(layout.footprint.area, 1),
        "raster_shape": list(shape),
        "crs": "EPSG:6690",
        "centre": {"lat": spec.centre_lat, "lon": spec.centre_lon},
        "date": spec.date.isoformat(),
        "time": spec.local_time.isoformat(timespec="minutes"),
        "datetime": spec.when.isoformat(),
        "sun": {"zenith_deg": round(sun.zenith_deg, 3), "azimuth_deg": round(sun.azimuth_deg, 3),
                "declination_deg": round(sun.declination_deg, 3),
                "equation_of_time_min": round(sun.equation_of_time_min, 3), "model": "NOAA/Spencer"},
        "view": {"zenith_deg": 0.0},
        "disease_progress": spec.disease_progress,
        "days_after_planting": daps,
        "canopy_model": "PROSPECT-5 + 4SAIL (prosail 2.0.5), ellipsoidal LIDF",
        "canopy": {crop: describe_table(t) for crop, t in tables.items()},
        "noise": {"shot": SHOT_NOISE, "read": READ_NOISE, "psf_sigma_px": PSF_SIGMA_PX},
        "variation": spec.variation.describe(),
    }

"""Benchmark: synthetic survey generation, PROSAIL lookup table vs per-pixel PROSAIL.

Measures in the same run:

* baseline ``per-pixel PROSAIL``: :func:`pipeline.simulate.spectra.canopy_spectrum` +
  band integration for a sample of random canopy states (LAI, chlorophyll, class,
  severity), extrapolated to every field pixel of the default survey;
* ours: building both crop tables (PROSPECT once per leaf state, 4SAIL per node)
  plus multilinear lookup of every field pixel;
* the lookup's error against direct PROSAIL on the sampled states (reflectance units);
* the whole default survey (4 ha at 10 cm): wall and CPU seconds and peak memory.

Usage: ``python bench/bench_simulate.py [--hectares 4] [--gsd-cm 10] [--samples 300]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.common.geo import JGD2011_UTM53N, read_geojson_features, reproject_geometry  # noqa: E402
from pipeline.ingest.sensors import get_sensor  # noqa: E402
from pipeline.simulate.canopy import DISEASES, crop_background  # noqa: E402
from pipeline.simulate.lut import build_crop_table  # noqa: E402
from pipeline.simulate.spectra import Geometry, band_reflectance, canopy_spectrum  # noqa: E402
from pipeline.simulate.survey import SurveySpec, simulate_survey  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hectares", type=float, default=4.0)
    parser.add_argument("--gsd-cm", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        folder = simulate_survey(Path(tmp) / "s", SurveySpec(seed=7, hectares=args.hectares, gsd_cm=args.gsd_cm))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with rasterio.open(folder.scene) as src:
            shape, transform = (src.height, src.width), src.transform
        fields, _ = read_geojson_features(folder.fields)
        field_px = int(features.rasterize([(reproject_geometry(g, 4326, JGD2011_UTM53N), 1) for g, _ in fields],
                                          out_shape=shape, transform=transform).sum())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"survey {args.hectares} ha @ {args.gsd_cm} cm: {shape[0]}x{shape[1]} px, {field_px:,} field px; "
          f"wall {wall:.2f} s, cpu {cpu:.2f} s, peak RSS {peak_mb:.0f} MB")

    sensor, geometry = get_sensor("rededge-mx"), Geometry(sun_zenith=25.0)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    tables = {crop: build_crop_table(crop, 70.0, sensor, geometry) for crop in ("rice", "ginger")}
    build_s = time.perf_counter() - t
    lookup_s, direct_s, errors = 0.0, 0.0, []
    for crop, table in tables.items():
        n = field_px // 2
        cls = rng.integers(0, len(table.classes), n)
        lai = rng.uniform(0, table.lai[-1], n)
        cab = rng.uniform(table.cab_factor[0], table.cab_factor[-1], n)
        sev = np.where(cls == 0, 0.0, rng.uniform(0, 1, n))
        t = time.perf_counter()
        got = table.lookup(cls, lai, cab, sev)
        lookup_s += time.perf_counter() - t
        bg = crop_background(crop)
        t = time.perf_counter()
        for i in range(args.samples // 2):
            base = table.healthy.replace(lai=float(lai[i]), cab=table.healthy.cab * float(cab[i]))
            params = base if cls[i] == 0 else DISEASES[table.classes[cls[i]]].apply(base, float(sev[i]))
            direct = band_reflectance(canopy_spectrum(params, bg, geometry), sensor)
            errors.append(np.abs(direct - got[i]))
        direct_s += time.perf_counter() - t
    per_pixel = direct_s / (2 * (args.samples // 2))
    baseline = per_pixel * field_px
    ours = build_s + lookup_s
    err = np.array(errors)
    print(f"baseline per-pixel PROSAIL: {per_pixel * 1e3:.2f} ms/px -> {baseline:,.0f} s for {field_px:,} px "
          f"(extrapolated from {2 * (args.samples // 2)} px)")
    print(f"ours LUT: build {build_s:.2f} s + lookup {lookup_s:.2f} s = {ours:.2f} s")
    print(f"ratio baseline/ours: {baseline / ours:,.0f}x")
    print(f"LUT error vs direct PROSAIL: mean {err.mean():.4f}, p99 {np.percentile(err, 99):.4f}, "
          f"max {err.max():.4f} reflectance")


if __name__ == "__main__":
    main()

"""Benchmark: automatic grid angle vs a fixed east-west (0°) lawnmower on irregular fields.

Baseline: the same planner with ``angle_deg = 0`` (east-west lanes), same camera,
spacing, turnarounds, speed and home. For each seeded irregular field both plans
are made; the script prints the flight-time ratio (auto / baseline, < 1 is
better) and whether each plan's photos (from its mission items) cover ≥ 99.5 %
of the field.

Run: ``.venv/bin/python bench/bench_flight_grid.py [--fields 12] [--seed 1]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from shapely.geometry import Polygon

from pipeline.flight.boundary import Area, Boundary
from pipeline.flight.cameras import get_camera
from pipeline.flight.planner import SurveyRequest, plan_survey
from pipeline.flight.synthetic import KUBOKAWA, irregular_field_m, local_to_lonlat

BASELINE = "fixed-angle 0° (east-west) lawnmower, same spacing/turnarounds/speed/home"


def main() -> None:
    """Plan every field both ways and print per-field and mean ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    cam = get_camera("rededge-mx")
    print(f"baseline: {BASELINE}")
    print(f"camera rededge-mx, GSD 5 cm, overlap 75/70, {args.fields} irregular fields (seed {args.seed})")
    print(f"{'field':>5} {'area_ha':>8} {'angle':>6} {'t_auto_s':>9} {'t_base_s':>9} {'ratio':>6} {'cov_auto':>8} "
          f"{'cov_base':>8}")
    ratios, ok, plan_s = [], True, 0.0
    for k in range(args.fields):
        field_m = irregular_field_m(rng, r_min=60.0, r_max=260.0)
        field = Polygon(local_to_lonlat(list(field_m.exterior.coords), KUBOKAWA))
        boundary = Boundary((Area(f"field-{k + 1}", field),))
        t0 = time.perf_counter()
        auto = plan_survey(boundary, SurveyRequest(cam, gsd_cm=5.0, front_overlap=0.75, side_overlap=0.70))
        plan_s += time.perf_counter() - t0
        home = (auto.mission.home[0], auto.mission.home[1]) if auto.mission.home else None
        auto = plan_survey(boundary, SurveyRequest(cam, gsd_cm=5.0, front_overlap=0.75, side_overlap=0.70, home=home))
        base = plan_survey(boundary, SurveyRequest(cam, gsd_cm=5.0, front_overlap=0.75, side_overlap=0.70,
                                                   home=home, angle_deg=0.0))
        ta, tb = auto.summary["flight_time_s"], base.summary["flight_time_s"]
        ca, cb = auto.summary["coverage_fraction"], base.summary["coverage_fraction"]
        ok = ok and ca >= 0.995 and cb >= 0.995
        ratios.append(ta / tb)
        angle = next(iter(auto.summary["grid_angle_deg_ccw_from_east"].values()))
        print(f"{k + 1:>5} {field_m.area / 1e4:>8.2f} {angle:>6.1f} {ta:>9.1f} {tb:>9.1f} {ta / tb:>6.3f} "
              f"{ca:>8.4f} {cb:>8.4f}")
    print(f"mean flight-time ratio auto/baseline: {statistics.mean(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    print(f"coverage >= 99.5% for every plan: {'yes' if ok else 'NO'}")
    print(f"mean planning time with angle search: {plan_s / args.fields:.2f} s per field")


if __name__ == "__main__":
    main()

"""Benchmark: automatic grid angle vs fixed-angle lawnmowers on irregular fields.

Baselines, each the same planner with the same camera, spacing, turnarounds, speed and home:

1. fixed angle: east-west lanes (QGC Survey angle 90°, what a pilot gets without choosing);
2. best of 0°/90°: the faster of north-south and east-west lanes (what a pilot trying both in QGC gets).

For each seeded irregular field the script prints the flight-time ratios (auto / baseline,
< 1 is better) against both and whether each plan's photos (from its mission items) cover
≥ 99.5 % of the field.

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
from pipeline.testing.flight_fields import KUBOKAWA, irregular_field_m, local_to_lonlat

BASELINE = "fixed-angle east-west lawnmower (QGC angle 90°), same spacing/turnarounds/speed/home"
BASELINE2 = "best of QGC angles 0° and 90° (north-south or east-west), same spacing/turnarounds/speed/home"


def main() -> None:
    """Plan every field both ways and print per-field and mean ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    cam = get_camera("rededge-mx")
    print(f"baseline 1: {BASELINE}")
    print(f"baseline 2: {BASELINE2}")
    print(f"camera rededge-mx, GSD 5 cm, overlap 75/70, {args.fields} irregular fields (seed {args.seed})")
    print(f"{'field':>5} {'area_ha':>8} {'angle':>6} {'t_auto_s':>9} {'t_ew_s':>9} {'t_best_s':>9} {'r_ew':>6} "
          f"{'r_best':>6} {'cov_auto':>8} {'cov_ew':>8} {'cov_best':>8}")
    ratios, ratios_best, ok, plan_s = [], [], True, 0.0
    for k in range(args.fields):
        field_m = irregular_field_m(rng, r_min=60.0, r_max=260.0)
        field = Polygon(local_to_lonlat(list(field_m.exterior.coords), KUBOKAWA))
        boundary = Boundary((Area(f"field-{k + 1}", field),))
        t0 = time.perf_counter()
        auto = plan_survey(boundary, SurveyRequest(cam, gsd_cm=5.0, front_overlap=0.75, side_overlap=0.70))
        plan_s += time.perf_counter() - t0
        home = (auto.mission.home[0], auto.mission.home[1]) if auto.mission.home else None
        auto = plan_survey(boundary, SurveyRequest(cam, gsd_cm=5.0, front_overlap=0.75, side_overlap=0.70, home=home))
        fixed = {a: plan_survey(boundary, SurveyRequest(cam, gsd_cm=5.0, front_overlap=0.75, side_overlap=0.70,
                                                        home=home, angle_deg=a)) for a in (0.0, 90.0)}
        base = fixed[90.0]
        best = min(fixed.values(), key=lambda p: p.summary["flight_time_s"])
        ta, tb, tbest = (p.summary["flight_time_s"] for p in (auto, base, best))
        ca, cb, cbest = (p.summary["coverage_fraction"] for p in (auto, base, best))
        ok = ok and min(ca, cb, cbest) >= 0.995
        ratios.append(ta / tb)
        ratios_best.append(ta / tbest)
        angle = next(iter(auto.summary["grid_angle_deg_qgc"].values()))
        print(f"{k + 1:>5} {field_m.area / 1e4:>8.2f} {angle:>6.1f} {ta:>9.1f} {tb:>9.1f} {tbest:>9.1f} "
              f"{ta / tb:>6.3f} {ta / tbest:>6.3f} {ca:>8.4f} {cb:>8.4f} {cbest:>8.4f}")
    print(f"mean flight-time ratio auto/fixed east-west: {statistics.mean(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    print(f"mean flight-time ratio auto/best of 0° and 90°: {statistics.mean(ratios_best):.3f} "
          f"(min {min(ratios_best):.3f}, max {max(ratios_best):.3f})")
    print(f"coverage >= 99.5% for every plan: {'yes' if ok else 'NO'}")
    print(f"mean planning time with angle search: {plan_s / args.fields:.2f} s per field")


if __name__ == "__main__":
    main()

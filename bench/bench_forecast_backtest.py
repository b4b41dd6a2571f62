"""Rolling-origin backtest of the field index forecast on simulated seasons.

Simulates a few seasons (default 4 seasons × 7 weekly flights, 1 ha at 20 cm,
different sites), computes per-field index statistics with the real
``shimanto indices`` command (through the batch runner, plain loop), builds
each field's series and forecasts every flight k ≥ 3 from flights 0..k-1
(:func:`pipeline.analysis.forecast.backtest`). Prints, per index, MAE and RMSE of
the method, MAE of persistence (the baseline: tomorrow = last observation),
skill = 1 − MAE/MAE_persistence, the mean width of the prediction band and its
coverage against the nominal level; also for a few method variants (window,
damping, band), measured on the same series. The empirical band of a forecast
is calibrated only on errors of earlier-dated forecasts (no look-ahead), so
the first forecasts of a season use the t-interval.

    .venv/bin/python bench/bench_forecast_backtest.py [--seasons 4] [--flights 7]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from pipeline.analysis.forecast import ForecastSettings, backtest
from pipeline.analysis.timeseries import build_series, collect_run_stats
from pipeline.batch.discover import discover_flights
from pipeline.batch.runner import reprocess
from pipeline.batch.stages import RunContext, parse_stages
from pipeline.config import load_params
from pipeline.simulate.season import SeasonSpec, simulate_season

LOCAL = "local-trend"
VARIANTS: tuple[tuple[str, ForecastSettings], ...] = (
    ("default: statsmodels damped Holt, empirical", ForecastSettings()),
    ("statsmodels damped Holt, t-band", ForecastSettings(min_calibration=0)),
    ("local trend w3, damped 0.9, empirical band", ForecastSettings(method=LOCAL)),
    ("local trend w3, damped 0.9, t-interval", ForecastSettings(method=LOCAL, min_calibration=0)),
    ("local trend w4, damped 0.9, empirical band", ForecastSettings(method=LOCAL, window=4)),
    ("local trend w5, damped 0.9, empirical band", ForecastSettings(method=LOCAL, window=5)),
    ("local trend w3, undamped, empirical band", ForecastSettings(method=LOCAL, damping_per_5_days=1.0)),
    ("local trend w3, damped 0.7, empirical band", ForecastSettings(method=LOCAL, damping_per_5_days=0.7)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seasons", type=int, default=4)
    parser.add_argument("--flights", type=int, default=7)
    parser.add_argument("--hectares", type=float, default=1.0)
    parser.add_argument("--gsd-cm", type=float, default=20.0)
    parser.add_argument("--indices", default="ndvi,ndre")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-forecast-") as tmp:
        root, out = Path(tmp) / "flights", Path(tmp) / "out"
        for k in range(args.seasons):
            simulate_season(root, SeasonSpec(seed=21 + k, flights=args.flights, area=f"site{k + 1}",
                                             hectares=args.hectares, gsd_cm=args.gsd_cm))
        params = load_params(None)
        ctx = RunContext(out=out, model=None, root=root,
                         params_json=json.dumps({s: dict(v) for s, v in params.sections.items()}, default=str))
        summary = reprocess(discover_flights(root), parse_stages("indices"), ctx, use_dask=False)
        if summary.failed:
            raise SystemExit(f"indices failed: {[o.to_dict() for o in summary.failed]}")
        series = build_series(collect_run_stats(out / "flights"))
    print(f"{args.seasons} seasons x {args.flights} flights ({args.hectares} ha, {args.gsd_cm} cm), "
          f"{len(series)} field series, {time.perf_counter() - started:.0f} s to simulate and compute indices")
    for index in args.indices.split(","):
        chosen = [s for (_area, _field, idx), s in sorted(series.items()) if idx == index]
        print(f"\n{index.upper()} ({len(chosen)} fields), one flight (7 days) ahead:")
        header = ("n", 4), ("MAE", 7), ("RMSE", 7), ("persist.MAE", 11), ("skill", 6), ("band", 6), ("coverage", 9)
        print(f"  {'method':44s} " + " ".join(f"{h:>{w}s}" for h, w in header))
        for name, cfg in VARIANTS:
            r = backtest(chosen, settings=cfg)
            print(f"  {name:44s} {r.n_forecasts:4d} {r.mae:7.4f} {r.rmse:7.4f} {r.persistence_mae:11.4f} "
                  f"{r.skill:6.2f} {r.mean_band_width:6.3f} {r.coverage:8.0%} (nominal {r.level:.0%})")
        holt = backtest(chosen, settings=ForecastSettings())
        local = backtest(chosen, settings=ForecastSettings(method=LOCAL))
        print(f"  MAE ratio statsmodels damped Holt / the project's earlier local trend: {holt.mae / local.mae:.2f} "
              "(< 1: the library method is better)")


if __name__ == "__main__":
    main()

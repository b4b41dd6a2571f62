"""Batch reprocessing: speed-up from 1 to 2 Dask workers, and Dask overhead against a plain loop.

Simulates a batch of small synthetic flights, then runs the same stages three
ways into fresh output folders, all in this run:

* ``loop``: :func:`pipeline.batch.runner.run_flights_local_loop` (one process, no Dask) — the baseline;
* ``dask-1``: a cluster of 1 worker;
* ``dask-2``: a cluster of 2 workers.

Each cluster is started and its workers warmed up (``cli`` imported) first;
that start-up is timed separately (it is paid once per run, whatever the
number of flights), and the run itself goes through ``--scheduler`` so the
timed part is the steady-state processing. Prints wall times and the ratios
``dask-1 / dask-2`` (speed-up), ``dask-1 / loop`` (overhead of task shipping)
and the start-up cost.

    .venv/bin/python bench/bench_batch.py [--flights 6] [--hectares 1.0] [--gsd-cm 20] [--stages indices]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from pipeline.batch.discover import discover_flights
from pipeline.batch.runner import load_summary, reprocess
from pipeline.batch.stages import RunContext, parse_stages
from pipeline.config import load_params
from pipeline.simulate.season import SeasonSpec, simulate_season


def _warm_up() -> None:
    import cli

    cli.build_app()


def _run(
    root: Path, out: Path, stages: tuple[str, ...], workers: int, use_dask: bool, params_file: Path | None
) -> tuple[float, float, dict[str, Any]]:
    """(start-up seconds, run seconds, status counts)."""
    from dask.distributed import Client, LocalCluster

    params = load_params(params_file)
    ctx = RunContext(out=out, model=None, root=root, params_file=params_file,
                     params_json=json.dumps({k: dict(v) for k, v in params.sections.items()}, default=str))
    if not use_dask:
        _warm_up()
        started = time.perf_counter()
        summary = reprocess(discover_flights(root), stages, ctx, use_dask=False)
        return 0.0, time.perf_counter() - started, summary.counts()
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        client.run(_warm_up)
        startup = time.perf_counter() - started
        started = time.perf_counter()
        summary = reprocess(discover_flights(root), stages, ctx, workers=workers, scheduler=cluster.scheduler_address)
        return startup, time.perf_counter() - started, summary.counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", type=int, default=6)
    parser.add_argument("--hectares", type=float, default=1.0)
    parser.add_argument("--gsd-cm", type=float, default=20.0)
    parser.add_argument("--stages", default="indices")
    parser.add_argument("--stage-threads", type=int, default=0,
                        help="threads of each indices run (params ingest.workers; 0 = all CPUs)")
    args = parser.parse_args()
    stages = parse_stages(args.stages)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp) / "flights"
        simulate_season(root, SeasonSpec(seed=11, flights=args.flights, hectares=args.hectares, gsd_cm=args.gsd_cm))
        params_file = None
        if args.stage_threads:
            doc = {k: dict(v) for k, v in load_params(None).sections.items()}
            doc.setdefault("ingest", {})["workers"] = args.stage_threads
            params_file = Path(tmp) / "params.yaml"
            params_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        print(f"{args.flights} flights of {args.hectares} ha at {args.gsd_cm} cm; stages {','.join(stages)}; "
              f"{os.cpu_count()} CPUs; threads per indices run: {args.stage_threads or 'all CPUs'}")
        times, startups = {}, {}
        for name, workers, use_dask in (("loop", 1, False), ("dask-1", 1, True), ("dask-2", 2, True)):
            startup, seconds, counts = _run(root, Path(tmp) / name, stages, workers, use_dask, params_file)
            if counts["failed"] or counts["blocked"]:
                raise SystemExit(f"{name}: stages failed: {counts}")
            times[name], startups[name] = seconds, startup
            stage_s = sum(o["seconds"] for o in load_summary(Path(tmp) / name)["outcomes"])
            print(f"{name:7s} run {seconds:7.2f} s  (sum of stage times {stage_s:6.2f} s; "
                  f"cluster start + worker warm-up {startup:5.2f} s)  {counts}")
    print(f"speed-up 1 -> 2 workers (dask-1 / dask-2): {times['dask-1'] / times['dask-2']:.2f}x")
    print(f"overhead of Dask, 1 worker vs plain loop (dask-1 / loop): {times['dask-1'] / times['loop']:.2f}x")
    print(f"2 workers vs plain loop (loop / dask-2): {times['loop'] / times['dask-2']:.2f}x")
    print(f"cluster start-up, paid once per run: {startups['dask-1']:.1f} s (1 worker), "
          f"{startups['dask-2']:.1f} s (2 workers)")


if __name__ == "__main__":
    main()

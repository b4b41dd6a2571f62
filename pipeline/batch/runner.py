"""Orchestrate a reprocessing run on Dask distributed.

Per flight, the stages that need no other flight (indices, predict) form one
Dask task; the stages that compare with earlier flights (report, whose
``--history`` is the same area's earlier reports) form a second task that
waits for the flight's first task and for the previous flight's report task,
so reports run in date order within an area while areas run in parallel.
A local cluster is started unless a scheduler address is given. Collection
stages (time series, publish) run after the flights, over the flights whose
stages succeeded.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.batch.discover import Discovery
from pipeline.batch.execute import STATUSES, StageOutcome, remove_stale_temporaries, run_flight_stages, run_in_folder
from pipeline.batch.fingerprint import code_version
from pipeline.batch.stages import (
    CODE_PACKAGES,
    COLLECTION_REQUIRES,
    COLLECTION_STAGES,
    FIELD_STATS,
    FLIGHT_STAGES,
    OUT,
    RunContext,
    StageCall,
)
from pipeline.common.atomic import atomic_write_json
from pipeline.core.flight import Flight

SUMMARY_NAME = "run_summary.json"
OnDone = Callable[[list[StageOutcome]], None]


@dataclass(frozen=True)
class RunSummary:
    """What a run did: every stage outcome plus the ignored folders."""

    outcomes: tuple[StageOutcome, ...]
    ignored: tuple[tuple[str, str], ...]
    workers: int
    scheduler: str
    code: tuple[tuple[str, str], ...]
    stages: tuple[str, ...] = ()
    flights: tuple[str, ...] = ()
    removed_temporaries: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[StageOutcome, ...]:
        """Outcomes that failed or were blocked."""
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def failed_flights(self) -> tuple[str, ...]:
        """Flights with at least one failed or blocked stage (``*`` = a collection stage)."""
        return tuple(sorted({o.flight_id for o in self.failed}))

    def counts(self) -> dict[str, int]:
        """Number of outcomes per status."""
        return {s: sum(o.status == s for o in self.outcomes) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written to ``run_summary.json``."""
        return {
            "code_version": dict(self.code),
            "workers": self.workers,
            "scheduler": self.scheduler,
            "stages": list(self.stages),
            "flights": list(self.flights),
            "ok": not self.failed,
            "counts": self.counts(),
            "failed_flights": list(self.failed_flights),
            "failures": [o.to_dict() for o in self.failed],
            "outcomes": [o.to_dict() for o in self.outcomes],
            "ignored": [{"path": p, "reason": r} for p, r in self.ignored],
            "removed_temporaries": list(self.removed_temporaries),
        }


def history_of(flight: Flight, flights: tuple[Flight, ...]) -> tuple[Flight, ...]:
    """Earlier flights of the same area, oldest first."""
    return tuple(f for f in flights if f.area == flight.area and f.date < flight.date)


def _sort_outcomes(outcomes: list[StageOutcome], flights: tuple[Flight, ...], stages: tuple[str, ...]) -> None:
    order = {f.flight_id: i for i, f in enumerate(flights)}
    stage_order = {s: i for i, s in enumerate(stages)}
    outcomes.sort(key=lambda o: (order.get(o.flight_id, -1), stage_order.get(o.stage, 99)))


def run_flights_local_loop(
    flights: tuple[Flight, ...], stages: tuple[str, ...], ctx: RunContext, on_done: OnDone | None = None
) -> list[StageOutcome]:
    """The plain-loop baseline: the same stages, one flight after another, in this process, no Dask."""
    outcomes: list[StageOutcome] = []
    for flight in flights:
        result = run_flight_stages(flight, stages, ctx, history_of(flight, flights), threads=os.cpu_count() or 1)
        outcomes += result
        if on_done is not None:
            on_done(result)
    return outcomes


def run_flights_dask(
    flights: tuple[Flight, ...],
    stages: tuple[str, ...],
    ctx: RunContext,
    workers: int,
    scheduler: str | None,
    on_done: OnDone | None = None,
) -> list[StageOutcome]:
    """Run each flight's stage chain as Dask tasks; call ``on_done`` as each task finishes.

    Args:
        flights: Flights in (area, date) order.
        stages: Per-flight stages in dependency order.
        ctx: Run context.
        workers: Worker processes of the local cluster (ignored with ``scheduler``).
        scheduler: Address of an existing scheduler (``tcp://host:port``) or None.
        on_done: Called with each finished task's outcomes (progress display).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = Client(scheduler, timeout="30s")
        cluster = None
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
        client = Client(cluster)
        n_workers = workers
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    try:
        plain = tuple(s for s in stages if not FLIGHT_STAGES[s].uses_history)
        comparing = tuple(s for s in stages if FLIGHT_STAGES[s].uses_history)
        first = {
            f.flight_id: client.submit(
                run_flight_stages, f, plain, ctx, (), threads, key=f"{f.flight_id}-{'-'.join(plain)}", pure=False
            )
            for f in flights
            if plain
        }
        futures = list(first.values())
        task_of: dict[Any, tuple[Flight, tuple[str, ...]]] = {first[f.flight_id].key: (f, plain)
                                                             for f in flights if plain}
        if comparing:
            previous: dict[str, Any] = {}  # area -> the previous flight's comparing future
            for f in flights:
                waits = tuple(x for x in (first.get(f.flight_id), previous.get(f.area)) if x is not None)
                fut = client.submit(
                    run_flight_stages, f, comparing, ctx, history_of(f, flights), threads, waits,
                    key=f"{f.flight_id}-{'-'.join(comparing)}", pure=False,
                )
                previous[f.area] = fut
                futures.append(fut)
                task_of[fut.key] = (f, comparing)
        outcomes: list[StageOutcome] = []
        for future in as_completed(futures):
            try:
                result: list[StageOutcome] = future.result()
            except Exception as exc:  # a worker died or the task could not run: fail this flight only
                flight, names = task_of[future.key]
                reason = f"task lost: {type(exc).__name__}: {exc}"
                result = [StageOutcome(flight.flight_id, n, "failed", 0.0, reason) for n in names]
            outcomes += result
            if on_done is not None:
                on_done(result)
        _sort_outcomes(outcomes, flights, stages)
        return outcomes
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_publish(ok_flights: tuple[Flight, ...], ctx: RunContext, stages: tuple[str, ...]) -> StageOutcome:
    """Publish open data for the flights whose per-flight stages succeeded."""
    if not ok_flights:
        return StageOutcome("*", "publish", "blocked", 0.0, "no flight succeeded")
    argv: list[str] = ["publish", *[str(f.path) for f in ok_flights]]
    inputs: list[Path] = [f.path for f in ok_flights]
    for stage, flag in (("indices", "--indices"), ("predict", "--predictions")):
        if stage in stages:
            for f in ok_flights:
                argv += [flag, str(ctx.flight_dir(f, stage))]
                inputs.append(ctx.flight_dir(f, stage))
    argv += [*ctx.params_args(), "--out", OUT]
    return run_in_folder("publish", "*", StageCall(tuple(argv), tuple(inputs)), ctx.collection_dir("publish"), ctx,
                         COLLECTION_STAGES["publish"])


def run_timeseries(ok_flights: tuple[Flight, ...], ctx: RunContext) -> StageOutcome:
    """Field trends and forecasts over the indices of every flight whose indices succeeded."""
    if not ok_flights:
        return StageOutcome("*", "timeseries", "blocked", 0.0, "no flight has indices")
    folders = [ctx.out / "flights" / f.flight_id for f in ok_flights]
    argv = ("timeseries", *map(str, folders), *ctx.params_args(), "--out", OUT)
    inputs = tuple(folder / "indices" / FIELD_STATS for folder in folders)
    return run_in_folder("timeseries", "*", StageCall(argv, inputs), ctx.collection_dir("timeseries"), ctx,
                         COLLECTION_STAGES["timeseries"])


def flights_ok_for(needs: tuple[str, ...], flights: tuple[Flight, ...], outcomes: list[StageOutcome],
                   stages: tuple[str, ...]) -> tuple[Flight, ...]:
    """Flights whose ``needs`` stages (or, if empty, every per-flight stage run) succeeded."""
    wanted = set(needs) or set(stages)
    bad = {o.flight_id for o in outcomes if o.stage in wanted and not o.ok}
    return tuple(f for f in flights if f.flight_id not in bad)


def run_collections(
    flights: tuple[Flight, ...], outcomes: list[StageOutcome], ctx: RunContext, stages: tuple[str, ...]
) -> list[StageOutcome]:
    """Run the chosen collection stages over the flights that qualify for each."""
    per_flight = flight_stage_names(stages)
    runners: dict[str, Callable[[tuple[Flight, ...]], StageOutcome]] = {
        "timeseries": lambda ok: run_timeseries(ok, ctx),
        "publish": lambda ok: run_publish(ok, ctx, per_flight),
    }
    return [
        runners[name](flights_ok_for(COLLECTION_REQUIRES[name], flights, outcomes, per_flight))
        for name in collection_stage_names(stages)
    ]


def reprocess(
    discovery: Discovery,
    stages: tuple[str, ...],
    ctx: RunContext,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: OnDone | None = None,
    use_dask: bool = True,
) -> RunSummary:
    """Remove a killed run's leftovers, run every stage, write ``OUT/run_summary.json``.

    Args:
        discovery: Flights found under the root.
        stages: Validated stage names (:func:`~pipeline.batch.stages.parse_stages`).
        ctx: Run context.
        workers: Local-cluster workers.
        scheduler: Existing scheduler address, or None for a local cluster.
        on_done: Progress callback per finished task.
        use_dask: False runs the per-flight stages in a plain loop (the benchmark baseline).
    """
    ctx = with_code_versions(ctx, stages)
    removed = remove_stale_temporaries(ctx.out)
    per_flight = flight_stage_names(stages)
    outcomes: list[StageOutcome] = []
    if per_flight:
        if use_dask:
            outcomes = run_flights_dask(discovery.flights, per_flight, ctx, workers, scheduler, on_done)
        else:
            outcomes = run_flights_local_loop(discovery.flights, per_flight, ctx, on_done)
    collection = run_collections(discovery.flights, outcomes, ctx, stages)
    if on_done is not None and collection:
        on_done(collection)
    return finish_run(discovery, outcomes + collection, ctx, workers, scheduler, stages, removed)


def with_code_versions(ctx: RunContext, stages: tuple[str, ...]) -> RunContext:
    """``ctx`` with each stage's code version computed now (once per run, sent to every worker)."""
    return dataclasses.replace(ctx, code=tuple((s, code_version(CODE_PACKAGES[s])) for s in stages))


def finish_run(
    discovery: Discovery,
    outcomes: list[StageOutcome],
    ctx: RunContext,
    workers: int,
    scheduler: str | None,
    stages: tuple[str, ...] = (),
    removed: list[Path] | None = None,
) -> RunSummary:
    """Write ``OUT/run_summary.json`` and return the summary."""
    summary = RunSummary(
        outcomes=tuple(outcomes),
        ignored=tuple((str(p), r) for p, r in discovery.ignored),
        workers=workers,
        scheduler=scheduler or "local",
        code=ctx.code,
        stages=stages,
        flights=tuple(f.flight_id for f in discovery.flights),
        removed_temporaries=tuple(str(p) for p in removed or ()),
    )
    atomic_write_json(ctx.out / SUMMARY_NAME, summary.to_dict())
    return summary


def flight_stage_names(stages: tuple[str, ...]) -> tuple[str, ...]:
    """The per-flight stages among ``stages``."""
    return tuple(s for s in stages if s in FLIGHT_STAGES)


def collection_stage_names(stages: tuple[str, ...]) -> tuple[str, ...]:
    """The collection stages among ``stages``."""
    return tuple(s for s in stages if s in COLLECTION_STAGES)


def load_summary(out: Path) -> dict[str, Any]:
    """Read a previous run's summary (for tests and notebooks)."""
    data: dict[str, Any] = json.loads((out / SUMMARY_NAME).read_text(encoding="utf-8"))
    return data

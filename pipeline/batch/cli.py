"""CLI of the batch stage: ``shimanto reprocess`` and ``shimanto timeseries``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pipeline.batch.discover import discover_flights
from pipeline.batch.execute import StageOutcome
from pipeline.batch.runner import SUMMARY_NAME, RunSummary, reprocess
from pipeline.batch.stages import DEFAULT_STAGES, FLIGHT_STAGES, BatchSettings, RunContext, parse_stages
from pipeline.common.atomic import claim_output_folder
from pipeline.common.cli_options import overwrite_option, params_option, read_params
from pipeline.common.progress import make_progress
from pipeline.config import section
from pipeline.errors import InputError, PipelineError

STATUS_STYLE = {"ran": "green", "skipped": "cyan", "failed": "bold red", "blocked": "yellow"}


class BatchFailedError(PipelineError):
    """Some flights failed; the summary names them."""

    exit_code = 6


def summary_table(summary: RunSummary) -> Table:
    """The end-of-run table: one row per flight and stage, with the reason of each failure."""
    table = Table(title="reprocess summary")
    for col in ("flight", "stage", "status", "seconds", "reason"):
        table.add_column(col, overflow="fold")
    for o in summary.outcomes:
        table.add_row(o.flight_id, o.stage, f"[{STATUS_STYLE[o.status]}]{o.status}[/]", f"{o.seconds:.1f}",
                      o.reason[:300])
    counts = summary.counts()
    table.caption = ", ".join(f"{n} {s}" for s, n in counts.items())
    return table


def register(app: typer.Typer) -> None:
    """Add ``reprocess`` and ``timeseries`` to the root app."""

    @app.command("reprocess")
    def reprocess_command(
        root: Path = typer.Argument(..., help="Folder of flights named <area>_<YYYYMMDD>_<sensor>/."),
        out: Path = typer.Option(..., "--out", help="Output root (per-flight outputs under flights/)."),
        workers: int = typer.Option(2, "--workers", help="Dask workers of the local cluster."),
        scheduler: str | None = typer.Option(None, "--scheduler",
                                             help="Address of an existing Dask scheduler, e.g. tcp://host:8786."),
        stages: str = typer.Option(",".join(DEFAULT_STAGES), "--stages", help="Stages to run, comma-separated."),
        model: Path | None = typer.Option(None, "--model", help="Model folder for the predict stage."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Use --out even when it holds files 'shimanto "
                                       "reprocess' did not write (its own stage folders there are replaced)."),
        params: Path | None = params_option(),
    ) -> None:
        """Reprocess every flight under ROOT on Dask: resumable, idempotent, one bad flight never stops the rest.

        Unchanged stages (same inputs, params and code) are skipped; every output folder is replaced atomically;
        OUT/run_summary.json lists every flight and stage with its status; the exit status is 6 if any failed.
        """
        if workers < 1:
            raise InputError(f"--workers {workers} must be at least 1")
        loaded = read_params(params)
        settings = section(BatchSettings, loaded.get("batch"), "batch")
        chosen = parse_stages(stages)
        if "predict" in chosen and model is None:
            raise InputError("stage 'predict' needs --model MODEL_DIR (train one with 'shimanto train')")
        if model is not None and not model.is_dir():
            raise InputError(f"--model {str(model)!r} is not a folder; pass the folder 'shimanto train' wrote")
        discovery = discover_flights(root.resolve())
        if not discovery.flights:
            raise InputError(
                f"no flight folders under {str(root)!r}; expected folders named <area>_<YYYYMMDD>_<sensor>"
                + (f" ({len(discovery.ignored)} other folders ignored)" if discovery.ignored else "")
            )
        claim_output_folder(out, "reprocess", overwrite)
        params_json = json.dumps({k: dict(v) for k, v in loaded.sections.items()}, default=str, sort_keys=True)
        ctx = RunContext(out=out.resolve(), model=model.resolve() if model else None, settings=settings,
                         params_file=params.resolve() if params else None, params_json=params_json,
                         root=root.resolve())
        console = Console(stderr=True)
        per_flight = [s for s in chosen if s in FLIGHT_STAGES]
        total = len(discovery.flights) * len(per_flight) + len(chosen) - len(per_flight)
        with make_progress(console) as progress:
            task = progress.add_task(f"{len(discovery.flights)} flights × {','.join(chosen)}", total=total)

            def advance(result: list[StageOutcome]) -> None:
                progress.advance(task, len(result))
                for o in result:
                    mark = STATUS_STYLE[o.status]
                    progress.console.print(f"[{mark}]{o.status:>7}[/] {o.flight_id} {o.stage}"
                                           + (f": {o.reason}" if o.reason else ""))

            summary = reprocess(discovery, chosen, ctx, workers, scheduler, advance)
        Console().print(summary_table(summary))
        for path, reason in summary.ignored:
            console.print(f"[yellow]ignored[/] {path}: {reason}")
        if summary.failed:
            flights = summary.failed_flights
            raise BatchFailedError(
                f"{len(flights)} flight(s) failed: {', '.join(flights)}; see {out / SUMMARY_NAME}"
            )

    @app.command("timeseries")
    def timeseries_command(
        flights: list[Path] = typer.Argument(
            ..., help="A reprocess run's flights/ folder, or flight output folders <area>_<YYYYMMDD>_<sensor>."),
        out: Path = typer.Option(..., "--out", help="Output folder for series, trends, forecasts and charts."),
        horizon_days: int | None = typer.Option(None, "--horizon-days",
                                                help="Forecast horizon in days (default: params batch)."),
        chart_index: str | None = typer.Option(None, "--chart-index",
                                               help="Index drawn in the per-field charts (default: params batch)."),
        overwrite: bool = overwrite_option(),
        params: Path | None = params_option(),
    ) -> None:
        """Per-field index trajectories, trends and a short-horizon forecast with an uncertainty band."""
        from pipeline.analysis.forecast import ForecastSettings
        from pipeline.analysis.timeseries import build_series, collect_run_stats, outlooks, write_outlooks
        from pipeline.common.atomic import atomic_dir, check_output_folder

        check_output_folder(out, "timeseries", overwrite)
        settings = section(BatchSettings, read_params(params).get("batch"), "batch")
        horizon = settings.forecast_days if horizon_days is None else horizon_days
        if not 1 <= horizon <= 30:
            raise InputError(f"--horizon-days {horizon} must be between 1 and 30 (a short-horizon forecast)")
        stats = collect_run_stats(flights)
        if not stats:
            raise InputError(
                f"no flights with indices/field_stats.csv under {', '.join(map(str, flights))}; run 'reprocess' first"
            )
        fc_settings = ForecastSettings(window=settings.forecast_window, level=settings.forecast_level,
                                       damping_per_5_days=settings.forecast_damping,
                                       method=settings.forecast_method)
        items = outlooks(build_series(stats), horizon, fc_settings)
        with atomic_dir(out, "timeseries", overwrite) as tmp:
            write_outlooks(items, tmp, chart_index or settings.chart_index)
        Console().print(f"{len(items)} field series, forecasts {horizon} days ahead → {out}")

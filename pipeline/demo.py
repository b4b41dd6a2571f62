"""``shimanto demo``: every stage on built-in synthetic data, each into its own folder.

The stages are declared once in :data:`DEMO_STAGES`; each names a function
``run(ctx: DemoContext) -> list[Path]`` in its stage package that writes into
``ctx.stage_dir(name)`` and returns what it produced.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console

from pipeline.common.atomic import claim_output_folder
from pipeline.common.cli_options import params_option, read_params
from pipeline.config import Params


@dataclass(frozen=True)
class DemoContext:
    """What a demo stage gets.

    Attributes:
        out: The demo's root output folder.
        seed: Base random seed; stages derive their own seeds from it.
        params: Frozen params (from params.yaml).
        quick: When true, stages use their smallest settings (tests).
    """

    out: Path
    seed: int
    params: Params
    quick: bool = False

    def stage_dir(self, name: str) -> Path:
        """``out/name``, created."""
        path = self.out / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class DemoStage:
    """A demo stage: its folder name, what it shows, and ``module:function``."""

    name: str
    title: str
    target: str

    def load(self) -> Callable[[DemoContext], list[Path]]:
        module_name, func_name = self.target.split(":")
        func: Callable[[DemoContext], list[Path]] = getattr(importlib.import_module(module_name), func_name)
        return func


DEMO_STAGES: tuple[DemoStage, ...] = (
    DemoStage("survey", "synthetic PROSAIL survey of Shimanto fields", "pipeline.simulate.demo:run"),
    DemoStage("flight_plan", "survey flight plan (QGC .plan, WPL 110)", "pipeline.flight.demo:run"),
    DemoStage("indices", "vegetation indices and field statistics", "pipeline.ingest.demo:run"),
    DemoStage("model", "disease model training and evaluation", "pipeline.detection.demo:run_model"),
    DemoStage("predictions", "disease prediction on a held-out survey", "pipeline.detection.demo:run_predictions"),
    DemoStage("scouting", "field loop: scouting points, observations, fine-tuning (shifted survey)",
              "pipeline.detection.demo:run_scouting_loop"),
    DemoStage("reports", "Japanese grower reports (PDF, maps)", "pipeline.outputs.demo:run_reports"),
    DemoStage("opendata", "open data (STAC, COG, CSV)", "pipeline.outputs.demo:run_opendata"),
    DemoStage("search", "three-drone disaster search and stream board", "pipeline.search.demo:run"),
)


def run_demo(ctx: DemoContext, console: Console | None = None) -> dict[str, list[Path]]:
    """Run every demo stage in order; return the files each produced."""
    console = console or Console(stderr=True)
    produced: dict[str, list[Path]] = {}
    for i, stage in enumerate(DEMO_STAGES, start=1):
        console.rule(f"[bold]{i}/{len(DEMO_STAGES)} {stage.name}[/]: {stage.title}")
        started = time.perf_counter()
        produced[stage.name] = stage.load()(ctx)
        console.print(f"  done in {time.perf_counter() - started:.1f} s, {len(produced[stage.name])} outputs")
    return produced


def register(app: typer.Typer) -> None:
    """Add ``shimanto demo`` to the root app."""

    @app.command("demo")
    def demo_command(
        out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for all demo outputs."),
        seed: int = typer.Option(7, "--seed", help="Base random seed."),
        quick: bool = typer.Option(False, "--quick", help="Smallest settings (for tests)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Write into --out even when it holds files an "
                                       "earlier demo did not write (the demo replaces its stage folders there)."),
        params: Path | None = params_option(),
    ) -> None:
        """Run every stage on built-in synthetic data (survey, plan, indices, model, reports, open data, search)."""
        claim_output_folder(out, "demo", overwrite)
        ctx = DemoContext(out=out, seed=seed, params=read_params(params), quick=quick)
        produced = run_demo(ctx)
        console = Console()
        console.print(f"\n[bold green]Demo finished[/] in {out}/")
        for name, paths in produced.items():
            console.print(f"[bold]{name}/[/]")
            for path in paths:
                console.print(f"  {path}")

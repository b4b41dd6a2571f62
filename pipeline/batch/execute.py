"""Run one stage for one flight, idempotently and atomically.

This is the function Dask workers execute. It rebuilds the command, computes
the stage fingerprint, skips when ``_stage.json`` in the output folder holds
the same fingerprint, and otherwise runs the command into a temporary folder
(``.<stage>.XXXX`` beside the output) that replaces the output folder only when
complete — so a run killed at any moment (even ``kill -9``) leaves either the
old complete output or none, plus at worst a stale temporary folder that the
next run removes (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.batch.fingerprint import code_version, stage_fingerprint
from pipeline.batch.stages import (
    CODE_PACKAGES,
    COLLECTION_STAGES,
    FLIGHT_STAGES,
    MARKER,
    OUT,
    RunContext,
    StageCall,
    read_marker,
)
from pipeline.common.atomic import atomic_dir
from pipeline.core.flight import Flight
from pipeline.errors import PipelineError

STATUSES: tuple[str, ...] = ("ran", "skipped", "failed", "blocked")


@dataclass(frozen=True)
class StageOutcome:
    """Result of one stage of one flight.

    Attributes:
        flight_id: The flight (or ``*`` for collection stages).
        stage: Stage name.
        status: ``ran``, ``skipped`` (unchanged), ``failed`` or ``blocked``
            (a required stage failed).
        seconds: Wall time spent.
        reason: Why it failed or was blocked ("" otherwise).
    """

    flight_id: str
    stage: str
    status: str
    seconds: float = 0.0
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether the stage's output is complete and current."""
        return self.status in ("ran", "skipped")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return asdict(self)


def _relative_argv(call: StageCall, ctx: RunContext) -> list[str]:
    """The command with the run's own paths made relative (so moving OUT or ROOT keeps fingerprints).

    The params file's path is replaced too: its relevant *content* is fingerprinted instead.
    """
    params = str(ctx.params_file) if ctx.params_file is not None else None
    prefixes = [(str(ctx.out), "<OUT>")] + ([(str(ctx.root), "<ROOT>")] if ctx.root is not None else [])

    def relative(arg: str) -> str:
        if arg == params:
            return "<PARAMS>"
        for prefix, name in prefixes:
            if arg == prefix or arg.startswith(prefix + os.sep):
                return name + arg[len(prefix):]
        return arg

    return [relative(a) for a in call.argv]


def make_outputs_deterministic() -> None:
    """Switch libraries that stamp outputs with the time or random IDs to their reproducible mode.

    reportlab's ``rl_config.invariant`` fixes the PDF creation date and
    document ID, so an unchanged report is byte-identical on every run.
    Idempotent; called in every process that runs stages.
    """
    from reportlab import rl_config

    rl_config.invariant = 1


def run_in_folder(
    name: str, flight_id: str, call: StageCall, final: Path, ctx: RunContext, params_sections: tuple[str, ...] = ()
) -> StageOutcome:
    """Run ``call`` into ``final`` unless its fingerprint is unchanged.

    The fingerprint covers the command (run paths made relative), the content
    of ``call.inputs``, the ``params_sections`` of params.yaml and the code version.
    """
    from cli import run_command  # the same commands a user types

    started = time.perf_counter()
    fp = stage_fingerprint(
        name, _relative_argv(call, ctx), call.inputs, ctx.params_for(params_sections),
        ctx.code_for(name) or code_version(CODE_PACKAGES.get(name, ())),
    )
    marker = read_marker(final)
    if marker is not None and marker.get("fingerprint") == fp:
        return StageOutcome(flight_id, name, "skipped", time.perf_counter() - started)
    make_outputs_deterministic()
    try:
        with atomic_dir(final, "reprocess") as tmp:
            target = tmp / "output"
            run_command([target.as_posix() if a == OUT else a for a in call.argv])
            if target.is_dir():
                for child in target.iterdir():
                    os.replace(child, tmp / child.name)
                target.rmdir()
            (tmp / MARKER).write_text(
                json.dumps({"stage": name, "flight": flight_id, "fingerprint": fp}, indent=2) + "\n",
                encoding="utf-8",
            )
    except PipelineError as exc:
        return StageOutcome(flight_id, name, "failed", time.perf_counter() - started, str(exc))
    except Exception as exc:  # one bad flight never stops the others
        last = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
        return StageOutcome(flight_id, name, "failed", time.perf_counter() - started, reason)
    return StageOutcome(flight_id, name, "ran", time.perf_counter() - started)


def run_flight_stages(
    flight: Flight,
    stages: tuple[str, ...],
    ctx: RunContext,
    history: tuple[Flight, ...],
    threads: int = 1,
    upstream: tuple[list[StageOutcome], ...] = (),
) -> list[StageOutcome]:
    """Run the chosen per-flight stages of one flight in order (a Dask task).

    Args:
        flight: The flight.
        stages: Per-flight stage names, in dependency order.
        ctx: Run context.
        history: Earlier flights of the same area (for stages that compare).
        threads: Threads this task may use (cores / workers).
        upstream: Outcomes of tasks this one waited for (Dask passes the
            results of the futures given here); this flight's own earlier
            stages decide whether a stage is blocked.
    """
    _limit_threads(threads)
    outcomes: list[StageOutcome] = []
    done: dict[str, StageOutcome] = {
        o.stage: o for group in upstream for o in group if o.flight_id == flight.flight_id
    }
    for name in stages:
        stage = FLIGHT_STAGES[name]
        failed_reqs = [r for r in (*stage.requires, *stage.after) if r in done and not done[r].ok]
        if failed_reqs:
            outcome = StageOutcome(flight.flight_id, name, "blocked", 0.0, f"needs {', '.join(failed_reqs)}")
        else:
            try:
                call = stage.build(flight, ctx, history if stage.uses_history else ())
            except PipelineError as exc:
                outcome = StageOutcome(flight.flight_id, name, "failed", 0.0, str(exc))
            else:
                outcome = run_in_folder(
                    name, flight.flight_id, call, ctx.flight_dir(flight, name), ctx, stage.params_sections
                )
        done[name] = outcome
        outcomes.append(outcome)
    return outcomes


def _stage_temp_names() -> tuple[str, ...]:
    return (*FLIGHT_STAGES, *COLLECTION_STAGES, "run_summary.json")


def stale_temporaries(out: Path) -> list[Path]:
    """Temporary folders/files a killed run left in ``out`` (``.<stage>.*`` and ``.run_summary.json.*``)."""
    if not out.is_dir():
        return []
    folders: Iterable[Path] = [out]
    flights = out / "flights"
    if flights.is_dir():
        folders = [out, *(p for p in sorted(flights.iterdir()) if p.is_dir())]
    prefixes = tuple(f".{n}." for n in _stage_temp_names())
    return [child for folder in folders for child in sorted(folder.iterdir()) if child.name.startswith(prefixes)]


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Remove what :func:`stale_temporaries` finds (call before a run starts); return the paths removed."""
    removed = stale_temporaries(out)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def _limit_threads(threads: int) -> None:
    """Keep each worker to its share of the cores (torch, BLAS, GDAL).

    torch is not imported for this (seconds): if a stage imports it later it
    reads ``OMP_NUM_THREADS``; if it is already loaded its pool is resized.
    """
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["GDAL_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)

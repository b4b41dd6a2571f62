"""The batch stages, declared once: how each maps onto a ``shimanto`` command.

Each :class:`BatchStage` builds the exact command line a user would type for
one flight (``{out}`` stands for the stage's output folder), names the input
files whose content decides whether it must run again, and the params.yaml
sections it reads (part of its fingerprint). Per-flight outputs live in
``OUT/flights/<flight_id>/<stage>/``; collection stages (time series, publish)
in ``OUT/<stage>/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline.core.flight import Flight
from pipeline.core.survey import FIELDS_NAME, SCENE_NAME
from pipeline.errors import InputError, unknown_name

OUT = "{out}"
#: Completion marker written into every finished stage output folder.
MARKER = "_stage.json"
#: What ``shimanto report`` leaves in its folder for a later run's ``--history``.
REPORT_SUMMARY = "summary.json"
#: Per-field statistics written by ``shimanto indices --fields``.
FIELD_STATS = "field_stats.csv"


@dataclass(frozen=True)
class BatchSettings:
    """``batch`` section of params.yaml.

    Attributes:
        indices: Indices computed per flight.
        forecast_days: Forecast horizon for field time series, days.
        forecast_window: Flights used for the local trend.
        forecast_level: Prediction-interval level.
        forecast_damping: Slope multiplier per 5 days of horizon (1 = no damping; local trend only).
        forecast_method: ``damped-holt`` (statsmodels) or ``local-trend`` (see
            :class:`pipeline.analysis.forecast.ForecastSettings`).
        chart_index: Index drawn in the per-field charts.
    """

    indices: tuple[str, ...] = ("ndvi", "ndre", "gndvi", "savi", "osavi", "evi2")
    forecast_days: int = 5
    forecast_window: int = 3
    forecast_level: float = 0.8
    forecast_damping: float = 0.9
    forecast_method: str = "damped-holt"
    chart_index: str = "ndvi"


@dataclass(frozen=True)
class RunContext:
    """What every stage needs to build its command (picklable: sent to Dask workers).

    Attributes:
        out: The run's output root.
        model: Trained model folder for ``predict`` (None: predict unavailable).
        settings: Batch settings.
        params_file: params.yaml passed to every command as ``--params`` (None: the project's).
        params_json: The params sections as JSON (``{section: {key: value}}``), for fingerprints.
        root: The flights' root folder (made relative in fingerprints, so moving it reruns nothing).
        code: ``(stage, code version)`` pairs computed once at the start of the run.
    """

    out: Path
    model: Path | None
    settings: BatchSettings = field(default_factory=BatchSettings)
    params_file: Path | None = None
    params_json: str = "{}"
    root: Path | None = None
    code: tuple[tuple[str, str], ...] = ()

    def code_for(self, stage: str) -> str:
        """The code version of ``stage`` fixed at the start of the run ("" if not computed)."""
        return dict(self.code).get(stage, "")

    def flight_dir(self, flight: Flight, stage: str) -> Path:
        """Where a per-flight stage's outputs end up."""
        return self.out / "flights" / flight.flight_id / stage

    def collection_dir(self, stage: str) -> Path:
        """Where a collection stage's outputs end up."""
        return self.out / stage

    def params_for(self, sections: tuple[str, ...]) -> dict[str, Any]:
        """The values of ``sections`` (missing sections are empty)."""
        doc = json.loads(self.params_json)
        return {name: doc.get(name, {}) for name in sections}

    def params_args(self) -> tuple[str, ...]:
        """``("--params", FILE)`` when a params file was given, else nothing."""
        return ("--params", str(self.params_file)) if self.params_file is not None else ()


@dataclass(frozen=True)
class StageCall:
    """A command line (``{out}`` = output folder) and the inputs it reads."""

    argv: tuple[str, ...]
    inputs: tuple[Path, ...]


@dataclass(frozen=True)
class BatchStage:
    """A per-flight stage.

    Attributes:
        name: Stage name (also its output folder).
        requires: Stages of the same flight that must succeed first.
        build: ``(flight, ctx, earlier_flights_of_same_area) -> StageCall``.
        params_sections: params.yaml sections the command reads (fingerprinted).
        code_packages: ``pipeline`` packages whose source is the stage's code version.
        uses_history: Whether earlier flights' outputs of this stage are inputs
            (the stage then runs flight after flight within an area).
        after: Optional predecessors: run first when chosen, and block this stage when they failed.
    """

    name: str
    requires: tuple[str, ...]
    build: Callable[[Flight, RunContext, tuple[Flight, ...]], StageCall]
    params_sections: tuple[str, ...] = ()
    code_packages: tuple[str, ...] = ()
    uses_history: bool = False
    after: tuple[str, ...] = ()


def _mosaic(flight: Flight, ctx: RunContext, history: tuple[Flight, ...]) -> StageCall:
    """``shimanto mosaic`` on an SD-card flight folder; the node URL is params ``mosaic.node``.

    The node's token is never on the command line: ``mosaic`` reads ``$SHIMANTO_NODEODM_TOKEN``.
    """
    node = ctx.params_for(("mosaic",))["mosaic"].get("node")
    if not isinstance(node, str) or not node:
        raise InputError("stage 'mosaic' needs the NodeODM URL as 'mosaic: {node: http://HOST:PORT}' in params.yaml")
    return StageCall(("mosaic", str(flight.path), "--node", node, "--out", OUT), (flight.path,))


def _indices(flight: Flight, ctx: RunContext, history: tuple[Flight, ...]) -> StageCall:
    """``shimanto indices`` on the flight's ``scene.tif``, or, for an SD-card flight, on its mosaic."""
    scene, fields, sensor = flight.path / SCENE_NAME, flight.path / FIELDS_NAME, flight.sensor
    if not scene.is_file():
        mosaic = ctx.flight_dir(flight, "mosaic")
        scene = mosaic / "orthophoto.tif"
        try:  # the mosaic record names the orthophoto's layout (an RGB mosaic from a test node, ...)
            sensor = json.loads((mosaic / "mosaic.json").read_text(encoding="utf-8")).get("sensor") or sensor
        except (OSError, ValueError):
            raise InputError(f"flight {flight.flight_id} has no {SCENE_NAME} and no mosaic; add the 'mosaic' stage "
                             "to --stages (SD-card folders) or put the orthomosaic there as scene.tif") from None
    argv = ("indices", str(scene), "--sensor", sensor, "--indices", ",".join(ctx.settings.indices),
            *(("--fields", str(fields)) if fields.is_file() else ()), *ctx.params_args(), "--out", OUT)
    return StageCall(argv, (scene, fields))


def _predict(flight: Flight, ctx: RunContext, history: tuple[Flight, ...]) -> StageCall:
    if ctx.model is None:
        raise InputError("stage 'predict' needs a model; pass --model MODEL_DIR (from 'shimanto train')")
    scene, fields = flight.path / SCENE_NAME, flight.path / FIELDS_NAME
    argv = ("predict", str(scene), "--model", str(ctx.model), "--fields", str(fields), *ctx.params_args(),
            "--out", OUT)
    return StageCall(argv, (scene, fields, ctx.model))


def read_marker(folder: Path) -> dict[str, object] | None:
    """The completion marker of an output folder, if it is complete."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _report(flight: Flight, ctx: RunContext, history: tuple[Flight, ...]) -> StageCall:
    """``shimanto report``; ``--history`` gets the earlier flights' finished report folders.

    ``report`` reads only ``summary.json`` from each history folder, so those
    files (not the PDFs) are the fingerprinted history inputs.
    """
    indices, predictions = ctx.flight_dir(flight, "indices"), ctx.flight_dir(flight, "predict")
    argv: list[str] = ["report", str(flight.path), "--indices", str(indices), "--predictions", str(predictions)]
    hist_dirs = [
        ctx.flight_dir(h, "report") for h in history
        if read_marker(ctx.flight_dir(h, "report")) is not None
        and (ctx.flight_dir(h, "report") / REPORT_SUMMARY).is_file()
    ]
    for h in hist_dirs:
        argv += ["--history", str(h)]
    argv += [*ctx.params_args(), "--out", OUT]
    return StageCall(tuple(argv), (flight.path, indices, predictions, *(h / REPORT_SUMMARY for h in hist_dirs)))


#: Per-flight stages in dependency order.
FLIGHT_STAGES: Mapping[str, BatchStage] = MappingProxyType(
    {
        s.name: s
        for s in (
            BatchStage("mosaic", (), _mosaic, ("mosaic",), ("ingest",)),
            BatchStage("indices", (), _indices, ("ingest",), ("ingest",), after=("mosaic",)),
            BatchStage("predict", (), _predict, ("detection",), ("detection",)),
            BatchStage("report", ("indices", "predict"), _report, ("outputs",), ("outputs",), uses_history=True),
        )
    }
)
#: Stages that run once over all flights after the per-flight stages, with the sections they read.
COLLECTION_STAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"timeseries": ("batch",), "publish": ("outputs",)}
)
#: The packages whose source is each stage's code version.
CODE_PACKAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {**{n: s.code_packages for n, s in FLIGHT_STAGES.items()}, "timeseries": ("batch",), "publish": ("outputs",)}
)
#: What each collection stage needs from every flight.
COLLECTION_REQUIRES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"timeseries": ("indices",), "publish": ()}
)
DEFAULT_STAGES: tuple[str, ...] = ("indices", "predict", "report", "timeseries", "publish")


def parse_stages(text: str) -> tuple[str, ...]:
    """Validate a comma-separated stage list; keep the canonical order.

    Raises:
        UnknownNameError: a name is not a stage.
        InputError: a stage is listed without one it requires (every missing one named).
    """
    known = (*FLIGHT_STAGES, *COLLECTION_STAGES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"--stages {text!r} names no stage; choose from {','.join(known)}")
    for name in names:
        if name not in known:
            raise unknown_name("stage", name, list(known))
    chosen = set(names)
    requires = {**{n: s.requires for n, s in FLIGHT_STAGES.items()}, **COLLECTION_REQUIRES}
    problems = [f"stage {name!r} needs {req!r}" for name in names for req in requires[name] if req not in chosen]
    if problems:
        raise InputError("; ".join(problems) + "; add the missing stages to --stages")
    return tuple(n for n in known if n in chosen)

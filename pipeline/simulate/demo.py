"""Demo stage ``survey``: a synthetic PROSAIL survey for the rest of the demo."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import section
from pipeline.demo import DemoContext
from pipeline.simulate.cli import parse_date, parse_time
from pipeline.simulate.config import SimulateConfig
from pipeline.simulate.quicklook import write_quicklook
from pipeline.simulate.survey import SurveySpec, simulate_survey

#: The demo's picture of the survey (true colour | colour infrared, outlines).
QUICKLOOK_NAME = "quicklook.png"


def demo_spec(ctx: DemoContext) -> SurveySpec:
    """The survey spec the demo uses (smaller in quick mode)."""
    cfg = section(SimulateConfig, ctx.params.get("simulate"), "simulate")
    return SurveySpec(
        seed=ctx.seed,
        hectares=cfg.quick_hectares if ctx.quick else cfg.hectares,
        gsd_cm=cfg.quick_gsd_cm if ctx.quick else cfg.gsd_cm,
        date=parse_date(cfg.date, "simulate.date"),
        local_time=parse_time(cfg.time, "simulate.time"),
        disease_progress=cfg.disease_progress,
        sensor=cfg.sensor,
    )


def run(ctx: DemoContext) -> list[Path]:
    """Write the survey folder into ``ctx.stage_dir("survey")`` (plus ``quicklook.png``) and return its files."""
    folder = simulate_survey(ctx.stage_dir("survey"), demo_spec(ctx))
    quicklook = write_quicklook(folder, folder.root / QUICKLOOK_NAME)
    return [folder.scene, folder.fields, folder.labels, folder.meta_path, quicklook]

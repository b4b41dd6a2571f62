"""Demo stage ``indices``: vegetation indices and field statistics of the synthetic survey."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import section
from pipeline.core.io import open_survey, read_survey_meta
from pipeline.demo import DemoContext
from pipeline.ingest.api import IngestConfig, run_indices

#: The six standard indices plus the chlorophyll indices and one catalogue index through spyndex.
DEMO_INDICES: tuple[str, ...] = ("ndvi", "ndre", "gndvi", "savi", "osavi", "evi2", "cire", "cigreen", "mtci",
                                 "spyndex:NDREI")


def run(ctx: DemoContext) -> list[Path]:
    """Compute index COGs and per-field statistics of ``ctx.out/survey`` into ``ctx.stage_dir("indices")``."""
    survey = open_survey(ctx.out / "survey")
    sensor = str(read_survey_meta(survey).get("sensor") or "rededge-mx")
    config = section(IngestConfig, ctx.params.get("ingest"), "ingest")
    result = run_indices(survey.scene, sensor, ctx.stage_dir("indices"), indices=DEMO_INDICES,
                         fields=survey.fields, config=config, show_progress=False)
    return [*result.rasters.values(), *result.stats, result.manifest]

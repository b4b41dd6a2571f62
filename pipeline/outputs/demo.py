"""Demo stages of the outputs package: grower reports and the town's open data."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import section
from pipeline.demo import DemoContext
from pipeline.outputs.config import OutputsConfig


def _config(ctx: DemoContext) -> OutputsConfig:
    return section(OutputsConfig, ctx.params.get("outputs"), "outputs")


def run_reports(ctx: DemoContext) -> list[Path]:
    """Reports for every grower of ``ctx.out/survey`` (with ``indices`` and ``predictions``) into ``reports/``."""
    from pipeline.outputs.report import make_reports

    return make_reports(
        ctx.out / "survey", ctx.out / "indices", ctx.out / "predictions", ctx.stage_dir("reports"),
        _config(ctx).report,
    )


def run_opendata(ctx: DemoContext) -> list[Path]:
    """Publish the demo flight as open data into ``opendata/`` (STAC, COGs, CSV, index.html)."""
    from pipeline.outputs.opendata import publish

    out = ctx.stage_dir("opendata")
    predictions = [ctx.out / "predictions"] if (ctx.out / "predictions").is_dir() else []
    return publish([ctx.out / "survey"], out, _config(ctx).opendata, indices=[ctx.out / "indices"],
                   predictions=predictions)

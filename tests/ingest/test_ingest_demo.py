"""The ``indices`` demo stage on a survey folder written by hand (the survey folder contract)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pipeline.common.cog import cog_problems
from pipeline.config import load_params
from pipeline.demo import DemoContext
from pipeline.ingest.demo import DEMO_INDICES, run


def test_demo_stage_writes_indices_and_stats(kit, tmp_path: Path) -> None:
    survey = tmp_path / "survey"
    survey.mkdir()
    kit.write_tif(survey / "scene.tif", kit.reflectance(), descriptions=kit.RMX_ORDER)
    kit.field_geojson(survey / "fields.geojson", {"F01": kit.pixel_rect(20, 20, 120, 90),
                                                  "F02": kit.pixel_rect(200, 100, 380, 290)}, "EPSG:6690")
    (survey / "survey.json").write_text(json.dumps({"sensor": "rededge-mx", "seed": 7}), encoding="utf-8")
    ctx = DemoContext(out=tmp_path, seed=7, params=load_params(None), quick=True)
    produced = run(ctx)
    stage = tmp_path / "indices"
    names = {p.name for p in produced}
    assert {f"{n.replace(':', '_')}.tif" for n in DEMO_INDICES} <= names
    assert {"field_stats.csv", "field_stats.geojson", "indices.json"} <= names
    assert all(p.parent == stage and p.is_file() for p in produced)
    assert all(cog_problems(p) == [] for p in produced if p.suffix == ".tif")
    with (stage / "field_stats.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * len(DEMO_INDICES)
    assert {r["field_id"] for r in rows} == {"F01", "F02"}
    assert all(int(r["valid_pixels"]) > 0 for r in rows)

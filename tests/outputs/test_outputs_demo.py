"""The outputs demo stages on a survey/indices/predictions layout like ``shimanto demo`` writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from outputs_fixtures import build_fixture
from PIL import Image

from pipeline.config import load_params
from pipeline.demo import DemoContext
from pipeline.outputs.demo import run_opendata, run_reports


def test_demo_stages(tmp_path: Path) -> None:
    build_fixture(tmp_path)
    ctx = DemoContext(out=tmp_path, seed=7, params=load_params(None), quick=True)
    reports = run_reports(ctx)
    assert len([p for p in reports if p.suffix == ".pdf"]) == 2
    assert all(p.parent == tmp_path / "reports" for p in reports)
    published = run_opendata(ctx)
    names = {p.name for p in published}
    assert {"catalog.json", "index.html", "394122_drone_field_stats.csv"} <= names
    if shutil.which("chromium") or shutil.which("chromium-browser"):  # the map as drawn by a real browser
        shot = np.asarray(Image.open(tmp_path / "opendata" / "map.png").convert("RGB")).astype(int)
        assert ((shot.max(axis=2) - shot.min(axis=2)) > 60).mean() > 0.05  # coloured index pixels
    else:
        assert "map.png" not in names

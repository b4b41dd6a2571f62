"""``shimanto simulate survey``, bad arguments, atomic output and the demo stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image

from pipeline.config import load_params
from pipeline.demo import DemoContext
from pipeline.errors import InputError
from pipeline.simulate.cli import build_simulate_app
from pipeline.simulate.demo import demo_spec, run
from pipeline.simulate.survey import SurveySpec, simulate_survey


def test_cli_writes_a_survey_folder(run_cli, tmp_path, capsys):
    out = tmp_path / "s"
    rc = run_cli(["simulate", "survey", "--out", str(out), "--seed", "3", "--hectares", "0.5", "--gsd-cm", "25",
                  "--date", "2026-06-20", "--time", "09:15", "--disease-progress", "0.8"])
    assert rc == 0
    meta = json.loads((out / "survey.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 3 and meta["gsd_cm"] == 25.0 and meta["disease_progress"] == 0.8
    assert meta["datetime"] == "2026-06-20T09:15:00+09:00"
    assert {p.name for p in out.iterdir()} == {"scene.tif", "fields.geojson", "labels.geojson", "survey.json",
                                             ".shimanto-output.json"}
    assert "wrote" in capsys.readouterr().out
    # an earlier survey folder may be replaced in place
    assert run_cli(["simulate", "survey", "--out", str(out), "--seed", "4", "--hectares", "0.3", "--gsd-cm", "30"]) == 0
    assert json.loads((out / "survey.json").read_text(encoding="utf-8"))["seed"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hectares", "0"], "hectares 0.0 must be > 0"),
        (["--hectares", "-2"], "hectares -2.0 must be > 0"),
        (["--gsd-cm", "0"], "gsd_cm 0.0 must be > 0"),
        (["--gsd-cm", "-5"], "gsd_cm -5.0 must be > 0"),
        (["--seed", "-1"], "seed -1 must be a non-negative integer"),
        (["--hectares", "5000"], "exceeds"),
        (["--date", "2026-02-30"], "is not an ISO date"),
        (["--time", "25:00"], "is not a clock time"),
        (["--time", "23:30", "--hectares", "0.2", "--gsd-cm", "50"], "above the horizon"),
        (["--disease-progress", "-1"], "disease_progress -1.0 must be within"),
    ],
)
def test_bad_arguments_fail_clearly_without_output(run_cli, tmp_path, capsys, args, message):
    out = tmp_path / "never"
    rc = run_cli(["simulate", "survey", "--out", str(out), *args])
    assert rc != 0
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(InputError) as info:
        simulate_survey(tmp_path / "x", SurveySpec(seed=-3, hectares=0, gsd_cm=-1, disease_progress=9, sensor="nope"))
    text = str(info.value)
    for part in ("seed -3", "hectares 0", "gsd_cm -1", "disease_progress 9", "unknown sensor 'nope'"):
        assert part in text


def test_out_must_not_be_a_file_or_a_foreign_folder(run_cli, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me", encoding="utf-8")
    assert run_cli(["simulate", "survey", "--out", str(afile)]) != 0
    assert "is a file or a link, not a folder" in capsys.readouterr().err
    assert afile.read_text(encoding="utf-8") == "keep me"
    foreign = tmp_path / "project"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious", encoding="utf-8")
    assert run_cli(["simulate", "survey", "--out", str(foreign), "--hectares", "0.2", "--gsd-cm", "50"]) != 0
    assert "which 'shimanto simulate survey' would delete" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "precious"


def test_simulate_group_is_extensible():
    app = build_simulate_app()
    assert isinstance(app, typer.Typer)

    @app.command("season")
    def season() -> None:
        """A command another stage could add."""

    names = {c.name for c in app.registered_commands}
    assert names == {"survey", "season"}


def test_demo_stage_writes_the_survey(tmp_path):
    ctx = DemoContext(out=tmp_path, seed=5, params=load_params(), quick=True)
    spec = demo_spec(ctx)
    assert spec.seed == 5 and spec.hectares < 4.0
    produced = run(ctx)
    assert [p.name for p in produced] == ["scene.tif", "fields.geojson", "labels.geojson", "survey.json",
                                          "quicklook.png"]
    assert all(isinstance(p, Path) and p.is_file() and p.parent == tmp_path / "survey" for p in produced)
    with Image.open(produced[-1]) as png:
        assert png.format == "PNG" and png.width > 2 * png.height * 0.8
        pixels = np.asarray(png)
    assert (pixels == (255, 255, 255)).all(axis=-1).any()  # field outlines drawn
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 1000  # a real picture, not a flat fill

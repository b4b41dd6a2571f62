"""One field rule for every stage (issue 15): the same layer gives the same keys in indices, predict,
report and publish, whether its IDs are in ``field_id``, ``name`` or ``id`` — and the same refusal."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from pipeline.testing.toysurvey import ToySpec, make_toy_survey

ID_COLUMNS = ("field_id", "name", "id")


@pytest.fixture(scope="module")
def toy_flight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A toy survey (with a flight date, half the fields open) and a model trained on another toy survey."""
    from pipeline.detection.config import DetectionConfig
    from pipeline.detection.train import Trainer, load_scenes, save_result

    root = tmp_path_factory.mktemp("keys")
    train = make_toy_survey(root / "train", ToySpec(seed=2, grid=3, disease_share=0.7))
    survey = make_toy_survey(root / "survey", ToySpec(seed=1, grid=3, disease_share=0.7))
    meta = json.loads((survey / "survey.json").read_text(encoding="utf-8"))
    (survey / "survey.json").write_text(json.dumps({**meta, "date": "2026-07-15"}), encoding="utf-8")
    doc = json.loads((survey / "fields.geojson").read_text(encoding="utf-8"))
    for i, feat in enumerate(doc["features"]):
        feat["properties"]["open_data"] = i % 2 == 0
    (survey / "fields.geojson").write_text(json.dumps(doc), encoding="utf-8")
    cfg = DetectionConfig(chip_size=64, chip_stride=64, base_channels=8, epochs=1, batch_size=8, window=64,
                          overlap=16, batch_windows=4, max_train_seconds=30, val_fraction=0.3,
                          min_hotspot_area_m2=0.1)
    trainer = Trainer(load_scenes([train], cfg.bands), cfg)
    model = root / "model"
    save_result(trainer, [train], model, trainer.fit(1), run_id=None)
    return survey, model


def _with_id_column(src: Path, dst: Path, column: str | None) -> Path:
    """Copy a survey folder, moving each field's ``field_id`` into ``column`` (``None``: drop it)."""
    shutil.copytree(src, dst)
    doc = json.loads((dst / "fields.geojson").read_text(encoding="utf-8"))
    for feat in doc["features"]:
        fid = feat["properties"].pop("field_id")
        if column is not None:
            feat["properties"][column] = fid
    (dst / "fields.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return dst


def _keys_through_stages(run_cli, survey: Path, model: Path, work: Path) -> dict[str, list[str]]:
    idx, pred, rep, pub = work / "idx", work / "pred", work / "rep", work / "pub"
    fields = str(survey / "fields.geojson")
    assert run_cli(["indices", str(survey / "scene.tif"), "--sensor", "rededge-mx", "--indices", "ndvi,ndre",
                    "--fields", fields, "--out", str(idx)]) == 0
    assert run_cli(["predict", str(survey / "scene.tif"), "--model", str(model), "--fields", fields,
                    "--out", str(pred)]) == 0
    assert run_cli(["report", str(survey), "--indices", str(idx), "--predictions", str(pred),
                    "--out", str(rep)]) == 0
    assert run_cli(["publish", str(survey), "--indices", str(idx), "--predictions", str(pred),
                    "--out", str(pub)]) == 0
    with (idx / "field_stats.csv").open(encoding="utf-8") as fh:
        stats = sorted({row["field_id"] for row in csv.DictReader(fh)})
    hotspots = json.loads((pred / "hotspots.geojson").read_text(encoding="utf-8"))["features"]
    summary = json.loads((rep / "summary.json").read_text(encoding="utf-8"))["fields"]
    published = sorted(p.read_text(encoding="utf-8") for p in sorted(pub.rglob("*.csv")))
    return {
        "indices": stats,
        "predict": sorted({f["properties"]["field_id"] for f in hotspots}),
        "report": sorted(summary),
        "publish": published,
    }


def test_same_field_keys_whatever_the_id_column(toy_flight: tuple[Path, Path], tmp_path: Path, run_cli) -> None:
    survey, model = toy_flight
    seen: dict[str, dict[str, list[str]]] = {}
    for column in ID_COLUMNS:
        copy = _with_id_column(survey, tmp_path / column / "survey", column)
        seen[column] = _keys_through_stages(run_cli, copy, model, tmp_path / column)
    expected = [f"F{i}{j}" for i in range(3) for j in range(3)]
    assert seen["field_id"]["indices"] == expected
    assert seen["field_id"]["report"] == expected
    assert set(seen["field_id"]["predict"]) <= set(expected) and seen["field_id"]["predict"]
    for column in ID_COLUMNS[1:]:
        assert seen[column] == seen["field_id"], f"keys differ when the IDs are in {column!r}"


def test_same_refusal_everywhere_without_ids(toy_flight: tuple[Path, Path], tmp_path: Path, run_cli,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    survey, model = toy_flight
    copy = _with_id_column(survey, tmp_path / "survey", None)
    fields = str(copy / "fields.geojson")
    commands = {
        "indices": ["indices", str(copy / "scene.tif"), "--sensor", "rededge-mx", "--indices", "ndvi",
                    "--fields", fields, "--out", str(tmp_path / "idx")],
        "predict": ["predict", str(copy / "scene.tif"), "--model", str(model), "--fields", fields,
                    "--out", str(tmp_path / "pred")],
        "report": ["report", str(copy), "--indices", str(tmp_path), "--predictions", str(tmp_path),
                   "--out", str(tmp_path / "rep")],
        "publish": ["publish", str(copy), "--indices", str(tmp_path), "--predictions", str(tmp_path),
                    "--out", str(tmp_path / "pub")],
    }
    messages = {}
    for stage, argv in commands.items():
        capsys.readouterr()
        assert run_cli(argv) == 2, stage
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, (stage, err)
        messages[stage] = err[0]
        assert "feature 0 has no field_id, id or name property" in err[0], (stage, err[0])
    for stage in ("idx", "pred", "rep", "pub"):
        assert not (tmp_path / stage).exists(), f"{stage} left output behind after a refusal"


def test_predict_refuses_a_users_folder(toy_flight: tuple[Path, Path], tmp_path: Path, run_cli,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 12 item 1 for ``predict`` (it needs a model, which this module trains)."""
    survey, model = toy_flight
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "classes.tif").write_bytes(b"my own classification")
    argv = ["predict", str(survey / "scene.tif"), "--model", str(model), "--out", str(mine)]
    capsys.readouterr()
    assert run_cli(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (mine / "classes.tif").read_bytes() == b"my own classification"
    assert sorted(p.name for p in mine.iterdir()) == ["classes.tif"]
    assert run_cli([*argv, "--overwrite"]) == 0
    assert (mine / "classes.tif").read_bytes()[:2] in (b"II", b"MM")

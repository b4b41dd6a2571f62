"""End to end through the CLI: train (logged to MLflow) → evaluate → predict; registry model predicts."""

from __future__ import annotations

import json

import pytest
import yaml

from pipeline.detection.card import read_card


@pytest.fixture
def small_params(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"detection": {
        "chip_size": 64, "chip_stride": 64, "base_channels": 8, "batch_size": 8, "chips_per_epoch": 16,
        "max_val_chips": 8, "window": 64, "overlap": 16, "batch_windows": 4, "val_fraction": 0.3,
        "min_hotspot_area_m2": 0.1, "model_name": "test-disease"}}))
    return path


def test_train_evaluate_predict_cli_with_mlflow(tmp_path, toy_surveys, small_params, run_cli, monkeypatch):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    model = tmp_path / "model"
    rc = run_cli(["train", str(toy_surveys[0]), str(toy_surveys[1]), "--out", str(model), "--epochs", "1",
                  "--params", str(small_params)])
    assert rc == 0
    card = read_card(model)
    assert card.bands == ("blue", "green", "red", "nir", "red_edge") and card.sensor == "rededge-mx"
    assert card.training_data_hash.startswith("sha256:") and card.mlflow_run_id
    assert card.git_commit

    metrics_path = tmp_path / "metrics.json"
    assert run_cli(["evaluate", str(model), str(toy_surveys[2]), "--out", str(metrics_path),
                    "--params", str(small_params)]) == 0
    metrics = json.loads(metrics_path.read_text())
    for key in ("disease_iou", "miou", "fields_diseased", "fields_false_alarms", "iou", "f1", "confusion_matrix",
                "ece"):
        assert key in metrics
    assert len(metrics["confusion_matrix"]) == 8 and len(metrics["fields"]) == 9

    out = tmp_path / "pred"
    assert run_cli(["predict", str(toy_surveys[2] / "scene.tif"), "--model", str(model), "--out", str(out),
                    "--fields", str(toy_surveys[2] / "fields.geojson"), "--batch-size", "2",
                    "--params", str(small_params)]) == 0
    assert {p.name for p in out.iterdir()} == {".shimanto-output.json", "classes.tif", "probability.tif",
                                              "hotspots.geojson", "scouting_points.geojson"}

    # the run is in MLflow with parameters, per-epoch metrics, plots and the registered model
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(card.mlflow_run_id)
    assert run.data.params["chip_size"] == "64"
    assert "val_loss" in run.data.metrics and "final_val_miou" in run.data.metrics
    # calibration and the honest model card reach MLflow too (issue 14)
    assert run.data.metrics["ece_before"] == card.calibration["ece_before"] >= 0
    assert run.data.metrics["ece_after"] == card.calibration["ece_after"]
    assert json.loads(run.data.tags["training_domain"])["simulated_surveys"] == 2  # toy surveys are synthetic
    assert run.data.tags["intended_use"] == card.intended_use and "candidates" in run.data.tags["limitations"]
    assert card.real_labelled_flights == 0 and card.calibration["method"] == "temperature"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [1]
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {"plots/confusion_matrix.png", "plots/sample_predictions.png"}
    versions = client.search_model_versions("name='test-disease'")
    assert len(versions) == 1 and versions[0].run_id == run.info.run_id

    # the registered model predicts from its logged model directory alone
    import pandas as pd

    mlflow.set_tracking_uri(uri)
    loaded = mlflow.pyfunc.load_model("models:/test-disease/1")
    result = loaded.predict(pd.DataFrame([{"scene": str(toy_surveys[2] / "scene.tif"), "out": str(tmp_path / "reg"),
                                           "fields": str(toy_surveys[2] / "fields.geojson")}]))
    assert (tmp_path / "reg" / "classes.tif").is_file() and len(result) == 1


def test_cli_reports_missing_survey(tmp_path, run_cli, capsys):
    assert run_cli(["train", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()

"""The field loop: predict → scout export (GeoPackage + CSV) → edited as a field app would → scout import →
train --observations; malformed observation files are refused whole with every problem listed."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.detection.card import read_card
from pipeline.detection.fieldwork import OBSERVATIONS_NAME, import_observations, read_observations
from pipeline.errors import InputError


@pytest.fixture()
def flight(tmp_path: Path, toy_surveys: list[Path]) -> Path:
    """A copy of a toy survey (observations are written into the flight folder)."""
    return Path(shutil.copytree(toy_surveys[2], tmp_path / "flight_s3"))


@pytest.fixture()
def predicted(flight: Path, tiny_model: Path, tmp_path: Path, run_cli) -> Path:
    pred = tmp_path / "pred"
    assert run_cli(["predict", str(flight / "scene.tif"), "--model", str(tiny_model), "--out", str(pred),
                    "--fields", str(flight / "fields.geojson"), "--batch-size", "2"]) == 0
    doc = json.loads((pred / "scouting_points.geojson").read_text(encoding="utf-8"))
    assert doc["flight"] == "flight_s3" and doc["model"]["real_labelled_flights"] == 0
    assert doc["features"], "the toy model found no scouting point"
    for f in doc["features"]:
        p = f["properties"]
        assert p["id"] == f"flight_s3:{p['field_id']}:{p['rank']}" and 1 <= p["rank"] <= 4
    return pred


def test_export_edit_gpkg_import_and_fine_tune(predicted: Path, flight: Path, tiny_model: Path, tmp_path: Path,
                                               toy_surveys: list[Path], run_cli, monkeypatch) -> None:
    out = tmp_path / "fieldapp"
    assert run_cli(["scout", "export", str(predicted), "--out", str(out)]) == 0
    gpkg, csv_path = out / "flight_s3_scouting.gpkg", out / "flight_s3_scouting.csv"
    points = json.loads((predicted / "scouting_points.geojson").read_text(encoding="utf-8"))["features"]
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo:  # GDAL's own tool (Debian gdal-bin) reads the layer
        info = subprocess.run([ogrinfo, "-so", "-al", str(gpkg)], capture_output=True, text=True, check=True).stdout
        assert "Layer name: scouting_points" in info and f"Feature Count: {len(points)}" in info
        assert "found: String" in info and "EPSG" in info and "4326" in info
    with open(csv_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == [f["properties"]["id"] for f in points]
    assert {"label", "lat", "lon", "found", "severity", "photo", "date"} <= set(rows[0])

    # the grower visits the first point and finds the predicted class; QField edits the GeoPackage through GDAL
    first = points[0]["properties"]
    update = (f"UPDATE scouting_points SET found = '{first['class']}', severity = '0.4', date = '2026-07-16', "
              f"photo = 'DCIM/1.jpg' WHERE id = '{first['id']}'")
    if ogrinfo:
        subprocess.run([ogrinfo, str(gpkg), "-sql", update], capture_output=True, check=True)
    else:  # GDAL through pyogrio: read, edit, write back
        _edit_with_pyogrio(gpkg, first["id"], {"found": first["class"], "severity": "0.4", "date": "2026-07-16",
                                               "photo": "DCIM/1.jpg"})
    assert run_cli(["scout", "import", str(gpkg), "--flight", str(flight)]) == 0
    stored = read_observations(flight)
    assert [(o.point_id, o.found, o.severity, o.photo) for o in stored] == \
        [(first["id"], first["class"], 0.4, "DCIM/1.jpg")]
    assert (flight / "labels.geojson").is_file()  # simulated labels left as they were, apart

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tuned = tmp_path / "tuned"
    assert run_cli(["train", str(toy_surveys[0]), str(flight), "--observations", "--init", str(tiny_model),
                    "--out", str(tuned), "--epochs", "1", "--no-register", "--params", str(_params(tmp_path))]) == 0
    card = read_card(tuned)
    dom = card.training_domain  # the toy flight is synthetic: its observations do not make the model "real"
    assert dom["observations"] == 1 and dom["simulated_observation_flights"] == 1 and dom["observation_flights"] == 0
    assert card.real_labelled_flights == 0
    assert card.training_domain["fine_tuned_from"] == str(tiny_model)
    assert card.calibration["ece_after"] >= 0 and "observations" in card.calibration["fitted_on"]
    assert card.mean == read_card(tiny_model).mean  # fine-tuning keeps the normalisation


def _edit_with_pyogrio(gpkg: Path, point_id: str, values: dict[str, str]) -> None:
    import pyogrio.raw

    meta, _fids, geoms, data = pyogrio.raw.read(str(gpkg))
    names = list(meta["fields"])
    row = list(data[names.index("id")]).index(point_id)
    for key, value in values.items():
        data[names.index(key)][row] = value
    pyogrio.raw.write(str(gpkg), geoms, data, names, layer="scouting_points", driver="GPKG", crs="EPSG:4326",
                      geometry_type="Point")


def _params(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"detection": {
        "chip_size": 64, "chip_stride": 64, "base_channels": 8, "batch_size": 8, "chips_per_epoch": 16,
        "max_val_chips": 8, "window": 64, "overlap": 16, "batch_windows": 4, "val_fraction": 0.3,
        "min_hotspot_area_m2": 0.1}}))
    return path


def test_malformed_csv_is_refused_whole_with_every_problem(flight: Path, tmp_path: Path, run_cli, capsys) -> None:
    bad = tmp_path / "edited.csv"
    with open(bad, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "label", "lat", "lon", "found", "severity", "date"])
        w.writerow(["flight_s3:F00:1", "ok", "33.0", "132.9", "blast", "0.2", "2026-07-16"])  # a good row
        w.writerow(["flight_s3:F00:2", "x", "33.0", "132.9", "blst", "", ""])  # unknown class
        w.writerow(["flight_s3:F01:1", "x", "33.0", "132.9", "blast", "", ""])  # F01 grows ginger
        w.writerow(["other_flight:F00:1", "x", "33.0", "132.9", "none", "", ""])  # another flight
        w.writerow(["flight_s3:F00:3", "x", "95", "132.9", "none", "1.5", "16/07/2026"])  # lat, severity, date
        w.writerow(["flight_s3:F00:4", "x", "33.0", "132.9", "", "", ""])  # not visited: skipped, fine
    with pytest.raises(InputError) as err:
        import_observations(bad, flight)
    msg = str(err.value)
    assert "4 bad row(s), nothing imported" in msg
    for expected in ("row 3 (flight_s3:F00:2): found 'blst'", "row 4 (flight_s3:F01:1)", "grows ginger",
                     "row 5 (other_flight:F00:1)", "not a scouting point of flight 'flight_s3'", "lat 95.0 is outside",
                     "severity 1.5 is outside", "date '16/07/2026' is not YYYY-MM-DD"):
        assert expected in msg
    assert not (flight / OBSERVATIONS_NAME).exists()  # nothing half-imported
    assert run_cli(["scout", "import", str(bad), "--flight", str(flight)]) == 2
    err_line = capsys.readouterr().err.strip().splitlines()
    assert len(err_line) == 1 and "blst" in err_line[0]
    assert run_cli(["scout", "import", str(tmp_path / "missing.csv"), "--flight", str(flight)]) != 0

"""``shimanto timeseries``: series, trends, forecasts and charts from per-flight field statistics."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from cli import main
from pipeline.analysis.timeseries import history_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _flight(root: Path, day: date, ndvi: dict[str, float]) -> Path:
    folder = root / f"kubokawa_{day:%Y%m%d}_rededge-mx"
    (folder / "indices").mkdir(parents=True)
    with (folder / "indices" / "field_stats.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["field_id", "index", "area_ha", "mean"])
        for fid, value in ndvi.items():
            writer.writerow([fid, "ndvi", "0.04", f"{value:.4f}"])
    return folder


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_timeseries_writes_series_trends_forecasts_and_charts(tmp_path: Path) -> None:
    start = date(2026, 6, 1)
    folders = [_flight(tmp_path / "flights", start + timedelta(days=7 * i),
                       {"F01": 0.40 + 0.05 * i, "F02": 0.80 - 0.04 * i}) for i in range(5)]
    out = tmp_path / "ts"
    assert main(["timeseries", *map(str, folders[1:]), "--out", str(out), "--horizon-days", "3"]) == 0
    series = _read(out / "series.csv")
    assert len(series) == 2 * 4  # the four flights named, two fields
    trends = {r["field_id"]: r for r in _read(out / "trends.csv")}
    assert trends["F01"]["direction"] == "improving" and trends["F02"]["direction"] == "declining"
    forecasts = [r for r in _read(out / "forecasts.csv") if r["field_id"] == "F01"]
    assert [r["horizon_days"] for r in forecasts] == ["1", "2", "3"]
    assert all(float(r["low"]) <= float(r["value"]) <= float(r["high"]) for r in forecasts)
    assert float(forecasts[-1]["value"]) > 0.60  # still rising after the last flight (0.60)
    assert "damped Holt exponential smoothing (statsmodels" in forecasts[0]["method"]
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert charts == ["kubokawa__F01.png", "kubokawa__F02.png"]
    first = (out / "charts" / charts[0]).read_bytes()
    assert main(["timeseries", str(tmp_path / "flights"), "--out", str(tmp_path / "ts2"), "--horizon-days", "3"]) == 0
    assert len(_read(tmp_path / "ts2" / "series.csv")) == 2 * 5  # a whole flights/ folder
    assert first.startswith(PNG_MAGIC)


def test_timeseries_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["timeseries", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) != 0
    assert "run 'reprocess' first" in capsys.readouterr().err
    assert main(["timeseries", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) != 0
    assert main(["timeseries", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--horizon-days", "90"]) != 0
    assert not (tmp_path / "o").exists()


def test_history_chart_is_reproducible(tmp_path: Path) -> None:
    points = [(date(2026, 6, 1) + timedelta(days=7 * i), 0.3 + 0.1 * i) for i in range(4)]
    a = history_chart("F01", "ndvi", points, tmp_path / "a.png")
    b = history_chart("F01", "ndvi", list(reversed(points)), tmp_path / "b.png")
    assert a.read_bytes().startswith(PNG_MAGIC) and a.read_bytes() == b.read_bytes()

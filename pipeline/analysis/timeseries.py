"""Field time series across flights: read per-flight statistics, write trends, forecasts and charts.

Input: per-flight ``field_stats.csv`` files (long format written by
``shimanto indices --fields``: ``field_id, index, area_ha, mean, median, std,
p10, p90, ...``), each tied to its flight date. Output folder:

* ``series.csv`` – area, field_id, index, date, mean, p10, p90;
* ``trends.csv`` – slope per day with its 90 % CI and direction;
* ``forecasts.csv`` – value and band for each day of the horizon;
* ``charts/<area>__<field_id>.png`` – the chart the grower report shows.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from pipeline.analysis.forecast import (
    FieldSeries,
    Forecast,
    ForecastSettings,
    Trend,
    calibration_errors,
    forecast,
    forecast_dates,
    trend,
)
from pipeline.common.atomic import atomic_path, atomic_write_text
from pipeline.core.flight import parse_flight_dir
from pipeline.errors import InputError, SceneNotFoundError

STATS_NAME = "field_stats.csv"


@dataclass(frozen=True)
class FlightStats:
    """One flight's field statistics rows."""

    area: str
    flight_date: date
    rows: tuple[dict[str, str], ...]


def read_flight_stats(stats_csv: Path, area: str, flight_date: date) -> FlightStats:
    """Read one ``field_stats.csv``.

    Raises:
        InputError: the file lacks the ``field_id``, ``index`` or ``mean`` column.
    """
    with stats_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = tuple(csv.DictReader(fh))
    if rows and not {"field_id", "index", "mean"} <= set(rows[0]):
        raise InputError(f"{str(stats_csv)!r} lacks field_id/index/mean columns; write it with 'shimanto indices'")
    return FlightStats(area, flight_date, rows)


def _flight_stats_file(folder: Path) -> Path | None:
    stats_csv = folder / "indices" / STATS_NAME
    return stats_csv if stats_csv.is_file() else None


def collect_run_stats(paths: Path | Sequence[Path]) -> list[FlightStats]:
    """Stats of flights from reprocess outputs.

    Each path is either one flight's output folder
    (``<area>_<YYYYMMDD>_<sensor>/`` holding ``indices/field_stats.csv``) or a
    folder of them (a run's ``flights/``). Flights without statistics are skipped.

    Raises:
        SceneNotFoundError: a path is not a folder.
    """
    roots = [paths] if isinstance(paths, Path) else list(paths)
    out: list[FlightStats] = []
    for root in roots:
        if not root.is_dir():
            raise SceneNotFoundError(
                f"{str(root)!r} is not a folder of flight outputs; pass a reprocess run's flights/ folder "
                "or flight folders named <area>_<YYYYMMDD>_<sensor>"
            )
        parsed_root = parse_flight_dir(root)
        candidates = [root] if not isinstance(parsed_root, str) else sorted(root.iterdir())
        for folder in candidates:
            parsed = parse_flight_dir(folder)
            stats_csv = _flight_stats_file(folder)
            if isinstance(parsed, str) or stats_csv is None:
                continue
            out.append(read_flight_stats(stats_csv, parsed.area, parsed.date))
    return out


def build_series(stats: Iterable[FlightStats]) -> dict[tuple[str, str, str], FieldSeries]:
    """Group rows into one series per (area, field_id, index), ordered by date."""
    points: dict[tuple[str, str, str], dict[date, float]] = defaultdict(dict)
    for fs in stats:
        for row in fs.rows:
            try:
                value = float(row["mean"]) if row["mean"] not in ("", "nan", "NaN") else math.nan
            except ValueError:
                value = math.nan
            points[(fs.area, row["field_id"], row["index"])][fs.flight_date] = value
    series = {}
    for key, by_date in points.items():
        days = tuple(sorted(by_date))
        series[key] = FieldSeries(key[1], key[2], days, tuple(by_date[d] for d in days))
    return series


@dataclass(frozen=True)
class FieldOutlook:
    """A field's trend and forecasts for one index."""

    area: str
    series: FieldSeries
    trend: Trend
    forecasts: tuple[Forecast, ...]


def outlooks(
    series: dict[tuple[str, str, str], FieldSeries], horizon_days: int, settings: ForecastSettings
) -> list[FieldOutlook]:
    """Trend and day-by-day forecasts for every series with at least one valid value.

    The band of each index is calibrated on the one-step errors of all its
    series (:func:`~pipeline.analysis.forecast.calibration_errors`) when there are enough.
    """
    calibration = {
        index: calibration_errors([s for (_a, _f, i), s in series.items() if i == index], settings=settings)
        for index in {k[2] for k in series}
    }
    result = []
    for (area, _field, index), s in sorted(series.items()):
        if not any(math.isfinite(v) for v in s.values):
            continue
        fcs = tuple(forecast(s, d, settings, calibration[index]) for d in forecast_dates(s.dates[-1], horizon_days))
        result.append(FieldOutlook(area, s, trend(s), fcs))
    return result


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_outlooks(items: Sequence[FieldOutlook], out: Path, chart_index: str = "ndvi") -> list[Path]:
    """Write series/trends/forecasts CSVs and one chart per field (for ``chart_index``)."""
    out.mkdir(parents=True, exist_ok=True)
    written = [
        atomic_write_text(out / "series.csv", _csv_text(
            ("area", "field_id", "index", "date", "mean"),
            ((o.area, o.series.field_id, o.series.index, d.isoformat(), f"{v:.5f}")
             for o in items for d, v in zip(o.series.dates, o.series.values, strict=True)))),
        atomic_write_text(out / "trends.csv", _csv_text(
            ("area", "field_id", "index", "flights", "slope_per_day", "slope_low_90", "slope_high_90", "direction"),
            ((o.area, o.series.field_id, o.series.index, o.trend.n, f"{o.trend.slope_per_day:.6f}",
              f"{o.trend.slope_low:.6f}", f"{o.trend.slope_high:.6f}", o.trend.direction) for o in items))),
        atomic_write_text(out / "forecasts.csv", _csv_text(
            ("area", "field_id", "index", "date", "horizon_days", "value", "low", "high", "level", "method"),
            ((o.area, f.field_id, f.index, f.target.isoformat(), f.horizon_days, f"{f.value:.5f}", f"{f.low:.5f}",
              f"{f.high:.5f}", f.level, f.method) for o in items for f in o.forecasts))),
    ]
    for o in items:
        if o.series.index == chart_index:
            written.append(write_chart(o, out / "charts" / f"{o.area}__{o.series.field_id}.png"))
    return written


def history_chart(
    field_id: str,
    index: str,
    points: Sequence[tuple[date, float]],
    path: Path,
    horizon_days: int = 5,
    settings: ForecastSettings | None = None,
) -> Path:
    """Chart of one field's index over earlier flights plus the current one, with the forecast band.

    For reports: ``points`` are ``(flight date, field mean)`` pairs (any order,
    one per date), e.g. from earlier report summaries and this flight.

    Raises:
        InputError: no points, or a repeated date.
    """
    ordered = sorted(points)
    if not ordered:
        raise InputError(f"field {field_id!r}: no {index} values to chart")
    series = FieldSeries(field_id, index, tuple(d for d, _ in ordered), tuple(float(v) for _, v in ordered))
    cfg = settings or ForecastSettings()
    fcs = tuple(forecast(series, d, cfg) for d in forecast_dates(series.dates[-1], horizon_days))
    return write_chart(FieldOutlook("", series, trend(series), fcs), path)


def write_chart(outlook: FieldOutlook, path: Path) -> Path:
    """A PNG of observed values, trend and forecast band (Japanese labels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from pipeline.common.fontfile import ipaex_gothic_path

    font = font_manager.FontProperties(fname=str(ipaex_gothic_path()))
    s = outlook.series
    obs_t = np.array(s.dates, dtype="datetime64[D]")
    fc_t = np.array([f.target for f in outlook.forecasts], dtype="datetime64[D]")
    import matplotlib.dates as mdates

    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=120)
    last_t, last_v = obs_t[-1:], np.array([s.values[-1]])
    band_t = np.concatenate([last_t, fc_t])
    ax.plot(obs_t, np.array(s.values), "o-", color="#0072B2", label="観測 (圃場平均)")
    ax.fill_between(band_t, np.concatenate([last_v, [f.low for f in outlook.forecasts]]),
                    np.concatenate([last_v, [f.high for f in outlook.forecasts]]),
                    color="#E69F00", alpha=0.3, label=f"予測の幅 ({int(outlook.forecasts[0].level * 100)}%)")
    ax.plot(band_t, np.concatenate([last_v, [f.value for f in outlook.forecasts]]), "--", color="#D55E00",
            label="予測")
    ax.set_ylabel(s.index.upper())
    ax.set_title(f"{s.field_id} の{s.index.upper()}の推移と{len(fc_t)}日先の予測", fontproperties=font)
    ax.legend(prop=font, loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%d"))
    fig.autofmt_xdate()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return path

"""Field time series: trend, forecast band and backtest."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from pipeline.analysis.forecast import FieldSeries, ForecastSettings, backtest, forecast, trend
from pipeline.errors import InputError


def _series(values: list[float], step: int = 7, field_id: str = "F01") -> FieldSeries:
    start = date(2026, 5, 1)
    return FieldSeries(field_id, "ndvi", tuple(start + timedelta(days=step * i) for i in range(len(values))),
                       tuple(values))


def test_trend_direction_and_ci() -> None:
    rising = trend(_series([0.3, 0.4, 0.5, 0.6, 0.7]))
    assert rising.slope_per_day == pytest.approx(0.1 / 7)
    assert rising.direction == "improving"
    falling = trend(_series([0.8, 0.7, 0.62, 0.5]))
    assert falling.direction == "declining"
    flat = trend(_series([0.6, 0.62, 0.59, 0.61]))
    assert flat.direction == "stable"


def test_forecast_on_exact_line_is_damped_and_banded() -> None:
    s = _series([0.30, 0.37, 0.44, 0.51])
    local = ForecastSettings(method="local-trend")
    undamped = forecast(s, s.dates[-1] + timedelta(days=7), ForecastSettings(method="local-trend",
                                                                             damping_per_5_days=1.0))
    assert undamped.value == pytest.approx(0.58, abs=1e-9)
    assert undamped.low < undamped.value < undamped.high
    damped = forecast(s, s.dates[-1] + timedelta(days=7), local)
    assert 0.51 < damped.value < 0.58
    assert "local linear trend" in damped.method


def test_default_forecast_is_statsmodels_damped_holt() -> None:
    """The library method (chosen by bench/bench_forecast_backtest.py: lower MAE than the local trend)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    s = _series([0.30, 0.36, 0.41, 0.45, 0.48])
    one = forecast(s, s.dates[-1] + timedelta(days=7))
    assert "damped Holt exponential smoothing (statsmodels" in one.method
    fit = ExponentialSmoothing(list(s.values), trend="add", damped_trend=True, initialization_method="estimated").fit()
    assert one.value == pytest.approx(float(fit.forecast(1)[0]), abs=1e-9)  # one flight ahead = one step
    assert 0.48 < one.value < 0.52 and one.low < one.value < one.high
    with pytest.raises(InputError, match="forecast method 'arima' is unknown"):
        ForecastSettings(method="arima")


def test_forecast_band_widens_with_horizon_and_clips_to_range() -> None:
    s = _series([0.40, 0.46, 0.50, 0.57])
    near = forecast(s, s.dates[-1] + timedelta(days=2))
    far = forecast(s, s.dates[-1] + timedelta(days=20))
    assert (far.high - far.low) > (near.high - near.low)
    saturating = _series([0.80, 0.85, 0.92, 0.97])
    capped = forecast(saturating, saturating.dates[-1] + timedelta(days=20))
    assert capped.high <= 1.0 and capped.value <= 1.0


def test_forecast_with_two_flights_falls_back_to_persistence() -> None:
    s = _series([0.5, 0.6])
    fc = forecast(s, s.dates[-1] + timedelta(days=5))
    assert fc.value == pytest.approx(0.6)
    assert fc.method.startswith("persistence")


def test_forecast_rejects_past_dates_and_bad_series() -> None:
    s = _series([0.5, 0.6, 0.7])
    with pytest.raises(InputError, match="after the last flight"):
        forecast(s, s.dates[-1])
    with pytest.raises(InputError, match="strictly increasing"):
        FieldSeries("F", "ndvi", (date(2026, 5, 2), date(2026, 5, 1)), (0.1, 0.2))


def test_backtest_coverage_near_nominal_on_noisy_growth() -> None:
    rng = np.random.default_rng(3)
    series = []
    for i in range(60):
        t = np.arange(8) * 6.0
        truth = 0.2 + 0.65 / (1 + np.exp(-(t - 20) / 8))
        series.append(_series(list(truth + rng.normal(0, 0.02, t.size)), step=6, field_id=f"F{i}"))
    result = backtest(series)
    assert result.n_forecasts == 60 * 5
    assert result.mae < result.persistence_mae  # the trend beats persistence on growing crops
    assert 0.6 <= result.coverage <= 0.97  # honest 80 % band


def test_conformal_quantile_and_empirical_band() -> None:
    from pipeline.analysis.forecast import conformal_quantile

    errors = [0.01 * k for k in range(1, 11)]
    assert conformal_quantile(errors, 0.8) == pytest.approx(0.09)  # ceil(11 * 0.8) = 9th smallest
    assert conformal_quantile(errors[:3], 0.8) == pytest.approx(0.03)  # too few: the largest
    s = _series([0.40, 0.45, 0.50, 0.55])
    fc = forecast(s, s.dates[-1] + timedelta(days=4), ForecastSettings(damping_per_5_days=1.0), errors)
    assert "empirical quantile of 10" in fc.method
    assert fc.high - fc.low == pytest.approx(2 * 0.09 * 2.0)  # q * sqrt(4 days), both sides
    few = forecast(s, s.dates[-1] + timedelta(days=4), ForecastSettings(), errors[:5])
    assert "t-interval" in few.method

"""Field index time series: trend and short-horizon forecast with an honest band.

Pure functions on numpy arrays; no I/O.

Method (stated in every forecast): a **local linear trend** fitted by ordinary
least squares to the last ``window`` observations of one field's index
(default 4), extrapolated ``h`` days ahead. With design matrix ``X = [1, t]``
(t in days since the first observation of the window), residual variance
``s^2 = RSS / (n - 2)`` and a new point ``x0 = [1, t0]``, the prediction
interval at level ``1 - alpha`` is::

    y0 ± t_{n-2, 1-alpha/2} * s * sqrt(1 + x0ᵀ (XᵀX)⁻¹ x0)

A canopy index cannot grow without bound, so the extrapolated slope is damped
(``slope * phi`` per step, phi = 0.9 per 5-day step by default) and the value is
clipped to the index's valid range. With fewer than 3 observations the forecast
falls back to persistence (last value) with the band of the pooled residual
scale ``fallback_sigma``. The backtest (:func:`backtest`) states the error of
this method against persistence on simulated seasons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import stats

from pipeline.errors import InputError


@dataclass(frozen=True)
class FieldSeries:
    """One field's index values over flights.

    Attributes:
        field_id: The field.
        index: Index name (e.g. ``ndvi``).
        dates: Flight dates, strictly increasing.
        values: Field mean of the index per flight (NaN allowed: skipped).
    """

    field_id: str
    index: str
    dates: tuple[date, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.dates) != len(self.values):
            raise InputError(
                f"field {self.field_id!r}: {len(self.dates)} dates but {len(self.values)} values; "
                "give one value per flight"
            )
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise InputError(f"field {self.field_id!r}: flight dates must be strictly increasing, got {self.dates}")

    def valid(self) -> tuple[np.ndarray, np.ndarray]:
        """``(days since first flight, values)`` without NaN values."""
        days = np.array([(d - self.dates[0]).days for d in self.dates], dtype=float)
        vals = np.array(self.values, dtype=float)
        keep = np.isfinite(vals)
        return days[keep], vals[keep]


@dataclass(frozen=True)
class Trend:
    """Linear trend of a series: slope per day with its confidence interval."""

    slope_per_day: float
    slope_low: float
    slope_high: float
    n: int

    @property
    def direction(self) -> str:
        """``improving``, ``declining`` or ``stable`` (CI includes 0)."""
        if self.slope_low > 0:
            return "improving"
        if self.slope_high < 0:
            return "declining"
        return "stable"


@dataclass(frozen=True)
class ForecastSettings:
    """Forecast knobs (``batch`` section of params.yaml).

    Attributes:
        window: Observations used for the local trend.
        level: Prediction-interval level (0.8 = 80 %).
        damping_per_5_days: Slope multiplier per 5 days of horizon.
        fallback_sigma: Band half-width scale when fewer than 3 points.
        valid_min, valid_max: Index range the forecast is clipped to.
    """

    window: int = 4
    level: float = 0.8
    damping_per_5_days: float = 0.9
    fallback_sigma: float = 0.05
    valid_min: float = -1.0
    valid_max: float = 1.0


@dataclass(frozen=True)
class Forecast:
    """A forecast of one field's index on one future date."""

    field_id: str
    index: str
    target: date
    horizon_days: int
    value: float
    low: float
    high: float
    level: float
    method: str


def trend(series: FieldSeries, level: float = 0.9) -> Trend:
    """OLS slope (index units per day) over the whole series with a ``level`` CI."""
    t, y = series.valid()
    n = len(t)
    if n < 2:
        return Trend(0.0, -math.inf, math.inf, n)
    res = stats.linregress(t, y)
    if n < 3:
        return Trend(float(res.slope), -math.inf, math.inf, n)
    q = stats.t.ppf(0.5 + level / 2, n - 2)
    return Trend(float(res.slope), float(res.slope - q * res.stderr), float(res.slope + q * res.stderr), n)


def _damped_extrapolation(slope: float, horizon_days: float, damping_per_5_days: float) -> float:
    """Sum of a geometrically damped slope over ``horizon_days`` (continuous form)."""
    if horizon_days <= 0:
        return 0.0
    if damping_per_5_days >= 1.0:
        return slope * horizon_days
    k = -math.log(damping_per_5_days) / 5.0  # per-day decay rate
    return slope * (1.0 - math.exp(-k * horizon_days)) / k


def forecast(series: FieldSeries, target: date, settings: ForecastSettings | None = None) -> Forecast:
    """Forecast the field's index on ``target`` (after the last flight).

    Raises:
        InputError: ``target`` is not after the last flight, or the series has no valid value.
    """
    cfg = settings or ForecastSettings()
    if target <= series.dates[-1]:
        raise InputError(f"forecast date {target} must be after the last flight {series.dates[-1]}")
    t_all, y_all = series.valid()
    if len(y_all) == 0:
        raise InputError(f"field {series.field_id!r} has no valid {series.index} value to forecast from")
    horizon = (target - series.dates[-1]).days
    t_target = float((target - series.dates[0]).days)
    t, y = t_all[-cfg.window :], y_all[-cfg.window :]
    n = len(t)
    if n < 3:
        z = stats.norm.ppf(0.5 + cfg.level / 2)
        half = z * cfg.fallback_sigma * math.sqrt(max(horizon, 1) / 5.0)
        value = float(y[-1])
        method = "persistence (fewer than 3 flights)"
    else:
        X = np.column_stack([np.ones(n), t])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        s = math.sqrt(float(resid @ resid) / (n - 2)) if n > 2 else cfg.fallback_sigma
        s = max(s, 0.25 * cfg.fallback_sigma)  # a perfect fit is not certainty
        t_last = float(t_all[-1])
        value = float(beta[0] + beta[1] * t_last) + _damped_extrapolation(
            float(beta[1]), t_target - t_last, cfg.damping_per_5_days
        )
        x0 = np.array([1.0, t_target])
        lever = float(x0 @ np.linalg.inv(X.T @ X) @ x0)
        half = float(stats.t.ppf(0.5 + cfg.level / 2, n - 2)) * s * math.sqrt(1.0 + lever)
        method = f"local linear trend (last {n} flights, OLS, damped {cfg.damping_per_5_days}/5 d)"
    low = min(max(value - half, cfg.valid_min), cfg.valid_max)
    high = min(max(value + half, cfg.valid_min), cfg.valid_max)
    value = min(max(value, cfg.valid_min), cfg.valid_max)
    return Forecast(series.field_id, series.index, target, horizon, value, low, high, cfg.level, method)


@dataclass(frozen=True)
class BacktestResult:
    """Rolling-origin backtest: errors of the method and of persistence."""

    n_forecasts: int
    mae: float
    rmse: float
    persistence_mae: float
    coverage: float
    level: float
    mean_horizon_days: float

    @property
    def skill(self) -> float:
        """1 - MAE / MAE(persistence); positive means better than persistence."""
        return 1.0 - self.mae / self.persistence_mae if self.persistence_mae > 0 else 0.0


def backtest(
    all_series: Sequence[FieldSeries], min_history: int = 3, settings: ForecastSettings | None = None
) -> BacktestResult:
    """Forecast each flight from the ones before it (one step ahead) and score.

    For every series and every k ≥ ``min_history``, forecast flight k from
    flights 0..k-1 and compare with the observed value.
    """
    cfg = settings or ForecastSettings()
    errors, naive, inside, horizons = [], [], [], []
    for s in all_series:
        for k in range(min_history, len(s.dates)):
            actual = s.values[k]
            if not math.isfinite(actual):
                continue
            past = FieldSeries(s.field_id, s.index, s.dates[:k], s.values[:k])
            if not any(math.isfinite(v) for v in past.values):
                continue
            fc = forecast(past, s.dates[k], cfg)
            errors.append(fc.value - actual)
            last = next(v for v in reversed(past.values) if math.isfinite(v))
            naive.append(last - actual)
            inside.append(fc.low <= actual <= fc.high)
            horizons.append(fc.horizon_days)
    if not errors:
        raise InputError(f"backtest needs series with more than {min_history} flights; none given")
    err = np.array(errors)
    return BacktestResult(
        n_forecasts=len(err),
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        persistence_mae=float(np.mean(np.abs(naive))),
        coverage=float(np.mean(inside)),
        level=cfg.level,
        mean_horizon_days=float(np.mean(horizons)),
    )


def forecast_dates(last: date, horizon_days: int, step_days: int = 1) -> list[date]:
    """Dates after ``last`` up to ``horizon_days`` ahead, every ``step_days``."""
    return [last + timedelta(days=d) for d in range(step_days, horizon_days + 1, step_days)]

"""A deterministic synthetic minute-bar market, the embedded default when no --data is given.

Shape of the data, chosen to exercise everything real equity data exercises:
- weekdays only; each day has a pre-market (08:00-09:30), the regular session (09:30-16:00) and
  an after-hours session (16:00-17:00), New York time, one bar per minute, bar time = open time;
- an overnight gap between days (the next day's first open jumps from the last close);
- U-shaped intraday volatility and volume over the regular session, quieter extended hours.

``drift`` plants a learnable signal: returns follow a persistent, unit-variance momentum state
built from *past* shocks, ``r[t+1] = sigma[t+1] * (drift * m[t] + eps[t+1])`` with
``m[t] = rho * m[t-1] + sqrt(1 - rho^2) * eps[t]``. The ``momentum`` and ``ret1`` features see
``m`` (noisily), so a policy can earn roughly ``drift * sigma`` per bar by trading with it.
``drift=0`` is a driftless random walk: nothing to learn, useful as a control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["synthetic_market"]

_FIRST_MINUTE = 8 * 60  # 08:00
_LAST_MINUTE = 17 * 60  # 17:00 (exclusive)
_RTH = (9 * 60 + 30, 16 * 60)


def synthetic_market(
    seed: int = 0,
    days: int = 20,
    drift: float = 0.0,
    *,
    start: str = "2024-01-02",
    tz: str = "America/New_York",
    price: float = 100.0,
    vol: float = 5e-4,
    persistence: float = 0.93,
    gap_vol: float = 4e-3,
) -> pd.DataFrame:
    """Deterministic minute OHLCV bars (same arguments, same frame) with tz-aware timestamps."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if not 0.0 <= persistence < 1.0:
        raise ValueError(f"persistence must be in [0, 1), got {persistence}")
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start=start, periods=days)
    minutes = np.arange(_FIRST_MINUTE, _LAST_MINUTE)
    per_day = len(minutes)
    n = days * per_day
    wall = (
        dates.values.astype("datetime64[m]")[:, None] + minutes[None, :].astype("timedelta64[m]")
    ).reshape(-1)
    minute = np.tile(minutes, days)

    in_rth = (minute >= _RTH[0]) & (minute < _RTH[1])
    tau = np.clip((minute - _RTH[0]) / (_RTH[1] - _RTH[0]), 0.0, 1.0)
    u_shape = (2.0 * tau - 1.0) ** 2
    sigma = vol * np.where(in_rth, 0.7 + 1.2 * u_shape, 0.45)
    base_volume = 1e5 * np.where(in_rth, 0.5 + 1.5 * u_shape, 0.08)

    eps = rng.standard_normal(n)
    # m[t] = rho m[t-1] + sqrt(1-rho^2) eps[t]: an EWM of past shocks rescaled to unit variance
    rho = persistence
    ewm = pd.Series(eps).ewm(alpha=1.0 - rho, adjust=False).mean().to_numpy()
    m = ewm * np.sqrt(1.0 - rho**2) / (1.0 - rho) if rho > 0 else eps
    signal = np.r_[0.0, m[:-1]]  # only the state known before the bar moves the bar
    ret = sigma * (drift * signal + eps)

    gaps = rng.normal(0.0, gap_vol, size=days)
    day_start = np.arange(days) * per_day
    log_open_jump = np.zeros(n)
    log_open_jump[day_start[1:]] = gaps[1:]
    # open[t] = close[t-1] * exp(gap at day start); close[t] = open[t] * exp(ret[t])
    log_close = np.log(price) + np.cumsum(log_open_jump + ret)
    log_open = log_close - ret
    wick_hi = np.abs(rng.standard_normal(n)) * sigma * 0.5
    wick_lo = np.abs(rng.standard_normal(n)) * sigma * 0.5
    open_ = np.exp(log_open)
    close = np.exp(log_close)
    high = np.maximum(open_, close) * np.exp(wick_hi)
    low = np.minimum(open_, close) * np.exp(-wick_lo)
    volume = np.round(base_volume * rng.lognormal(0.0, 0.35, size=n) * (1.0 + np.abs(eps)))

    timestamps = pd.DatetimeIndex(wall).tz_localize(tz)
    return pd.DataFrame(
        {
            "timestamp": timestamps,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
    )

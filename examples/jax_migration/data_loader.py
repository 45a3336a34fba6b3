"""Market data for the phase-1 futures environment (host side, NumPy).

Ported unchanged from the NumPy/PyTorch project: bars are loaded (or synthesised) with
pandas and handed to the environment as NumPy arrays.

Bar layout: 5-minute ES-style bars. Every trading day has ``PRE_BARS`` pre-market bars
(07:00-09:25 ET) followed by ``RTH_BARS`` regular-trading-hours bars (09:30-15:55 ET).
``rth_indices[d]`` is the index of day d's 09:30 bar, the bar an episode starts on.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

TICK_SIZE = 0.25
PRE_BARS = 30  # 07:00 .. 09:25
RTH_BARS = 78  # 09:30 .. 15:55
FEATURES = ("ret", "range", "volume_z", "time_of_day")


class MarketData(NamedTuple):
    timestamps: np.ndarray  # (n_bars,) datetime64
    ohlc: np.ndarray  # (n_bars, 4) float32: open, high, low, close
    volume: np.ndarray  # (n_bars,) float32
    features: np.ndarray  # (n_bars, n_features) float32, row t uses bars <= t only
    rth_indices: np.ndarray  # (n_days,) int64: index of each session's 09:30 bar
    bars_per_session: int  # RTH bars per session


def round_to_tick(price, tick_size=TICK_SIZE):
    """Round a price to the nearest tick."""
    return np.floor(price / tick_size + 0.5) * tick_size


def synthetic_bars(n_days: int = 5, seed: int = 0, start_price: float = 4500.0) -> pd.DataFrame:
    """A deterministic random-walk OHLCV frame with the session layout described above."""
    rng = np.random.default_rng(seed)
    bars_per_day = PRE_BARS + RTH_BARS
    days = pd.bdate_range("2024-03-04", periods=n_days)
    offsets = pd.timedelta_range("07:00:00", periods=bars_per_day, freq="5min")
    timestamps = np.concatenate([(day + offsets).to_numpy() for day in days])

    n = n_days * bars_per_day
    steps = rng.normal(0.0, 1.5, size=n)
    close = round_to_tick(start_price + np.cumsum(steps))
    open_ = np.empty(n)
    open_[0] = round_to_tick(start_price)
    open_[1:] = close[:-1]
    wick_hi = round_to_tick(np.abs(rng.normal(0.0, 0.75, size=n)))
    wick_lo = round_to_tick(np.abs(rng.normal(0.0, 0.75, size=n)))
    high = np.maximum(open_, close) + wick_hi
    low = np.minimum(open_, close) - wick_lo
    volume = rng.gamma(2.0, 500.0, size=n).round()
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=pd.DatetimeIndex(timestamps, name="timestamp"),
    )


def make_features(df: pd.DataFrame) -> pd.DataFrame:
    """Per-bar features; every row depends on that bar and earlier bars only."""
    feats = pd.DataFrame(index=df.index)
    feats["ret"] = np.log(df["close"]).diff().fillna(0.0) * 1000.0
    feats["range"] = (df["high"] - df["low"]) / df["close"] * 1000.0
    vol_mean = df["volume"].rolling(20, min_periods=1).mean()
    vol_std = df["volume"].rolling(20, min_periods=2).std().fillna(1.0)
    feats["volume_z"] = ((df["volume"] - vol_mean) / vol_std.replace(0.0, 1.0)).clip(-5, 5)
    minutes = df.index.hour * 60 + df.index.minute
    feats["time_of_day"] = (minutes - (9 * 60 + 30)) / (RTH_BARS * 5)
    return feats[list(FEATURES)]


def from_frame(df: pd.DataFrame) -> MarketData:
    df = df.sort_index()
    feats = make_features(df)
    minutes = df.index.hour * 60 + df.index.minute
    rth_open = np.flatnonzero(minutes.values == 9 * 60 + 30)
    return MarketData(
        timestamps=df.index.values,
        ohlc=df[["open", "high", "low", "close"]].to_numpy(dtype=np.float32),
        volume=df["volume"].values.astype(np.float32),
        features=feats.to_numpy(dtype=np.float32),
        rth_indices=np.asarray(rth_open, dtype=np.int64),
        bars_per_session=RTH_BARS,
    )


def load_market_data(path: str | None = None, n_days: int = 5, seed: int = 0) -> MarketData:
    """Bars from ``path`` (.npz cache, .csv or .parquet), else a synthetic market."""
    if path is None:
        return from_frame(synthetic_bars(n_days=n_days, seed=seed))
    if path.endswith(".npz"):
        z = np.load(path)
        return MarketData(
            timestamps=z["timestamps"],
            ohlc=np.asarray(z["ohlc"], dtype=np.float32),
            volume=np.asarray(z["volume"], dtype=np.float32),
            features=np.asarray(z["features"], dtype=np.float32),
            rth_indices=np.asarray(z["rth_indices"], dtype=np.int64),
            bars_per_session=int(z["bars_per_session"]),
        )
    if path.endswith(".parquet"):
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(path)
    df = df.set_index(pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp")), name="timestamp"))
    return from_frame(df)

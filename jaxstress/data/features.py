"""Session calendar and causal features.

Causality is the point of this module: every value at bar ``t`` is computed from bars ``<= t``
only, normalisation included (trailing rolling z-scores, never a full-sample mean/std), so that
perturbing any bar after ``t`` leaves row ``t`` bit-identical. The tests check exactly that.

The calendar (which bars are regular trading hours, where each session ends) depends only on
timestamps, i.e. on the exchange schedule, which is known in advance; it is not look-ahead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

__all__ = [
    "FEATURE_NAMES",
    "MOMENTUM_LAG",
    "NUM_FEATURES",
    "Calendar",
    "compute_features",
    "local_wall_clock",
    "session_calendar",
]

MOMENTUM_LAG = 10
FEATURE_NAMES: tuple[str, ...] = (
    "ret1",  # log(close_t / close_{t-1}), z-scored
    "range",  # log(high_t / low_t), z-scored
    "clv",  # where the close sits in the bar's range, in [-1, 1]
    "log_volume",  # log1p(volume_t), z-scored
    "momentum",  # log(close_t / close_{t-MOMENTUM_LAG}), z-scored
    "tod_sin",  # time of day (local wall clock), sin
    "tod_cos",  # time of day (local wall clock), cos
    "rth",  # 1.0 inside regular trading hours
)
NUM_FEATURES = len(FEATURE_NAMES)

_DAY = pd.Timedelta(days=1)


def _parse_clock(value: str | dt.time, what: str) -> pd.Timedelta:
    """'09:30' / '24:00' / datetime.time -> offset from midnight."""
    if isinstance(value, dt.time):
        return pd.Timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    text = str(value).strip()
    try:
        parts = [int(p) for p in text.split(":")]
        if not 2 <= len(parts) <= 3:
            raise ValueError
        h, m, s = (*parts, 0)[:3]
        if not (0 <= h <= 24 and 0 <= m < 60 and 0 <= s < 60) or (h == 24 and (m or s)):
            raise ValueError
    except ValueError:
        raise ValueError(f"rth {what} time must look like 'HH:MM', got {value!r}") from None
    return pd.Timedelta(hours=h, minutes=m, seconds=s)


@dataclasses.dataclass(frozen=True)
class Calendar:
    """Per-bar session structure (host NumPy), computed from local wall-clock timestamps."""

    rth_mask: np.ndarray  # bool [T]
    session_end: np.ndarray  # int64 [T]: last RTH bar of the bar's session, -1 outside RTH
    minute_of_day: np.ndarray  # float64 [T]: local wall-clock minutes since midnight


def local_wall_clock(timestamps: pd.Series, tz: str) -> pd.Series:
    """Naive local wall-clock times in ``tz``.

    tz-aware input is converted; naive input is taken to be local time in ``tz`` already (the
    usual vendor export). Raises ValueError for local times that do not exist or are ambiguous
    at a DST change.
    """
    ts = pd.Series(timestamps).reset_index(drop=True)
    if ts.dt.tz is not None:
        return ts.dt.tz_convert(tz).dt.tz_localize(None)
    try:
        ts.dt.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except Exception as exc:
        raise ValueError(
            f"naive timestamp {str(exc).splitlines()[0]} is ambiguous or does not exist in {tz} "
            "(DST change); store tz-aware or UTC timestamps"
        ) from None
    return ts


def session_calendar(wall: pd.Series, rth: tuple[str | dt.time, str | dt.time] | None) -> Calendar:
    """RTH mask and, for each RTH bar, the index of the last RTH bar of its session (else -1).

    ``rth=(open, close)`` in local wall-clock time; a bar is in RTH when its *open* time is in
    ``[open, close)``. ``close <= open`` means the session wraps midnight (e.g. futures 18:00-17:00)
    and belongs to the day it opened; ``None`` (or ``('00:00', '24:00')``) makes every bar RTH with
    one session per local calendar day (24h markets such as FX).
    """
    if rth is None:
        open_off, length = pd.Timedelta(0), _DAY
    else:
        open_off = _parse_clock(rth[0], "open")
        close_off = _parse_clock(rth[1], "close")
        length = (close_off - open_off) % _DAY
        if length == pd.Timedelta(0):
            length = _DAY
    shifted = wall - open_off
    session_day = shifted.dt.floor("D")
    into = (shifted - session_day).to_numpy()
    rth_mask = into < length.to_timedelta64()
    n = len(wall)
    session_end = np.full(n, -1, dtype=np.int64)
    if rth_mask.any():
        day_ns = session_day.to_numpy().astype("int64")
        idx = np.flatnonzero(rth_mask)
        keys = day_ns[idx]
        # a new session starts where the session day changes between consecutive RTH bars
        new = np.ones(len(idx), dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        group = np.cumsum(new) - 1
        last_in_group = idx[np.r_[np.flatnonzero(new)[1:] - 1, len(idx) - 1]]
        session_end[idx] = last_in_group[group]
    minute = (wall.dt.hour * 60 + wall.dt.minute + wall.dt.second / 60.0).to_numpy(np.float64)
    return Calendar(rth_mask.astype(bool), session_end, minute)


def _rolling_z(x: pd.Series, window: int, min_periods: int, clip: float) -> np.ndarray:
    """Trailing z-score: uses bars (t-window, t] only; 0 until min_periods bars are seen."""
    roll = x.rolling(window, min_periods=min_periods)
    mean = roll.mean()
    std = roll.std(ddof=0)
    z = (x - mean) / std
    z = z.where(std > 1e-12, 0.0)
    return np.clip(z.fillna(0.0).to_numpy(np.float64), -clip, clip)


def compute_features(
    bars: pd.DataFrame,
    calendar: Calendar,
    norm_window: int = 2048,
    norm_min_periods: int = 32,
    clip: float = 5.0,
) -> np.ndarray:
    """The [T, NUM_FEATURES] float32 feature matrix; row t depends on bars <= t only."""
    h = bars["high"].to_numpy(np.float64)
    lo = bars["low"].to_numpy(np.float64)
    c = bars["close"].to_numpy(np.float64)
    v = bars["volume"].to_numpy(np.float64)
    logc = np.log(c)
    ret1 = np.r_[0.0, np.diff(logc)]
    rng = np.log(h / lo)
    width = h - lo
    clv = np.where(width > 0, 2.0 * (c - lo) / np.where(width > 0, width, 1.0) - 1.0, 0.0)
    mom = np.zeros_like(logc)
    if len(logc) > MOMENTUM_LAG:
        mom[MOMENTUM_LAG:] = logc[MOMENTUM_LAG:] - logc[:-MOMENTUM_LAG]

    def z(a: np.ndarray) -> np.ndarray:
        return _rolling_z(pd.Series(a), norm_window, norm_min_periods, clip)

    angle = 2.0 * np.pi * calendar.minute_of_day / 1440.0
    cols = [
        z(ret1),
        z(rng),
        clv,
        z(np.log1p(v)),
        z(mom),
        np.sin(angle),
        np.cos(angle),
        calendar.rth_mask.astype(np.float64),
    ]
    feats = np.stack(cols, axis=1).astype(np.float32)
    assert feats.shape[1] == NUM_FEATURES
    return feats

"""`MarketData`: the device-side market, and `prepare`, which builds it from a bar frame."""

from __future__ import annotations

import datetime as dt
import functools

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from jaxstress.data.features import (
    MOMENTUM_LAG,
    NUM_FEATURES,
    compute_features,
    local_wall_clock,
    session_calendar,
)
from jaxstress.data.loader import DataError, validate_bars
from jaxstress.data.synthetic import synthetic_market

__all__ = ["DEFAULT_DRIFT", "MarketData", "default_market", "prepare"]

DEFAULT_DRIFT = 0.2


class MarketData(flax.struct.PyTreeNode):
    """All bars of one instrument as device arrays; passed *into* jit as an argument.

    Passing it as an argument (not closing over it) keeps it out of the compiled program's
    constants and lets one compiled step serve any market of the same shape.

    ``window`` is static: every index in ``start_indices`` has at least ``window - 1`` bars of
    fully warmed-up features before it, so an observation window of up to ``window`` bars never
    reaches before bar 0 (where ``lax.dynamic_slice`` would silently clamp and shift it).
    """

    open: jax.Array  # float32 [T]
    high: jax.Array  # float32 [T]
    low: jax.Array  # float32 [T]
    close: jax.Array  # float32 [T]
    volume: jax.Array  # float32 [T]
    features: jax.Array  # float32 [T, F], causal (row t uses bars <= t only)
    rth_mask: jax.Array  # bool [T]
    session_end: jax.Array  # int32 [T]: last RTH bar of the bar's session, -1 outside RTH
    start_indices: jax.Array  # int32 [N]: valid episode start bars
    window: int = flax.struct.field(pytree_node=False, default=1)

    @property
    def num_bars(self) -> int:
        return int(self.close.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])


def _fmt_rth(rth: tuple[str | dt.time, str | dt.time] | None) -> str:
    return "24h" if rth is None else f"{rth[0]}-{rth[1]}"


def prepare(
    bars: pd.DataFrame,
    window: int = 32,
    rth: tuple[str | dt.time, str | dt.time] | None = ("09:30", "16:00"),
    tz: str = "America/New_York",
    *,
    min_episode_bars: int = 8,
    norm_window: int = 2048,
    norm_min_periods: int = 32,
    source: str | None = None,
    timestamp_format: str | None = None,
) -> MarketData:
    """Validate bars, build the calendar and causal features, and move everything to the device.

    Timestamps are bar open times; tz-aware ones are converted to ``tz``, naive ones are taken
    to be local ``tz`` time. ``rth`` is the regular session in local wall-clock time (``None``
    for 24h markets: one session per local day). An episode may start at an RTH bar ``t`` with
    ``window - 1`` bars of warmed-up features before it and at least ``min_episode_bars`` more
    bars before its session's last RTH bar. Errors name ``source`` (default: the file that
    `load_bars` read, else "bars").
    """
    if source is None:
        source = str(bars.attrs.get("source", "bars")) if isinstance(bars, pd.DataFrame) else "bars"
    try:
        pd.Timestamp("2000-01-01", tz=tz)
    except Exception:
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name such as 'UTC')") from None
    if rth is not None and len(rth) != 2:
        raise ValueError(f"rth must be (open, close) like ('09:30', '16:00') or None, got {rth!r}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if min_episode_bars < 1:
        raise ValueError(f"min_episode_bars must be >= 1, got {min_episode_bars}")
    df = validate_bars(bars, source=source, timestamp_format=timestamp_format)
    n = len(df)
    warmup = norm_min_periods - 1 + MOMENTUM_LAG
    min_start = window - 1 + warmup
    need = min_start + 1 + min_episode_bars
    if n < need:
        raise DataError(
            f"{source}: too few bars for window={window}: got {n}, need at least {need} "
            f"({window} window + {warmup} feature warm-up + {min_episode_bars} bars to trade)"
        )
    try:
        wall = local_wall_clock(df["timestamp"], tz)
    except ValueError as exc:
        raise DataError(f"{source}: {exc}") from None
    try:
        cal = session_calendar(wall, rth)
    except ValueError as exc:
        raise DataError(f"{source}: {exc}") from None
    if not cal.rth_mask.any():
        raise DataError(
            f"{source}: no bars inside regular trading hours {_fmt_rth(rth)} {tz} "
            f"(bars span {wall.iloc[0]} to {wall.iloc[-1]} local); check tz, or pass rth=None "
            "for a 24h market"
        )
    t = np.arange(n)
    ok = cal.rth_mask & (t >= min_start) & (cal.session_end - t >= min_episode_bars)
    starts = np.flatnonzero(ok)
    if starts.size == 0:
        rth_idx = np.flatnonzero(cal.rth_mask)
        longest = int(np.max(cal.session_end[rth_idx] - rth_idx)) + 1
        raise DataError(
            f"{source}: no valid episode start: need an RTH bar with {min_start} bars of history "
            f"and {min_episode_bars} more RTH bars in its session (longest session has {longest} "
            f"bar(s) in {_fmt_rth(rth)} {tz})"
        )
    feats = compute_features(df, cal, norm_window=norm_window, norm_min_periods=norm_min_periods)
    assert feats.shape == (n, NUM_FEATURES)

    def f32(col: str) -> jax.Array:
        return jnp.asarray(df[col].to_numpy(np.float32))

    return MarketData(
        open=f32("open"),
        high=f32("high"),
        low=f32("low"),
        close=f32("close"),
        volume=f32("volume"),
        features=jnp.asarray(feats),
        rth_mask=jnp.asarray(cal.rth_mask),
        session_end=jnp.asarray(cal.session_end.astype(np.int32)),
        start_indices=jnp.asarray(starts.astype(np.int32)),
        window=int(window),
    )


@functools.lru_cache(maxsize=8)
def default_market(window: int = 32, drift: float = DEFAULT_DRIFT) -> MarketData:
    """The embedded default market (20 synthetic trading days, seed 0), built once per process."""
    return prepare(
        synthetic_market(seed=0, days=20, drift=drift), window=window, source="synthetic"
    )

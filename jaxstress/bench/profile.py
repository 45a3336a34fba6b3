"""Hardware profiles: the JSON a sweep writes, how it is named, found and what it recommends.

A profile holds the device kind and count, software versions, the date, the sweep settings,
the measured memory bandwidth, every grid point with every measurement, and
``recommended: {num_envs, num_minibatches, num_steps, ...}`` (`recommend`). The rule: among
the ``ok`` points whose predicted *and* measured peak memory stay within ``HEADROOM`` (80%) of
the device's memory (or ``--mem-limit``), the one with the highest *slowest repeat* (the lower
bound of its env steps/s over the repeats; a point that is fast only sometimes does not win).
Run-to-run noise is each point's min-max range over its repeats; the recommendation lists
the points whose range overlaps the winner's, since the measurement cannot tell them apart.
Only a complete grid, or at least ``MIN_POINTS`` (3) fitting ``ok`` points of an interrupted
one, gives a recommendation: one or two points say nothing about the rest of the grid. On
CPU, where the measured peak is the process's RSS (runtime and compiler included), only the
prediction is judged. ``jaxstress train --profile auto|PATH`` reads the three keys (see
`jaxstress.training.profile_recommendation`); ``auto`` takes the profile of this device kind
and count (`match_profile`).

File names: ``<device kind as a slug>.json`` (``cpu.json``, ``nvidia-h100-80gb-hbm3.json``),
with ``-x<N>`` for N > 1 devices. A sweep writes ``<name>.partial.json`` while it runs and
replaces ``<name>.json`` only when it completes; an interrupted (or crashed) sweep leaves its
results in ``<name>.partial.json`` beside the last complete profile, which ``--profile auto``
never takes (it says on one line that it ignored it). A complete sweep with nothing to
recommend (every point failed) is written as ``<name>.json.failed``. The path of the last
profile written is recorded in ``profiles/last-profile.txt`` (`record_last`), so that
``jaxstress profile show`` finds it after ``bench --out DIR`` too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCHEMA = "jaxstress-profile/1"
HEADROOM = 0.8
DEFAULT_DIR = "profiles"
FAILED_SUFFIX = ".failed"
PARTIAL_SUFFIX = ".partial.json"
LAST_FILE = "last-profile.txt"
MIN_POINTS = 3


class ProfileError(ValueError):
    """A profile that cannot be read or shown (one-line message)."""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "device"


def profile_filename(device_kind: str, device_count: int = 1) -> str:
    suffix = f"-x{device_count}" if device_count > 1 else ""
    return f"{slug(device_kind)}{suffix}.json"


def _memory_ok(point: Mapping[str, Any], headroom: float) -> tuple[bool, float | None]:
    """Whether the point's predicted and measured peaks fit ``headroom`` of the limit."""
    memory = point.get("memory") or {}
    limit = memory.get("limit_bytes")
    if not limit:
        return True, None
    peaks = []
    predicted = memory.get("predicted") or {}
    if predicted.get("peak_bytes") is not None:
        peaks.append(predicted["peak_bytes"])
    measured = memory.get("measured") or {}
    # Only a device allocator's peak is comparable to the limit; the CPU fallback (process
    # RSS: interpreter, JAX runtime and compiler included) is reported but not judged.
    if measured.get("bytes") is not None and str(measured.get("source", "")).startswith("device"):
        peaks.append(measured["bytes"])
    worst = max(peaks) if peaks else 0
    return worst <= headroom * limit, worst / limit


def _fits(points: Iterable[Mapping[str, Any]], headroom: float) -> list[tuple[Any, ...]]:
    """(lower, median, upper steps/s, point, memory fraction) of the ok points that fit."""
    out = []
    for point in points:
        stats = point.get("steps_per_sec") or {}
        sps = stats.get("median")
        if point.get("outcome") != "ok" or sps is None or not math.isfinite(sps):
            continue
        fits, fraction = _memory_ok(point, headroom)
        if fits:
            lo, hi = stats.get("min", sps), stats.get("max", sps)
            out.append((lo if lo is not None else sps, sps, hi if hi is not None else sps,
                        point, fraction))  # fmt: skip
    return out


def _key(point: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(point[k]) for k in ("num_envs", "num_minibatches", "num_steps")}


def recommend(
    points: Iterable[Mapping[str, Any]], headroom: float = HEADROOM, complete: bool = True
) -> dict | None:
    """The configuration to train with, by the rule in the module doc (None: none yet).

    ``complete=False`` (an interrupted or running sweep) needs ``MIN_POINTS`` fitting points.
    """
    fitting = _fits(points, headroom)
    if not fitting or (not complete and len(fitting) < MIN_POINTS):
        return None
    lo, sps, hi, point, fraction = max(fitting, key=lambda f: (f[0], f[1]))
    repeats = len((point.get("steps_per_sec") or {}).get("values") or []) or None
    ties = [_key(f[3]) for f in fitting if f[3] is not point and f[2] >= lo]
    return {
        **_key(point),
        "steps_per_sec": sps,
        "steps_per_sec_min": lo,
        "steps_per_sec_max": hi,
        # half the min-max range over the repeats, relative to the median (the table's ±)
        "noise": None if repeats == 1 or not sps else (hi - lo) / (2 * sps),
        "repeats": repeats,
        "within_noise_of": ties,
        "candidates": len(fitting),
        "updates_per_sec": (point.get("updates_per_sec") or {}).get("median"),
        "memory_fraction": fraction,
        "headroom": headroom,
        "rule": f"highest slowest-repeat env steps/s among points with predicted and measured "
        f"peak memory <= {headroom:.0%} of the device memory",
    }


def fitting_count(points: Iterable[Mapping[str, Any]], headroom: float = HEADROOM) -> int:
    """How many ok points fit the headroom (what `recommend` has to choose from)."""
    return len(_fits(points, headroom))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def profile_path(profile: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Where ``profile`` belongs: ``.partial.json`` unless complete, ``.failed`` if no pick."""
    name = profile_filename(profile["device_kind"], int(profile.get("device_count", 1)))
    if not profile.get("complete", True):
        return Path(out_dir) / (name.removesuffix(".json") + PARTIAL_SUFFIX)
    if not profile.get("recommended"):
        name += FAILED_SUFFIX
    return Path(out_dir) / name


def is_partial(path: str | os.PathLike[str], profile: Mapping[str, Any]) -> bool:
    """An interrupted or unfinished sweep (by name or by its ``complete`` flag)."""
    return str(path).endswith(PARTIAL_SUFFIX) or profile.get("complete") is False


def write_profile(profile: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``profile`` into ``out_dir`` (created) atomically; returns the path."""
    path = profile_path(profile, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(_finite(profile), indent=2) + "\n")
    return path


def record_last(path: Path, profiles_dir: str | os.PathLike[str] = DEFAULT_DIR) -> None:
    """Remember ``path`` as the last profile written, for ``profile show`` without a path."""
    where = Path(profiles_dir)
    where.mkdir(parents=True, exist_ok=True)
    _atomic_write(where / LAST_FILE, str(path.resolve()) + "\n")


def last_recorded(profiles_dir: str | os.PathLike[str] = DEFAULT_DIR) -> Path | None:
    """The path `record_last` saved (None: nothing recorded); it may no longer exist."""
    try:
        text = (Path(profiles_dir) / LAST_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None


def _finite(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def read_profile(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"no profile at {path}") from None
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path} is not a profile JSON file: {exc}") from None
    if not isinstance(profile, dict) or "device_kind" not in profile:
        raise ProfileError(f"{path} is not a jaxstress hardware profile (no device_kind)")
    return profile


@dataclasses.dataclass(frozen=True)
class ProfileMatch:
    """A profile found for a device; ``exact`` when it was measured on the asked device count."""

    path: Path
    profile: dict[str, Any]
    device_count: int
    exact: bool


def match_profile(
    device_kind: str, device_count: int = 1, out_dir: str | os.PathLike[str] = DEFAULT_DIR
) -> ProfileMatch | None:
    """The profile in ``out_dir`` for ``device_kind`` and ``device_count`` (None: no such kind).

    A recommendation is measured on a device count (num_envs is split over the devices), so a
    profile of the same count wins, the newest if several. Without one, the profile of the
    same kind with the nearest count (then the newest) is returned with ``exact=False``, for
    the caller to say so. Unreadable files, partial sweeps (`partial_for`) and profiles of
    other kinds are ignored.
    """
    found = []
    for path in Path(out_dir).glob("*.json"):
        if path.name.endswith(PARTIAL_SUFFIX):
            continue
        try:
            profile = read_profile(path)
        except ProfileError:
            continue
        if profile.get("device_kind") != device_kind:
            continue
        count = profile.get("device_count", 1)
        count = count if isinstance(count, int) and count >= 1 else 1
        found.append((abs(count - device_count), -path.stat().st_mtime, path, profile, count))
    if not found:
        return None
    _, _, path, profile, count = min(found, key=lambda f: (f[0], f[1], str(f[2])))
    return ProfileMatch(path, profile, count, count == device_count)


def find_profile(
    device_kind: str, out_dir: str | os.PathLike[str] = DEFAULT_DIR, device_count: int = 1
) -> Path | None:
    """Path of `match_profile` (None when there is no profile for ``device_kind``)."""
    match = match_profile(device_kind, device_count, out_dir)
    return None if match is None else match.path


def partial_for(
    device_kind: str, device_count: int = 1, out_dir: str | os.PathLike[str] = DEFAULT_DIR
) -> Path | None:
    """The interrupted sweep's ``.partial.json`` for this device in ``out_dir``, if any."""
    name = profile_filename(device_kind, device_count).removesuffix(".json") + PARTIAL_SUFFIX
    path = Path(out_dir) / name
    return path if path.is_file() else None

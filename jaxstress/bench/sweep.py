"""The grid runner behind ``jaxstress bench``: probe, points in order, profile, plot, check.

Order: for each ``num_steps``, for each ``num_minibatches``, ``num_envs`` ascending, so that once
a point runs out of memory (really, or by prediction) the larger ``num_envs`` on the same axis
are skipped as known OOM instead of being run. Each point runs in its own process
(`point.run_in_subprocess`). While the sweep runs, ``<out>/<name>.partial.json`` holds the
results so far (a crash loses nothing); only a complete sweep replaces ``<out>/<name>.json``.
On Ctrl-C the sweep stops the running point and leaves what was measured in the partial file
(``interrupted: true``), beside the last complete profile, which stays as it was.

``--check`` (`run_check`) runs the sweep three times and fails unless every run completes
(no tracer error, no failed point, no recompilation in a timed region, the env check passes)
and writes its profile, and, where the device reports utilisation (NVML), the recommended
configuration reaches ``--min-util``. On CPU utilisation is *not* evaluated: the process CPU
share is reported, but on a shared host it measures the neighbours as much as the program,
and XLA:CPU does not spread small programs over every core, so no fixed threshold means
"the device is saturated" there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from jaxstress.bench.point import PointSpec, run_in_subprocess
from jaxstress.bench.profile import (
    HEADROOM,
    SCHEMA,
    profile_path,
    recommend,
    record_last,
    write_profile,
)
from jaxstress.bench.table import LiveTable, print_profile
from jaxstress.sharding import indivisible

QUICK = {
    "num_envs": (16, 64, 256),
    "minibatches": (2, 4),
    "num_steps": (32,),
    "updates": 5,
    "repeats": 3,
}
DEFAULTS = {
    "num_envs": (256, 1024, 4096, 16384),
    "minibatches": (4, 8),
    "num_steps": (128,),
    "updates": 50,
    "repeats": 3,
}


class BenchUsageError(ValueError):
    """Bad bench input found by the probe (bad data, env module, device count): exit 2."""


class BenchFailure(RuntimeError):
    """The sweep could not produce a result (env check failed, probe crashed): exit 1."""


def default_cache_dir() -> str:
    env = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jaxstress", "xla")


@dataclasses.dataclass
class SweepSettings:
    env: str = "phase1"
    env_module: str | None = None
    data: str | None = None
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    num_envs: tuple[int, ...] = DEFAULTS["num_envs"]
    minibatches: tuple[int, ...] = DEFAULTS["minibatches"]
    num_steps: tuple[int, ...] = DEFAULTS["num_steps"]
    updates: int = 50
    repeats: int = 3
    out: str = "profiles"
    devices: str | int = "all"
    mem_limit: int | None = None
    point_rlimit: int | None = None
    cache_dir: str | None = None
    distributed: bool = False
    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    headroom: float = HEADROOM
    point_timeout: float | None = None
    seed: int = 0
    traffic: bool = True
    plot: bool = True
    extra_env: dict[str, str] = dataclasses.field(default_factory=dict)  # for the children

    def spec(self, **point: Any) -> PointSpec:
        return PointSpec(
            env=self.env,
            env_module=self.env_module,
            data=self.data,
            config=self.config,
            updates=self.updates,
            repeats=self.repeats,
            devices=self.devices,
            mem_limit=self.mem_limit,
            rlimit_as=self.point_rlimit,
            cache_dir=self.cache_dir,
            distributed=self.distributed,
            coordinator=self.coordinator,
            num_processes=self.num_processes,
            process_id=self.process_id,
            seed=self.seed,
            traffic=self.traffic,
            **point,
        )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("num_envs", "minibatches", "num_steps"):
            out[key] = list(out[key])
        return out


@dataclasses.dataclass
class SweepResult:
    profile: dict[str, Any]
    path: Path | None
    plot_path: Path | None
    interrupted: bool = False


def grid(settings: SweepSettings) -> list[tuple[int, int, int]]:
    """(num_steps, num_minibatches, num_envs), num_envs ascending within each axis."""
    return [
        (steps, mb, n)
        for steps in settings.num_steps
        for mb in settings.minibatches
        for n in sorted(set(settings.num_envs))
    ]


def _bound(point: dict[str, Any], bandwidth: float | None, devices: int) -> None:
    traffic = point.get("traffic") or {}
    per_step = traffic.get("bytes_per_env_step")
    sps = (point.get("steps_per_sec") or {}).get("median")
    if not bandwidth or not per_step:
        return
    bound = bandwidth * devices / per_step
    point["bandwidth_bound"] = {
        "steps_per_sec": bound,
        "fraction": sps / bound if sps else None,
        "bytes_per_env_step": per_step,
        "bandwidth_bytes_per_s": bandwidth,
        "devices": devices,
    }


def _notes(probe: dict[str, Any]) -> list[str]:
    notes = []
    if probe.get("platform") == "cpu":
        notes += [
            "peak memory on CPU is the point process's peak RSS (no device memory stats): it "
            "includes the Python/JAX runtime and the compiler, so it exceeds the prediction",
            "utilisation on CPU is the process CPU share of the usable cores (os.times), not a "
            "device counter; bench --check does not evaluate --min-util on CPU",
            "bandwidth bound: bytes from XLA's cost model (every op's operands) over a "
            "large-copy DRAM bandwidth; fractions above 1 mean the working set is cache-resident",
        ]
    if probe.get("device_count", 1) > 1 and probe.get("platform") == "cpu":
        notes.append("forced host devices share the same cores and memory bus")
    return notes


def _skip(reason: str, steps: int, mb: int, n: int) -> dict[str, Any]:
    return {
        "num_envs": n,
        "num_minibatches": mb,
        "num_steps": steps,
        "outcome": "skipped",
        "reason": reason,
    }


def run_sweep(
    settings: SweepSettings,
    console: Console | None = None,
    command: Sequence[str] = (),
    on_point: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Probe, run every grid point, write the profile and the plot; see the module doc."""
    console = console or Console()
    started = time.perf_counter()
    console.print("jaxstress bench: probing the device ...", markup=False, highlight=False)
    probe = run_in_subprocess(settings.spec(), probe=True, env=settings.extra_env)
    if not probe.get("ok"):
        if probe.get("usage"):
            raise BenchUsageError(probe["message"])
        raise BenchFailure(f"device probe failed: {probe.get('message')}")
    devices = int(probe["device_count"])
    writer = probe.get("process_index", 0) == 0
    profile: dict[str, Any] = {
        "schema": SCHEMA,
        "device_kind": probe["device_kind"],
        "device_count": devices,
        "platform": probe["platform"],
        "process_count": probe.get("process_count", 1),
        "host": probe.get("host"),
        "cpu_cores": probe.get("cpu_cores"),
        "versions": probe["versions"],
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["jaxstress", "bench", *command]),
        "env": probe.get("env", settings.env),
        "settings": settings.to_dict(),
        "memory_limit_bytes": probe.get("memory_limit_bytes"),
        "memory_limit_source": probe.get("memory_limit_source"),
        "bandwidth": probe.get("bandwidth"),
        "env_check": probe.get("env_check"),
        "monitor": None,
        "points": [],
        "recommended": None,
        "complete": False,
        "interrupted": False,
        "notes": _notes(probe),
    }
    out = Path(settings.out)
    partial = profile_path(profile, out)  # <name>.partial.json while incomplete
    check = probe.get("env_check") or {}
    if not check.get("ok"):
        profile["complete"] = True
        path = None
        if writer:
            path = write_profile(profile, out)
            record_last(path)
        raise BenchFailure(_env_check_message(settings, check, path))

    bandwidth = (probe.get("bandwidth") or {}).get("bytes_per_s")
    points: list[dict[str, Any]] = profile["points"]
    known_oom: dict[tuple[int, int], int] = {}
    title = (
        f"jaxstress bench: {profile['env']} on {probe['device_kind']} x{devices} "
        f"({settings.updates} updates x {settings.repeats} repeats per point)"
    )
    todo = grid(settings)
    interrupted = False
    with LiveTable(console, title, len(todo)) as live:
        try:
            for i, (steps, mb, n) in enumerate(todo):
                axis = (steps, mb)
                live.update(points, f"point {i + 1}/{len(todo)}: num_envs={n} mb={mb} ...")
                if (n * steps) % mb:
                    point = _skip(f"num_envs*num_steps not divisible by {mb}", steps, mb, n)
                elif problem := indivisible(n, devices):
                    point = _skip(problem, steps, mb, n)
                elif axis in known_oom and n > known_oom[axis]:
                    reason = f"known OOM: num_envs={known_oom[axis]} did not fit on this axis"
                    point = _skip(reason, steps, mb, n)
                else:
                    spec = settings.spec(num_envs=n, num_minibatches=mb, num_steps=steps)
                    point = run_in_subprocess(
                        spec, env=settings.extra_env, timeout=settings.point_timeout
                    )
                    point.update(num_envs=n, num_minibatches=mb, num_steps=steps)
                    _bound(point, bandwidth, devices)
                    predicted_over = point.get("outcome") == "skipped" and (
                        "predicted" in point.get("reason", "")
                    )
                    if point.get("outcome") == "oom" or predicted_over:
                        known_oom[axis] = min(n, known_oom.get(axis, n))
                    if profile["monitor"] is None and point.get("utilisation"):
                        profile["monitor"] = point["utilisation"]["kind"]
                points.append(point)
                if on_point is not None:
                    on_point(point)
                # shown (and flushed) before its partial file appears: whoever watches the file
                # finds the point in the log too
                live.update(points)
                if writer:
                    profile["recommended"] = recommend(points, settings.headroom, complete=False)
                    write_profile(profile, out)  # incomplete: into the partial file
        except KeyboardInterrupt:
            interrupted = True
    profile["recommended"] = recommend(points, settings.headroom, complete=not interrupted)
    profile["complete"] = not interrupted
    profile["interrupted"] = interrupted
    profile["sweep_wall_s"] = time.perf_counter() - started
    path = plot_path = None
    if writer:
        path = write_profile(profile, out)  # interrupted: the partial file, else <name>.json
        record_last(path)
        if settings.plot and points:
            plot_path = path.with_name(
                path.name.split(".")[0] + (".partial" * interrupted) + ".png"
            )
            try:
                from jaxstress.bench.plot import plot_profile

                plot_profile(profile, plot_path)
            except Exception as exc:  # the profile matters more than the picture
                console.print(f"[yellow]could not write the plot: {exc}[/]")
                plot_path = None
        if not interrupted:
            partial.unlink(missing_ok=True)
    print_profile(profile, console, path)
    if plot_path is not None:
        console.print(f"plot: {plot_path}")
    return SweepResult(profile, path, plot_path, interrupted)


def _env_check_message(settings: SweepSettings, check: dict[str, Any], path: Any) -> str:
    what = settings.env_module or settings.env
    where = f" at {check['location']}" if check.get("location") else ""
    if check.get("error_type"):
        kind = "tracer error" if check.get("tracer_error") else "error"
        text = (
            f"env check failed: {what} raises {kind} {check['error_type']}{where} under "
            f"jax.jit: {check.get('message')}"
        )
    else:
        text = f"env check failed: {what}: {check.get('message')}"
    return text + (f" (profile: {path})" if path else "")


def point_problems(points: Sequence[dict[str, Any]]) -> list[str]:
    """Why a finished sweep does not pass ``--check`` (tracer errors first)."""
    problems = []
    for p in points:
        where = f"num_envs={p['num_envs']} mb={p['num_minibatches']} steps={p['num_steps']}"
        if p.get("outcome") == "error":
            kind = "tracer error" if p.get("tracer_error") else "error"
            name = p.get("error_type") or ""
            loc = f" at {p['location']}" if p.get("location") else ""
            problems.append(f"{kind} {name}{loc} at {where}: {p.get('message')}".strip())
        elif p.get("recompiles"):
            problems.append(f"{p['recompiles']} recompilation(s) in the timed region at {where}")
    problems.sort(key=lambda text: not text.startswith("tracer error"))
    return problems


def run_check(
    settings: SweepSettings,
    min_util: float,
    console: Console | None = None,
    command: Sequence[str] = (),
    runs: int = 3,
) -> tuple[bool, str]:
    """Run the sweep ``runs`` times; (passed, one-line verdict). Raises KeyboardInterrupt."""
    console = console or Console()
    utils = []
    for run in range(1, runs + 1):
        console.print(f"--- bench --check: sweep {run}/{runs} ---", markup=False, highlight=False)
        try:
            result = run_sweep(settings, console, command)
        except BenchFailure as exc:
            return False, f"sweep {run}/{runs}: {exc}"
        if result.interrupted:
            raise KeyboardInterrupt
        problems = point_problems(result.profile["points"])
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            return False, f"sweep {run}/{runs}: {problems[0]}{more}"
        if result.path is None or not result.path.exists():
            return False, f"sweep {run}/{runs}: no profile was written"
        rec = result.profile.get("recommended")
        if not rec:
            return False, f"sweep {run}/{runs}: no configuration fits (profile {result.path})"
        if result.profile.get("monitor") == "nvml":
            point = next(
                p
                for p in result.profile["points"]
                if (p["num_envs"], p["num_minibatches"], p["num_steps"])
                == (rec["num_envs"], rec["num_minibatches"], rec["num_steps"])
            )
            util = point["utilisation"]["mean"]
            utils.append(util)
            if util is None or util < min_util:
                shown = "n/a" if util is None else f"{util:.0f}%"
                return False, (
                    f"sweep {run}/{runs}: device utilisation {shown} < --min-util {min_util:g}% "
                    f"at the recommended num_envs={rec['num_envs']}"
                )
    if utils:
        verdict = f"utilisation {min(utils):.0f}% >= {min_util:g}%"
    else:
        verdict = "utilisation not evaluated on CPU (process CPU share reported only)"
    return True, f"passed: {runs} sweeps complete, no tracer errors, profiles written; {verdict}"

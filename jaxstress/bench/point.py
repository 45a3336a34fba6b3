"""One sweep point (or the device probe) in its own process, with a JSON result on stdout.

    python -m jaxstress.bench.point --spec '{"num_envs": 256, ...}'          # one point
    python -m jaxstress.bench.point --probe --spec '{...}'                  # device probe

Why a process per point: an XLA ``RESOURCE_EXHAUSTED`` can leave the allocator fragmented or
the client unusable, the process's peak memory is only that point's peak if nothing else ran
in it, and a hard crash (the kernel's OOM killer) must not take the sweep with it. The parent
(`run_in_subprocess`) reads the last stdout line starting with ``RESULT_PREFIX``; a process that
dies without one is classified from its exit status and stderr.

A point: build the env and market, place them on a ``Mesh`` over the chosen devices
(`jaxstress.sharding`, shared with ``jaxstress train``: env batch leaves and PPO minibatches
sharded over the ``data`` axis, network/optimizer state and market replicated), compile
``updates`` PPO updates as one program ahead of time from shapes alone (timed: ``compile_s``;
``compile_cache_hit`` when the persistent cache served it; the init program and the traffic
estimate compile in a second thread meanwhile, so ``compile_s`` can include some contention for
the cores), predict its peak memory from the compiled program and
skip the point when that exceeds the limit (before anything is allocated), then initialise,
run once untimed (warm-up) and ``repeats`` times from the same initial state, each timed to
``block_until_ready`` with the monitor sampling and compilations in the timed region counted
(``recompiles``, must be 0). ``rlimit_as`` caps the address space the run may add (a real
allocation failure on CPU, for the OOM tests). ``flops_per_device`` is XLA's count for one
device's partitioned program: on N devices about 1/N of one device's, unless work is replicated.

On GPUs the measured peak is the allocator's ``peak_bytes_in_use`` for the whole point
process, which includes compile-time scratch (autotuning) as well as the run. With
``distributed`` every point calls ``jax.distributed.initialize()`` first (with ``coordinator``,
``num_processes`` and ``process_id`` where given, else JAX detects them from the cluster
environment: run ``jaxstress bench --distributed`` on every host); the mesh then spans all
processes' devices and only process 0 writes the profile.

The probe: device kind/count, software versions, the memory limit, the memory bandwidth
(`memory.measure_bandwidth`) and the jit-vs-eager env check (`envs.check_env`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

RESULT_PREFIX = "JAXSTRESS_RESULT "
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"
OOM_MARKERS = (
    "RESOURCE_EXHAUSTED",
    "Out of memory",
    "out of memory",
    "std::bad_alloc",
    "can't start new thread",
)


@dataclasses.dataclass
class PointSpec:
    """Everything a point (or the probe) process needs; sent as JSON."""

    env: str = "phase1"
    env_module: str | None = None
    data: str | None = None
    config: dict[str, Any] = dataclasses.field(default_factory=dict)  # TrainSettings values
    num_envs: int = 64
    num_minibatches: int = 4
    num_steps: int = 128
    updates: int = 50
    repeats: int = 3
    devices: str | int = "all"
    mem_limit: int | None = None  # bytes per device; None: the device's own limit
    rlimit_as: int | None = None  # address space the run may add after compiling (OOM tests)
    cache_dir: str | None = None
    distributed: bool = False
    # jax.distributed.initialize arguments; None: JAX detects them (SLURM, Open MPI, k8s, TPU)
    # or reads JAX_COORDINATOR_ADDRESS.
    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    seed: int = 0
    monitor_interval: float = 0.05
    traffic: bool = True  # estimate bytes per update (two small extra compiles)
    warmup: bool = True  # one untimed run before the timed repeats
    # Keep PPO minibatches split over the devices (False: the learning phase runs replicated on
    # every device, as before; kept to measure what the split buys, see benchmarks/).
    shard_update: bool = True

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PointSpec:
        values = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


# --------------------------------------------------------------------------- in the child
class _CompileCounter:
    """Counts backend compilations (cache loads included) through jax.monitoring.

    Cache hits are counted per thread (listeners run in the compiling thread), so the main
    thread's run program is not credited with a hit of the helper that compiles alongside it.
    """

    def __init__(self) -> None:
        import jax

        self.compiles = 0
        self._hits: dict[int, int] = {}
        jax.monitoring.register_event_duration_secs_listener(self._duration)
        jax.monitoring.register_event_listener(self._event)

    @property
    def cache_hits(self) -> int:
        """Cache hits of the calling thread."""
        return self._hits.get(threading.get_ident(), 0)

    def _duration(self, event: str, duration: float, **kwargs: Any) -> None:
        if event == COMPILE_EVENT:
            self.compiles += 1

    def _event(self, event: str, **kwargs: Any) -> None:
        if event == CACHE_HIT_EVENT:
            ident = threading.get_ident()
            self._hits[ident] = self._hits.get(ident, 0) + 1


class _Background:
    """Runs ``fn`` in a thread; ``result()`` joins it and re-raises its exception.

    XLA compiles outside the GIL, so a second program compiles on a second core while the main
    thread compiles the timed one: a point's cold start is about its longest compile instead of
    the sum of all of them.
    """

    def __init__(self, fn: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Any) -> None:
        try:
            self._value = fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _setup_jax(spec: PointSpec) -> Any:
    import jax

    if spec.distributed:
        jax.distributed.initialize(
            coordinator_address=spec.coordinator,
            num_processes=spec.num_processes,
            process_id=spec.process_id,
        )
    if spec.cache_dir:
        jax.config.update("jax_compilation_cache_dir", spec.cache_dir)
    return jax


def _own(jax: Any, devices: list[Any]) -> list[Any]:
    """This process's devices among ``devices`` (with --distributed the mesh spans hosts)."""
    return [d for d in devices if d.process_index == jax.process_index()] or list(devices)


def _settings(spec: PointSpec) -> Any:
    from jaxstress.training import TrainSettings

    values = dict(spec.config)
    values["env"] = spec.env
    if spec.data:
        values["data"] = spec.data
    return TrainSettings().merged(values)


def _versions(jax: Any) -> dict[str, Any]:
    import jaxlib

    versions: dict[str, Any] = {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "python": platform.python_version(),
    }
    for name in ("flax", "optax", "numpy"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:  # pragma: no cover
            versions[name] = None
    from jaxstress import __version__

    versions["jaxstress"] = __version__
    cuda = None
    device = jax.devices()[0]
    if device.platform == "gpu":  # e.g. "cuda 12080"; informational only
        cuda = str(getattr(device.client, "platform_version", "")) or None
    versions["cuda"] = cuda
    return versions


def probe(spec: PointSpec) -> dict[str, Any]:
    """Device facts, bandwidth and the env check (run once per sweep, in its own process)."""
    from jaxstress.bench.envs import EnvLoadError, check_env, load_env
    from jaxstress.bench.memory import device_memory_limit, measure_bandwidth
    from jaxstress.sharding import DeviceError, select_devices

    jax = _setup_jax(spec)
    try:
        devices = select_devices(spec.devices)
        loaded = load_env(spec.env, spec.env_module, spec.data, _settings(spec))
    except (DeviceError, EnvLoadError) as exc:
        return {"ok": False, "usage": True, "message": str(exc)}
    except ValueError as exc:  # ConfigError, DataError: bad settings or data
        return {"ok": False, "usage": True, "message": str(exc).splitlines()[0]}
    mine = _own(jax, devices)
    limit, source = device_memory_limit(mine)
    if spec.mem_limit:
        limit, source = int(spec.mem_limit), "--mem-limit"
    # Well past any CPU cache; on accelerators larger, so launch overhead does not count.
    bw_bytes = 128 * 2**20 if devices[0].platform == "cpu" else 2**30
    if limit:
        bw_bytes = max(2**20, min(bw_bytes, limit // 16))
    bandwidth = measure_bandwidth(mine[0], bw_bytes)
    check = check_env(loaded.env, loaded.params, loaded.data)
    return {
        "ok": True,
        "device_kind": devices[0].device_kind,
        "platform": devices[0].platform,
        "device_count": len(devices),
        "available_devices": len(jax.devices()),
        "local_device_count": jax.local_device_count(),
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "host": platform.node(),
        "cpu_cores": os.cpu_count(),
        "versions": _versions(jax),
        "memory_limit_bytes": limit,
        "memory_limit_source": source,
        "bandwidth": bandwidth,
        "env": loaded.name,
        "env_check": check.to_dict(),
    }


def _vm_size() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def _limit_address_space(extra: int) -> None:
    import resource

    current = _vm_size()
    if current is None:  # pragma: no cover
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (current + int(extra), hard))


def _stats(values: list[float]) -> dict[str, Any]:
    median = statistics.median(values)
    lo, hi = min(values), max(values)
    return {
        "median": median,
        "min": lo,
        "max": hi,
        "spread": (hi - lo) / median if median else None,  # relative range
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "values": values,
    }


def make_run(
    config: Any, env: Any, env_params: Any, updates: int, batch_sharding: Any = None
) -> Any:
    """``run(runner, data) -> (runner, metrics)``: ``updates`` PPO updates in one ``lax.scan``."""
    import jax

    from jaxstress.ppo import make_update

    update = make_update(config, env, env_params, batch_sharding)

    def run(runner: Any, data: Any) -> Any:
        def body(r: Any, _: None) -> Any:
            r, metrics = update(r, data)
            return r, {k: metrics[k] for k in ("mean_reward", "total_loss", "entropy")}

        return jax.lax.scan(body, runner, None, length=updates)

    return run


def run_point(spec: PointSpec) -> dict[str, Any]:
    """Measure one configuration in this process (the body of the point subprocess)."""
    started = time.perf_counter()
    result: dict[str, Any] = {
        "num_envs": spec.num_envs,
        "num_minibatches": spec.num_minibatches,
        "num_steps": spec.num_steps,
        "updates": spec.updates,
        "repeats": spec.repeats,
    }
    try:
        result.update(_measure(spec, result))
    except MemoryError as exc:
        result.update(outcome="oom", error_type="MemoryError", message=str(exc) or "MemoryError")
    except Exception as exc:
        from jaxstress.bench.envs import describe_exception

        info = describe_exception(exc)
        text = str(exc)
        oom = any(marker in text for marker in OOM_MARKERS)
        result.update(outcome="oom" if oom else "error", **info)
    result["wall_s"] = time.perf_counter() - started
    return result


def _measure(spec: PointSpec, partial: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    jax = _setup_jax(spec)
    from jaxstress.bench.envs import load_env
    from jaxstress.bench.memory import (
        device_memory_limit,
        flops,
        measured_peak,
        predicted_peak_bytes,
        update_traffic,
    )
    from jaxstress.monitor import Monitor
    from jaxstress.ppo import make_init
    from jaxstress.sharding import place, select_devices

    counter = _CompileCounter()
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = now - mark
        mark = now

    devices = select_devices(spec.devices)
    settings = _settings(spec)
    loaded = load_env(spec.env, spec.env_module, spec.data, settings)
    config = settings.ppo.replace(
        num_envs=spec.num_envs,
        num_minibatches=spec.num_minibatches,
        num_steps=spec.num_steps,
        total_timesteps=spec.updates * spec.num_envs * spec.num_steps,
        seed=spec.seed,
    )
    out: dict[str, Any] = {"devices": len(devices), "device_kind": devices[0].device_kind}
    out["phases_s"] = phases
    mine = _own(jax, devices)
    limit, source = device_memory_limit(mine)
    if spec.mem_limit:
        limit, source = int(spec.mem_limit), "--mem-limit"
    out["memory"] = {"limit_bytes": limit, "limit_source": source}

    init = make_init(config, loaded.env, loaded.params)
    rng = jax.random.PRNGKey(config.seed)
    shapes = jax.eval_shape(init, rng, loaded.data)
    placement = place(devices, shapes, config.num_envs, loaded.data)
    runner_sh = placement.runner
    data = placement.put_data(loaded.data)
    phase("setup")

    # Compiled from shapes alone: the prediction comes before anything is allocated.
    run = placement.jit(
        make_run(
            config,
            loaded.env,
            loaded.params,
            spec.updates,
            placement.minibatch if spec.shard_update else None,
        )
    )
    abstract = jax.tree.map(
        lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh), shapes, runner_sh
    )

    def helper() -> tuple[Any, Any]:
        # init's program and the traffic estimate compile alongside the run program.
        init_compiled = jax.jit(init, out_shardings=runner_sh).lower(rng, data).compile()
        traffic = None
        if spec.traffic:
            try:
                traffic = update_traffic(config, loaded.env, loaded.params, loaded.data)
            except Exception as exc:  # an estimate only: never fail the point for it
                traffic = {"error": f"{type(exc).__name__}: {exc}"}
        return init_compiled, traffic

    background = _Background(helper)
    hits = counter.cache_hits
    start = time.perf_counter()
    compiled = run.lower(abstract, data).compile()
    out["compile_s"] = time.perf_counter() - start
    out["compile_cache_hit"] = counter.cache_hits > hits
    phase("compile")
    init_compiled, traffic = background.result()
    if spec.traffic:
        out["traffic"] = traffic
    phase("init_and_traffic_compile")

    predicted = predicted_peak_bytes(compiled)
    out["memory"]["predicted"] = predicted
    # Work per device: with N devices about 1/N of one device's when nothing runs replicated.
    out["flops_per_device"] = flops(compiled)
    if predicted and limit and predicted["peak_bytes"] > limit:
        out["outcome"] = "skipped"
        out["reason"] = (
            f"predicted peak {predicted['peak_bytes']:,} B > limit {limit:,} B ({source})"
        )
        return out

    runner = init_compiled(rng, data)
    jax.block_until_ready(runner)
    phase("init")

    local = [
        d.id if getattr(d, "local_hardware_id", None) is None else d.local_hardware_id
        for d in devices
        if d.platform == "gpu" and d.process_index == jax.process_index()
    ] or [0]
    monitor = Monitor(interval=spec.monitor_interval, devices=local)
    if spec.rlimit_as is not None:
        # The monitor's sampling thread must not be what fails: a small stack for it.
        threading.stack_size(256 * 1024)
        _limit_address_space(spec.rlimit_as)
    compiles_before = counter.compiles
    run_s, reports, final = [], [], None
    if spec.warmup:  # first execution: page faults, thread pools, transfers; not timed
        start = time.perf_counter()
        jax.block_until_ready(compiled(runner, data))
        out["warmup_s"] = time.perf_counter() - start
    try:
        for _ in range(spec.repeats):
            monitor.start()
            start = time.perf_counter()
            final = compiled(runner, data)
            jax.block_until_ready(final)
            run_s.append(time.perf_counter() - start)
            reports.append(monitor.stop())
    finally:
        monitor.close()
    out["recompiles"] = counter.compiles - compiles_before
    phase("run")
    steps = spec.updates * config.batch_size
    out["run_s"] = _stats(run_s)
    out["steps_per_sec"] = _stats([steps / t for t in run_s])
    out["updates_per_sec"] = _stats([spec.updates / t for t in run_s])
    utils = [r.mean_util for r in reports if r.mean_util is not None]
    out["utilisation"] = {
        "kind": reports[0].kind,
        "mean": statistics.median(utils) if utils else None,
        "max": max((r.max_util for r in reports if r.max_util is not None), default=None),
        "per_repeat": utils,
        "samples": sum(r.samples for r in reports),
        "overhead_fraction": max(r.overhead_fraction for r in reports),
        "mean_power_w": reports[-1].mean_power_w,
        "max_power_w": reports[-1].max_power_w,
        "note": reports[0].note,
        "what": "GPU busy percent (NVML)"
        if reports[0].kind == "nvml"
        else "process CPU share of the usable cores",
    }
    out["memory"]["measured"] = measured_peak(mine)
    obs_sharding = runner.obs.sharding
    out["env_batch_sharding"] = {
        "spec": str(getattr(obs_sharding, "spec", obs_sharding)),
        "devices": len(obs_sharding.device_set),
    }

    assert final is not None
    final_runner, metrics = final
    leaves = jax.tree.leaves(final_runner.params)
    out["digest"] = {
        "param_sq_sum": float(sum(float(np.sum(np.square(np.asarray(x)))) for x in leaves)),
        **{k: [float(v) for v in np.asarray(m)] for k, m in metrics.items()},
    }
    out["outcome"] = "ok"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxstress.bench.point")
    parser.add_argument("--spec", required=True, help="PointSpec as JSON")
    parser.add_argument("--probe", action="store_true", help="probe the devices instead")
    args = parser.parse_args(argv)
    spec = PointSpec.from_json(args.spec)
    try:
        result = probe(spec) if args.probe else run_point(spec)
    except KeyboardInterrupt:
        return 130
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- in the parent
def _classify_crash(returncode: int, stderr: str) -> dict[str, Any]:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if returncode == -9:
        return {
            "outcome": "oom",
            "message": "point process killed by SIGKILL (most likely the kernel's OOM killer)",
        }
    if any(marker in stderr for marker in (*OOM_MARKERS, "MemoryError")):
        hit = next((line for line in lines if any(m in line for m in OOM_MARKERS)), last)
        return {"outcome": "oom", "message": hit}
    return {
        "outcome": "error",
        "message": f"point process exited with status {returncode}: {last}"[:500],
    }


def run_in_subprocess(
    spec: PointSpec,
    probe: bool = False,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run a point (or the probe) in a fresh Python process and return its result dict.

    ``env`` adds environment variables (e.g. ``XLA_FLAGS``). On KeyboardInterrupt the child is
    terminated (then killed) before the interrupt propagates.
    """
    import jaxstress

    root = str(Path(jaxstress.__file__).resolve().parents[1])
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, child_env.get("PYTHONPATH", "")) if p
    )
    cmd = [sys.executable, "-m", "jaxstress.bench.point", "--spec", spec.to_json()]
    if probe:
        cmd.append("--probe")
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        return {"outcome": "error", "message": f"point timed out after {timeout:g}s"}
    except BaseException:  # KeyboardInterrupt: stop the child, then let the caller handle it
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    crash = _classify_crash(proc.returncode, stderr)
    crash["returncode"] = proc.returncode
    return crash


if __name__ == "__main__":
    sys.exit(main())

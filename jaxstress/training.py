"""The runner behind ``jaxstress train``: settings, env/data, chunked jitted training, outputs.

Training runs in chunks of ``chunk_updates`` PPO updates; each chunk is one compiled device
call (``make_train_chunk``) with the runner state carried between chunks, so the host can show
progress, append ``metrics.jsonl`` and write a checkpoint between chunks while the inner loop
stays fully under jit. Compilation is done ahead of time and timed apart from running, so
``steps_per_sec`` never includes compile time. The env batch and minibatches are split over all
local devices (or ``--devices N``) through `jaxstress.sharding`, the placement ``jaxstress
bench`` measures, so a multi-device profile's recommendation is trained the way it was measured.

Settings precedence (later wins): defaults < ``--config`` file < ``--profile`` recommendation <
explicit command-line flags. On ``--resume`` the run's saved ``run.json`` replaces the first
three; only ``--total-steps``, ``--data`` and ``--out`` may change.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from jaxstress.ppo.config import ConfigError, PPOConfig

ENVS = ("phase1", "dummy")
METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "learning_curve.png"
CHECKPOINT_FILE = "checkpoint.msgpack"
RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
PROFILE_KEYS = ("num_envs", "num_minibatches", "num_steps")
# What steps/s means everywhere (console, metrics.jsonl, summary.json, the bench table).
STEPS_PER_SEC = (
    "env steps per second of training run time (compile time excluded), over the run so far"
)
METRIC_KEYS = (
    "mean_reward",
    "total_loss",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_frac",
    "lr",
)


class CheckpointError(ValueError):
    """A checkpoint or run directory that cannot be resumed (one-line message)."""


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run besides the output directory."""

    ppo: PPOConfig = dataclasses.field(default_factory=PPOConfig)
    env: str = "phase1"
    data: str | None = None
    window: int = 32
    drift: float | None = None
    chunk_updates: int = 0  # 0: about 25 chunks per run
    env_params: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. max_steps, fee
    dummy_obs_size: int = 16
    dummy_episode_length: int = 64

    def __post_init__(self) -> None:
        if self.env not in ENVS:
            raise ConfigError(f"env must be one of {', '.join(ENVS)}, got {self.env!r}")
        for name in ("window", "dummy_obs_size", "dummy_episode_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.data is not None and not isinstance(self.data, str):
            raise ConfigError(f"data must be a path string, got {self.data!r}")
        if self.drift is not None and not isinstance(self.drift, float):
            raise ConfigError(f"drift must be a number, got {self.drift!r}")
        if not isinstance(self.env_params, dict):
            raise ConfigError("env_params must be a table of environment parameters")
        if not isinstance(self.chunk_updates, int) or self.chunk_updates < 0:
            raise ConfigError(f"chunk_updates must be an integer >= 0, got {self.chunk_updates!r}")

    @property
    def chunk_size(self) -> int:
        if self.chunk_updates:
            return min(self.chunk_updates, self.ppo.num_updates)
        return max(1, math.ceil(self.ppo.num_updates / 25))

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "ppo"}
        out["ppo"] = self.ppo.to_dict()
        return out

    def merged(self, values: Mapping[str, Any]) -> TrainSettings:
        """New settings with ``values`` applied; PPO keys may be flat or under ``ppo``."""
        values = dict(values)
        ppo_values = self.ppo.to_dict()
        nested = values.pop("ppo", {})
        if not isinstance(nested, Mapping):
            raise ConfigError("'ppo' must be a table of PPO settings")
        ppo_values.update(nested)
        run_names = {f.name for f in dataclasses.fields(self)} - {"ppo"}
        run_values: dict[str, Any] = {}
        for key, value in values.items():
            if key in run_names:
                run_values[key] = value
            elif key in PPOConfig.field_names():
                ppo_values[key] = value
            elif key not in ("versions", "device_kind", "device_count"):  # informational
                known = sorted(run_names | PPOConfig.field_names())
                raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(known)}")
        if isinstance(run_values.get("drift"), int):
            run_values["drift"] = float(run_values["drift"])
        try:
            return dataclasses.replace(self, ppo=PPOConfig.from_dict(ppo_values), **run_values)
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON or TOML config file (by suffix; JSON otherwise) into a dict."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            values: Any = tomllib.loads(text)
        else:
            values = json.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"invalid config file {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a table/object of settings")
    return values


def _read_profile(path: Path) -> dict[str, Any]:
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read profile {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid profile JSON {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"profile {path} is not UTF-8 text") from exc
    if not isinstance(profile, dict):
        raise ConfigError(f"profile {path} must be a JSON object")
    return profile


def profile_recommendation(
    spec: str,
    device_kind: str,
    profiles_dir: str | os.PathLike[str] = "profiles",
    device_count: int = 1,
) -> tuple[dict[str, int], str]:
    """PPO overrides from a hardware profile, and a one-line note on where they came from.

    ``spec`` is a path, or ``auto``: the newest ``profiles_dir/*.json`` measured on this
    device kind and count. When the kind was only profiled on another device count, that
    profile (the nearest count) is used as it is and the note says so: the best minibatch
    split and rollout length carry over, while num_envs was chosen for that count and is not
    rescaled. No profile of the kind under ``auto`` is normal (defaults are kept); a missing or
    malformed explicit file is a ConfigError. ``auto`` never takes an interrupted sweep's
    ``.partial.json``; an explicit one is used, and either way the note warns about it.
    """
    from jaxstress.bench.profile import is_partial, match_profile, partial_for

    mismatch = ""
    if spec == "auto":
        match = match_profile(device_kind, device_count, profiles_dir)
        partial = partial_for(device_kind, device_count, profiles_dir)
        ignored = (
            f" (warning: ignored the interrupted sweep {partial}; pass --profile {partial} to "
            "use it)"
            if partial is not None
            else ""
        )
        if match is None:
            return {}, (
                f"no hardware profile for device kind {device_kind!r} in {profiles_dir}/{ignored}"
            )
        path, profile = match.path, match.profile
        if not match.exact:
            mismatch = (
                f"no hardware profile for {device_count} x {device_kind!r} in {profiles_dir}/; "
                f"using the one measured on {match.device_count} device(s), num_envs not "
                "rescaled: "
            )
    else:
        path = Path(spec)
        profile = _read_profile(path)
    recommended = profile.get("recommended")
    if not isinstance(recommended, Mapping):
        if is_partial(path, profile):
            raise ConfigError(
                f"profile {path} is an interrupted sweep with too few points to recommend "
                "anything; rerun 'jaxstress bench'"
            )
        raise ConfigError(f"profile {path} has no 'recommended' object")
    chosen: dict[str, int] = {}
    for key in PROFILE_KEYS:
        if key in recommended:
            value = recommended[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"profile {path}: recommended.{key} must be a positive integer")
            chosen[key] = value
    shown = ", ".join(f"{k}={v}" for k, v in chosen.items()) or "nothing"
    if spec == "auto":
        return chosen, f"{mismatch}hardware profile {path}: {shown}{ignored}"
    if is_partial(path, profile):
        mismatch = "warning: partial profile of an interrupted sweep, "
    return chosen, f"{mismatch}hardware profile {path}: {shown}"


def load_market(settings: TrainSettings) -> Any:
    """The market for the settings: ``--data`` bars or the embedded default (DataError if bad)."""
    from jaxstress.data import default_market, load_bars, prepare

    if settings.data is not None:
        return prepare(load_bars(settings.data), window=settings.window, source=settings.data)
    if settings.drift is not None:
        return default_market(window=settings.window, drift=settings.drift)
    return default_market(window=settings.window)


def build_env(settings: TrainSettings) -> tuple[Any, Any, Any]:
    """(env, env_params, data) for the settings.

    ``--data`` is loaded and validated for every env, so a bad file is reported the same way
    everywhere; the dummy env runs without data (its steps would ignore it anyway).
    """
    if settings.env == "dummy":
        from jaxstress.envs.dummy import DummyEnv

        if settings.data is not None:
            load_market(settings)
        env = DummyEnv(
            obs_size=settings.dummy_obs_size, episode_length=settings.dummy_episode_length
        )
        return env, _checked(env, _env_params(env.default_params(), {}, settings), None), None
    data = load_market(settings)
    try:
        from jaxstress.envs.phase1 import Phase1Env
    except ImportError as exc:  # pragma: no cover - only while the phase-1 env is missing
        raise ConfigError(f"the phase1 env is not available: {exc}") from exc
    env = Phase1Env()
    params = _env_params(env.default_params(), {"window": settings.window}, settings)
    return env, _checked(env, params, data), data


def _checked(env: Any, params: Any, data: Any) -> Any:
    """Trace one reset (nothing runs) so the env's own static checks report bad settings."""
    import jax

    try:
        jax.eval_shape(env.reset, jax.random.PRNGKey(0), params, data)
    except ValueError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from exc
    return params


def _env_params(params: Any, base: dict[str, Any], settings: TrainSettings) -> Any:
    """Env params with the settings' overrides, checked against the params' own fields."""
    if "window" in settings.env_params:
        raise ConfigError("set the observation window with the top-level 'window' setting")
    values = {**base, **settings.env_params}
    names = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown env_params {unknown}; known: {sorted(names)}")
    for key, value in values.items():
        want = type(getattr(params, key))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or isinstance(value, bool) != (want is bool):
            raise ConfigError(f"env_params.{key} must be {want.__name__}, got {value!r}")
        values[key] = value
    return params.replace(**values)


def _json_value(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_learning_curve(records: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Episode return and policy entropy against env steps, as a PNG.

    Uses a bare ``Figure`` (Agg canvas), not pyplot: no display needed and no global backend
    switch in a process that may already use matplotlib.
    """
    from matplotlib.figure import Figure

    def column(name: str) -> list[float]:
        return [math.nan if r.get(name) is None else float(r[name]) for r in records]

    steps = column("env_steps")
    # Updates in which no episode finished have no return: skip them instead of breaking the line.
    finished = [(s, r) for s, r in zip(steps, column("mean_episode_return"), strict=True) if r == r]
    fig = Figure(figsize=(8, 6))
    ax_ret, ax_ent = fig.subplots(2, 1, sharex=True)
    ax_ret.plot([s for s, _ in finished], [r for _, r in finished], marker=".")
    ax_ret.set_ylabel("mean episode return")
    ax_ret.grid(alpha=0.3)
    ax_ent.plot(steps, column("entropy"))
    ax_ent.set_ylabel("policy entropy")
    ax_ent.set_xlabel("env steps")
    ax_ent.grid(alpha=0.3)
    fig.suptitle("jaxstress PPO learning curve")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _atomic_write(path: Path, payload: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def save_checkpoint(out: Path, runner: Any) -> None:
    """The whole runner state (params, optimizer, envs, rng, update count) as msgpack.

    Saving env states and the rng too (they are small) makes a resumed run continue exactly
    where the interrupted one stopped, not merely from the same weights.
    """
    from flax import serialization

    _atomic_write(out / CHECKPOINT_FILE, serialization.to_bytes(runner))


def load_checkpoint(run_dir: Path, template: Any, shardings: Any = None) -> Any:
    """Restore a runner state saved by ``save_checkpoint``; shapes must match ``template``.

    The file holds whole (gathered) arrays, so a run may resume on another device count;
    ``shardings`` places the restored state for this run's devices.
    """
    import jax
    from flax import serialization

    path = run_dir / CHECKPOINT_FILE
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from exc
    try:
        restored = serialization.from_bytes(template, payload)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or from another config: {exc}"
        ) from exc
    want = jax.tree_util.tree_map(lambda x: (tuple(x.shape), str(x.dtype)), template)
    got = jax.tree_util.tree_map(lambda x: (tuple(x.shape), str(x.dtype)), restored)
    if want != got:
        raise CheckpointError(f"checkpoint {path} has different shapes than this run's config")
    return jax.device_put(restored, shardings)


def load_run_settings(run_dir: Path) -> TrainSettings:
    path = run_dir / RUN_FILE
    if not path.exists():
        raise CheckpointError(f"{run_dir} is not a jaxstress run directory (no {RUN_FILE})")
    return TrainSettings().merged(load_config_file(path))


def _versions() -> dict[str, str]:
    import flax
    import jax
    import optax

    return {"jax": jax.__version__, "flax": flax.__version__, "optax": optax.__version__}


def run_training(
    settings: TrainSettings,
    out: Path,
    resume_from: Path | None = None,
    console: Console | None = None,
    devices: str | int = "all",
) -> dict[str, Any]:
    """Train into ``out`` (continuing the checkpoint in ``resume_from``); returns the summary.

    The env batch and minibatches are split over ``devices`` (``"all"`` or the first N local
    devices) the way ``jaxstress bench`` measured them, so a profile's recommendation holds.
    """
    import jax
    import numpy as np

    from jaxstress.cli import make_console
    from jaxstress.ppo.train import make_init, make_train_chunk
    from jaxstress.sharding import indivisible, place, select_devices

    console = console or make_console()
    cfg = settings.ppo
    chosen = select_devices(devices)
    problem = indivisible(cfg.num_envs, len(chosen))
    if problem:
        raise ConfigError(
            f"{problem}: the env batch is split evenly over the devices; set num_envs to a "
            f"multiple of {len(chosen)} or pass --devices N with N dividing {cfg.num_envs}"
        )
    env, env_params, data = build_env(settings)
    out.mkdir(parents=True, exist_ok=True)
    device_kind = chosen[0].device_kind

    init_fn = make_init(cfg, env, env_params)
    rng = jax.random.PRNGKey(cfg.seed)
    shapes = jax.eval_shape(init_fn, rng, data)
    placement = place(chosen, shapes, cfg.num_envs, data)
    data = placement.put_data(data)
    if resume_from is None:
        runner = jax.jit(init_fn, out_shardings=placement.runner)(rng, data)
    else:
        runner = load_checkpoint(resume_from, shapes, placement.runner)
    info = {"versions": _versions(), "device_kind": device_kind, "device_count": placement.size}
    (out / RUN_FILE).write_text(json.dumps({**settings.to_dict(), **info}, indent=2) + "\n")

    done = int(runner.update_step)
    total = cfg.num_updates
    batch = cfg.batch_size
    console.print(
        f"[bold]jaxstress train[/] env={settings.env} device={device_kind} "
        f"devices={placement.size} "
        f"num_envs={cfg.num_envs} num_steps={cfg.num_steps} minibatches={cfg.num_minibatches} "
        f"updates={total} ({total * batch:,} env steps) out={out}"
    )
    if done >= total:
        console.print(f"already at update {done} of {total}; nothing to do")
        return {"updates": done, "env_steps": done * batch, "out": str(out)}

    metrics_path = out / METRICS_FILE
    if resume_from is not None:
        # Drop records past the checkpoint (a run killed between a chunk's metrics and its
        # checkpoint) so update numbers stay unique and in order.
        kept = [r for r in read_metrics(metrics_path) if r["update"] <= done]
        metrics_path.write_text("".join(json.dumps(r) + "\n" for r in kept))
        console.print(f"resuming from {resume_from} at update {done}")

    first = done
    chunk = settings.chunk_size
    t0 = time.perf_counter()
    chunk_fn = make_train_chunk(cfg, env, env_params, chunk, placement)
    compiled = chunk_fn.lower(runner, data, np.int32(chunk)).compile()
    compile_s = time.perf_counter() - t0
    console.print(f"compiled a {chunk}-update chunk in {compile_s:.1f}s")

    run_s = 0.0
    last_return: float | None = None
    interrupted = False
    with ChunkProgress(console, total, done) as show, metrics_path.open("a") as sink:
        try:
            while done < total:
                n = min(chunk, total - done)
                start = time.perf_counter()
                runner, metrics = compiled(runner, data, np.int32(n))
                metrics = jax.tree_util.tree_map(np.asarray, metrics)  # waits for the device
                run_s += time.perf_counter() - start
                sps = (done + n - first) * batch / run_s  # STEPS_PER_SEC, so far
                for i in range(n):
                    update = int(metrics["update"][i])
                    record = {
                        "update": update,
                        "env_steps": update * batch,
                        "mean_episode_return": _json_value(metrics["mean_episode_return"][i]),
                        "episodes": int(metrics["episodes"][i]),
                        **{k: _json_value(metrics[k][i]) for k in METRIC_KEYS},
                        "steps_per_sec": sps,
                    }
                    sink.write(json.dumps(record) + "\n")
                    if record["mean_episode_return"] is not None:
                        last_return = record["mean_episode_return"]
                sink.flush()
                save_checkpoint(out, runner)
                done += n
                show(done, done * batch, last_return, sps)
        except KeyboardInterrupt:  # the PNG and summary.json still describe what was trained
            interrupted = True

    plot_learning_curve(read_metrics(metrics_path), out / CURVE_FILE)
    baselines = None
    if not interrupted:
        baselines = evaluate_policies(cfg, env, env_params, data, runner.params)
    summary = {
        "updates": done,
        "env_steps": done * batch,
        "final_mean_episode_return": last_return,
        "eval": baselines,
        "compile_s": compile_s,
        "run_s": run_s,
        "steps_per_sec": (done - first) * batch / run_s if run_s > 0 else None,
        "steps_per_sec_definition": STEPS_PER_SEC,
        "interrupted": interrupted,
        "device_kind": device_kind,
        "device_count": placement.size,
        "out": str(out),
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    if interrupted:
        raise KeyboardInterrupt
    if baselines is not None:
        console.print(baseline_text(baselines), markup=False, highlight=False)
    sps_text = "n/a" if summary["steps_per_sec"] is None else f"{summary['steps_per_sec']:,.0f}"
    console.print(
        f"done: {done} updates, {done * batch:,} env steps in {run_s:.1f}s run + "
        f"{compile_s:.1f}s compile: {sps_text} steps/s (env steps per second of run time, "
        f"compile excluded) out={out}",
        markup=False,
        highlight=False,
    )
    return summary


class ChunkProgress:
    """Training progress: a rich bar on a terminal, one flushed line per chunk otherwise.

    A rich ``Progress`` redirected to a log prints nothing until it stops; the line per chunk
    lets a log show the run as it goes. Both show `STEPS_PER_SEC`.
    """

    def __init__(self, console: Console, total: int, done: int) -> None:
        self.console, self.total, self.done = console, total, done
        self.progress: Progress | None = None

    def __enter__(self) -> ChunkProgress:
        if self.console.is_terminal:
            columns = (
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.progress = Progress(*columns, console=self.console)
            self.progress.__enter__()
            self.task = self.progress.add_task(
                "updates", total=self.total, completed=self.done, info=""
            )
        return self

    def __call__(self, done: int, env_steps: int, last_return: float | None, sps: float) -> None:
        shown = "n/a" if last_return is None else f"{last_return:.4g}"
        if self.progress is not None:
            info = f"return {shown}  {sps:,.0f} steps/s"
            self.progress.update(self.task, completed=done, info=info)
            return
        self.console.print(
            f"update {done}/{self.total}: {env_steps:,} env steps, return {shown}, "
            f"{sps:,.0f} steps/s",
            markup=False,
            highlight=False,
        )

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)


EVAL_STEPS = 1024  # steps per env and policy: at least two full 390-bar phase-1 episodes


def evaluate_policies(
    cfg: PPOConfig, env: Any, env_params: Any, data: Any, params: Any
) -> dict[str, Any]:
    """Mean episode return of the trained policy, a uniform random one and always-hold (flat).

    A return means little alone: the baselines are run, not assumed, on the same env, data and
    episode starts (one seed for all three), each for ``EVAL_STEPS`` steps of ``num_envs``
    envs, counting the episodes that finish, the way training measures its return. The
    trained policy samples its actions as in training.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxstress.ppo.rollout import collect_rollout
    from jaxstress.ppo.train import make_network

    network = make_network(cfg, env)
    reset_envs = jax.vmap(env.reset, in_axes=(0, None, None))
    rollouts = max(1, -(-EVAL_STEPS // cfg.num_steps))
    modes = {"trained": 0, "random": 1, "flat": 2}

    @jax.jit
    def run(params: Any, data: Any, mode: jax.Array, rng: jax.Array) -> tuple[Any, Any]:
        def policy(p: Any, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
            logits, value = network.apply(p, obs)
            hold = jnp.full_like(logits, -1e9).at[..., 0].set(0.0)  # action 0: hold
            uniform = jnp.zeros_like(logits)
            return jnp.where(mode == 0, logits, jnp.where(mode == 1, uniform, hold)), value

        reset_key, rng = jax.random.split(rng)
        obs, state = reset_envs(jax.random.split(reset_key, cfg.num_envs), env_params, data)

        def body(carry: tuple[Any, ...], _: None) -> tuple[tuple[Any, ...], Any]:
            state, obs, ep_ret, rng = carry
            carry, _, stats = collect_rollout(
                policy, params, env, env_params, data, state, obs, ep_ret, rng,
                cfg.num_steps, False,
            )  # fmt: skip
            return carry, (stats.return_sum, stats.count)

        init = (state, obs, jnp.zeros((cfg.num_envs,), jnp.float32), rng)
        _, (sums, counts) = jax.lax.scan(body, init, None, length=rollouts)
        return sums.sum(), counts.sum()

    rng = jax.random.PRNGKey(cfg.seed + 1)
    out: dict[str, Any] = {"env_steps_per_policy": rollouts * cfg.num_steps * cfg.num_envs}
    episodes = {}
    for name, mode in modes.items():
        total, count = (float(x) for x in run(params, data, np.int32(mode), rng))
        out[name] = total / count if count else None
        episodes[name] = int(count)
    out["episodes"] = episodes
    return out


def baseline_text(baselines: Mapping[str, Any]) -> str:
    """The result beside its two baselines, on one line."""

    def shown(value: float | None) -> str:
        return "n/a" if value is None else f"{value:+.3f}"

    return (
        f"mean episode return: trained {shown(baselines['trained'])}, random policy "
        f"{shown(baselines['random'])}, flat (always hold) {shown(baselines['flat'])} "
        f"({baselines['env_steps_per_policy']:,} env steps per policy, same episode starts)"
    )

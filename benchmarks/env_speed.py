"""Env steps per second: phase-1 and dummy envs against gymnax CartPole-v1, NumPy and the original.

Every JAX env runs the same harness: ``jit`` of a ``lax.scan`` over ``vmap(env.step)`` with random
actions, one key per env per step and auto-reset, the observation carried so XLA must build it.
Compile time is measured apart (``lower().compile()``), one warm-up call follows, then ``--repeats``
rounds in which every variant at that ``num_envs`` runs once, in a rotated order (interleaved: load
from other processes hits every variant alike). Tables give the median, best and spread.

Also measured, in the same run:
- the NumPy reference env (``tests/reference_env.py``) stepped in a Python loop, per env-step, for
  one env and for a batched loop over 64 envs, and the speed-up of the JAX env over it;
- the broken original (``examples/jax_migration``): the exception class it raises under ``jit``,
  and its eager step time per env-step;
- (``--profile``) cost probes of the phase-1 step at the largest ``num_envs``: the harness alone,
  the state without an observation, the step without auto-reset, the observation without the
  concatenate, to see what dominates.

    python benchmarks/env_speed.py                      # everything (4-6 minutes)
    python benchmarks/env_speed.py --num-envs 8192 --repeats 9 --no-reference
    python benchmarks/env_speed.py --out /tmp/env.md    # also write the markdown tables

gymnax is a benchmark-only dependency: ``pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_DIR = ROOT / "examples" / "jax_migration"


# --------------------------------------------------------------------------- machine and timing
def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("jax", "jaxlib", "flax", "optax", "numpy", "gymnax"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_lines(argv: list[str]) -> list[str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    vers = ", ".join(f"{k} {v}" for k, v in versions().items())
    return [
        f"- command: `python {' '.join(argv)}`",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; JAX backend `{jax.default_backend()}`, "
        f"x64 {'on' if jax.config.jax_enable_x64 else 'off'}, {len(jax.devices())} XLA device(s)",
        f"- load average at start (1/5/15 min): {', '.join(f'{x:.2f}' for x in load)} "
        "(other jobs share these cores)",
        f"- versions: {vers}",
    ]


def set_host_devices(n: int) -> None:
    """Split the CPU into ``n`` XLA host devices; must run before JAX initialises its backend."""
    if n > 1:
        flag = f"--xla_force_host_platform_device_count={n}"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()


def shard_batch(tree: Any, replicated: Any) -> tuple[Any, Any]:
    """``tree`` split over all local devices on its leading axis, ``replicated`` copied to all."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    mesh = Mesh(np.array(jax.devices()), ("data",))
    batch = jax.device_put(tree, NamedSharding(mesh, PartitionSpec("data")))
    rep = jax.device_put(replicated, NamedSharding(mesh, PartitionSpec()))
    return batch, rep


class Timed:
    """Wall seconds and process CPU share of one call (CPU share > 1: several threads busy)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    @contextlib.contextmanager
    def measure(self):  # type: ignore[no-untyped-def]
        t0, c0 = time.perf_counter(), os.times()
        yield
        t1, c1 = time.perf_counter(), os.times()
        self.wall.append(t1 - t0)
        self.cpu.append((c1.user - c0.user + c1.system - c0.system) / max(t1 - t0, 1e-9))


def interleaved(
    calls: dict[str, Callable[[], Any]], repeats: int, warmup: bool = True
) -> dict[str, Timed]:
    """Run every call ``repeats`` times, round-robin with a rotating start; block on results."""
    names = list(calls)
    if warmup:
        for name in names:
            jax.block_until_ready(calls[name]())
    out = {name: Timed() for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            with out[name].measure():
                jax.block_until_ready(calls[name]())
    return out


def fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.1f}"


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


# --------------------------------------------------------------------------- envs
class GymnaxAdapter:
    """gymnax env -> the jaxstress env API (``data`` ignored; gymnax's step auto-resets)."""

    def __init__(self, env: Any, params: Any) -> None:
        self.env, self.params = env, params
        self.num_actions = int(env.num_actions)

    def default_params(self) -> Any:
        return self.params

    def observation_size(self, params: Any) -> int:
        return int(np.prod(self.env.observation_space(params).shape))

    def reset(self, key: jax.Array, params: Any, data: Any = None) -> tuple[jax.Array, Any]:
        return self.env.reset(key, params)

    def step(self, key: jax.Array, state: Any, action: jax.Array, params: Any, data: Any = None):  # type: ignore[no-untyped-def]
        # gymnax >= 1.0 returns (obs, state, reward, terminated, truncated, info)
        obs, state, reward, terminated, truncated, info = self.env.step(key, state, action, params)
        return obs, state, reward, jnp.logical_or(terminated, truncated), info


def gymnax_cartpole() -> tuple[Any, Any] | None:
    """(env, params) of gymnax CartPole-v1, or None with the reason printed."""
    try:
        import gymnax
    except Exception as exc:  # report the exact error, go on without it
        print(f"gymnax unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    env, params = gymnax.make("CartPole-v1")
    return env, params


def jax_envs() -> dict[str, tuple[Any, Any, Any]]:
    """name -> (env with the jaxstress API, params, data)."""
    from jaxstress.data import default_market
    from jaxstress.envs.dummy import DummyEnv
    from jaxstress.envs.phase1 import Phase1Env

    phase1 = Phase1Env()
    dummy = DummyEnv()
    out: dict[str, tuple[Any, Any, Any]] = {
        "phase1": (phase1, phase1.default_params(), default_market()),
        "dummy": (dummy, dummy.default_params(), None),
    }
    cp = gymnax_cartpole()
    if cp is not None:
        adapter = GymnaxAdapter(*cp)
        out["gymnax CartPole-v1"] = (adapter, adapter.params, None)
    return out


StepFn = Callable[[jax.Array, Any, jax.Array], tuple[Any, Any, jax.Array]]


def rollout_fn(
    step: StepFn, num_envs: int, num_steps: int, num_actions: int
) -> Callable[[Any, Any, jax.Array, Any], Any]:
    """``run(state, obs, key, data)``: ``num_steps`` steps of all envs, random actions.

    ``step(key, state, action) -> (obs, state, reward)`` is one env; it is vmapped here. The
    observation is carried (and returned), so it is built at every step as a rollout needs it.
    """

    def run(state: Any, obs: Any, key: jax.Array, data: Any) -> Any:
        def body(carry: Any, _: None) -> tuple[Any, None]:
            state, _obs, key, total = carry
            key, act_key, step_key = jax.random.split(key, 3)
            action = jax.random.randint(act_key, (num_envs,), 0, num_actions)
            keys = jax.random.split(step_key, num_envs)
            obs, state, reward = jax.vmap(lambda k, s, a: step(k, s, a, data))(keys, state, action)
            return (state, obs, key, total + reward.astype(jnp.float32)), None

        init = (state, obs, key, jnp.zeros((num_envs,), jnp.float32))
        return lax.scan(body, init, None, length=num_steps)[0]

    return run


def env_step(env: Any, params: Any) -> StepFn:
    def step(key: jax.Array, state: Any, action: jax.Array, data: Any) -> Any:
        obs, state, reward, _done, _info = env.step(key, state, action, params, data)
        return obs, state, reward

    return step


def phase1_probes(env: Any, params: Any) -> dict[str, StepFn]:
    """Variants of the phase-1 step that each leave one piece of work out (cost probes)."""
    from jaxstress.envs.phase1 import PNL_OBS_SCALE

    def select(done: jax.Array, a: Any, b: Any) -> Any:
        return jax.tree.map(lambda x, y: jnp.where(done, x, y), a, b)

    def state_only(key, state, action, data):  # type: ignore[no-untyped-def]
        _, stepped, reward, done, _ = env.step_env(state, action, params, data)
        _, fresh = env.reset(key, params, data)
        return jnp.zeros((0,), jnp.float32), select(done, fresh, stepped), reward

    def no_autoreset(key, state, action, data):  # type: ignore[no-untyped-def]
        obs, state, reward, _, _ = env.step_env(state, action, params, data)
        return obs, state, reward

    def window_only(key, state, action, data):  # type: ignore[no-untyped-def]
        _, stepped, reward, done, _ = env.step_env(state, action, params, data)
        _, fresh = env.reset(key, params, data)
        state = select(done, fresh, stepped)
        w = params.window
        window = lax.dynamic_slice_in_dim(data.features, state.t - (w - 1), w, axis=0)
        return window.reshape(-1), state, reward

    def obs_pieces(key, state, action, data):  # type: ignore[no-untyped-def]
        # the observation as (window, 3 extras): the same numbers without the concatenate copy
        _, stepped, reward, done, _ = env.step_env(state, action, params, data)
        _, fresh = env.reset(key, params, data)
        state = select(done, fresh, stepped)
        w = params.window
        window = lax.dynamic_slice_in_dim(data.features, state.t - (w - 1), w, axis=0)
        extra = env.get_obs(state, params, data)[-3:]
        return (window.reshape(-1), extra), state, reward

    def single_pass_obs(key, state, action, data):  # type: ignore[no-untyped-def]
        # the same observation values built by one gather over the flattened feature rows plus a
        # select for the 3 extras (one pass over the output instead of gather + concatenate)
        _, stepped, reward, done, _ = env.step_env(state, action, params, data)
        _, fresh = env.reset(key, params, data)
        state = select(done, fresh, stepped)
        w, f = params.window, data.features.shape[1]
        size = w * f
        i = jnp.arange(size + 3)
        src = (state.t - (w - 1)) * f + jnp.minimum(i, size - 1)
        window = jnp.take(data.features.reshape(-1), src, mode="clip")
        held = state.position != 0
        pos = state.position.astype(jnp.float32)
        entry = jnp.where(held, state.entry_price, 1.0)
        close = lax.dynamic_index_in_dim(data.close, state.t, keepdims=False)
        unrealised = jnp.where(held, pos * (close / entry - 1.0), 0.0) * PNL_OBS_SCALE
        left = (state.end - state.t).astype(jnp.float32) / params.max_steps
        extra = jnp.where(i == size, pos, jnp.where(i == size + 1, unrealised, left))
        return jnp.where(i < size, window, extra), state, reward

    def harness_only(key, state, action, data):  # type: ignore[no-untyped-def]
        # keys, random actions, scan and vmap with a trivial "env": the harness floor
        del data
        return jnp.zeros((0,), jnp.float32), state + action, action.astype(jnp.float32)

    return {
        "harness only (no env)": harness_only,
        "state only (no observation)": state_only,
        "no auto-reset (step_env + obs)": no_autoreset,
        "window only (no 3 extras, no concat)": window_only,
        "obs as (window, extras), no concat": obs_pieces,
        "single-pass obs (same values, one gather + select)": single_pass_obs,
    }


def bench_jax(
    num_envs_list: list[int], repeats: int, target_steps: int, profile: bool
) -> tuple[list[list[str]], list[list[str]], dict[tuple[str, int], float]]:
    envs = jax_envs()
    rows: list[list[str]] = []
    probe_rows: list[list[str]] = []
    medians: dict[tuple[str, int], float] = {}
    key = jax.random.PRNGKey(0)
    for n in num_envs_list:
        steps = int(min(4096, max(32, target_steps // n)))
        variants: dict[str, tuple[StepFn, Any, Any, Any, bool]] = {}
        for name, (env, params, data) in envs.items():
            variants[name] = (env_step(env, params), env, params, data, False)
        ndev = len(jax.devices())
        if ndev > 1 and n % ndev == 0 and n >= 1024:
            for name in ("phase1", "gymnax CartPole-v1"):
                if name in envs:
                    env, params, data = envs[name]
                    label = f"{name}, sharded over {ndev} CPU devices"
                    variants[label] = (env_step(env, params), env, params, data, True)
        if profile and n in (min(num_envs_list), max(num_envs_list)):
            env, params, data = envs["phase1"]
            for pname, fn in phase1_probes(env, params).items():
                variants[f"phase1 probe: {pname}"] = (fn, env, params, data, False)
        calls: dict[str, Callable[[], Any]] = {}
        compile_s: dict[str, float] = {}
        for name, (fn, env, params, data, sharded) in variants.items():
            reset = jax.jit(jax.vmap(env.reset, in_axes=(0, None, None)))
            _, state = reset(jax.random.split(key, n), params, data)
            if name.endswith("harness only (no env)"):
                state = jnp.zeros((n,), jnp.int32)
            # the initial observation in the variant's own shape: one step from the reset state
            first = jax.jit(jax.vmap(lambda k, s, a, d, f=fn: f(k, s, a, d), (0, 0, 0, None)))
            obs, state, _ = first(jax.random.split(key, n), state, jnp.zeros((n,), jnp.int32), data)
            run = jax.jit(rollout_fn(fn, n, steps, env.num_actions))
            run_key = key
            if sharded:
                (state, obs), (data, run_key) = shard_batch((state, obs), (data, key))
            t0 = time.perf_counter()
            compiled = run.lower(state, obs, run_key, data).compile()
            compile_s[name] = time.perf_counter() - t0
            calls[name] = lambda c=compiled, s=state, o=obs, d=data, k=run_key: c(s, o, k, d)
        timed = interleaved(calls, repeats)
        for name, t in timed.items():
            rates = [n * steps / w for w in t.wall]
            med, best = statistics.median(rates), max(rates)
            cpu = statistics.median(t.cpu)
            row = [
                name,
                str(n),
                str(steps),
                fmt_rate(med),
                fmt_rate(best),
                f"{min(rates) / med:.2f}-{best / med:.2f}",
                f"{cpu:.2f}",
                f"{compile_s[name]:.2f}",
            ]
            if name.startswith("phase1 probe"):
                probe_rows.append(row)
            else:
                medians[(name, n)] = med
                rows.append(row)
            print("  ".join(row), flush=True)
    return rows, probe_rows, medians


# --------------------------------------------------------------------------- NumPy reference
def bench_reference(repeats: int) -> dict[str, float]:
    """Env-steps per second of tests/reference_env.py: one env, and a loop over 64 envs."""
    sys.path.insert(0, str(ROOT / "tests"))
    from reference_env import ReferenceEnv

    from jaxstress.data import default_market
    from jaxstress.envs.phase1 import Phase1Env

    params = Phase1Env().default_params()
    env = ReferenceEnv(default_market(), params)
    keys = np.asarray(jax.random.key_data(jax.random.split(jax.random.PRNGKey(0), 4096)))
    rng = np.random.default_rng(0)

    def run(num_envs: int, steps: int) -> Callable[[], None]:
        # envs are reset once, outside the timed calls; later resets (auto-reset) are timed
        states = [env.reset(keys[i])[1] for i in range(num_envs)]
        counter = [num_envs]

        def go() -> None:
            k = counter[0]
            actions = rng.integers(0, 3, size=(steps, num_envs)).tolist()
            for t in range(steps):
                for i in range(num_envs):
                    _, states[i], _, done, _ = env.step(
                        keys[k % len(keys)], states[i], actions[t][i]
                    )
                    k += done
            counter[0] = k

        return go

    plan = {"numpy reference, 1 env": (1, 4000), "numpy reference, loop over 64 envs": (64, 60)}
    calls = {name: run(n, s) for name, (n, s) in plan.items()}
    timed = interleaved(calls, repeats, warmup=True)
    return {
        name: plan[name][0] * plan[name][1] / statistics.median(t.wall) for name, t in timed.items()
    }


# --------------------------------------------------------------------------- broken original
def bench_original(steps: int = 300) -> dict[str, Any]:
    """The exception the original raises under jit (reset and step) and its eager step time."""
    sys.path.insert(0, str(ORIGINAL_DIR))
    import data_loader
    import env_phase1_jax as original

    data = data_loader.load_market_data(None, n_days=5)
    env = original.FuturesEnvPhase1(data, window=16)
    params = original.EnvParams()
    out: dict[str, Any] = {}
    _, state = env.reset(jax.random.PRNGKey(0), params)
    for name, fn, args in (
        ("reset", env.reset, (jax.random.PRNGKey(0), params)),
        ("step", env.step, (state, 1, params)),
    ):
        try:
            jax.block_until_ready(jax.jit(fn)(*args))
            out[f"jit {name}"] = "ran (unexpected)"
        except Exception as exc:
            out[f"jit {name}"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    rng = np.random.default_rng(0)
    key = jax.random.PRNGKey(1)
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(steps):
            _, state, _, done, _ = env.step(state, int(rng.integers(3)), params)
            if done:
                key, sub = jax.random.split(key)
                _, state = env.reset(sub, params)
        rates.append(steps / (time.perf_counter() - t0))
    out["eager steps/s"] = statistics.median(rates)
    return out


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-envs", default="1,64,1024,8192")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument(
        "--target-steps", type=int, default=524_288, help="env steps per timed call (approx.)"
    )
    ap.add_argument("--no-profile", action="store_true", help="skip the phase-1 cost probes")
    ap.add_argument("--no-reference", action="store_true", help="skip NumPy and the original")
    ap.add_argument(
        "--host-devices",
        type=int,
        default=os.cpu_count() or 1,
        help="XLA CPU host devices (default: one per core); adds sharded rows at >= 1024 envs, "
        "every other row runs on device 0 only",
    )
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    args = ap.parse_args(argv)
    set_host_devices(args.host_devices)
    num_envs = [int(x) for x in args.num_envs.split(",")]

    lines = ["### Env steps per second", "", *machine_lines(sys.argv), ""]
    rows, probe_rows, med = bench_jax(
        num_envs, args.repeats, args.target_steps, not args.no_profile
    )
    header = [
        "env",
        "num_envs",
        "scan steps",
        "median steps/s",
        "best steps/s",
        "spread (min-max / median)",
        "CPU share",
        "compile s",
    ]
    lines += [
        f"JAX envs: `jit(scan(vmap(step)))`, random actions, auto-reset, {args.repeats} interleaved "
        "repeats, compile excluded. CPU share = process CPU seconds / wall seconds.",
        "",
        *md_table(header, rows),
        "",
    ]
    big = max(num_envs)
    if ("phase1", big) in med:
        rate = med[("phase1", big)]
        verdict = "reached" if rate >= 1e6 else "NOT reached"
        lines += [
            f"Goal >= 1M phase-1 steps/s at {big} envs: **{verdict}** ({fmt_rate(rate)}/s).",
            "",
        ]
        for other in ("dummy", "gymnax CartPole-v1"):
            if (other, big) in med:
                lines.append(f"- phase1 / {other} at {big} envs: {rate / med[(other, big)]:.2f}x")
        lines.append("")
    if probe_rows:
        lines += [
            "Phase-1 cost probes at the smallest and largest num_envs (each leaves one piece of "
            "the step out; compare with the `phase1` row at the same num_envs):",
            "",
            *md_table(header, probe_rows),
            "",
        ]
    if not args.no_reference:
        ref = bench_reference(max(3, args.repeats // 2))
        orig = bench_original()
        pairs = [("numpy reference, 1 env", 1), ("numpy reference, loop over 64 envs", 64)]
        ref_rows = []
        for name, n in pairs:
            jax_rate = med.get(("phase1", n))
            ref_rows.append(
                [
                    name,
                    fmt_rate(ref[name]),
                    f"{1e6 / ref[name]:.1f}",
                    f"{jax_rate / ref[name]:.1f}x" if jax_rate else "-",
                    f"{med[('phase1', big)] / ref[name]:.0f}x" if ("phase1", big) in med else "-",
                ]
            )
        eager = orig["eager steps/s"]
        ref_rows.append(
            [
                "broken original (examples/jax_migration), eager, 1 env",
                fmt_rate(eager),
                f"{1e6 / eager:.1f}",
                f"{med[('phase1', 1)] / eager:.1f}x" if ("phase1", 1) in med else "-",
                f"{med[('phase1', big)] / eager:.0f}x" if ("phase1", big) in med else "-",
            ]
        )
        lines += [
            "Python-loop baselines (per env-step; phase-1 JAX at the same num_envs, and at the "
            f"largest, {big}):",
            "",
            *md_table(
                [
                    "baseline",
                    "steps/s",
                    "us per env-step",
                    "JAX phase1 speed-up, same num_envs",
                    f"JAX phase1 speed-up at {big} envs",
                ],
                ref_rows,
            ),
            "",
            "The original under `jax.jit`:",
            "",
            f"- `jit(reset)`: {orig['jit reset']}",
            f"- `jit(step)`: {orig['jit step']}",
            "",
        ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

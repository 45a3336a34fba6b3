"""PPO training speed: ``jaxstress.ppo.make_train`` against a PureJaxRL-style baseline on gymnax.

Env steps per second of wall time (``num_envs * num_steps * num_updates / seconds``), compile
excluded, for:

- ``ours / CartPole-v1``: `jaxstress.ppo.make_train` on gymnax CartPole-v1 through
  `GymnaxAdapter` (our env API: ``reset(key, params, data)``, ``step(key, state, action, params,
  data)`` with auto-reset);
- ``baseline / CartPole-v1``: a PureJaxRL-style PPO written here from gymnax's public API
  (flax ActorCritic, GAE, clipped losses, minibatch epochs, everything under one ``jax.jit``,
  gymnax's own auto-reset in ``env.step`` and its ``LogWrapper``), same sizes and settings;
- ``ours / phase1``: `jaxstress.ppo.make_train` on the phase-1 trading env (default market).

At one ``num_envs`` every program is called once untimed (compile + one run); then each runs once per round,
``--repeats`` rounds, in rotated order (interleaved), and the median is reported. ``make_train``
hides its jitted function, so its compile time is estimated as first call minus median call.
Also reported: rollout memory per env (`jaxstress.ppo.rollout_memory`) at one configuration.

    python benchmarks/ppo_speed.py                 # 64, 256, 1024 envs (6-11 minutes, see below)
    python benchmarks/ppo_speed.py --num-envs 256 --repeats 9 --out /tmp/ppo.md
    python benchmarks/ppo_speed.py --breakdown 256 # where a phase-1 update spends its time

Most of the run time is XLA compiling the nine PPO programs (20-50 s each on a busy 2-core
CPU); ``--num-envs`` with fewer sizes is the lever.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).resolve().parent))
from env_speed import (  # sibling script
    GymnaxAdapter,
    fmt_rate,
    interleaved,
    machine_lines,
    md_table,
    set_host_devices,
)


# --------------------------------------------------------------------------- the baseline
class BaselineActorCritic(nn.Module):
    """Separate actor and critic tanh MLPs, orthogonal init (as in PureJaxRL's PPO)."""

    action_dim: int
    hidden: tuple[int, ...] = (64, 64)

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        a = x
        for h in self.hidden:
            a = nn.tanh(
                nn.Dense(
                    h,
                    kernel_init=nn.initializers.orthogonal(np.sqrt(2)),
                    bias_init=nn.initializers.constant(0.0),
                )(a)
            )
        logits = nn.Dense(
            self.action_dim,
            kernel_init=nn.initializers.orthogonal(0.01),
            bias_init=nn.initializers.constant(0.0),
        )(a)
        c = x
        for h in self.hidden:
            c = nn.tanh(
                nn.Dense(
                    h,
                    kernel_init=nn.initializers.orthogonal(np.sqrt(2)),
                    bias_init=nn.initializers.constant(0.0),
                )(c)
            )
        value = nn.Dense(
            1, kernel_init=nn.initializers.orthogonal(1.0), bias_init=nn.initializers.constant(0.0)
        )(c)
        return logits, jnp.squeeze(value, axis=-1)


class Step(NamedTuple):
    done: jax.Array
    action: jax.Array
    value: jax.Array
    reward: jax.Array
    log_prob: jax.Array
    obs: jax.Array
    returned: jax.Array
    episode_return: jax.Array


def baseline_make_train(cfg: dict[str, Any]) -> Callable[[jax.Array], Any]:
    """PureJaxRL-style PPO on gymnax CartPole-v1: ``train(rng)``, the whole run in one program."""
    import gymnax
    from gymnax.wrappers.purerl import LogWrapper

    env, env_params = gymnax.make("CartPole-v1")
    env = LogWrapper(env)
    n_envs, n_steps = cfg["num_envs"], cfg["num_steps"]
    n_updates, n_epochs, n_mb = cfg["num_updates"], cfg["update_epochs"], cfg["num_minibatches"]
    batch = n_envs * n_steps
    mb_size = batch // n_mb
    gamma, lam, clip, ent_c, vf_c = 0.99, 0.95, 0.2, 0.01, 0.5
    lr = 2.5e-4

    def schedule(count: jax.Array) -> jax.Array:
        return lr * (1.0 - (count // (n_mb * n_epochs)) / n_updates)

    net = BaselineActorCritic(env.action_space(env_params).n, tuple(cfg["hidden_sizes"]))
    tx = optax.chain(optax.clip_by_global_norm(0.5), optax.adam(schedule, eps=1e-5))

    def train(rng: jax.Array) -> Any:
        rng, k_net, k_env = jax.random.split(rng, 3)
        obs_shape = env.observation_space(env_params).shape
        params = net.init(k_net, jnp.zeros(obs_shape))
        opt_state = tx.init(params)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(k_env, n_envs), env_params
        )

        def update(runner: Any, _: None) -> Any:
            def env_step(carry: Any, _: None) -> Any:
                params, opt_state, env_state, obs, rng = carry
                rng, k_act, k_step = jax.random.split(rng, 3)
                logits, value = net.apply(params, obs)
                action = jax.random.categorical(k_act, logits)
                logp = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], 1)[:, 0]
                obs2, env_state, reward, term, trunc, info = jax.vmap(
                    env.step, in_axes=(0, 0, 0, None)
                )(jax.random.split(k_step, n_envs), env_state, action, env_params)
                done = jnp.logical_or(term, trunc)
                step = Step(
                    done,
                    action,
                    value,
                    reward,
                    logp,
                    obs,
                    info["returned_episode"],
                    info["returned_episode_returns"],
                )
                return (params, opt_state, env_state, obs2, rng), step

            runner, traj = jax.lax.scan(env_step, runner, None, n_steps)
            params, opt_state, env_state, obs, rng = runner
            _, last_val = net.apply(params, obs)

            def gae_step(carry: Any, t: Step) -> Any:
                adv, next_value = carry
                delta = t.reward + gamma * next_value * (1 - t.done) - t.value
                adv = delta + gamma * lam * (1 - t.done) * adv
                return (adv, t.value), adv

            _, advantages = jax.lax.scan(
                gae_step, (jnp.zeros_like(last_val), last_val), traj, reverse=True
            )
            targets = advantages + traj.value

            def loss_fn(params: Any, t: Step, adv: jax.Array, tgt: jax.Array) -> Any:
                logits, value = net.apply(params, t.obs)
                logp = jnp.take_along_axis(jax.nn.log_softmax(logits), t.action[:, None], 1)[:, 0]
                v_clip = t.value + jnp.clip(value - t.value, -clip, clip)
                v_loss = 0.5 * jnp.maximum((value - tgt) ** 2, (v_clip - tgt) ** 2).mean()
                ratio = jnp.exp(logp - t.log_prob)
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - clip, 1 + clip) * adv).mean()
                p = jax.nn.softmax(logits)
                ent = -(p * jax.nn.log_softmax(logits)).sum(-1).mean()
                return pg + vf_c * v_loss - ent_c * ent, (v_loss, pg, ent)

            def epoch(carry: Any, _: None) -> Any:
                params, opt_state, rng = carry
                rng, k_perm = jax.random.split(rng)
                perm = jax.random.permutation(k_perm, batch)
                data = jax.tree.map(
                    lambda x: x.reshape((batch, *x.shape[2:])), (traj, advantages, targets)
                )
                shuffled = jax.tree.map(lambda x: jnp.take(x, perm, axis=0), data)
                minibatches = jax.tree.map(
                    lambda x: x.reshape((n_mb, mb_size, *x.shape[1:])), shuffled
                )

                def minibatch(carry: Any, mb: Any) -> Any:
                    params, opt_state = carry
                    grads, aux = jax.grad(loss_fn, has_aux=True)(params, *mb)
                    updates, opt_state = tx.update(grads, opt_state, params)
                    return (optax.apply_updates(params, updates), opt_state), aux

                (params, opt_state), aux = jax.lax.scan(minibatch, (params, opt_state), minibatches)
                return (params, opt_state, rng), aux

            (params, opt_state, rng), aux = jax.lax.scan(
                epoch, (params, opt_state, rng), None, n_epochs
            )
            finished = traj.returned.sum()
            metric = {
                "mean_episode_return": (traj.episode_return * traj.returned).sum()
                / jnp.maximum(finished, 1),
                "value_loss": aux[0].mean(),
            }
            return (params, opt_state, env_state, obs, rng), metric

        runner = (params, opt_state, env_state, obs, rng)
        return jax.lax.scan(update, runner, None, n_updates)

    return train


# --------------------------------------------------------------------------- programs
def ours(env: Any, env_params: Any, data: Any, cfg: dict[str, Any]) -> Callable[[jax.Array], Any]:
    from jaxstress.ppo import PPOConfig, make_train

    config = PPOConfig(
        num_envs=cfg["num_envs"],
        num_steps=cfg["num_steps"],
        total_timesteps=cfg["num_envs"] * cfg["num_steps"] * cfg["num_updates"],
        update_epochs=cfg["update_epochs"],
        num_minibatches=cfg["num_minibatches"],
        hidden_sizes=tuple(cfg["hidden_sizes"]),
        obs_buffer=cfg.get("obs_buffer", "auto"),
    )
    assert config.num_updates == cfg["num_updates"]
    return make_train(config, env, env_params, data)


def cartpole_adapter() -> tuple[Any, Any]:
    import gymnax

    env, params = gymnax.make("CartPole-v1")
    adapter = GymnaxAdapter(env, params)
    return adapter, params


def phase1_env() -> tuple[Any, Any, Any]:
    from jaxstress.data import default_market
    from jaxstress.envs.phase1 import Phase1Env

    env = Phase1Env()
    return env, env.default_params(), default_market()


def memory_lines(num_envs: int, num_steps: int) -> list[str]:
    from jaxstress.ppo import PPOConfig, rollout_memory

    env, params, data = phase1_env()
    rows = []
    for buffer in ("state", "obs"):
        config = PPOConfig(num_envs=num_envs, num_steps=num_steps, obs_buffer=buffer)
        mem = rollout_memory(config, env, params, data)
        parts = ", ".join(f"{k} {v}" for k, v in mem.breakdown.items())
        temp = "-" if mem.measured_temp_bytes is None else f"{mem.measured_temp_bytes:,.0f}"
        state = "-" if mem.measured_state_bytes is None else f"{mem.measured_state_bytes:,.0f}"
        rows.append([f"`{buffer}`", f"{mem.estimated_buffer_bytes:,}", parts, temp, state])
        compared = mem.envs_compared or ()
    return [
        f"Rollout memory per env, phase-1 env (window 32, obs {env.observation_size(params)} floats), "
        f"num_steps {num_steps}, `jaxstress.ppo.rollout_memory` (measured: XLA "
        f"`memory_analysis()` difference between {' and '.join(map(str, compared))} envs):",
        "",
        *md_table(
            [
                "obs_buffer",
                "estimated buffer bytes/env",
                "breakdown (bytes/env)",
                "measured temp bytes/env",
                "measured state bytes/env",
            ],
            rows,
        ),
        "",
    ]


def breakdown_lines(num_envs: int, num_steps: int, hidden: list[int], repeats: int) -> list[str]:
    """One phase-1 PPO update (both obs buffers) against its rollout and the bare env steps."""
    from env_speed import env_step, rollout_fn

    from jaxstress.ppo import PPOConfig, collect_rollout, make_init, make_network, make_update

    env, params, data = phase1_env()
    calls: dict[str, Callable[[], Any]] = {}
    runner = None
    config = None
    for buffer in ("state", "obs"):
        config = PPOConfig(
            num_envs=num_envs,
            num_steps=num_steps,
            total_timesteps=num_envs * num_steps,
            hidden_sizes=tuple(hidden),
            obs_buffer=buffer,
        )
        runner = jax.jit(make_init(config, env, params))(jax.random.PRNGKey(0), data)
        update = jax.jit(make_update(config, env, params)).lower(runner, data).compile()
        calls[f"one PPO update, obs_buffer={buffer}"] = lambda u=update, r=runner: u(r, data)
    assert runner is not None and config is not None
    network = make_network(config, env)

    def rollout(runner: Any, data: Any) -> Any:
        return collect_rollout(
            network.apply,
            runner.params,
            env,
            params,
            data,
            runner.env_state,
            runner.obs,
            runner.episode_return,
            runner.rng,
            num_steps,
        )

    roll = jax.jit(rollout).lower(runner, data).compile()
    calls["rollout only (policy forward + env step)"] = lambda: roll(runner, data)
    key = jax.random.PRNGKey(1)
    bare = jax.jit(rollout_fn(env_step(env, params), num_envs, num_steps, env.num_actions))
    bare_c = bare.lower(runner.env_state, runner.obs, key, data).compile()
    calls["env steps only (random actions)"] = lambda: bare_c(
        runner.env_state, runner.obs, key, data
    )
    timed = interleaved(calls, repeats)
    steps = num_envs * num_steps
    ref = statistics.median(timed["one PPO update, obs_buffer=state"].wall)
    rows = []
    for name, t in timed.items():
        med = statistics.median(t.wall)
        rows.append([name, f"{med * 1e3:.0f}", fmt_rate(steps / med), f"{100 * med / ref:.0f}%"])
    return [
        f"{num_envs} envs x {num_steps} steps = {steps:,} env steps per update, "
        f"{'x'.join(map(str, hidden))} MLP, {repeats} interleaved repeats, medians:",
        "",
        *md_table(["part", "ms", "env steps/s", "of one update (state buffer)"], rows),
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-envs", default="64,256,1024")
    ap.add_argument("--num-steps", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--minibatches", type=int, default=4)
    ap.add_argument("--hidden", default="64,64")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--steps-per-call",
        type=int,
        default=65_536,
        help="env steps per timed train() call (CartPole; phase-1 uses a quarter)",
    )
    ap.add_argument("--host-devices", type=int, default=1, help="XLA CPU host devices")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument(
        "--breakdown",
        type=int,
        metavar="NUM_ENVS",
        help="instead of the comparison: where one phase-1 PPO update spends its time",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    set_host_devices(args.host_devices)
    hidden = [int(h) for h in args.hidden.split(",")]
    if args.breakdown:
        text = "\n".join(
            [
                "### Phase-1 PPO update breakdown",
                "",
                *machine_lines(sys.argv),
                "",
                *breakdown_lines(args.breakdown, args.num_steps, hidden, args.repeats),
            ]
        )
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return 0
    lines = ["### PPO training steps per second", "", *machine_lines(sys.argv), ""]
    cp_env, cp_params = cartpole_adapter()
    p1_env, p1_params, p1_data = phase1_env()
    rows: list[list[str]] = []
    ratios: list[str] = []
    rng = jax.random.PRNGKey(0)
    for n in [int(x) for x in args.num_envs.split(",")]:
        batch = n * args.num_steps
        base = dict(
            num_envs=n,
            num_steps=args.num_steps,
            update_epochs=args.epochs,
            num_minibatches=args.minibatches,
            hidden_sizes=hidden,
        )
        cp_cfg = {**base, "num_updates": max(1, args.steps_per_call // batch)}
        p1_cfg = {**base, "num_updates": max(1, args.steps_per_call // 4 // batch)}
        programs: dict[str, tuple[Callable[[jax.Array], Any], dict[str, Any]]] = {
            "ours / CartPole-v1": (ours(cp_env, cp_params, None, cp_cfg), cp_cfg),
            "baseline (PureJaxRL-style) / CartPole-v1": (
                jax.jit(baseline_make_train(cp_cfg)),
                cp_cfg,
            ),
            "ours / phase1": (ours(p1_env, p1_params, p1_data, p1_cfg), p1_cfg),
        }
        first: dict[str, float] = {}
        returns: dict[str, float] = {}
        calls: dict[str, Callable[[], Any]] = {}
        for name, (train, _cfg) in programs.items():
            t0 = time.perf_counter()
            out = jax.block_until_ready(train(rng))
            first[name] = time.perf_counter() - t0
            returns[name] = float(np.asarray(out[1]["mean_episode_return"])[-1])
            print(
                f"{name} n={n}: first call {first[name]:.1f}s, "
                f"last mean episode return {returns[name]:.2f}",
                flush=True,
            )
            calls[name] = lambda t=train: t(rng)
        timed = interleaved(calls, args.repeats, warmup=False)
        meds = {}
        for name, t in timed.items():
            cfg = programs[name][1]
            steps = cfg["num_envs"] * cfg["num_steps"] * cfg["num_updates"]
            rates = [steps / w for w in t.wall]
            med = statistics.median(rates)
            meds[name] = med
            rows.append(
                [
                    name,
                    str(n),
                    str(cfg["num_updates"]),
                    f"{steps:,}",
                    fmt_rate(med),
                    fmt_rate(max(rates)),
                    f"{min(rates) / med:.2f}-{max(rates) / med:.2f}",
                    f"{statistics.median(t.cpu):.2f}",
                    f"{first[name] - statistics.median(t.wall):.1f}",
                    f"{returns[name]:.2f}",
                ]
            )
            print("  ".join(rows[-1]), flush=True)
        ours_t = timed["ours / CartPole-v1"].wall
        base_t = timed["baseline (PureJaxRL-style) / CartPole-v1"].wall
        r = meds["ours / CartPole-v1"] / meds["baseline (PureJaxRL-style) / CartPole-v1"]
        paired = statistics.median(b / a for a, b in zip(ours_t, base_t, strict=True))
        p1 = meds["ours / phase1"] / meds["ours / CartPole-v1"]
        ratios.append(
            f"- {n} envs: ours / baseline on CartPole-v1 = **{r:.2f}x** (ratio of medians; "
            f"median of the per-round ratios {paired:.2f}x; "
            f"{'goal met' if min(r, paired) >= 1.0 else 'below 1.0x'}); "
            f"ours phase1 / ours CartPole = {p1:.2f}x"
        )
    header = [
        "program",
        "num_envs",
        "updates/call",
        "env steps/call",
        "median steps/s",
        "best steps/s",
        "spread",
        "CPU share",
        "compile s (est.)",
        "last update's mean episode return",
    ]
    lines += [
        f"num_steps {args.num_steps}, {args.epochs} epochs, {args.minibatches} minibatches, "
        f"{'x'.join(map(str, hidden))} tanh MLP (separate actor and critic), {args.repeats} "
        "interleaved repeats, compile excluded (first call, which compiles, not timed).",
        "",
        *md_table(header, rows),
        "",
        "Goal: ours >= 1.0x the baseline's steps/s.",
        "",
        *ratios,
        "",
    ]
    if not args.no_memory:
        lines += memory_lines(1024, args.num_steps)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

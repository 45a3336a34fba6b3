"""How much device memory each environment costs: what decides how many envs fit on a device.

The large term is the rollout buffer: every field of ``Transition`` for ``num_steps`` steps,
plus the GAE advantages and targets. For a trading env whose observation is a copied window of
features, the observation dominates (window x features floats per step). The lever is
``PPOConfig.obs_buffer="state"`` (the default "auto" picks it when the env has ``get_obs``): the buffer then stores the env *state* (a bar index, position,
a few scalars) and the update recomputes observations per minibatch with ``env.get_obs``, which
is cheap when the observation is a ``lax.dynamic_slice`` of the bar array.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from jaxstress.ppo.config import PPOConfig
from jaxstress.ppo.rollout import Env, collect_rollout
from jaxstress.ppo.train import make_init, make_network, make_update


@dataclasses.dataclass(frozen=True)
class RolloutMemory:
    """Bytes per environment; ``measured_*`` are None where the backend gives no analysis."""

    estimated_buffer_bytes: int
    breakdown: dict[str, int]
    measured_temp_bytes: float | None
    measured_state_bytes: float | None
    envs_compared: tuple[int, int] | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _nbytes(tree: Any) -> int:
    leaves = jax.tree_util.tree_leaves(tree)
    return int(sum(int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in leaves))


def estimate_buffer_bytes(
    config: PPOConfig, env: Env, env_params: Any, data: Any
) -> tuple[int, dict[str, int]]:
    """Rollout-buffer bytes per env from shapes alone (``jax.eval_shape``, nothing runs)."""
    one = config.replace(num_envs=1, num_minibatches=1, total_timesteps=config.num_steps)
    runner = jax.eval_shape(make_init(one, env, env_params), jax.random.PRNGKey(0), data)
    network = make_network(one, env)

    def rollout(runner: Any) -> Any:
        return collect_rollout(
            network.apply,
            runner.params,
            env,
            env_params,
            data,
            runner.env_state,
            runner.obs,
            runner.episode_return,
            runner.rng,
            one.num_steps,
            one.stores_obs(env),
        )[1]

    traj = jax.eval_shape(rollout, runner)
    breakdown = {f.name: _nbytes(getattr(traj, f.name)) for f in dataclasses.fields(traj)}
    breakdown["advantage"] = breakdown["value"]
    breakdown["target"] = breakdown["value"]
    return sum(breakdown.values()), breakdown


def _compiled_sizes(
    config: PPOConfig, env: Env, env_params: Any, data: Any
) -> tuple[int, int] | None:
    runner = jax.eval_shape(make_init(config, env, env_params), jax.random.PRNGKey(0), data)
    update = make_update(config, env, env_params)
    compiled = jax.jit(update).lower(runner, data).compile()
    analysis = compiled.memory_analysis()
    if analysis is None:
        return None
    return int(analysis.temp_size_in_bytes), int(analysis.argument_size_in_bytes)


def rollout_memory(
    config: PPOConfig,
    env: Env,
    env_params: Any,
    data: Any = None,
    measure: bool = True,
    envs: tuple[int, int] | None = None,
) -> RolloutMemory:
    """Estimate, and (``measure``) measure, device bytes per env for one PPO update.

    The measurement compiles one update at two env counts (nothing is executed, so large counts
    are free) and divides the difference of XLA's ``memory_analysis()`` by the env difference:
    ``measured_temp_bytes`` is scratch (rollout buffer, GAE, minibatch gathers, activations),
    ``measured_state_bytes`` the per-env part of the carried runner state.
    """
    estimate, breakdown = estimate_buffer_bytes(config, env, env_params, data)
    measured_temp = measured_state = None
    if measure:
        base = config.num_minibatches * max(1, 256 // config.num_minibatches)
        n1, n2 = envs or (base, 2 * base)
        try:
            small = _compiled_sizes(config.replace(num_envs=n1), env, env_params, data)
            large = _compiled_sizes(config.replace(num_envs=n2), env, env_params, data)
        except (NotImplementedError, AttributeError):
            small = large = None
        if small is not None and large is not None:
            measured_temp = (large[0] - small[0]) / (n2 - n1)
            measured_state = (large[1] - small[1]) / (n2 - n1)
        envs = (n1, n2)
    return RolloutMemory(
        estimated_buffer_bytes=estimate,
        breakdown=breakdown,
        measured_temp_bytes=measured_temp,
        measured_state_bytes=measured_state,
        envs_compared=envs if measure else None,
    )

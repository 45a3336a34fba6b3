"""Rollout collection (``lax.scan`` over vmapped envs) and generalized advantage estimation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import jax
import jax.numpy as jnp
from flax import struct

from jaxstress.ppo.network import log_prob


class Env(Protocol):
    """The functional env API shared by Phase1Env and DummyEnv (gymnax-style, auto-reset).

    Optional: ``get_obs(state, params, data) -> obs``, the observation as a pure function of the
    state; with it the rollout buffer can store states instead of observations.
    """

    num_actions: int

    def default_params(self) -> Any: ...

    def observation_size(self, params: Any) -> int: ...

    def reset(self, key: jax.Array, params: Any, data: Any) -> tuple[jax.Array, Any]: ...

    def step(
        self, key: jax.Array, state: Any, action: jax.Array, params: Any, data: Any
    ) -> tuple[jax.Array, Any, jax.Array, jax.Array, Any]: ...


@struct.dataclass
class Transition:
    """One time step for all envs; leaves get leading axes (num_steps, num_envs) in the buffer.

    ``obs`` holds the observation, or with ``store_obs=False`` the env state it is recomputed
    from (much smaller when the observation is a copied feature window).
    """

    obs: Any
    action: jax.Array
    reward: jax.Array
    done: jax.Array
    value: jax.Array
    log_prob: jax.Array


@struct.dataclass
class EpisodeStats:
    """Returns of the episodes that finished during a rollout (summed, for a masked mean)."""

    return_sum: jax.Array
    count: jax.Array


def gae(
    rewards: jax.Array,
    values: jax.Array,
    dones: jax.Array,
    last_value: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> tuple[jax.Array, jax.Array]:
    """Advantages and value targets, time-major ``(T, ...)``; ``dones[t]`` ends the episode.

    ``done[t]`` means the transition at ``t`` was the last of its episode (the env auto-reset),
    so neither the next value nor the next advantage leaks across the boundary. A time-limit end
    is treated as terminal too: the usual PureJaxRL simplification, fine for fixed-length
    trading sessions whose end really is terminal (positions are flattened at the close).
    """

    def backward(
        carry: tuple[jax.Array, jax.Array], step: tuple[jax.Array, jax.Array, jax.Array]
    ) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        next_adv, next_value = carry
        reward, value, done = step
        live = 1.0 - done.astype(jnp.float32)
        delta = reward + gamma * next_value * live - value
        adv = delta + gamma * gae_lambda * live * next_adv
        return (adv, value), adv

    init = (jnp.zeros_like(last_value), last_value)
    _, advantages = jax.lax.scan(backward, init, (rewards, values, dones), reverse=True)
    return advantages, advantages + values


def collect_rollout(
    apply_fn: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]],
    params: Any,
    env: Env,
    env_params: Any,
    data: Any,
    env_state: Any,
    obs: jax.Array,
    episode_return: jax.Array,
    rng: jax.Array,
    num_steps: int,
    store_obs: bool = True,
) -> tuple[tuple[Any, jax.Array, jax.Array, jax.Array], Transition, EpisodeStats]:
    """Run ``num_steps`` steps of every env under the current policy.

    Returns the carried (env_state, obs, episode_return, rng), the time-major transitions and
    the stats of episodes that finished. ``num_envs`` comes from the leading axis of ``obs``.
    """
    num_envs = obs.shape[0]
    step_envs = jax.vmap(env.step, in_axes=(0, 0, 0, None, None))

    def one_step(carry: tuple[Any, ...], _: None) -> tuple[tuple[Any, ...], Transition]:
        env_state, obs, ep_ret, ret_sum, count, rng = carry
        rng, act_key, step_key = jax.random.split(rng, 3)
        logits, value = apply_fn(params, obs)
        action = jax.random.categorical(act_key, logits)
        logp = log_prob(logits, action)
        keys = jax.random.split(step_key, num_envs)
        next_obs, next_state, reward, done, _info = step_envs(
            keys, env_state, action, env_params, data
        )
        reward = reward.astype(jnp.float32)
        ep_ret = ep_ret + reward
        ret_sum = ret_sum + jnp.sum(jnp.where(done, ep_ret, 0.0))
        count = count + jnp.sum(done.astype(jnp.int32))
        ep_ret = jnp.where(done, 0.0, ep_ret)
        stored = obs if store_obs else env_state
        transition = Transition(stored, action, reward, done, value, logp)
        return (next_state, next_obs, ep_ret, ret_sum, count, rng), transition

    init = (env_state, obs, episode_return, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
    carry, transitions = jax.lax.scan(one_step, (*init, rng), None, length=num_steps)
    env_state, obs, episode_return, ret_sum, count, rng = carry
    return (env_state, obs, episode_return, rng), transitions, EpisodeStats(ret_sum, count)

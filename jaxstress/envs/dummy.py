"""The dummy stress environment: the cheapest env with the phase-1 API.

It exists to measure pure framework overhead (rollout scan, vmap, PPO update) with the
environment's own cost near zero, and as a tiny env with a known optimal policy for tests:
action ``params.rewarded_action`` earns 1 per step, every other action 0, so the optimal
episode return is ``episode_length`` and a uniform random policy earns
``episode_length / num_actions``.

Observations are pseudo-random but *recomputable from the state* (``get_obs``): they are drawn
from ``fold_in(state.obs_key, state.t)``. A trainer may therefore store states instead of
observations in its rollout buffer (the memory lever described in ``jaxstress.ppo.memory``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class DummyParams:
    """Traced env parameters (leaves may be batched or changed without recompiling)."""

    episode_length: jax.Array | int = 64
    rewarded_action: jax.Array | int = 0


@struct.dataclass
class DummyState:
    """Per-env state: a step counter and the key the observations are drawn from."""

    t: jax.Array
    obs_key: jax.Array


class DummyEnv:
    """Counter env with random observations and a fixed episode length (auto-reset)."""

    num_actions: int = 3

    def __init__(self, obs_size: int = 16, episode_length: int = 64) -> None:
        if obs_size < 1 or episode_length < 1:
            raise ValueError("DummyEnv needs obs_size >= 1 and episode_length >= 1")
        # obs_size fixes array shapes, so it is a static attribute of the env, not a param.
        self.obs_size = int(obs_size)
        self.episode_length = int(episode_length)

    def default_params(self) -> DummyParams:
        return DummyParams(episode_length=self.episode_length, rewarded_action=0)

    def observation_size(self, params: DummyParams | None = None) -> int:
        del params
        return self.obs_size

    def get_obs(self, state: DummyState, params: DummyParams, data: Any = None) -> jax.Array:
        """Observation of ``state``; a pure function of the state, so it can be recomputed."""
        del params, data
        key = jax.random.fold_in(state.obs_key, state.t)
        return jax.random.normal(key, (self.obs_size,), dtype=jnp.float32)

    def reset(
        self, key: jax.Array, params: DummyParams, data: Any = None
    ) -> tuple[jax.Array, DummyState]:
        state = DummyState(t=jnp.zeros((), jnp.int32), obs_key=key)
        return self.get_obs(state, params, data), state

    def step(
        self,
        key: jax.Array,
        state: DummyState,
        action: jax.Array,
        params: DummyParams,
        data: Any = None,
    ) -> tuple[jax.Array, DummyState, jax.Array, jax.Array, dict[str, jax.Array]]:
        reward = (action == params.rewarded_action).astype(jnp.float32)
        t = state.t + 1
        done = t >= params.episode_length
        stepped = state.replace(t=t)
        _, fresh = self.reset(key, params, data)
        next_state = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), fresh, stepped)
        obs = self.get_obs(next_state, params, data)
        return obs, next_state, reward, done, {"t": t}

"""The dummy stress env: phase-1 API, auto-reset, and jit/vmap/scan behaviour."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstress.envs.dummy import DummyEnv, DummyParams, DummyState

KEY = jax.random.PRNGKey(0)


def test_api_shapes_and_dtypes() -> None:
    env = DummyEnv(obs_size=5, episode_length=3)
    params = env.default_params()
    assert env.num_actions == 3
    assert env.observation_size(params) == 5
    assert isinstance(params, DummyParams)
    obs, state = env.reset(KEY, params, None)
    assert obs.shape == (5,) and obs.dtype == jnp.float32
    assert isinstance(state, DummyState) and int(state.t) == 0
    obs2, state2, reward, done, info = env.step(KEY, state, jnp.int32(0), params, None)
    assert obs2.shape == (5,)
    assert reward.dtype == jnp.float32 and reward.shape == ()
    assert done.dtype == jnp.bool_ and done.shape == ()
    assert int(state2.t) == 1 and int(info["t"]) == 1


def test_reward_and_auto_reset() -> None:
    env = DummyEnv(obs_size=2, episode_length=3)
    params = env.default_params()
    _, state = env.reset(KEY, params, None)
    keys = jax.random.split(jax.random.PRNGKey(1), 3)
    rewards, dones = [], []
    for k, action in zip(keys, (0, 1, 0), strict=True):
        _, state, reward, done, _ = env.step(k, state, jnp.int32(action), params, None)
        rewards.append(float(reward))
        dones.append(bool(done))
    assert rewards == [1.0, 0.0, 1.0]  # only rewarded_action (0) pays
    assert dones == [False, False, True]
    assert int(state.t) == 0  # auto-reset after the last step
    np.testing.assert_array_equal(state.obs_key, keys[-1])  # the reset used the step key


def test_observation_recomputable_from_state() -> None:
    env = DummyEnv(obs_size=4, episode_length=2)
    params = env.default_params()
    obs, state = env.reset(KEY, params, None)
    np.testing.assert_array_equal(obs, env.get_obs(state, params, None))
    for i in range(3):  # crosses an episode boundary
        obs, state, *_ = env.step(jax.random.PRNGKey(i), state, jnp.int32(1), params, None)
        np.testing.assert_array_equal(obs, env.get_obs(state, params, None))


def test_jit_vmap_scan_match_eager() -> None:
    env = DummyEnv(obs_size=3, episode_length=4)
    params = env.default_params()
    n_envs, n_steps = 5, 10
    obs, states = jax.vmap(env.reset, in_axes=(0, None, None))(
        jax.random.split(KEY, n_envs), params, None
    )
    assert obs.shape == (n_envs, 3)

    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None, None)))

    def body(carry, key):
        states = carry
        actions = jnp.zeros((n_envs,), jnp.int32)
        _, states, reward, done, _ = step(
            jax.random.split(key, n_envs), states, actions, params, None
        )
        return states, (reward, done)

    keys = jax.random.split(jax.random.PRNGKey(2), n_steps)
    final, (rewards, dones) = jax.jit(lambda s: jax.lax.scan(body, s, keys))(states)
    assert rewards.shape == dones.shape == (n_steps, n_envs)
    np.testing.assert_array_equal(rewards, 1.0)
    assert int(dones.sum()) == n_envs * (n_steps // 4)
    np.testing.assert_array_equal(final.t, n_steps % 4)

    # Eager, env by env, gives the same states.
    s = jax.tree_util.tree_map(lambda x: x[0], states)
    for key in keys:
        _, s, *_ = env.step(jax.random.split(key, n_envs)[0], s, jnp.int32(0), params, None)
    np.testing.assert_array_equal(s.t, final.t[0])
    np.testing.assert_array_equal(s.obs_key, final.obs_key[0])


def test_params_are_traced_not_static() -> None:
    """Changing episode_length or the rewarded action needs no recompilation."""
    env = DummyEnv(obs_size=2, episode_length=4)
    _, state = env.reset(KEY, env.default_params(), None)
    step = jax.jit(env.step)
    for length, rewarded in ((1, 2), (5, 1)):
        params = DummyParams(episode_length=jnp.int32(length), rewarded_action=jnp.int32(rewarded))
        _, _, reward, done, _ = step(KEY, state, jnp.int32(rewarded), params, None)
        assert float(reward) == 1.0 and bool(done) == (length == 1)
    assert step._cache_size() == 1


@pytest.mark.parametrize("kwargs", [{"obs_size": 0}, {"episode_length": 0}])
def test_rejects_bad_sizes(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        DummyEnv(**kwargs)

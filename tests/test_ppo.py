"""PPO pieces against hand computation, and the jitted trainer on the dummy env."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstress.envs.dummy import DummyEnv
from jaxstress.ppo import (
    ActorCritic,
    Batch,
    ConfigError,
    PPOConfig,
    collect_rollout,
    entropy,
    gae,
    learning_rate_schedule,
    log_prob,
    make_init,
    make_network,
    make_train,
    make_train_chunk,
    normalize,
    policy_loss,
    ppo_loss,
    rollout_memory,
    value_loss,
)

# ---------------------------------------------------------------- GAE


def gae_reference(rewards, values, dones, last_value, gamma, lam):
    """GAE by its definition: A_t = sum_k (gamma lam)^k delta_{t+k}, stopping at episode end."""
    steps, envs = rewards.shape
    adv = np.zeros((steps, envs))
    for e in range(envs):
        for t in range(steps):
            total, coef = 0.0, 1.0
            for k in range(t, steps):
                next_v = values[k + 1, e] if k + 1 < steps else last_value[e]
                delta = rewards[k, e] + gamma * next_v * (1.0 - dones[k, e]) - values[k, e]
                total += coef * delta
                if dones[k, e]:
                    break
                coef *= gamma * lam
            adv[t, e] = total
    return adv, adv + values


@pytest.mark.parametrize(("gamma", "lam"), [(0.99, 0.95), (0.9, 1.0), (1.0, 0.0)])
def test_gae_matches_reference(gamma: float, lam: float) -> None:
    rng = np.random.default_rng(0)
    steps, envs = 12, 3
    rewards = rng.normal(size=(steps, envs)).astype(np.float32)
    values = rng.normal(size=(steps, envs)).astype(np.float32)
    dones = rng.random((steps, envs)) < 0.2
    last = rng.normal(size=envs).astype(np.float32)
    adv, target = jax.jit(gae, static_argnums=(4, 5))(
        jnp.asarray(rewards), jnp.asarray(values), jnp.asarray(dones), jnp.asarray(last), gamma, lam
    )
    want_adv, want_target = gae_reference(rewards, values, dones, last, gamma, lam)
    np.testing.assert_allclose(adv, want_adv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(target, want_target, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- loss pieces


def test_policy_loss_by_hand() -> None:
    new = jnp.log(jnp.array([0.5, 0.2]))
    old = jnp.log(jnp.array([0.4, 0.4]))  # ratios 1.25 and 0.5
    adv = jnp.array([1.0, -2.0])
    # unclipped [1.25, -1.0], clipped [1.2, -1.6]; min [1.2, -1.6]; loss = -mean = 0.2
    assert float(policy_loss(new, old, adv, 0.2)) == pytest.approx(0.2, abs=1e-6)


def test_policy_gradient_is_zero_where_clipped() -> None:
    ratios = jnp.array([1.25, 0.5, 1.1])
    adv = jnp.array([1.0, -2.0, 1.0])
    grad = jax.grad(policy_loss)(jnp.log(ratios), jnp.zeros(3), adv, 0.2)
    # Samples 0 and 1 are clipped (no gradient); sample 2 is inside: d/dlogp -(r A)/3 = -r A / 3.
    np.testing.assert_allclose(grad, [0.0, 0.0, -1.1 / 3], rtol=1e-6, atol=1e-7)


def test_value_loss_by_hand() -> None:
    value = jnp.array([1.0, 3.0])
    old = jnp.array([0.5, 2.0])
    target = jnp.array([2.0, 2.0])
    # clipped values [0.7, 2.2]; squared errors [1, 1] vs [1.69, 0.04]; max [1.69, 1]
    assert float(value_loss(value, old, target, 0.2)) == pytest.approx(0.5 * 2.69 / 2, abs=1e-6)


def test_log_prob_and_entropy_by_hand() -> None:
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]])
    logits = jnp.log(jnp.asarray(probs)) + 3.0  # shift-invariant
    np.testing.assert_allclose(log_prob(logits, jnp.array([0, 2])), np.log([0.5, 0.7]), rtol=1e-5)
    want = -(probs * np.log(probs)).sum(-1)
    np.testing.assert_allclose(entropy(logits), want, rtol=1e-5)


def test_normalize() -> None:
    x = normalize(jnp.array([1.0, 2.0, 3.0, 6.0]))
    assert float(x.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(x.std()) == pytest.approx(1.0, abs=1e-5)


def test_ppo_loss_combines_terms() -> None:
    probs = jnp.array([0.5, 0.3, 0.2])

    def apply_fn(params, obs):
        batch = obs.shape[0]
        return jnp.broadcast_to(jnp.log(params["p"]), (batch, 3)), params["v"] * jnp.ones(batch)

    params = {"p": probs, "v": jnp.float32(1.5)}
    batch = Batch(
        obs=jnp.zeros((4, 2)),
        action=jnp.array([0, 1, 2, 0]),
        old_log_prob=jnp.log(jnp.array([0.4, 0.3, 0.3, 0.6])),
        old_value=jnp.array([1.0, 1.4, 2.0, 1.5]),
        advantage=jnp.array([1.0, -1.0, 0.5, 2.0]),
        target=jnp.array([2.0, 1.0, 1.5, 1.0]),
    )
    total, aux = jax.jit(ppo_loss, static_argnums=(1, 3, 4, 5))(
        params, apply_fn, batch, 0.2, 0.5, 0.01
    )
    new_lp = jnp.log(probs)[batch.action]
    pg = policy_loss(new_lp, batch.old_log_prob, normalize(batch.advantage), 0.2)
    vf = value_loss(jnp.full(4, 1.5), batch.old_value, batch.target, 0.2)
    ent = -(probs * jnp.log(probs)).sum()
    assert float(aux["policy_loss"]) == pytest.approx(float(pg), rel=1e-5)
    assert float(aux["value_loss"]) == pytest.approx(float(vf), rel=1e-5)
    assert float(aux["entropy"]) == pytest.approx(float(ent), rel=1e-5)
    assert float(total) == pytest.approx(float(pg + 0.5 * vf - 0.01 * ent), rel=1e-5)
    assert float(aux["approx_kl"]) >= 0.0
    # ratios 1.25, 1.0, 0.667, 0.833 -> two outside [0.8, 1.2]
    assert float(aux["clip_frac"]) == pytest.approx(0.5)


# ---------------------------------------------------------------- config, network, schedule


def test_config_validation_and_derived_sizes() -> None:
    cfg = PPOConfig(num_envs=4, num_steps=8, total_timesteps=100, num_minibatches=2)
    assert cfg.batch_size == 32 and cfg.minibatch_size == 16
    assert cfg.num_updates == math.ceil(100 / 32)  # rounded up: at least the asked-for steps
    with pytest.raises(ConfigError, match="divisible"):
        PPOConfig(num_envs=3, num_steps=1, num_minibatches=2)
    with pytest.raises(ConfigError, match="num_envs"):
        PPOConfig(num_envs=0)
    with pytest.raises(ConfigError, match="unknown"):
        PPOConfig.from_dict({"num_env": 4})
    with pytest.raises(ConfigError, match="lr must be float"):
        PPOConfig.from_dict({"lr": "fast"})
    assert PPOConfig.from_dict({"lr": 1, "hidden_sizes": [8, 4]}).hidden_sizes == (8, 4)
    assert PPOConfig.from_dict(cfg.to_dict()) == cfg


def test_learning_rate_anneals_linearly_to_zero() -> None:
    cfg = PPOConfig(num_envs=2, num_steps=2, total_timesteps=40, update_epochs=2, num_minibatches=2)
    schedule = learning_rate_schedule(cfg)
    per_update = 4  # optimizer steps per update
    lrs = [float(schedule(jnp.int32(u * per_update))) for u in range(cfg.num_updates + 2)]
    np.testing.assert_allclose(lrs[: cfg.num_updates], cfg.lr * (1 - np.arange(10) / 10), rtol=1e-6)
    assert lrs[-1] == 0.0  # clamped past the planned end (resumed runs)
    assert learning_rate_schedule(cfg.replace(anneal_lr=False)) == cfg.lr


def test_actor_critic_shapes_and_near_uniform_start() -> None:
    net = ActorCritic(num_actions=3, hidden_sizes=(8, 8))
    params = jax.jit(net.init)(jax.random.PRNGKey(0), jnp.zeros((5, 4)))
    logits, value = jax.jit(net.apply)(params, jax.random.normal(jax.random.PRNGKey(1), (5, 4)))
    assert logits.shape == (5, 3) and value.shape == (5,)
    assert float(jnp.max(jnp.abs(jax.nn.softmax(logits) - 1 / 3))) < 0.05


# ---------------------------------------------------------------- the jitted trainer

# Dummy env: action 0 pays 1 per step, so the optimal return is 8 and a random policy's 8 / 3.
DUMMY = DummyEnv(obs_size=4, episode_length=8)
SMALL = PPOConfig(
    num_envs=16,
    num_steps=16,
    total_timesteps=16 * 16 * 12,
    update_epochs=4,
    num_minibatches=2,
    lr=1e-2,
    ent_coef=0.0,
    hidden_sizes=(16,),
)


@pytest.fixture(scope="module")
def small_run():
    train = make_train(SMALL, DUMMY, DUMMY.default_params(), None)
    return jax.block_until_ready(train(jax.random.PRNGKey(0)))


@pytest.mark.slow
def test_make_train_runs_with_finite_metrics(small_run) -> None:
    runner, metrics = small_run
    assert int(runner.update_step) == SMALL.num_updates == 12
    np.testing.assert_array_equal(metrics["update"], np.arange(1, 13))
    for name in ("total_loss", "policy_loss", "value_loss", "entropy", "approx_kl", "lr"):
        assert metrics[name].shape == (12,)
        assert np.all(np.isfinite(metrics[name])), name
    # 16 envs x 16 steps with 8-step episodes: 32 episodes finish in every update.
    np.testing.assert_array_equal(metrics["episodes"], 32)
    np.testing.assert_allclose(
        np.asarray(metrics["lr"])[[0, -1]], [SMALL.lr, SMALL.lr / 12], rtol=1e-6
    )


@pytest.mark.slow
def test_learns_the_rewarded_action(small_run) -> None:
    """Known answer: the return climbs from the random policy's 8/3 towards the optimum 8."""
    returns = np.asarray(small_run[1]["mean_episode_return"])
    assert returns[0] < 8 / 3 + 1
    assert returns[-3:].mean() > 6


@pytest.mark.slow
def test_chunks_reproduce_the_single_jit_run(small_run) -> None:
    """Chunks of 5 + 5 + 2 updates (one compilation) land where the one-jit run lands."""
    runner_full, metrics_full = small_run
    runner = jax.jit(make_init(SMALL, DUMMY, DUMMY.default_params()))(jax.random.PRNGKey(0), None)
    chunk = make_train_chunk(SMALL, DUMMY, DUMMY.default_params(), 5)
    parts = []
    for n in (5, 5, 2):
        runner, metrics = chunk(runner, None, np.int32(n))
        parts.append(metrics["total_loss"][:n])
    assert chunk._cache_size() == 1
    assert int(runner.update_step) == 12
    np.testing.assert_array_equal(metrics["update"], [11, 12, 0, 0, 0])  # unused rows are zero
    np.testing.assert_allclose(np.concatenate(parts), metrics_full["total_loss"], rtol=1e-3)
    for a, b in zip(
        jax.tree_util.tree_leaves(runner.params),
        jax.tree_util.tree_leaves(runner_full.params),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_state_buffer_rebuilds_the_stored_observations() -> None:
    """obs_buffer='state' stores env states whose get_obs equals what 'obs' would store."""
    env = DummyEnv(obs_size=3, episode_length=3)
    params = env.default_params()
    cfg = SMALL.replace(num_envs=4, num_steps=5)
    apply = make_network(cfg, env).apply

    @jax.jit
    def both(rng):
        runner = make_init(cfg, env, params)(rng, None)

        def run(store_obs):
            return collect_rollout(
                apply, runner.params, env, params, None, runner.env_state, runner.obs,
                runner.episode_return, runner.rng, cfg.num_steps, store_obs,
            )[1]  # fmt: skip

        with_obs, with_state = run(True), run(False)
        rebuilt = jax.vmap(jax.vmap(env.get_obs, in_axes=(0, None, None)), in_axes=(0, None, None))
        return with_obs, with_state, rebuilt(with_state.obs, params, None)

    with_obs, with_state, rebuilt = both(jax.random.PRNGKey(1))
    np.testing.assert_array_equal(rebuilt, with_obs.obs)
    np.testing.assert_array_equal(with_state.action, with_obs.action)
    assert cfg.stores_obs(env) is False  # "auto" picks states when the env has get_obs
    assert cfg.replace(obs_buffer="obs").stores_obs(env) is True


def test_rollout_memory_estimate_from_shapes() -> None:
    cfg = PPOConfig(num_steps=16, hidden_sizes=(8,), obs_buffer="obs")
    env = DummyEnv(obs_size=10, episode_length=5)
    mem = rollout_memory(cfg, env, env.default_params(), None, measure=False)
    assert mem.breakdown["obs"] == 16 * 10 * 4
    assert mem.breakdown["done"] == 16  # bool
    assert mem.estimated_buffer_bytes == 16 * (10 * 4 + 4 + 4 + 1 + 4 + 4 + 4 + 4)
    lean = rollout_memory(cfg.replace(obs_buffer="state"), env, env.default_params(), measure=False)
    assert lean.breakdown["obs"] == 16 * (4 + 8)  # int32 counter + uint32[2] key
    assert mem.measured_temp_bytes is None


@pytest.mark.slow
def test_rollout_memory_measured_by_xla() -> None:
    cfg = PPOConfig(
        num_steps=16, update_epochs=1, num_minibatches=1, hidden_sizes=(8,), obs_buffer="obs"
    )
    env = DummyEnv(obs_size=64, episode_length=5)
    mem = rollout_memory(cfg, env, env.default_params(), None, envs=(64, 128))
    if mem.measured_temp_bytes is None:
        pytest.skip("this backend gives no memory analysis")
    # The scratch per env holds at least the buffer's observations, and is of its order.
    assert mem.breakdown["obs"] <= mem.measured_temp_bytes < 50 * mem.estimated_buffer_bytes
    # Carried per env: the current observation, the env state and the episode return.
    assert mem.measured_state_bytes == 64 * 4 + 12 + 4


# ---------------------------------------------------------------- learning on the market


@pytest.mark.slow
def test_learns_the_planted_drift_on_the_synthetic_market() -> None:
    """Known answer: fees make random trading lose, so a clearly positive return needs the signal.

    With drift 0 (a control run, not repeated here) the same setup stays below zero; with the
    planted drift the policy learns to trade with the momentum features.
    """
    from jaxstress.data import default_market
    from jaxstress.envs.phase1 import Phase1Env

    env = Phase1Env()
    params = env.default_params().replace(window=4, max_steps=32)
    data = default_market(window=4, drift=0.5)
    cfg = PPOConfig(
        num_envs=32,
        num_steps=32,
        total_timesteps=32 * 32 * 15,
        num_minibatches=4,
        lr=3e-3,
        hidden_sizes=(32, 32),
    )
    _, metrics = make_train(cfg, env, params, data)(jax.random.PRNGKey(0))
    returns = np.asarray(metrics["mean_episode_return"])
    assert np.all(np.isfinite(returns))
    assert returns[0] < 0  # the initial, near-uniform policy pays fees for nothing
    assert returns[-5:].mean() > 0.2
    assert returns[-5:].mean() > returns[0] + 0.3

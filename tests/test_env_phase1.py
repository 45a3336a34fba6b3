"""Phase-1 environment: timing convention, exits, fees, auto-reset, and parity with NumPy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from jax import lax
from reference_env import ReferenceEnv

from jaxstress.data import (
    FEATURE_NAMES,
    NUM_FEATURES,
    MarketData,
    default_market,
    prepare,
    synthetic_market,
)
from jaxstress.envs import EnvParams, EnvState, Phase1Env

ENV = Phase1Env()
STEP_ENV = jax.jit(ENV.step_env)
NO_COSTS = EnvParams(
    fee=0.0, slippage=0.0, stop_loss=0.0, take_profit=0.0, reward_scale=1.0, window=1, max_steps=100
)


TOY_LEN = 16  # toy markets are padded to one shape so the jitted step compiles once


def toy_data(
    o: list[float],
    h: list[float] | None = None,
    lo: list[float] | None = None,
    c: list[float] | None = None,
    session_end: list[int] | None = None,
    starts: tuple[int, ...] = (0,),
) -> MarketData:
    """A hand-written market: features are the bar index, so observations are easy to check.

    Bars after the given ones are flat one-bar sessions that no episode reaches.
    """
    n = len(o)
    c = list(o) if c is None else c
    h = [max(a, b) for a, b in zip(o, c, strict=True)] if h is None else h
    lo = [min(a, b) for a, b in zip(o, c, strict=True)] if lo is None else lo
    session_end = [n - 1] * n if session_end is None else session_end
    pad = TOY_LEN - n
    assert pad >= 0 and len(starts) <= 2

    def series(x: list[float]) -> jax.Array:
        return jnp.asarray(list(x) + [c[-1]] * pad, jnp.float32)

    feats = np.repeat(np.arange(TOY_LEN, dtype=np.float32)[:, None], NUM_FEATURES, axis=1)
    return MarketData(
        open=series(o),
        high=series(h),
        low=series(lo),
        close=series(c),
        volume=jnp.ones(TOY_LEN, jnp.float32),
        features=jnp.asarray(feats),
        rth_mask=jnp.ones(TOY_LEN, bool),
        session_end=jnp.asarray(list(session_end) + list(range(n, TOY_LEN)), jnp.int32),
        start_indices=jnp.asarray((*starts, starts[-1])[:2], jnp.int32),
        window=1,
    )


def run(
    data: MarketData, params: EnvParams, actions: list[int], start: int = 0
) -> list[tuple[EnvState, float, bool, dict]]:
    """Step without auto-reset; return (state, reward, done, info) after each action."""
    _, state = ENV.reset_at(start, params, data)
    out = []
    for a in actions:
        _, state, r, d, info = STEP_ENV(state, jnp.int32(a), params, data)
        out.append((state, float(r), bool(d), {k: np.asarray(v).item() for k, v in info.items()}))
    return out


# -- timing, fills, fees ---------------------------------------------------------------------


def test_buy_fills_at_next_open_with_slippage_and_fee() -> None:
    data = toy_data(o=[100, 101, 102, 103], c=[100.5, 101.5, 102.5, 103.5])
    p = NO_COSTS.replace(fee=0.001, slippage=0.002)
    (state, reward, done, info), *_ = run(data, p, [1, 0])
    entry = np.float32(101) * np.float32(1.002)
    assert int(state.t) == 1 and int(state.position) == 1 and not done
    assert float(state.entry_price) == pytest.approx(float(entry), rel=1e-7)
    assert float(state.realized) == pytest.approx(-0.001, rel=1e-6)
    assert reward == pytest.approx(-0.001 + 101.5 / float(entry) - 1.0, abs=1e-6)
    assert info["fills"] == 1


def test_fees_are_charged_per_fill() -> None:
    data = toy_data(o=[100.0] * 10)
    p = NO_COSTS.replace(fee=0.001)
    #         buy  buy(no-op) sell(close) sell(open short) hold  buy(close)
    steps = run(data, p, [1, 1, 2, 2, 0, 1])
    assert [s[3]["fills"] for s in steps] == [1, 0, 1, 1, 0, 1]
    assert [int(s[0].position) for s in steps] == [1, 1, 0, -1, -1, 0]
    realized = [float(s[0].realized) for s in steps]
    np.testing.assert_allclose(
        realized, [-0.001, -0.001, -0.002, -0.003, -0.003, -0.004], rtol=1e-5
    )
    assert sum(s[1] for s in steps) == pytest.approx(-0.004, rel=1e-5)


def test_invalid_action_holds() -> None:
    steps = run(toy_data(o=[100.0] * 4), NO_COSTS, [7, -1])
    assert [int(s[0].position) for s in steps] == [0, 0]


def test_observation_is_window_up_to_t_plus_position_state() -> None:
    n = 12
    data = toy_data(o=[100.0 + i for i in range(n)], starts=(5,)).replace(window=4)
    p = NO_COSTS.replace(window=4, max_steps=5)
    obs, state = ENV.reset_at(5, p, data)
    assert obs.shape == (ENV.observation_size(p),) == (4 * NUM_FEATURES + 3,)
    rows = np.asarray(obs[:-3]).reshape(4, NUM_FEATURES)
    np.testing.assert_array_equal(rows[:, 0], [2, 3, 4, 5])  # bars t-3..t, nothing after t
    np.testing.assert_allclose(np.asarray(obs[-3:]), [0.0, 0.0, 1.0])
    obs, state, *_ = jax.jit(ENV.step_env)(state, jnp.int32(1), p, data)
    rows = np.asarray(obs[:-3]).reshape(4, NUM_FEATURES)
    np.testing.assert_array_equal(rows[:, 0], [3, 4, 5, 6])
    entry = 106.0  # filled at the open of bar 6; close of bar 6 is 106 too
    np.testing.assert_allclose(np.asarray(obs[-3:]), [1.0, (106.0 / entry - 1) * 100, 4 / 5])


# -- stop-loss / take-profit -----------------------------------------------------------------


def test_stop_loss_long_against_bar_low() -> None:
    #                    bar 0  bar 1 (entry, quiet)  bar 2 touches 98.9
    data = toy_data(o=[100, 100, 100, 99.5], h=[100, 100, 100.2, 99.5], lo=[100, 100, 98.9, 99.5])
    p = NO_COSTS.replace(stop_loss=0.01, take_profit=0.05)
    steps = run(data, p, [1, 0])
    assert int(steps[0][0].position) == 1
    state, _, _, info = steps[1]
    assert info["stop_loss"] and not info["take_profit"] and info["fills"] == 1
    assert int(state.position) == 0
    assert float(state.realized) == pytest.approx(99.0 / 100.0 - 1.0, abs=1e-6)


def test_take_profit_long_against_bar_high() -> None:
    data = toy_data(o=[100, 100, 100, 100], h=[100, 100, 101.2, 100], lo=[100, 100, 99.9, 100])
    p = NO_COSTS.replace(stop_loss=0.01, take_profit=0.01)
    state, _, _, info = run(data, p, [1, 0])[1]
    assert info["take_profit"] and not info["stop_loss"]
    assert float(state.realized) == pytest.approx(0.01, abs=1e-6)


def test_both_touched_in_one_bar_stop_wins() -> None:
    data = toy_data(o=[100, 100, 100, 100], h=[100, 100, 102, 100], lo=[100, 100, 98, 100])
    p = NO_COSTS.replace(stop_loss=0.01, take_profit=0.01)
    state, _, _, info = run(data, p, [1, 0])[1]
    assert info["stop_loss"] and not info["take_profit"]
    assert float(state.realized) == pytest.approx(-0.01, abs=1e-6)


def test_short_stop_and_target_are_mirrored() -> None:
    data = toy_data(o=[100, 100, 100, 100], h=[100, 100, 101.5, 100], lo=[100, 100, 99.5, 100])
    p = NO_COSTS.replace(stop_loss=0.01, take_profit=0.01)
    state, _, _, info = run(data, p, [2, 0])[1]
    assert info["stop_loss"] and float(state.realized) == pytest.approx(-0.01, abs=1e-6)
    data = toy_data(o=[100, 100, 100, 100], h=[100, 100, 100.5, 100], lo=[100, 100, 98.5, 100])
    state, _, _, info = run(data, p, [2, 0])[1]
    assert info["take_profit"] and float(state.realized) == pytest.approx(0.01, abs=1e-6)


def test_stop_is_checked_on_the_entry_bar() -> None:
    data = toy_data(o=[100, 100, 100], h=[100, 100, 100], lo=[100, 98, 100])
    state, _, _, info = run(data, NO_COSTS.replace(stop_loss=0.01), [1])[0]
    assert info["stop_loss"] and info["fills"] == 2 and int(state.position) == 0
    assert float(state.realized) == pytest.approx(-0.01, abs=1e-6)


def test_gap_through_stop_fills_at_the_open() -> None:
    data = toy_data(o=[100, 100, 97, 97], h=[100, 100, 97.5, 97], lo=[100, 100, 96.5, 97])
    p = NO_COSTS.replace(stop_loss=0.01, fee=0.001, slippage=0.001)
    entry = 100 * 1.001
    state, _, _, info = run(data, p, [1, 0])[1]
    exit_px = 97 * 0.999
    expected = -0.001 + (exit_px / entry - 1) - 0.001 * exit_px / entry
    assert info["stop_loss"] and float(state.realized) == pytest.approx(expected, abs=1e-6)


def test_stops_disabled_by_zero() -> None:
    data = toy_data(o=[100, 100, 100, 100], h=[100, 100, 150, 100], lo=[100, 100, 50, 100])
    state, _, _, info = run(data, NO_COSTS, [1, 0])[1]
    assert not info["stop_loss"] and not info["take_profit"] and int(state.position) == 1


# -- episode end, auto-reset -----------------------------------------------------------------


def test_flatten_at_session_close() -> None:
    # session 0 is bars 0..3, session 1 is bars 4..7
    data = toy_data(
        o=[100, 100, 100, 100, 100, 100, 100, 100],
        c=[100, 100, 100, 102, 100, 100, 100, 100],
        session_end=[3, 3, 3, 3, 7, 7, 7, 7],
        starts=(0, 4),
    )
    p = NO_COSTS.replace(fee=0.001)
    steps = run(data, p, [1, 0, 0])
    state, _reward, _done, info = steps[-1]
    assert [s[2] for s in steps] == [False, False, True]
    assert info["flattened"] and not info["truncated"] and info["fills"] == 1
    assert int(state.t) == 3 and int(state.position) == 0
    assert float(state.realized) == pytest.approx(-0.001 + 0.02 - 0.001 * 1.02, abs=1e-6)
    assert float(state.equity) == pytest.approx(1 + float(state.realized), abs=1e-7)


def test_truncation_at_max_steps_also_flattens() -> None:
    data = toy_data(o=[100.0] * 10)
    steps = run(data, NO_COSTS.replace(max_steps=3), [1, 0, 0])
    assert steps[-1][2] and steps[-1][3]["truncated"] and steps[-1][3]["flattened"]


def test_auto_reset_returns_reset_state_and_obs() -> None:
    data = toy_data(o=[100.0 + i for i in range(8)], session_end=[3] * 4 + [7] * 4, starts=(0, 4))
    p = NO_COSTS.replace(max_steps=3)
    key = jax.random.key(7)
    obs, state = ENV.reset_at(1, p, data)
    step = jax.jit(ENV.step)
    obs, state, _, done, _ = step(key, state, jnp.int32(1), p, data)
    assert not bool(done)
    obs, state, reward, done, _ = step(key, state, jnp.int32(0), p, data)
    assert bool(done)
    obs_re, state_re = ENV.reset(key, p, data)
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(state_re), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(obs, obs_re)
    assert float(state.equity) == 1.0 and int(state.position) == 0
    assert reward == pytest.approx(103.0 / 102.0 - 1.0, abs=1e-6)  # bought at 102, out at 103


def test_reset_samples_only_start_indices() -> None:
    data = default_market()
    keys = jax.random.split(jax.random.key(0), 2000)
    _, states = jax.jit(jax.vmap(ENV.reset, in_axes=(0, None, None)))(
        keys, ENV.default_params(), data
    )
    starts = np.asarray(states.start)
    assert np.isin(starts, np.asarray(data.start_indices)).all()
    assert len(np.unique(starts)) > 1000
    assert (np.asarray(states.end) > starts).all()


def test_window_larger_than_prepared_history_is_refused() -> None:
    data = default_market(window=32)
    with pytest.raises(ValueError, match=r"params.window=64 exceeds"):
        ENV.reset(jax.random.key(0), ENV.default_params().replace(window=64), data)


# -- no look-ahead ---------------------------------------------------------------------------


def test_perturbing_future_bars_changes_nothing_seen_at_t() -> None:
    bars = synthetic_market(seed=5, days=3, drift=0.3)
    data = prepare(bars, window=16)
    p = EnvParams(window=16, max_steps=390, stop_loss=0.002, take_profit=0.003)
    start = int(data.start_indices[40])
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 3, size=60)
    for cut in (start, start + 17, start + 45):
        future = bars.index > cut
        shaken = bars.copy()
        scale = np.exp(rng.normal(0, 0.01, size=future.sum()))
        for col in ("open", "high", "low", "close"):
            shaken.loc[future, col] *= scale
        shaken.loc[future, "volume"] *= rng.uniform(0.1, 10, size=future.sum())
        other = prepare(shaken, window=16)
        np.testing.assert_array_equal(other.features[: cut + 1], data.features[: cut + 1])
        assert not np.array_equal(other.features[cut + 1 :], data.features[cut + 1 :])
        np.testing.assert_array_equal(other.start_indices, data.start_indices)
        obs_a, s_a = ENV.reset_at(start, p, data)
        obs_b, s_b = ENV.reset_at(start, p, other)
        for a in actions:
            if int(s_a.t) > cut:
                break
            np.testing.assert_array_equal(obs_a, obs_b)  # what the agent sees at t
            for x, y in zip(jax.tree.leaves(s_a), jax.tree.leaves(s_b), strict=True):
                np.testing.assert_array_equal(x, y)
            obs_a, s_a, *_ = STEP_ENV(s_a, jnp.int32(a), p, data)
            obs_b, s_b, *_ = STEP_ENV(s_b, jnp.int32(a), p, other)
        assert int(s_a.t) == cut + 1
        assert not np.array_equal(obs_a, obs_b)  # the perturbation is visible one bar later


# -- parity with the NumPy reference ---------------------------------------------------------


def _rollout_jax(params: EnvParams, data: MarketData, n_envs: int, n_steps: int, seed: int):
    key_reset, key_steps, key_actions = jax.random.split(jax.random.key(seed), 3)
    reset_keys = jax.random.split(key_reset, n_envs)
    step_keys = jax.random.split(key_steps, (n_steps, n_envs))
    actions = jax.random.randint(key_actions, (n_steps, n_envs), 0, 3)
    vstep = jax.vmap(ENV.step, in_axes=(0, 0, 0, None, None))

    @jax.jit
    def rollout(reset_keys, step_keys, actions, params, data):
        obs0, state0 = jax.vmap(ENV.reset, in_axes=(0, None, None))(reset_keys, params, data)

        def body(state, xs):
            k, a = xs
            obs, state, reward, done, info = vstep(k, state, a, params, data)
            return state, (obs, state, reward, done, info)

        _, traj = lax.scan(body, state0, (step_keys, actions))
        return obs0, state0, traj

    out = rollout(reset_keys, step_keys, actions, params, data)
    return reset_keys, step_keys, np.asarray(actions), jax.tree.map(np.asarray, out)


def _assert_same(name: str, got: np.ndarray, want: np.ndarray, tol: float | None = None) -> None:
    """Compare [steps, envs, ...] arrays; on failure name the first (step, env) that differs."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    bad = got != want if tol is None else ~np.isclose(got, want, rtol=tol, atol=tol)
    bad = bad.reshape(*got.shape[:2], -1).any(axis=-1) if got.ndim > 2 else bad
    if bad.any():
        s, b = np.argwhere(bad)[0]
        raise AssertionError(
            f"{name} differs at step {s}, env {b} ({int(bad.sum())} places): "
            f"jax={got[s, b]!r} reference={want[s, b]!r}"
        )


INFO_KEYS = ("fills", "stop_loss", "take_profit", "flattened", "truncated")
INT_FIELDS = ("t", "start", "end", "position")
FLOAT_FIELDS = ("entry_price", "realized", "equity")


def _check_parity(
    params: EnvParams, data: MarketData, n_envs: int, n_steps: int, seed: int
) -> dict:
    """Drive JAX (jit+vmap+scan) and the reference with the same keys and actions; compare all."""
    reset_keys, step_keys, actions, (obs0, state0, traj) = _rollout_jax(
        params, data, n_envs, n_steps, seed
    )
    obs, states, rewards, dones, infos = traj
    raw_reset = np.asarray(jax.random.key_data(reset_keys))
    raw_step = np.asarray(jax.random.key_data(step_keys))
    ref = ReferenceEnv(data, params)
    r_obs = np.zeros_like(obs)
    r_rew = np.zeros_like(rewards)
    r_done = np.zeros_like(dones)
    r_fields = {f: np.zeros_like(getattr(states, f)) for f in INT_FIELDS + FLOAT_FIELDS}
    r_info = {k: np.zeros_like(infos[k]) for k in (*INFO_KEYS, "equity")}
    for b in range(n_envs):
        o, state = ref.reset(raw_reset[b])
        np.testing.assert_allclose(obs0[b], o, rtol=1e-6, atol=1e-6)
        assert int(state0.start[b]) == state.start
        for s in range(n_steps):
            o, state, reward, done, info = ref.step(raw_step[s, b], state, int(actions[s, b]))
            r_obs[s, b], r_rew[s, b], r_done[s, b] = o, reward, done
            for f, arr in r_fields.items():
                arr[s, b] = getattr(state, f)
            for k, arr in r_info.items():
                arr[s, b] = info[k]
    # discrete outcomes first: they explain any later float difference
    _assert_same("done", dones, r_done)
    for k in INFO_KEYS:
        _assert_same(f"info[{k!r}]", infos[k], r_info[k])
    for f in INT_FIELDS:
        _assert_same(f"state.{f}", getattr(states, f), r_fields[f])
    for f in FLOAT_FIELDS:
        _assert_same(f"state.{f}", getattr(states, f), r_fields[f], tol=1e-5)
    _assert_same("info['equity']", infos["equity"], r_info["equity"], tol=1e-5)
    _assert_same("reward", rewards, r_rew, tol=1e-4)
    _assert_same("obs", obs, r_obs, tol=1e-5)
    return {"episodes": int(r_done.sum())} | {k: int(r_info[k].sum()) for k in INFO_KEYS[1:]}


@pytest.fixture(scope="module")
def small_market() -> MarketData:
    return prepare(synthetic_market(seed=3, days=4, drift=0.2), window=16)


@pytest.mark.slow
def test_parity_with_numpy_reference(small_market: MarketData) -> None:
    params = EnvParams(
        fee=2e-4, slippage=1e-4, stop_loss=1e-3, take_profit=1.5e-3, window=16, max_steps=30
    )
    counts = _check_parity(params, small_market, n_envs=12, n_steps=250, seed=0)
    # the run must actually exercise every path it claims to check
    assert counts["episodes"] >= 80
    assert counts["stop_loss"] >= 20 and counts["take_profit"] >= 20
    assert counts["flattened"] >= 20 and counts["truncated"] >= 20
    assert counts["truncated"] < counts["episodes"]  # some episodes ended at the session close


@pytest.mark.slow
def test_parity_gap_through_and_short_windows() -> None:
    bars = synthetic_market(seed=11, days=3, gap_vol=0.02, vol=2e-3)
    data = prepare(bars, window=8, min_episode_bars=2)
    params = EnvParams(
        fee=0.0, slippage=3e-4, stop_loss=4e-3, take_profit=0.0, window=4, max_steps=7
    )
    counts = _check_parity(params, data, n_envs=8, n_steps=150, seed=1)
    assert counts["stop_loss"] > 0 and counts["take_profit"] == 0


@pytest.mark.slow
def test_parity_default_market_many_episodes() -> None:
    params = Phase1Env().default_params().replace(max_steps=60, stop_loss=2e-3, take_profit=3e-3)
    counts = _check_parity(params, default_market(), n_envs=32, n_steps=400, seed=2)
    assert counts["episodes"] >= 180


@pytest.mark.slow
def test_eager_step_matches_jit(small_market: MarketData) -> None:
    p = EnvParams(window=16, max_steps=20, stop_loss=1e-3, take_profit=1e-3)
    obs_e, s_e = ENV.reset(jax.random.key(3), p, small_market)
    obs_j, s_j = obs_e, s_e
    jstep = jax.jit(ENV.step)
    for i, a in enumerate([1, 0, 0, 2, 2, 0, 1, 1, 0, 2] * 3):
        k = jax.random.key(100 + i)
        obs_e, s_e, r_e, d_e, _ = ENV.step(k, s_e, a, p, small_market)
        obs_j, s_j, r_j, d_j, _ = jstep(k, s_j, jnp.int32(a), p, small_market)
        np.testing.assert_allclose(obs_e, obs_j, rtol=1e-6, atol=1e-6)
        assert bool(d_e) == bool(d_j)
        np.testing.assert_allclose(r_e, r_j, rtol=1e-5, atol=1e-6)


# -- the shape PPO will use ------------------------------------------------------------------


@pytest.mark.slow
def test_jit_vmap_step_inside_scan_64_envs() -> None:
    data = default_market()
    params = ENV.default_params()
    n_envs, n_steps = 64, 300
    vstep = jax.vmap(ENV.step, in_axes=(0, 0, 0, None, None))
    step = jax.jit(vstep)  # the exact form the trainer uses; nested jit inside scan is fine

    @jax.jit
    def rollout(key, params, data):
        keys = jax.random.split(key, n_envs)
        obs, state = jax.vmap(ENV.reset, in_axes=(0, None, None))(keys, params, data)

        def body(carry, key):
            state, obs = carry
            k_act, k_step = jax.random.split(key)
            action = jax.random.randint(k_act, (n_envs,), 0, ENV.num_actions)
            obs, state, reward, done, info = step(
                jax.random.split(k_step, n_envs), state, action, params, data
            )
            return (state, obs), (reward, done, info["fills"])

        return lax.scan(body, (state, obs), jax.random.split(key, n_steps))

    (_state, obs), (rewards, dones, fills) = rollout(jax.random.key(0), params, data)
    assert obs.shape == (n_envs, ENV.observation_size(params)) and obs.dtype == jnp.float32
    assert rewards.shape == dones.shape == (n_steps, n_envs)
    assert np.isfinite(np.asarray(obs)).all() and np.isfinite(np.asarray(rewards)).all()
    assert int(dones.sum()) > 0 and int(fills.sum()) > 0
    # params are traced leaves: a different fee reuses the compiled rollout
    before = rollout._cache_size()
    rollout(jax.random.key(1), params.replace(fee=3e-4), data)
    assert rollout._cache_size() == before


def test_env_state_is_small() -> None:
    _, state = ENV.reset(jax.random.key(0), ENV.default_params(), default_market())
    assert sum(x.nbytes for x in jax.tree.leaves(state)) == 28


def test_bars_frame_unchanged_by_prepare() -> None:
    bars = synthetic_market(days=2)
    copy = bars.copy()
    prepare(bars, window=8)
    pd.testing.assert_frame_equal(bars, copy)


@pytest.mark.slow
@pytest.mark.parametrize(("drift", "profitable"), [(0.2, True), (0.0, False)])
def test_planted_signal_pays_after_costs(drift: float, profitable: bool) -> None:
    """A fixed momentum rule beats default fees and slippage only when ``drift`` plants a signal,
    so there is something for PPO to learn on the default market (and nothing without drift)."""
    data = default_market(drift=drift)
    params = ENV.default_params()
    mom = (params.window - 1) * NUM_FEATURES + FEATURE_NAMES.index("momentum")
    n_envs, n_steps = 64, 600
    vstep = jax.vmap(ENV.step, in_axes=(0, 0, 0, None, None))

    @jax.jit
    def rollout(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        obs, state = jax.vmap(ENV.reset, in_axes=(0, None, None))(
            jax.random.split(key, n_envs), params, data
        )

        def body(carry, k):
            obs, state = carry
            target = jnp.sign(obs[:, mom]).astype(jnp.int32)
            action = jnp.where(target > state.position, 1, jnp.where(target < state.position, 2, 0))
            obs, state, reward, done, _ = vstep(
                jax.random.split(k, n_envs), state, action, params, data
            )
            return (obs, state), (reward, done)

        return lax.scan(body, (obs, state), jax.random.split(key, n_steps))[1]

    rewards, dones = rollout(jax.random.key(0))
    per_episode = float(rewards.sum() / dones.sum())
    assert (per_episode > 0.5) if profitable else (per_episode < 0.0)

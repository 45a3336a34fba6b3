"""Phase-1 trading environment: one instrument, one unit, gymnax-style and pure JAX.

Functional API: ``reset(key, params, data) -> (obs, state)`` and
``step(key, state, action, params, data) -> (obs, state, reward, done, info)``, jit- and
vmap-able, with no Python control flow on traced values (every branch is a ``jnp.where``).
``params`` and ``data`` are arguments, never closed over, so one compiled step serves any market.

Bar-timing convention (pinned by ``tests/test_env_phase1.py`` and ``tests/reference_env.py``)
-------------------------------------------------------------------------------------------
Bar ``t`` has timestamp = its open time; the agent decides at the *close* of bar ``t``.

1. Observation at ``t``: the feature rows of bars ``t-window+1 .. t`` (``lax.dynamic_slice``;
   features are causal, see `jaxstress.data.features`), flattened, then three position
   values: the position, its unrealised return at ``close[t]`` in percent, and the fraction of
   the episode left (from the session calendar, known in advance). Nothing from bar ``t+1``
   or later is visible.
2. The action chosen at ``t`` is a market order filled at the **open of bar t+1**, moved
   against the trader by ``slippage`` (buy at ``open*(1+slippage)``, sell at
   ``open*(1-slippage)``). Every fill pays ``fee`` times its notional.
3. Stop-loss and take-profit are checked against **bar t+1's high/low** (the whole range of a
   bar happens after its open, so this includes the entry bar). The levels are fractions of
   the entry fill price. When both are touched in one bar the **stop wins** (the bar's path is
   unknown; assume the worst). A bar that opens beyond a level fills at its open (gap-through).
   Exits pay slippage and fee like any fill.
4. If ``t+1`` is the episode's last bar (the session's last RTH bar, or ``max_steps`` reached)
   any position is **flattened at close[t+1]** (slippage and fee) and ``done`` is true.
5. ``reward = reward_scale * (equity[t+1] - equity[t])``, equity marked at the close.

Positions: ``position`` is -1 (short), 0 (flat) or +1 (long) units; one unit has notional 1.0 at
entry (quantity ``1 / entry_price``), and equity starts at 1.0 each episode, so P&L and rewards
are returns whatever the instrument's price level. Actions move the position by one unit:
0 hold, 1 buy (short -> flat, flat -> long; long stays long), 2 sell (the mirror); any other
value holds. So each step makes at most one order fill, plus possibly one exit fill.

Episodes live inside one session: they start at ``data.start_indices[i]`` with ``i`` drawn
from ``key`` (`Phase1Env.sample_start`) and end at ``min(session_end[start], start +
max_steps)``. ``step`` auto-resets: on ``done`` it returns ``reset(key, params, data)`` instead of the finished state,
using the step's ``key`` unchanged (the step itself is deterministic).

Memory: `EnvState` is seven 32-bit scalars. The observation is a pure function of the state
and ``data`` (`Phase1Env.get_obs`), so a rollout buffer may store states (or ``t`` and the
position fields) instead of ``window x features`` floats and rebuild observations on demand.
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
from jax import lax

from jaxstress.data import NUM_FEATURES, MarketData

__all__ = ["PNL_OBS_SCALE", "EnvParams", "EnvState", "Phase1Env"]

PNL_OBS_SCALE = 100.0  # unrealised return in the observation is given in percent
NUM_POSITION_FEATURES = 3  # position, unrealised return, fraction of the episode left

HOLD, BUY, SELL = 0, 1, 2


class EnvParams(flax.struct.PyTreeNode):
    """Environment parameters; the numeric ones are traced leaves so sweeps need no recompile."""

    fee: float = 1e-4  # fraction of a fill's notional, charged per fill
    slippage: float = 1e-4  # fraction of the price, always against the trader
    stop_loss: float = 0.005  # fraction of the entry price; 0 disables
    take_profit: float = 0.01  # fraction of the entry price; 0 disables
    reward_scale: float = 100.0  # rewards in percent of starting equity
    window: int = flax.struct.field(pytree_node=False, default=32)  # bars per observation
    max_steps: int = flax.struct.field(pytree_node=False, default=390)  # episode length cap


class EnvState(flax.struct.PyTreeNode):
    """Per-env state: seven 32-bit scalars (28 bytes)."""

    t: jax.Array  # int32: the bar whose close was just observed
    start: jax.Array  # int32: the episode's first bar
    end: jax.Array  # int32: the episode's last bar (session end or start + max_steps)
    position: jax.Array  # int32: -1, 0 or +1 units
    entry_price: jax.Array  # float32: fill price of the open position (0 when flat)
    realized: jax.Array  # float32: realised P&L net of fees since the episode start
    equity: jax.Array  # float32: 1 + realised + unrealised, marked at close[t]

    @property
    def steps(self) -> jax.Array:
        """Steps taken in this episode."""
        return self.t - self.start


def _at(x: jax.Array, i: jax.Array) -> jax.Array:
    """x[i] for a traced scalar index, written as the explicit dynamic index it is."""
    return lax.dynamic_index_in_dim(x, i, axis=0, keepdims=False)


def _exit_pnl(pos: jax.Array, entry: jax.Array, base: jax.Array, params: EnvParams) -> jax.Array:
    """P&L of closing ``pos`` units at ``base`` (before slippage), net of the exit fee."""
    px = base * (1.0 - pos * params.slippage)
    return pos * (px / entry - 1.0) - params.fee * (px / entry)


class Phase1Env:
    """Stateless environment object; all state lives in `EnvState`, all data in `MarketData`."""

    num_actions: int = 3

    def __init__(self, num_features: int = NUM_FEATURES) -> None:
        self.num_features = num_features

    def default_params(self) -> EnvParams:
        return EnvParams()

    def observation_size(self, params: EnvParams) -> int:
        return params.window * self.num_features + NUM_POSITION_FEATURES

    def _check(self, params: EnvParams, data: MarketData) -> None:
        """Static (trace-time) shape checks: all operands here are Python ints."""
        if params.window > data.window:
            raise ValueError(
                f"params.window={params.window} exceeds the history guaranteed by the data "
                f"(prepared with window={data.window}); prepare() the data with a larger window"
            )
        if data.features.shape[1] != self.num_features:
            raise ValueError(
                f"data has {data.features.shape[1]} features, env expects {self.num_features}"
            )
        if params.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {params.max_steps}")

    def get_obs(self, state: EnvState, params: EnvParams, data: MarketData) -> jax.Array:
        """Flattened float32 observation for a decision at ``state.t`` (bars <= t only)."""
        w = params.window
        window = lax.dynamic_slice_in_dim(data.features, state.t - (w - 1), w, axis=0)
        held = state.position != 0
        pos = state.position.astype(jnp.float32)
        entry = jnp.where(held, state.entry_price, 1.0)
        close = _at(data.close, state.t)
        unrealised = jnp.where(held, pos * (close / entry - 1.0), 0.0)
        left = (state.end - state.t).astype(jnp.float32) / params.max_steps
        extra = jnp.stack([pos, unrealised * PNL_OBS_SCALE, left]).astype(jnp.float32)
        return jnp.concatenate([window.reshape(-1).astype(jnp.float32), extra])

    def reset_at(
        self, start: jax.Array, params: EnvParams, data: MarketData
    ) -> tuple[jax.Array, EnvState]:
        """Start an episode at bar ``start`` (must be one of ``data.start_indices``)."""
        self._check(params, data)
        start = jnp.asarray(start, jnp.int32)
        end = jnp.minimum(_at(data.session_end, start), start + params.max_steps)
        state = EnvState(
            t=start,
            start=start,
            end=end.astype(jnp.int32),
            position=jnp.zeros((), jnp.int32),
            entry_price=jnp.zeros((), jnp.float32),
            realized=jnp.zeros((), jnp.float32),
            equity=jnp.ones((), jnp.float32),
        )
        return self.get_obs(state, params, data), state

    def sample_start(self, key: jax.Array, data: MarketData) -> jax.Array:
        """A start bar drawn uniformly from ``data.start_indices``: ``bits(key) % N``.

        One 32-bit draw modulo N (bias below N / 2**32) rather than ``randint``, whose unbiased
        two-draw scheme doubles the threefry code XLA must compile for every reset site.
        """
        n = data.start_indices.shape[0]
        i = (jax.random.bits(key, (), jnp.uint32) % jnp.uint32(n)).astype(jnp.int32)
        return jnp.take(data.start_indices, i)

    def reset(
        self, key: jax.Array, params: EnvParams, data: MarketData
    ) -> tuple[jax.Array, EnvState]:
        return self.reset_at(self.sample_start(key, data), params, data)

    def step_env(
        self, state: EnvState, action: jax.Array, params: EnvParams, data: MarketData
    ) -> tuple[jax.Array, EnvState, jax.Array, jax.Array, dict[str, jax.Array]]:
        """One step without auto-reset; see the module docstring for the timing."""
        self._check(params, data)
        f32 = jnp.float32
        n = state.t + 1
        bar_open, high, low, close = (
            _at(x, n) for x in (data.open, data.high, data.low, data.close)
        )
        action = jnp.asarray(action).astype(jnp.int32)

        # 1. the order, filled at the open of bar n
        p0 = state.position
        delta = jnp.where(action == BUY, 1, jnp.where(action == SELL, -1, 0))
        p1 = jnp.clip(p0 + delta, -1, 1).astype(jnp.int32)
        traded = p1 != p0
        closing = traded & (p0 != 0)
        opening = traded & (p1 != 0)
        entry0 = jnp.where(p0 != 0, state.entry_price, 1.0)
        close_pnl = _exit_pnl(p0.astype(f32), entry0, bar_open, params)
        open_px = bar_open * (1.0 + p1.astype(f32) * params.slippage)
        realized = state.realized + jnp.where(closing, close_pnl, 0.0)
        realized = realized - jnp.where(opening, params.fee, 0.0)
        entry1 = jnp.where(opening, open_px, jnp.where(p1 != 0, state.entry_price, 0.0))

        # 2. stop-loss / take-profit against bar n's range; the stop wins a tie
        pos1 = p1.astype(f32)
        long, short = p1 > 0, p1 < 0
        safe1 = jnp.where(p1 != 0, entry1, 1.0)
        stop_px = safe1 * (1.0 - pos1 * params.stop_loss)
        take_px = safe1 * (1.0 + pos1 * params.take_profit)
        stop_hit = (params.stop_loss > 0) & (
            (long & (low <= stop_px)) | (short & (high >= stop_px))
        )
        take_hit = (
            (params.take_profit > 0)
            & ((long & (high >= take_px)) | (short & (low <= take_px)))
            & ~stop_hit
        )
        stop_base = jnp.where(long, jnp.minimum(bar_open, stop_px), jnp.maximum(bar_open, stop_px))
        take_base = jnp.where(long, jnp.maximum(bar_open, take_px), jnp.minimum(bar_open, take_px))
        exited = stop_hit | take_hit
        exit_pnl = _exit_pnl(pos1, safe1, jnp.where(stop_hit, stop_base, take_base), params)
        realized = realized + jnp.where(exited, exit_pnl, 0.0)
        p2 = jnp.where(exited, 0, p1).astype(jnp.int32)
        entry2 = jnp.where(exited, 0.0, entry1)

        # 3. episode end: flatten at the close of bar n
        done = n >= state.end
        flatten = done & (p2 != 0)
        pos2 = p2.astype(f32)
        safe2 = jnp.where(p2 != 0, entry2, 1.0)
        realized = realized + jnp.where(flatten, _exit_pnl(pos2, safe2, close, params), 0.0)
        p3 = jnp.where(flatten, 0, p2).astype(jnp.int32)
        entry3 = jnp.where(flatten, 0.0, entry2)

        # 4. mark to market at close[n]
        safe3 = jnp.where(p3 != 0, entry3, 1.0)
        unrealised = jnp.where(p3 != 0, p3.astype(f32) * (close / safe3 - 1.0), 0.0)
        equity = 1.0 + realized + unrealised
        reward = params.reward_scale * (equity - state.equity)

        new_state = EnvState(
            t=n.astype(jnp.int32),
            start=state.start,
            end=state.end,
            position=p3,
            entry_price=entry3.astype(f32),
            realized=realized.astype(f32),
            equity=equity.astype(f32),
        )
        info = {
            "equity": new_state.equity,
            "fills": (traded.astype(jnp.int32) + exited + flatten).astype(jnp.int32),
            "stop_loss": stop_hit,
            "take_profit": take_hit,
            "flattened": flatten,
            "truncated": done & (_at(data.session_end, n) > n),
        }
        obs = self.get_obs(new_state, params, data)
        return obs, new_state, reward.astype(f32), done, info

    def step(
        self,
        key: jax.Array,
        state: EnvState,
        action: jax.Array,
        params: EnvParams,
        data: MarketData,
    ) -> tuple[jax.Array, EnvState, jax.Array, jax.Array, dict[str, Any]]:
        """`step_env`, then on ``done`` the state and observation of ``reset(key, ...)``.

        The observation is built once, from the selected state (it is a function of the state),
        rather than for both candidates; XLA drops the unused one inside `step_env`.
        """
        _, state_st, reward, done, info = self.step_env(state, action, params, data)
        _, state_re = self.reset(key, params, data)
        state = jax.tree.map(lambda r, s: jnp.where(done, r, s), state_re, state_st)
        return self.get_obs(state, params, data), state, reward, done, info

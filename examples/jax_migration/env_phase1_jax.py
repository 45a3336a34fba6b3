"""Phase-1 futures trading environment, ported from our NumPy env (env_phase1.py) to JAX.

gymnax-style API so that the trainer can vmap it:
    reset(key, params) -> (obs, state)
    step(state, action, params) -> (obs, state, reward, done, info)

Bar-timing convention (unchanged from the NumPy env):
  * the decision for step k is taken on bar ``state.t``; the observation holds the
    ``window`` feature rows up to and including bar ``state.t`` (no look-ahead);
  * the order fills at the OPEN of bar ``t = state.t + 1`` (plus ``slippage_ticks``);
  * stop-loss / take-profit levels are checked against the HIGH/LOW of that same bar t
    (both inside the bar: the stop is assumed to have filled first);
  * the episode ends on bar ``state.end`` (max_episode_bars or the session close), where
    any open position is flattened at the bar's CLOSE; fees are charged per contract per fill.

Actions: 0 hold, 1 buy, 2 sell. Buying while short (selling while long) flattens; the
position is at most one lot of ``contracts`` contracts either way.
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax import random

from data_loader import MarketData, round_to_tick

HOLD, BUY, SELL = 0, 1, 2
ACTION_DELTA = (0, 1, -1)  # change of position requested by each action
LUNCH_START, LUNCH_END = 30, 42  # bars after the open: 12:00-13:00 ET, no new orders


@struct.dataclass
class EnvParams:
    max_episode_bars: int = 78  # one RTH session of 5-minute bars
    contracts: int = 1
    tick_size: float = 0.25
    tick_value: float = 12.5  # USD per tick per contract (ES)
    fee_per_contract: float = 2.25  # per side
    slippage_ticks: float = 1.0
    stop_loss_ticks: float = 12.0
    take_profit_ticks: float = 24.0
    reward_scale: float = 0.01  # reward = tanh(USD pnl of the step * reward_scale)


class EnvState(NamedTuple):
    t: jnp.ndarray  # bar of the last decision (index into the market data)
    start: jnp.ndarray  # bar the episode started on (the session's 09:30 bar)
    end: jnp.ndarray  # last bar of the episode
    position: jnp.ndarray  # -1, 0, +1 lots
    entry_price: jnp.ndarray
    stop_price: jnp.ndarray
    target_price: jnp.ndarray
    realized: jnp.ndarray  # realised USD pnl of the episode, net of fees
    unrealized: jnp.ndarray  # open USD pnl marked at the close of bar t
    n_trades: jnp.ndarray


class FuturesEnvPhase1:
    """The market data stays in host NumPy arrays on the env object."""

    def __init__(self, data: MarketData, window: int = 16):
        self.data = data
        self.window = window
        self.n_features = data.features.shape[1]
        if data.rth_indices.min() < window - 1:
            raise ValueError("the first session starts before a full observation window")

    @property
    def obs_shape(self):
        return (self.window, self.n_features + 2)

    def blank_state(self, num_envs):
        """Placeholder state for envs that have not been reset yet."""
        zi = jnp.zeros(num_envs, dtype=jnp.int32)
        zf = jnp.zeros(num_envs, dtype=jnp.float32)
        return EnvState(zi, zi, zi, zi, zf, zf, zf, zf, zf, zi)

    def reset(self, key, params):
        """Start an episode at the open of a randomly drawn RTH session."""
        rth_idx = random.randint(key, (), 0, len(self.data.rth_indices))
        start = self.data.rth_indices[rth_idx]
        last_bar = start + self.data.bars_per_session - 1
        end = min(start + params.max_episode_bars, last_bar)
        state = EnvState(
            t=start,
            start=start,
            end=end,
            position=0,
            entry_price=0.0,
            stop_price=0.0,
            target_price=0.0,
            realized=0.0,
            unrealized=0.0,
            n_trades=0,
        )
        return self._get_obs(state, params), state

    def _get_obs(self, state, params):
        w = self.window
        feats = self.data.features[state.t - w + 1 : state.t + 1]  # bars t-w+1 .. t
        pos = jnp.full((w, 1), state.position, dtype=jnp.float32)
        upnl = jnp.full((w, 1), state.unrealized * params.reward_scale, dtype=jnp.float32)
        return jnp.concatenate([feats, pos, upnl], axis=1)

    def step(self, state, action, params):
        t = state.t + 1
        o, h, l, c = self.data.ohlc[t]
        contracts = int(params.contracts)
        tick = params.tick_size
        point_value = params.tick_value / tick  # USD per point per contract

        # 1. the order decided on bar t-1 fills at the open of bar t, with slippage
        delta = ACTION_DELTA[action]
        in_lunch = LUNCH_START <= t - state.start < LUNCH_END
        if in_lunch:
            delta = 0
        position = max(-1, min(1, state.position + delta))
        traded = position - state.position
        fill = o + np.sign(traded) * params.slippage_ticks * tick
        fees = abs(traded) * contracts * params.fee_per_contract
        closed_leg = state.position != 0 and traded != 0
        pnl = (fill - state.entry_price) * state.position * contracts * point_value if closed_leg else 0.0
        if traded != 0:
            entry_price = fill
            stop_price = round_to_tick(fill - position * params.stop_loss_ticks * tick, tick)
            target_price = round_to_tick(fill + position * params.take_profit_ticks * tick, tick)
        else:
            entry_price, stop_price, target_price = state.entry_price, state.stop_price, state.target_price

        # 2. stop-loss / take-profit against this bar's range
        if position > 0:
            hit_stop, hit_target = l <= stop_price, h >= target_price
        else:
            hit_stop, hit_target = h >= stop_price, l <= target_price
        exited = position != 0 and (hit_stop or hit_target)
        if exited:
            exit_price = stop_price if hit_stop else target_price
            pnl = pnl + (exit_price - entry_price) * position * contracts * point_value
            fees = fees + contracts * params.fee_per_contract
            position = 0

        # 3. end of the episode: flatten at this bar's close
        done = t >= state.end
        if done:
            pnl = pnl + (c - entry_price) * position * contracts * point_value
            fees = fees + abs(position) * contracts * params.fee_per_contract
            position = 0

        unrealized = (c - entry_price) * position * contracts * point_value
        equity_change = pnl - fees + unrealized - state.unrealized
        reward = math.tanh(equity_change * params.reward_scale)
        new_state = EnvState(
            t=t,
            start=state.start,
            end=state.end,
            position=position,
            entry_price=entry_price,
            stop_price=stop_price,
            target_price=target_price,
            realized=state.realized + pnl - fees,
            unrealized=unrealized,
            n_trades=state.n_trades + (traded != 0),
        )
        info = {"trade_pnl": pnl, "episode_return": new_state.realized, "exited": exited}
        return self._get_obs(new_state, params), new_state, reward, bool(done), info

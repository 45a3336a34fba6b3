"""Plain NumPy reference for the phase-1 environment: one env, one step at a time, with ifs.

Written from the rules in `jaxstress.envs.phase1`'s docstring, not from its code, so that a
disagreement points at a bug in one of them. Arithmetic is done in float32 scalars in the
natural order of the rules, so discrete outcomes (stop touched or not) agree bit-for-bit with
the JAX version on CPU; continuous values are compared with a small tolerance anyway.

Only the *choice* of a start bar is shared with JAX: it is drawn with
``jax.random.bits(key) % N``, because reproducing threefry in NumPy would test the RNG,
not the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import numpy as np

F = np.float32


@dataclass(frozen=True)
class RefState:
    t: int
    start: int
    end: int
    position: int
    entry_price: np.float32
    realized: np.float32
    equity: np.float32


class ReferenceEnv:
    """NumPy twin of `Phase1Env` for one market and one parameter set."""

    def __init__(self, data, params) -> None:  # MarketData, EnvParams
        self.open = np.asarray(data.open, dtype=F)
        self.high = np.asarray(data.high, dtype=F)
        self.low = np.asarray(data.low, dtype=F)
        self.close = np.asarray(data.close, dtype=F)
        self.features = np.asarray(data.features, dtype=F)
        self.session_end = np.asarray(data.session_end).astype(int)
        self.starts = np.asarray(data.start_indices).astype(int)
        self.window = int(params.window)
        self.max_steps = int(params.max_steps)
        self.fee = F(params.fee)
        self.slippage = F(params.slippage)
        self.stop_loss = F(params.stop_loss)
        self.take_profit = F(params.take_profit)
        self.reward_scale = F(params.reward_scale)

    # -- episode start ---------------------------------------------------------------------
    def sample_start(self, key: jax.Array | np.ndarray) -> int:
        """``key`` is a JAX key or its raw ``jax.random.key_data`` (cheaper to index per env)."""
        if isinstance(key, np.ndarray):
            key = jax.random.wrap_key_data(key)
        i = int(jax.random.bits(key, (), np.uint32)) % len(self.starts)
        return int(self.starts[i])

    def reset_at(self, start: int) -> tuple[np.ndarray, RefState]:
        end = min(int(self.session_end[start]), start + self.max_steps)
        state = RefState(start, start, end, 0, F(0), F(0), F(1))
        return self.obs(state), state

    def reset(self, key: jax.Array | np.ndarray) -> tuple[np.ndarray, RefState]:
        return self.reset_at(self.sample_start(key))

    # -- observation -----------------------------------------------------------------------
    def obs(self, s: RefState) -> np.ndarray:
        rows = self.features[s.t - self.window + 1 : s.t + 1]
        assert rows.shape[0] == self.window, "window reaches before the first bar"
        if s.position != 0:
            unrealised = F(s.position) * (self.close[s.t] / s.entry_price - F(1))
        else:
            unrealised = F(0)
        left = F(s.end - s.t) / F(self.max_steps)
        extra = np.array([s.position, unrealised * F(100), left], dtype=F)
        return np.concatenate([rows.reshape(-1), extra])

    # -- one step --------------------------------------------------------------------------
    def _exit(self, pos: int, entry: np.float32, price: np.float32) -> np.float32:
        """P&L of closing `pos` at `price` (slippage applied here), minus the exit fee."""
        px = price * (F(1) - F(pos) * self.slippage)
        return F(pos) * (px / entry - F(1)) - self.fee * (px / entry)

    def step_env(self, s: RefState, action: int):
        n = s.t + 1
        o, h, lo, c = self.open[n], self.high[n], self.low[n], self.close[n]
        pos, entry, realized = s.position, s.entry_price, s.realized
        fills = 0

        # order at the open of bar n: buy = one unit up, sell = one unit down
        target = pos
        if action == 1:
            target = min(pos + 1, 1)
        elif action == 2:
            target = max(pos - 1, -1)
        if target != pos:
            fills += 1
            if pos != 0:  # this order closes the position
                realized = realized + self._exit(pos, entry, o)
                entry = F(0)
            else:  # this order opens one
                entry = o * (F(1) + F(target) * self.slippage)
                realized = realized - self.fee
            pos = target

        # stop-loss / take-profit on bar n's high/low; stop first
        stop_hit = take_hit = False
        if pos != 0:
            stop_px = entry * (F(1) - F(pos) * self.stop_loss)
            take_px = entry * (F(1) + F(pos) * self.take_profit)
            if pos > 0:
                stop_hit = self.stop_loss > 0 and lo <= stop_px
                take_hit = self.take_profit > 0 and h >= take_px
                stop_fill, take_fill = min(o, stop_px), max(o, take_px)
            else:
                stop_hit = self.stop_loss > 0 and h >= stop_px
                take_hit = self.take_profit > 0 and lo <= take_px
                stop_fill, take_fill = max(o, stop_px), min(o, take_px)
            if stop_hit:
                take_hit = False
                realized = realized + self._exit(pos, entry, stop_fill)
            elif take_hit:
                realized = realized + self._exit(pos, entry, take_fill)
            if stop_hit or take_hit:
                fills += 1
                pos, entry = 0, F(0)

        # last bar of the episode: flatten at the close
        done = n >= s.end
        flattened = False
        if done and pos != 0:
            realized = realized + self._exit(pos, entry, c)
            pos, entry, flattened = 0, F(0), True
            fills += 1

        unrealised = F(pos) * (c / entry - F(1)) if pos != 0 else F(0)
        equity = F(1) + realized + unrealised
        reward = self.reward_scale * (equity - s.equity)
        new = replace(
            s, t=n, position=pos, entry_price=F(entry), realized=F(realized), equity=F(equity)
        )
        info = {
            "equity": F(equity),
            "fills": fills,
            "stop_loss": bool(stop_hit),
            "take_profit": bool(take_hit),
            "flattened": flattened,
            "truncated": bool(done and self.session_end[n] > n),
        }
        return self.obs(new), new, F(reward), bool(done), info

    def step(self, key: jax.Array | np.ndarray, s: RefState, action: int):
        obs, new, reward, done, info = self.step_env(s, action)
        if done:
            obs, new = self.reset(key)
        return obs, new, reward, done, info

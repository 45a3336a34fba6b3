"""Fixes proven with JAX: the fixed program, run under the real transform, returns what the original
returns when run eagerly.

For every INVALID example of every rule that gets a fix, and for a few realistic multi-hazard
programs (an env step with stop-loss / take-profit `if`s, a reward with `min`/`max`, a windowed
observation, masked statistics, pytree returns, static sizes):

1. lint, apply the fixes with ``jaxlint.fixes.apply.fix_texts`` (safe fixes only, then also the
   unsafe ones), and check that the result parses, is a fixed point (idempotent), carries no finding
   of the fixed rule that had a fix, and no finding that the original did not have;
2. run the ORIGINAL eagerly: ``run()`` inside ``jax.disable_jit()`` (which runs ``lax.scan``,
   ``fori_loop``, ``while_loop`` and ``cond`` as Python), or an explicit Python-loop reference where
   the example uses ``vmap`` or ``grad`` (``disable_jit`` does not disable those);
3. run the FIXED program under its transform (``jit``, ``vmap``, ``lax.scan``...) and compare.

The unsafe fixes are also shown to differ from the original on inputs where it runs (windows crossing
an edge, NaN in ``min``, ``float()`` precision, non-boolean ``and``), which is why they are unsafe.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxlint.engine import lint_source
from jaxlint.findings import Finding
from jaxlint.fixes.apply import FixRun, fix_texts, fixable
from jaxlint.rules import RULES, Example, Rule
from jaxlint.rules.jx202_traced_host_call import MATH_TWINS, NUMPY_TWINS

_counter = itertools.count()


# ---------------------------------------------------------------------------------------- helpers
def lint_texts(texts: dict[str, str]) -> list[Finding]:
    return [f for path, text in texts.items() for f in lint_source(text, path=path)]


def apply(text: str, unsafe: bool) -> tuple[str, FixRun]:
    run = fix_texts({"program.py": text}, lint_texts, unsafe=unsafe)
    assert not run.rejected, [r.describe() for r in run.rejected]
    assert not run.unsettled
    return run.texts["program.py"], run


def load(text: str, tmp_path: Path) -> Any:
    n = next(_counter)
    path = tmp_path / f"program_{n}.py"
    path.write_text(text, encoding="utf-8")
    name = f"_jaxlint_fixed_{n}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # flax dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def assert_same(got: Any, want: Any, rtol: float = 2e-5, atol: float = 1e-6) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert len(got_leaves) == len(want_leaves), (got_tree, want_tree)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        g, w = np.asarray(_key_bits(g)), np.asarray(_key_bits(w))
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol, atol)


def _key_bits(x: Any) -> Any:
    """Typed PRNG keys compare by their bits (NumPy cannot hold the key dtype)."""
    if hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(x)
    return x


def check_fixed(original: str, fixed: str, run: FixRun, unsafe: bool, code: str | None) -> None:
    """Fixed point, nothing new, and every finding with an applicable fix gone."""
    before = lint_source(original, path="program.py")
    after = run.remaining
    new = Counter(f.code for f in after) - Counter(f.code for f in before)
    assert not new, f"the fixes created findings: {[(f.code, f.line) for f in after]}"
    again, _ = apply(fixed, unsafe)
    assert again == fixed, "fixing the fixed code changed it again"
    left = [f for f in after if fixable(f, unsafe)]
    assert not left, [(f.code, f.line, f.message) for f in left]
    if code is not None:
        wanted = sum(1 for f in before if f.code == code and not fixable(f, unsafe))
        assert sum(1 for f in after if f.code == code) <= wanted


def eager(fn: Callable[[], Any]) -> Any:
    with jax.disable_jit():
        return fn()


def stack(values: list[Any]) -> Any:
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *values)


def loop(fn: Callable[..., Any], *batched: Any) -> Any:
    """The eager reference of ``jax.vmap(fn)(*batched)``: a Python loop over the rows."""
    return stack([fn(*row) for row in zip(*batched, strict=True)])


def padded(want: Any, got: Any, fill: int = -1) -> Any:
    """``want`` padded with ``fill`` at the end of each axis to the shapes of ``got``: what a
    ``size=`` fix returns where the original returned only the matches."""

    def pad(w: Any, g: Any) -> np.ndarray:
        w, g = np.asarray(w), np.asarray(g)
        assert w.ndim == g.ndim and all(a <= b for a, b in zip(w.shape, g.shape, strict=True))
        widths = [(0, b - a) for a, b in zip(w.shape, g.shape, strict=True)]
        return np.pad(w, widths, constant_values=fill)

    return jax.tree_util.tree_map(pad, want, got)


def central_difference(fn: Callable[[float], Any], x: float, h: float = 1e-4) -> float:
    return (float(fn(x + h)) - float(fn(x - h))) / (2 * h)


# ---------------------------------------------------------------------------------------- examples
# Eager references for examples whose `run()` uses a transform that disable_jit leaves on (vmap,
# grad): the original function called eagerly in a Python loop, or differentiated numerically.
REFERENCES: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("JX101", "python list under vmap"): lambda m: loop(m.scale, jnp.ones(3), jnp.arange(3)),
    ("JX103", "mask under vmap"): lambda m: stack([m.large_mean(r, 0.5) for r in jnp.ones((2, 3))]),
    ("JX201", "float under vmap"): lambda m: loop(m.total, jnp.ones((2, 3))),
    ("JX202", "np ufunc under vmap"): lambda m: loop(m.softplus, jnp.arange(3.0)),
    ("JX302", "not under vmap"): lambda m: loop(m.flat, jnp.array([0.0, 1.0])),
    ("JX402", "one-argument jnp.where under vmap"): lambda m: loop(
        m.hits, jnp.array([[0.9, 0.1, 0.7], [0.6, 0.8, 0.2]])
    ),
    ("JX302", "builtin any over a traced array under vmap"): lambda m: stack(
        [m.breached(r, 0.5) for r in jnp.ones((2, 3))]
    ),
    # grad: the derivative of the function the original computes eagerly
    ("JX201", "float under grad without jit"): lambda m: central_difference(m.loss, 2.0),
    ("JX202", "np.asarray under grad without jit"): lambda m: central_difference(m.loss, 2.0),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _example_params() -> list[Any]:
    params = []
    for code, rule in RULES.items():
        for example in rule.invalid_examples:
            fixes = [
                f.fix
                for f in lint_source(example.code, path="example.py")
                if f.code == code and f.fix is not None
            ]
            modes = []
            if any(f.applicability == "safe" for f in fixes):
                modes.append("safe")
            if any(f.applicability == "unsafe" for f in fixes):
                modes.append("unsafe")
            for mode in modes:
                marks = [pytest.mark.slow] if "flax" in example.code else []
                params.append(
                    pytest.param(
                        rule,
                        example,
                        mode,
                        id=f"{code}-{mode}-{_slug(example.title)}",
                        marks=marks,
                    )
                )
    return params


EXAMPLE_PARAMS = _example_params()


def test_examples_with_fixes_cover_every_fixing_rule() -> None:
    covered = {p.values[0].code for p in EXAMPLE_PARAMS}
    assert covered >= {"JX101", "JX102", "JX103", "JX201", "JX202", "JX301", "JX302", "JX401"}


@pytest.mark.parametrize(("rule", "example", "mode"), EXAMPLE_PARAMS)
def test_example_fix_is_equivalent(rule: Rule, example: Example, mode: str, tmp_path: Path) -> None:
    unsafe = mode == "unsafe"
    fixed, run = apply(example.code, unsafe)
    assert fixed != example.code
    check_fixed(example.code, fixed, run, unsafe, rule.code)
    if run.remaining:
        # another hazard of the example has no fix in this mode: the program cannot run yet
        assert all(not fixable(f, unsafe) for f in run.remaining)
        return
    original = load(example.code, tmp_path)
    key = (rule.code, example.title)
    want = REFERENCES[key](original) if key in REFERENCES else eager(original.run)
    got = load(fixed, tmp_path).run()
    if rule.code == "JX402" and unsafe:
        want = padded(want, got)  # the documented change: -1 padding after the real indices
    assert_same(got, want)


def test_disable_jit_runs_control_flow_eagerly() -> None:
    """The eager references rely on it: under jax.disable_jit (jax 0.10.2) lax.scan, fori_loop and
    cond call their functions with concrete values, so host hazards run; vmap still traces."""
    table = np.arange(4.0)
    with jax.disable_jit():
        total, _ = jax.lax.scan(lambda c, i: (c + table[i], None), 0.0, jnp.arange(4))
        assert float(total) == 6.0
        assert float(jax.lax.fori_loop(0, 3, lambda i, a: a + table[i], 0.0)) == 3.0
        with pytest.raises(jax.errors.TracerArrayConversionError):
            jax.vmap(lambda i: table[i])(jnp.arange(3))


# ---------------------------------------------------------------------------------------- programs
ENV = '''"""A trading env step with stop-loss / take-profit exits, written the NumPy way."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

FEES = np.array([0.0, 0.001, 0.002])  # per action: hold, buy, sell
STOP_LOSS = 0.02
TAKE_PROFIT = 0.03


def step(state, bar):
    position, entry, cash = state
    action, price, high, low = bar
    fee = FEES[action] * price
    if action == 1:
        position = 1.0
        entry = price
    elif action == 2:
        position = 0.0
    stop = entry * (1.0 - STOP_LOSS)
    target = entry * (1.0 + TAKE_PROFIT)
    long = position > 0
    hit_stop = long and (low <= stop)
    hit_target = long and (high >= target)
    # the stop wins when both are touched within the bar
    if hit_stop:
        exit_price = stop
    elif hit_target:
        exit_price = target
    else:
        exit_price = price
    closing = hit_stop or hit_target
    pnl = (exit_price - entry) if closing else 0.0
    if closing:
        position = 0.0
        cash += pnl
    cash -= fee
    return (position, entry, cash), pnl


def rollout(actions, prices, highs, lows):
    init = (0.0, 0.0, 100.0)
    return lax.scan(step, init, (actions, prices, highs, lows))


batched = jax.jit(jax.vmap(rollout))
'''


def _market(seed: int, n_envs: int = 3, steps: int = 24) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    prices = (100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, (n_envs, steps)), axis=1))).astype(
        np.float32
    )
    highs = (prices * (1 + rng.uniform(0.001, 0.04, prices.shape))).astype(np.float32)
    lows = (prices * (1 - rng.uniform(0.001, 0.04, prices.shape))).astype(np.float32)
    actions = rng.choice(3, size=prices.shape, p=[0.5, 0.3, 0.2]).astype(np.int32)
    return actions, prices, highs, lows


def _env_reference(module: Any, actions, prices, highs, lows) -> Any:
    """The original step, eagerly, in Python loops over the envs and the bars."""
    finals, pnls = [], []
    for e in range(actions.shape[0]):
        state = (np.float32(0.0), np.float32(0.0), np.float32(100.0))
        row = []
        for t in range(actions.shape[1]):
            bar = (actions[e, t], prices[e, t], highs[e, t], lows[e, t])
            state, pnl = module.step(state, bar)
            row.append(pnl)
        finals.append(state)
        pnls.append(row)
    return stack(finals), np.asarray(pnls, dtype=np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_env_step_safe_fixes(seed: int, tmp_path: Path) -> None:
    fixed, run = apply(ENV, unsafe=False)
    check_fixed(ENV, fixed, run, False, None)
    assert run.remaining == [], "every hazard of the env step has a safe fix"
    assert "jnp.where(" in fixed and "jnp.logical_and(" in fixed and "jnp.asarray(FEES)" in fixed
    data = _market(seed)
    want = _env_reference(load(ENV, tmp_path), *data)
    got = load(fixed, tmp_path).batched(*(jnp.asarray(d) for d in data))
    assert_same(got, want, rtol=1e-5, atol=1e-4)
    assert np.count_nonzero(want[1]) > 0, "the data exercises the stop/target exits"


REWARD = """import math

import jax
import jax.numpy as jnp
import numpy as np


def reward(pnl, drawdown, cash, price):
    clipped = max(min(pnl / 10.0, 1.0), -1.0)
    penalty = math.sqrt(drawdown) if drawdown > 0 else 0.0
    units = int(cash / price)
    exposure = float(units * price) / cash
    return clipped - 0.5 * penalty + 0.1 * exposure + 0.01 * np.tanh(pnl)


batched_reward = jax.jit(jax.vmap(reward))
"""


def _reward_inputs(seed: int, n: int = 64) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    pnl = rng.normal(0, 15, n).astype(np.float32)
    drawdown = rng.normal(0, 0.05, n).astype(np.float32)  # both signs: both branches
    cash = rng.uniform(50, 500, n).astype(np.float32)
    price = rng.uniform(5, 60, n).astype(np.float32)
    return pnl, drawdown, cash, price


def test_reward_safe_fixes_leave_the_unsafe_ones() -> None:
    fixed, run = apply(REWARD, unsafe=False)
    check_fixed(REWARD, fixed, run, False, None)
    left = sorted((f.line, f.code, f.fix.applicability if f.fix else "-") for f in run.remaining)
    # min/max (NaN) and float() (float64 -> float32) are unsafe; int() gets its fix only once its
    # result no longer reaches float(); math.sqrt, np.tanh and the conditional expression (safe
    # once math.sqrt is jnp.sqrt, in a second round) are fixed
    assert left == [
        (9, "JX302", "unsafe"),
        (9, "JX302", "unsafe"),
        (11, "JX201", "-"),
        (12, "JX201", "unsafe"),
    ]
    assert "jnp.where(drawdown > 0, jnp.sqrt(drawdown), 0.0)" in fixed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reward_unsafe_fixes(seed: int, tmp_path: Path) -> None:
    fixed, run = apply(REWARD, unsafe=True)
    check_fixed(REWARD, fixed, run, True, None)
    assert run.remaining == []
    inputs = _reward_inputs(seed)
    want = loop(load(REWARD, tmp_path).reward, *inputs)
    got = load(fixed, tmp_path).batched_reward(*(jnp.asarray(x) for x in inputs))
    assert_same(got, want, rtol=1e-5, atol=1e-5)


WINDOW_PROGRAM = """import jax
import numpy as np
from jax import lax

FEATURES = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
WINDOW = 8


def observe(t):
    window = FEATURES[t - WINDOW + 1 : t + 1]
    return (window - window.mean(axis=0)) / (window.std(axis=0) + 1e-6)


def lagged(x, t):
    return x[:, t : t + 4].sum(axis=1)


def total(ts):
    def body(carry, t):
        obs = observe(t)
        return carry + obs.sum(), obs[-1]

    return lax.scan(body, 0.0, ts)


batched_observe = jax.jit(jax.vmap(observe))
batched_lagged = jax.jit(jax.vmap(lagged, in_axes=(None, 0)))
scanned = jax.jit(total)
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_window_unsafe_fix_in_range(seed: int, tmp_path: Path) -> None:
    fixed, run = apply(WINDOW_PROGRAM, unsafe=True)
    check_fixed(WINDOW_PROGRAM, fixed, run, True, "JX102")
    assert run.remaining == []
    assert "lax.dynamic_slice_in_dim(jax.numpy.asarray(FEATURES), t - WINDOW + 1, WINDOW)" in fixed
    assert "lax.dynamic_slice_in_dim(x, t, 4, axis=1)" in fixed
    original, new = load(WINDOW_PROGRAM, tmp_path), load(fixed, tmp_path)
    rng = np.random.default_rng(seed)
    ts = rng.integers(7, 64, 6).astype(np.int32)  # every window inside the array
    assert_same(new.batched_observe(jnp.asarray(ts)), loop(original.observe, ts), atol=1e-4)
    x = rng.normal(size=(5, 40)).astype(np.float32)
    starts = rng.integers(0, 37, 6).astype(np.int32)
    assert_same(
        new.batched_lagged(jnp.asarray(x), jnp.asarray(starts)),
        stack([original.lagged(x, s) for s in starts]),
    )
    assert_same(new.scanned(jnp.asarray(ts)), eager(lambda: original.total(ts)), atol=1e-4)


def test_window_unsafe_fix_differs_across_an_edge(tmp_path: Path) -> None:
    """Why the fix is unsafe: a window crossing the start is clamped inside the array."""
    fixed, _ = apply(WINDOW_PROGRAM, unsafe=True)
    original, new = load(WINDOW_PROGRAM, tmp_path), load(fixed, tmp_path)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        # Python slicing: FEATURES[-4:4], a negative start counts from the end: empty
        assert original.observe(3).shape == (0, 3)
    assert new.batched_observe(jnp.array([3])).shape == (1, 8, 3)  # a full window from 0
    x = np.arange(40.0, dtype=np.float32).reshape(1, 40)
    assert float(original.lagged(x, 38)[0]) == 38 + 39
    assert float(new.batched_lagged(jnp.asarray(x), jnp.array([38]))[0, 0]) == 36 + 37 + 38 + 39


MASKS = """import jax
import jax.numpy as jnp


def stats(x, threshold):
    gains = x[x > threshold].sum()
    avg = x[x > threshold].mean()
    top = x[x > threshold].max()
    low = jnp.min(x[x <= threshold])
    big = x > threshold
    count_mean = x[big & jnp.isfinite(x)].mean()
    return gains, avg, top, low, count_mean


def clean(v):
    return v.at[v < 0].set(0), v.at[v > 5].add(-1)


def totals(x, threshold):
    return x[x > threshold].sum(), jnp.mean(x[x > threshold])


batched_stats = jax.jit(jax.vmap(stats, in_axes=(0, None)))
batched_clean = jax.jit(jax.vmap(clean))
batched_totals = jax.jit(jax.vmap(totals, in_axes=(0, None)))
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_safe_fixes(seed: int, tmp_path: Path) -> None:
    fixed, run = apply(MASKS, unsafe=False)
    check_fixed(MASKS, fixed, run, False, "JX103")
    assert run.remaining == []
    original, new = load(MASKS, tmp_path), load(fixed, tmp_path)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 9)).astype(np.float32)
    x[:, 0], x[:, 1] = 1.5, -1.5  # both selections non-empty: max/min of an empty one raise
    assert_same(new.batched_stats(jnp.asarray(x), 0.0), loop(lambda r: original.stats(r, 0.0), x))
    v = rng.integers(-9, 10, size=(4, 7)).astype(np.int32)
    got = new.batched_clean(jnp.asarray(v))
    assert got[0].dtype == jnp.int32 and got[1].dtype == jnp.int32
    assert_same(got, loop(original.clean, jnp.asarray(v)))
    # empty selections: the sum is 0 and the mean NaN in both
    assert_same(
        new.batched_totals(jnp.asarray(x), 100.0), loop(lambda r: original.totals(r, 100.0), x)
    )


PYTREES = """from typing import NamedTuple

import jax
import jax.numpy as jnp


class Book(NamedTuple):
    position: jax.Array
    cash: jax.Array


def settle(book, price):
    if price > 100.0:
        return Book(book.position * 0.0, book.cash + book.position * price)
    return book


def split_fee(x, y, rate):
    if x > y:
        return x * rate, y
    else:
        return y * rate, x


batched_settle = jax.jit(jax.vmap(settle))
batched_split = jax.jit(jax.vmap(split_fee, in_axes=(0, 0, None)))
"""


@pytest.mark.parametrize("seed", [0, 1])
def test_pytree_returns(seed: int, tmp_path: Path) -> None:
    safe, run = apply(PYTREES, unsafe=False)
    # tuple literals are selected element by element (safe); a NamedTuple built by a call goes
    # through tree_map (unsafe: the structures must match)
    assert "return (jnp.where(x > y, x * rate, y * rate), jnp.where(x > y, y, x))" in safe
    assert [f.code for f in run.remaining] == ["JX301"]
    fixed, run = apply(PYTREES, unsafe=True)
    check_fixed(PYTREES, fixed, run, True, "JX301")
    assert "jax.tree_util.tree_map(lambda a, b: jnp.where(price > 100.0, a, b)" in fixed
    original, new = load(PYTREES, tmp_path), load(fixed, tmp_path)
    rng = np.random.default_rng(seed)
    pos, cash = rng.normal(size=8).astype(np.float32), rng.uniform(0, 9, 8).astype(np.float32)
    price = rng.uniform(90, 110, 8).astype(np.float32)
    got = new.batched_settle(new.Book(jnp.asarray(pos), jnp.asarray(cash)), jnp.asarray(price))
    want = loop(lambda p, c, q: original.settle(original.Book(p, c), q), pos, cash, price)
    assert_same(tuple(got), tuple(want))
    x, y = rng.normal(size=8).astype(np.float32), rng.normal(size=8).astype(np.float32)
    assert_same(
        new.batched_split(jnp.asarray(x), jnp.asarray(y), 0.1),
        loop(lambda a, b: original.split_fee(a, b, 0.1), x, y),
    )


STATIC = """import jax
import jax.numpy as jnp


@jax.jit
def ramp(n, scale):
    return jnp.arange(n) * scale + jnp.zeros((n, 2)).sum(axis=1)


def noise(key, n, width):
    return jax.random.normal(key, (n, width))


jitted_noise = jax.jit(noise, static_argnames="width")
"""


@pytest.mark.slow
def test_static_argnames_fix(tmp_path: Path) -> None:
    fixed, run = apply(STATIC, unsafe=True)
    check_fixed(STATIC, fixed, run, True, "JX401")
    assert run.remaining == []
    assert '@partial(jax.jit, static_argnames=("n",))' in fixed
    assert 'jitted_noise = jax.jit(noise, static_argnames=("width", "n"))' in fixed
    assert "from functools import partial" in fixed
    original, new = load(STATIC, tmp_path), load(fixed, tmp_path)
    for n in (1, 3, 5):
        assert_same(new.ramp(n, 0.5), original.ramp.__wrapped__(n, 0.5))
        key = jax.random.key(n)
        assert_same(new.jitted_noise(key, n, width=2), original.noise(key, n, 2))


BRANCHES = """from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="mode")
def f(x, mode):
    if mode == "a":
        y = 1.0
    elif x > 0:  # positive
        # keep me
        y = x
    else:
        y = -x
    if x > 1: z = 2.0
    else: z = 3.0
    if x > 2:
        print("a side effect: no fix")
        y = 0.0
    if x > 3:
        a = 1.0
        b = a + 1.0  # reads the `a` of this branch: selected after it
    else:
        a = 2.0
        b = 2.0
    return y + z + a + b


class Model:
    def g(self, x):
        if x.sum() > 0:
            if x.mean() > 1:
                return x
            return -x
        else:
            return x * 2


h = jax.jit(Model().g)
"""


def test_branch_fix_keeps_comments_and_layout() -> None:
    fixed, run = apply(BRANCHES, unsafe=False)
    check_fixed(BRANCHES, fixed, run, False, None)
    assert (
        "    else:\n        # positive\n        # keep me\n        y = jnp.where(x > 0, x, -x)\n"
        in (fixed)
    )
    assert "    z = jnp.where(x > 1, 2.0, 3.0)\n" in fixed
    # the inner `if` first, then the outer one (a second round)
    assert "        return jnp.where(x.sum() > 0, jnp.where(x.mean() > 1, x, -x), x * 2)\n" in fixed
    assert "    a = jnp.where(x > 3, 1.0, 2.0)\n    b = jnp.where(x > 3, a + 1.0, 2.0)\n" in fixed
    assert sorted((f.code, f.line) for f in run.remaining) == [("JX301", 16)]
    assert run.rounds == 2


# ---------------------------------------------------------------------------------------- twins
_UNARY = [
    "abs",
    "absolute",
    "negative",
    "positive",
    "sign",
    "sqrt",
    "cbrt",
    "square",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arctanh",
    "floor",
    "ceil",
    "trunc",
    "rint",
    "isnan",
    "isinf",
    "isfinite",
    "signbit",
    "deg2rad",
    "rad2deg",
    "degrees",
    "radians",
    "asarray",
    "array",
    "nan_to_num",
]
_BINARY = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "floor_divide",
    "power",
    "mod",
    "remainder",
    "fmod",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "arctan2",
    "hypot",
    "copysign",
    "logaddexp",
    "logaddexp2",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "dot",
    "matmul",
    "inner",
    "outer",
]
_LOGICAL = ["logical_not", "logical_and", "logical_or", "logical_xor"]
_OTHER = ["arccosh", "where", "clip", "concatenate", "stack", "hstack", "vstack"]
# NumPy scalar types called on a value (jnp's twin: an array of the same dtype; 64-bit narrowed)
_SCALAR_TYPES = ["float16", "float32", "int32", "bool_", "float64", "int64"]


@pytest.mark.slow
def test_numpy_twins_compute_the_same_values() -> None:
    """Every NumPy function the JX202 fix renames has a jnp namesake with the same values (float32
    inputs: NumPy computes in float32 too; differences are within a few ulps)."""
    assert set(_UNARY + _BINARY + _LOGICAL + _OTHER + _SCALAR_TYPES) == NUMPY_TWINS
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, 16).astype(np.float32) * rng.choice([-1, 1], 16).astype(np.float32)
    y = rng.uniform(0.5, 2.0, 16).astype(np.float32)
    b1, b2 = x > 0, y > 1
    cases: dict[str, tuple[Any, ...]] = {name: (x,) for name in _UNARY}
    cases.update({name: (x, y) for name in _BINARY})
    cases.update({"power": (y, x), "logical_not": (b1,)})
    cases.update({name: (b1, b2) for name in _LOGICAL[1:]})
    cases.update(
        {
            "arccosh": (y + 1,),
            "where": (b1, x, y),
            "clip": (x, -0.5, 0.5),
            "concatenate": ([x, y],),
            "stack": ([x, y],),
            "hstack": ([x, y],),
            "vstack": ([x, y],),
        }
    )
    cases.update({name: (x * 100.0,) for name in _SCALAR_TYPES})
    with np.errstate(all="ignore"):
        for name, args in cases.items():
            assert hasattr(jnp, name), name
            want = getattr(np, name)(*args)
            got = getattr(jnp, name)(*args)  # op by op, as under a trace
            np.testing.assert_allclose(
                np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=4e-6, err_msg=name
            )


_MATH_ARGS = {"acosh": (1.7,), "atan2": (0.3, -0.8), "hypot": (0.3, 0.4), "copysign": (0.3, -1.0)}
_MATH_ARGS |= {"fmod": (5.3, 0.7), "pow": (1.7, -0.6)}


@pytest.mark.parametrize("name", sorted(MATH_TWINS))
def test_math_twins_compute_the_same_values(name: str) -> None:
    """`math.f(t)` and its jnp twin agree to float32 rounding; with x64 on, to float64 rounding
    (the only difference is JAX's default dtype, float32)."""
    twin = getattr(jnp, MATH_TWINS[name])
    args = _MATH_ARGS.get(name, (0.37,))
    want = getattr(math, name)(*args)
    if name in ("floor", "ceil", "trunc"):  # math returns an int: the fix adds .astype(int)
        for v in (2.7, -2.7, 3.0):
            got = jax.jit(lambda t: twin(t).astype(int))(np.float32(v))
            assert got.dtype == jnp.int32 and int(got) == getattr(math, name)(v)
        return
    args32 = [np.float32(a) for a in args]
    got32 = jax.jit(twin)(*args32)
    want32 = getattr(math, name)(*(float(a) for a in args32))  # the same inputs, float64 math
    np.testing.assert_allclose(float(got32), want32, rtol=3e-7)
    with jax.enable_x64(True):
        got64 = jax.jit(twin)(*(np.float64(a) for a in args))
        assert got64.dtype != np.float32 or name.startswith("is")
        np.testing.assert_allclose(float(got64), want, rtol=1e-15)


# ---------------------------------------------------------------------------------------- semantics
_to_int = jax.jit(lambda t: jnp.astype(t, int))
_logical_not = jax.jit(jnp.logical_not)


@settings(max_examples=60, deadline=None, database=None)
@given(st.floats(-2.0e9, 2.0e9, allow_nan=False, width=32))
def test_int_truncates_like_astype(value: float) -> None:
    """JX201 `int(t)` -> `jnp.astype(t, int)`: truncation towards zero, for every value that fits
    JAX's int (int32 without x64); larger values saturate instead of growing."""
    got = int(_to_int(np.float32(value)))
    want = int(np.float32(value))
    if abs(want) < 2**31 - 128:
        assert got == want
    else:
        assert got in (2**31 - 1, -(2**31))


def test_float_fix_is_unsafe_precision() -> None:
    """JX201 `float(t)` -> `jnp.astype(t, float)`: float32 without x64 where Python had float64."""
    t = np.int32(2**24 + 1)
    assert float(t) == 2**24 + 1
    assert float(jax.jit(lambda v: jnp.astype(v, float))(t)) == 2**24


@settings(max_examples=60, deadline=None, database=None)
@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False, width=32))
def test_not_is_logical_not(value: float) -> None:
    """JX302 `not t` -> `jnp.logical_not(t)`: the same for every number, NaN and inf included."""
    got = bool(_logical_not(np.float32(value)))
    assert got == (not np.float32(value))


def test_subnormals_are_zero_in_every_jax_computation() -> None:
    """Hypothesis found it: XLA on CPU flushes subnormal floats to zero, so `not t` (a Python
    truth test of the concrete value) and `jnp.logical_not(t)` differ for them. The original's own
    JAX arithmetic (`t != 0`, `t > 0`) sees the same zero: a property of JAX, not of the rewrite."""
    tiny = np.float32(4.3e-39)
    assert (not tiny) is False
    assert bool(_logical_not(tiny)) is True
    assert bool(jax.jit(lambda t: t == 0)(tiny)) is True


def test_min_max_fix_is_unsafe_with_nan() -> None:
    """JX302 `min(a, b)` -> `jnp.minimum(a, b)`: the builtin keeps its first argument when the
    comparison with NaN is False; jnp propagates NaN."""
    nan = float("nan")
    assert min(1.0, nan) == 1.0 and math.isnan(float(jnp.minimum(1.0, nan)))
    assert max(1.0, nan) == 1.0 and math.isnan(float(jnp.maximum(1.0, nan)))


def test_and_fix_needs_booleans() -> None:
    """JX302 `a and b` is `b` when `a` is truthy: logical_and equals it only for booleans."""
    assert (jnp.float32(2.0) and jnp.float32(3.0)) == 3.0
    assert bool(jnp.logical_and(2.0, 3.0)) is True


def test_at_set_fix_needs_integer_values() -> None:
    """JX103 `x.at[m].set(v)` casts v to x's dtype; jnp.where promotes: equal for integer literals."""
    v = jnp.array([1, -2, 3])
    with pytest.warns(FutureWarning, match="cannot safely cast"):
        assert v.at[v < 0].set(0.5).tolist() == [1, 0, 3]
    assert jnp.where(v < 0, 0.5, v).dtype == jnp.float32
    assert jnp.where(v < 0, 0, v).dtype == jnp.int32


def test_masked_max_with_infinite_initial_works_for_ints() -> None:
    """JX103 `x[m].max()` -> `jnp.max(x, where=m, initial=-jnp.inf)`: the identity for floats and
    ints alike (what the original raises on, an empty selection, is left aside)."""
    for dtype in (np.int32, np.float32, np.uint8):
        x = np.array([3, 1, 7, 5], dtype)
        m = np.array([True, True, False, True])
        assert jnp.max(x, where=m, initial=-jnp.inf) == x[m].max()
        assert jnp.min(x, where=m, initial=jnp.inf) == x[m].min()


# ---------------------------------------------------------------------------------------- sizes
INDICES = """import jax
import jax.numpy as jnp


@jax.jit
def stats(pnl, x):
    closed = jnp.nonzero(pnl)[0]
    win_rate = (pnl[closed] > 0).mean()
    total = jnp.sum(pnl[closed] * 2.0 + x[closed])
    big = jnp.flatnonzero(x > 0.5)
    share = (x[big] - 0.5).mean()
    return win_rate, total, share


@jax.jit
def matches(x, m):
    rows = jnp.nonzero(m)[0]
    return rows, jnp.flatnonzero(x > 0.5).shape[0]
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_size_fix_masks_its_padding_in_reductions(seed: int, tmp_path: Path) -> None:
    """JX402: padded indices (`size=`, `fill_value=-1`) whose reductions mask the padding
    (`where=idx >= 0`) keep the statistic; indices that are returned or counted get no fix (the
    padding would change them)."""
    fixed, run = apply(INDICES, unsafe=True)
    check_fixed(INDICES, fixed, run, True, "JX402")
    assert fixed.count("fill_value=-1") == 2
    assert [f.line for f in run.remaining if f.code == "JX402"] == [17, 18]
    rng = np.random.default_rng(seed)
    pnl = np.where(rng.uniform(size=16) > 0.4, rng.normal(size=16), 0.0).astype(np.float32)
    x = rng.uniform(0.0, 1.0, 16).astype(np.float32)
    original, new = load(INDICES, tmp_path), load(fixed, tmp_path)
    want = eager(lambda: original.stats(pnl, x))
    got = new.stats(jnp.asarray(pnl), jnp.asarray(x))
    assert_same(got, want)

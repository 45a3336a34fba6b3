"""The fix classes added for the fix table, proven with JAX: the original run eagerly, the fixed
code run under the transform, the same numbers (tests/test_fix_equivalence.py's helpers).

Each program holds one class: `.tolist()` kept an array, `np.float32` -> `jnp.float32`, builtin
`any`/`max` of an array -> `jnp.any`/`jnp.max`, `t in (1, 2)` -> `jnp.isin`, `while` ->
`lax.while_loop`, `assert` removed, a count that `vmap` maps as `jnp.full((b,), n)` passed as
`n` unmapped (under `pmap`, `jnp.asarray(n)[None]` passed as a static broadcast `n`), a count
passed to `lax.cond` as an operand closed over, a scanned row of one repeated count read as the
count, a `fori_loop` index used as a count unrolled; and where the analysis cannot prove the
operand is the array (or the Python number) the rewrite needs, no fix at all.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_fix_equivalence import apply, assert_same, check_fixed, eager, load

from jaxlint.engine import lint_source

PROGRAMS: dict[str, tuple[str, str]] = {
    "config field static": (
        """from typing import NamedTuple

import jax
import jax.numpy as jnp


class Config(NamedTuple):
    n_envs: int
    steps: int


@jax.jit
def rollout(x, cfg):
    keys = jax.random.split(jax.random.key(0), cfg.n_envs)
    buf = jnp.zeros((cfg.steps, cfg.n_envs)) + x
    return buf.sum(axis=0) + jax.random.uniform(keys[-1])


def scale(x, cfg):
    return jnp.repeat(x, cfg.steps) * jnp.arange(cfg.n_envs * cfg.steps)


def run(x, t):
    cfg = Config(n_envs=4, steps=3)
    return rollout(t, cfg), jax.jit(scale)(x[:2], Config(n_envs=2, steps=5))
""",
        "JX401",
    ),
    # name -> (program, the rule whose fix it exercises); run(x, t) is called with arrays
    "tolist": (
        """import jax
import jax.numpy as jnp


def metrics(x, t):
    total = (x * t).sum().tolist()
    return {"total": total, "first": x[0].tolist()}


def run(x, t):
    return jax.jit(metrics)(x, t)
""",
        "JX201",
    ),
    "numpy scalar type": (
        """import jax
import numpy as np


def cast(x, t):
    return np.float32(t) * x, np.int32(t)


def run(x, t):
    return jax.jit(cast)(x, t)
""",
        "JX202",
    ),
    "builtin reductions": (
        """import jax
import jax.numpy as jnp


def flags(x, t):
    return any(x > t), all(x > -1.0), max(x * t), min(x + 1.0)


def run(x, t):
    return jax.vmap(flags, in_axes=(0, None))(jnp.stack([x, -x]), t)
""",
        "JX302",
    ),
    "membership": (
        """import jax
import jax.numpy as jnp


def pick(x, t):
    a = t in (1.0, 2.0)
    b = t not in [3.0, -4.0]
    return a, b


def run(x, t):
    return jax.jit(pick)(x, jnp.asarray(t))
""",
        "JX302",
    ),
    "for over a traced range": (
        """import jax
import jax.numpy as jnp


def decay(x, t, n):
    y = t
    total = 0.0
    for k in range(1, n):
        y = y * 0.5 + k
        total += y
    return y, total


def run(x, t):
    return jax.jit(decay)(x, t, jnp.int32(4)), jax.vmap(decay, in_axes=(None, None, 0))(
        x, t, jnp.arange(3)
    )
""",
        "JX201",
    ),
    "while": (
        """import jax
import jax.numpy as jnp


def count_down(x, t):
    y = t
    n = 0
    while y > 1.0:
        y = y / 2.0
        n = n + 1
    return y, n


def run(x, t):
    return jax.jit(count_down)(x, t)
""",
        "JX301",
    ),
    "assert": (
        """import jax
import jax.numpy as jnp


def checked(x, t):
    assert t > -100.0, "t out of range"
    y = x * t
    if True:
        assert (y < 1e6).all()
    return y


def run(x, t):
    return jax.jit(checked)(x, t)
""",
        "JX301",
    ),
    "count mapped by vmap": (
        """import jax
import jax.numpy as jnp


def rollout(key, x, n):
    keys = jax.random.split(key, n)
    return jnp.zeros((n,)) + x.sum() + jax.random.uniform(keys[-1])


def run(x, t):
    keys = jax.random.split(jax.random.key(0), 3)
    return jax.vmap(rollout, in_axes=(0, None, 0))(keys, x * t, jnp.full((3,), 4))
""",
        "JX401",
    ),
    "count mapped by pmap": (
        """import jax
import jax.numpy as jnp


def rollout(key, x, n):
    keys = jax.random.split(key, n)
    return jnp.zeros((n,)) + x.sum() + jax.random.uniform(keys[-1])


def run(x, t):
    keys = jax.random.split(jax.random.key(0), jax.local_device_count())
    n = 4
    return jax.pmap(rollout, in_axes=(0, None, 0))(keys, x * t, jnp.asarray(n)[None])
""",
        "JX401",
    ),
    "count as a cond operand": (
        """import jax
import jax.numpy as jnp
from jax import lax


def pad(x, n):
    return jnp.concatenate([x, jnp.zeros(n)])


def grow(x, n):
    return jnp.concatenate([x * 2.0, jnp.ones(n)])


def run(x, t):
    n = 3
    a = lax.cond(t > 1.0, pad, grow, x, n)
    b = lax.cond(t > 1.0, lambda ops: pad(*ops), lambda ops: grow(*ops), (x, n))
    return a, b
""",
        "JX401",
    ),
    "count in a scanned row": (
        """import jax.numpy as jnp
from jax import lax


def step(c, x, n):
    return c + jnp.zeros(n).sum() + x, jnp.arange(n) * c


def run(x, t):
    n = 4
    return lax.scan(lambda c, row: step(c, row[0], row[1]), t, (x[:3], jnp.full((3,), n)))
""",
        "JX401",
    ),
    "fori_loop index as a count": (
        """import jax.numpy as jnp
from jax import lax


def body(k, c):
    return c + jnp.sum(jnp.arange(k + 1) * c)


def run(x, t):
    return lax.fori_loop(0, 4, body, t) + lax.fori_loop(1, 3, lambda i, c: c * jnp.ones(i).sum(), t)
""",
        "JX401",
    ),
}


def _reference(module: object, name: str, x: np.ndarray, t: np.ndarray) -> object:
    """The original run eagerly: vmap as a Python loop (disable_jit leaves vmap on)."""
    if name == "for over a traced range":
        m = module
        with jax.disable_jit():
            rows = [m.decay(x, t, n) for n in range(3)]  # type: ignore[attr-defined]
            first = m.decay(x, t, 4)  # type: ignore[attr-defined]
        return first, jax.tree.map(lambda *v: np.stack([np.asarray(a) for a in v]), *rows)
    if name in ("count mapped by vmap", "count mapped by pmap"):
        m = module
        keys = jax.random.split(jax.random.key(0), 3 if "vmap" in name else 1)
        rows = [m.rollout(k, x * t, 4) for k in keys]  # type: ignore[attr-defined]
        return np.stack([np.asarray(r) for r in rows])
    if name == "builtin reductions":
        rows = [module.flags(r, t) for r in (x, -x)]  # type: ignore[attr-defined]
        return jax.tree.map(lambda *v: np.stack([np.asarray(a) for a in v]), *rows)
    return eager(lambda: module.run(x, t))  # type: ignore[attr-defined]


@pytest.mark.parametrize("t", [0.5, 2.0, 37.0])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_fixed_under_the_transform_matches_the_eager_original(
    name: str, t: float, tmp_path: Path
) -> None:
    text, rule = PROGRAMS[name]
    fixed, run = apply(text, unsafe=True)
    assert fixed != text
    check_fixed(text, fixed, run, True, rule)
    assert not run.remaining, [(f.code, f.line) for f in run.remaining]
    x = np.linspace(-1.0, 1.0, 5).astype(np.float32)
    tt = np.float32(t)
    want = _reference(load(text, tmp_path), name, x, tt)
    got = load(fixed, tmp_path).run(jnp.asarray(x), jnp.asarray(tt))
    if name == "tolist":  # the documented change: the numbers stay in arrays, not lists
        want = jax.tree.map(np.asarray, want)
    assert_same(got, want)


def test_membership_and_tolist_are_the_same_truth_for_one_element() -> None:
    for v in (1.0, 2.0, 3.0):
        a = jnp.float32(v)
        assert bool(jnp.any(jnp.isin(a, jnp.asarray((1.0, 2.0))))) == (a in (1.0, 2.0))
        assert np.asarray(a).tolist() == float(np.asarray(a))


NO_FIX = """import jax
import jax.numpy as jnp


@jax.jit
def rollout(x, cfg):
    return jnp.zeros(cfg["n_envs"]) + x  # a dict config: not hashable, no static fix


def f(x, t, items):
    out = max(items)  # a pytree of unknown structure: jnp.max would stack it
    while t > 1.0:
        t = t / 2.0
        jax.debug.print("{t}", t=t)  # a call for its effect: no while_loop rewrite
    assert print(t) is None  # a side effect in the test: not removed
    return out, t


def run(x, t):
    return jax.jit(f)(x, t, (x, t))
"""


def test_no_fix_where_the_operand_is_not_known() -> None:
    codes = ("JX301", "JX302", "JX401")
    findings = [f for f in lint_source(NO_FIX, "program.py") if f.code in codes]
    assert findings, "the hazards are found"
    assert all(f.fix is None for f in findings), [(f.code, f.line, f.fix) for f in findings]


MAPPED_COUNTS = """import jax
import jax.numpy as jnp


def fill(x, n):
    return jnp.zeros((n,)) + x


def run(x, a, b):
    return jax.vmap(fill, in_axes=(None, 0))(x, jnp.stack([a, b]))
"""


def test_no_unmapping_of_counts_that_may_differ() -> None:
    """`jnp.stack([a, b])` maps two counts that may differ: no single value to pass instead."""
    findings = [f for f in lint_source(MAPPED_COUNTS, "program.py") if f.code == "JX401"]
    assert findings and all(f.fix is None for f in findings)


OPERAND_COUNTS = """import jax.numpy as jnp
from jax import lax


def fill(c, n):
    return c + jnp.zeros(n).sum()


def grow(c, n):
    return c + jnp.ones(n).sum()


def pad(c, n):
    return c + jnp.arange(n).sum()


def run(x, t, n):
    a = lax.cond(t > 1.0, fill, fill, t, n)  # n: whatever the caller passes
    b = lax.fori_loop(0, 3, lambda k, c: grow(c, c.astype(int)), t)  # the carry, not the index
    c = lax.fori_loop(0, 1000, lambda k, c: pad(c, k), t)  # too long to unroll
    return a, b, c
"""


def test_no_operand_fix_without_a_known_python_count() -> None:
    """A cond operand not known to be a Python number, a count from the carry, a long loop."""
    findings = [f for f in lint_source(OPERAND_COUNTS, "program.py") if f.code == "JX401"]
    assert len(findings) == 3 and all(f.fix is None for f in findings), [
        (f.line, f.fix) for f in findings
    ]

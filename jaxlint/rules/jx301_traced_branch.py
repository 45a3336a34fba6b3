"""JX301 traced-branch: `if`/`elif`/`while`/`assert`/conditional expression on a traced condition."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.rules.base import Example, Rule
from jaxlint.rules.helpers import is_arraylike_traced

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX301",
    name="traced-branch",
    jax_error="TracerBoolConversionError",
    summary="`if`/`elif`/`while`/`assert`/conditional expression on a traced condition.",
    fix="safe/unsafe",
    doc="""## What it does
Finds Python control flow whose condition is traced, inside traced code: `if t > 0:`, `elif`,
`while x.sum() < 10:`, `assert x.min() >= 0`, and conditional expressions `a if t > 0 else b`.

## Why is this bad?
Python must pick a branch while tracing, but a traced condition has no value yet. JAX raises
`TracerBoolConversionError` (a subclass of `ConcretizationTypeError`) at trace time, with the same
class under `jax.jit`, `jax.vmap`, `lax.scan`, `lax.fori_loop`, `lax.while_loop`, `lax.cond`
branches and `pmap`. `jax.grad` without `jit` does not abstract its inputs, so branching on them
works there (and stops working as soon as the function is also jitted). Conditions on static
values (`x.shape[0] > 2`, `x is None`, `isinstance`, a `static_argnames` parameter, a closed-over
config) are fine.

## Example
```python
@jax.jit
def reward(pnl):
    if pnl > 0:
        return pnl
    else:
        return 2.0 * pnl
```

## Use instead
```python
@jax.jit
def reward(pnl):
    return jnp.where(pnl > 0, pnl, 2.0 * pnl)
```
Use `jnp.where` / `lax.select` per assigned value, `lax.cond` / `lax.switch` for expensive branches,
`lax.while_loop` for loops whose trip count depends on data, and `checkify` (or
`eqx.error_if`) instead of `assert`.

## Fix safety
Rewriting `a if c else b`, or an `if`/`else` whose branches only assign or return, to
`jnp.where(c, a, b)` is **safe** when both branches are plain expressions without side effects
and raise nothing: `jnp.where` evaluates both sides. When a branch calls functions or may fail
(division, indexing), the fix is **unsafe**: both branches are computed, and NaN or Inf from the
branch not taken still poisons gradients. A rewrite to `lax.cond` is unsafe as well: under `vmap`
a batched predicate turns `lax.cond` into a select that also evaluates both branches, so side
effects (`jax.debug.print`, callbacks) run for both. `while` and `assert` only get advice.
""",
    examples=(
        Example(
            title="if under jit",
            valid=False,
            code="""import jax


@jax.jit
def reward(pnl):
    if pnl > 0:  # expect: JX301
        return pnl
    return 2.0 * pnl


def run():
    return reward(1.0)
""",
        ),
        Example(
            title="while on a traced sum",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def grow(x):
    while x.sum() < 10.0:  # expect: JX301
        x = x * 2.0
    return x


def run():
    return grow(jnp.ones(2))
""",
        ),
        Example(
            title="assert under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def check(row):
    assert row.min() >= 0.0  # expect: JX301
    return row.sum()


def run():
    return jax.vmap(check)(jnp.ones((2, 3)))
""",
        ),
        Example(
            title="conditional expression in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(position, signal):
    new = 1.0 if signal > 0.5 else -1.0  # expect: JX301
    return new, new - position


def run():
    return lax.scan(body, 0.0, jnp.array([0.2, 0.9]))
""",
        ),
        Example(
            title="elif on traced value with static if",
            valid=False,
            code="""from functools import partial

import jax


@partial(jax.jit, static_argnames="mode")
def fee(size, mode):
    if mode == "flat":
        return 1.0
    elif size > 100.0:  # expect: JX301
        return 0.5
    return 0.1 * size


def run():
    return fee(50.0, mode="tiered")
""",
        ),
        Example(
            title="helper called with traced argument",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def clip_reward(r):
    if r > 1.0:  # expect: JX301
        return 1.0
    return r


@jax.jit
def step(x):
    reward = x.mean() * 3.0
    return clip_reward(reward)


def run():
    return step(jnp.ones(4))
""",
        ),
        Example(
            title="self.helper method under jit of bound method",
            valid=False,
            code="""import jax
import jax.numpy as jnp


class Env:
    def __init__(self):
        self.step = jax.jit(self._step)

    def _done(self, t):
        if t >= 10:  # expect: JX301
            return True
        return False

    def _step(self, t):
        return jnp.int32(self._done(t + 1))


def run():
    return Env().step(3)
""",
        ),
        Example(
            title="if in lax.fori_loop body",
            valid=False,
            code="""from jax import lax


def body(i, acc):
    if i % 2 == 0:  # expect: JX301
        return acc + 1.0
    return acc


def run():
    return lax.fori_loop(0, 4, body, 0.0)
""",
        ),
        Example(
            title="while in lax.while_loop body",
            valid=False,
            code="""from jax import lax


def cond(state):
    return state[0] < 3


def body(state):
    i, x = state
    while x > 100.0:  # expect: JX301
        x = x / 2.0
    return i + 1, x * 3.0


def run():
    return lax.while_loop(cond, body, (0, 1.0))
""",
        ),
        Example(
            title="if in lax.cond branch",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def long_branch(x):
    if x.sum() > 0:  # expect: JX301
        return x
    return -x


def run():
    return lax.cond(True, long_branch, lambda x: x, jnp.ones(2))
""",
        ),
        Example(
            title="flax module applied under jit",
            valid=False,
            code="""import flax.linen as nn
import jax
import jax.numpy as jnp


class Critic(nn.Module):
    @nn.compact
    def __call__(self, x):
        value = nn.Dense(1)(x)
        if value.sum() > 0:  # expect: JX301
            value = value * 2.0
        return value


def run():
    model = Critic()
    x = jnp.ones(3)
    params = model.init(jax.random.key(0), x)
    return jax.jit(model.apply)(params, x)
""",
        ),
        Example(
            title="jnp.where instead of if",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def reward(pnl):
    return jnp.where(pnl > 0, pnl, 2.0 * pnl)


def run():
    return reward(1.0)
""",
        ),
        Example(
            title="lax.cond and lax.while_loop",
            valid=True,
            code="""import jax
import jax.numpy as jnp
from jax import lax


@jax.jit
def grow(x):
    x = lax.while_loop(lambda v: v.sum() < 10.0, lambda v: v * 2.0, x)
    return lax.cond(x.sum() > 20.0, lambda v: v / 2.0, lambda v: v, x)


def run():
    return grow(jnp.ones(2))
""",
        ),
        Example(
            title="static conditions",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def pad(x, bias=None):
    if bias is None:
        bias = 0.0
    if isinstance(x, tuple):
        x = jnp.stack(x)
    if x.ndim == 1 and x.shape[0] > 2:
        x = x[:2]
    return x + bias


def run():
    return pad(jnp.ones(4))
""",
        ),
        Example(
            title="grad without jit",
            valid=True,
            code="""import jax


def huber(x):
    if x > 1.0:
        return 2.0 * x - 1.0
    return x * x


def run():
    return jax.grad(huber)(2.0)
""",
        ),
        Example(
            title="static_argnames mode",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="training")
def dropout_scale(x, training):
    if training:
        return x * 0.5
    return x


def run():
    return dropout_scale(jnp.ones(2), training=True)
""",
        ),
        Example(
            title="closed-over config",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def make_step(config):
    clip = config["clip"]

    def step(x):
        if clip:
            x = jnp.clip(x, -1.0, 1.0)
        return x

    return jax.jit(step)


def run():
    return make_step({"clip": True})(jnp.arange(3.0))
""",
        ),
        Example(
            title="static field of a flax struct",
            valid=True,
            code="""import flax.struct
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class Params:
    fee: float
    short_allowed: bool = flax.struct.field(pytree_node=False)


@jax.jit
def action_floor(params, x):
    if params.short_allowed:
        return x - params.fee
    return jnp.maximum(x, 0.0) - params.fee


def run():
    return action_floor(Params(fee=0.1, short_allowed=False), jnp.arange(-1.0, 2.0))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def _check(ctx: RuleContext, test: cst.BaseExpression, what: str, advice: str) -> None:
    v = ctx.value(test)
    if is_arraylike_traced(v):
        ctx.report(
            RULE,
            test,
            f"{what} on the traced condition `{ctx.source(test)}`: Python needs a concrete "
            f"bool, JAX raises TracerBoolConversionError; {advice}",
            v,
        )


def on_If(ctx: RuleContext, node: cst.If) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    _check(ctx, node.test, "`if`", "use jnp.where / lax.select for values or lax.cond for branches")


def on_While(ctx: RuleContext, node: cst.While) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    _check(ctx, node.test, "`while`", "use lax.while_loop")


def on_Assert(ctx: RuleContext, node: cst.Assert) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    _check(ctx, node.test, "`assert`", "use checkify or remove the assert under the trace")


def on_IfExp(ctx: RuleContext, node: cst.IfExp) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    _check(ctx, node.test, "conditional expression", "use jnp.where(cond, a, b)")

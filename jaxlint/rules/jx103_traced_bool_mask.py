"""JX103 traced-bool-mask: Indexing (or `.at[mask]`) with a traced boolean mask."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import Kind
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.helpers import index_values

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX103",
    name="traced-bool-mask",
    jax_error="NonConcreteBooleanIndexError",
    summary="Indexing (or `.at[mask]`) with a traced boolean mask.",
    fix="safe/advice",
    doc="""## What it does
Finds an array indexed with a boolean mask that is traced: `x[x > 0]`, `x[mask]`,
`x.at[mask].set(v)`, `x.at[mask].add(v)`, inside traced code.

## Why is this bad?
Boolean-mask indexing returns as many elements as the mask has `True` values, so the shape of the
result depends on the data. JAX raises `NonConcreteBooleanIndexError` (a subclass of `IndexError`)
at trace time, with the same class under `jax.jit`, `jax.vmap`, `lax.scan`, `lax.cond` branches
and `pmap`. `.at[mask]` updates fail the same way even though their result has a static shape.
A mask that is a NumPy constant (static) is fine, and so is `jax.grad` without `jit`.

## Example
```python
@jax.jit
def positive_sum(x):
    return x[x > 0].sum()
```

## Use instead
```python
@jax.jit
def positive_sum(x):
    return jnp.where(x > 0, x, 0.0).sum()      # or jnp.sum(x, where=x > 0)

@jax.jit
def clear_negatives(x):
    return jnp.where(x < 0, 0.0, x)            # instead of x.at[x < 0].set(0.0)
```

## Fix safety
When the masked selection is immediately summed or averaged (`x[m].sum()`, `x[m].mean()`) the fix
rewrites it to the `where=` form (`jnp.sum(x, where=m)`), and `x.at[m].set(v)` with a scalar `v`
to `jnp.where(m, v, x)`: both are **safe** (same values eagerly, including an all-`False` mask)
as long as `v` has the array's dtype (`.at[].set` casts `v` to the array's dtype, `jnp.where`
promotes). `x[m].max()`/`.min()` need an `initial=` value to be written with `where=` and only get
advice, as does every other use, whose size is data dependent: keep a fixed size and a mask
(`jnp.where`), or `jnp.nonzero(m, size=N, fill_value=...)` with a known maximum `N`.
""",
    examples=(
        Example(
            title="mask indexing under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def positive_sum(x):
    return x[x > 0].sum()  # expect: JX103


def run():
    return positive_sum(jnp.array([1.0, -2.0, 3.0]))
""",
        ),
        Example(
            title="at mask set under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def clear_negatives(x):
    return x.at[x < 0].set(0.0)  # expect: JX103


def run():
    return clear_negatives(jnp.array([1.0, -2.0, 3.0]))
""",
        ),
        Example(
            title="mask under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def large_mean(row, threshold):
    big = row > threshold
    return row[big].mean()  # expect: JX103


def run():
    return jax.vmap(large_mean, in_axes=(0, None))(jnp.ones((2, 3)), 0.5)
""",
        ),
        Example(
            title="mask in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(total, row):
    gains = row[row > 0.0]  # expect: JX103
    return total + gains.sum(), gains.sum()


def run():
    return lax.scan(body, 0.0, jnp.ones((3, 4)))
""",
        ),
        Example(
            title="helper called with traced mask",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def pick(values, mask):
    return values[mask]  # expect: JX103


@jax.jit
def step(x):
    keep = jnp.isfinite(x) & (x != 0.0)
    return pick(x, keep).sum()


def run():
    return step(jnp.array([1.0, 0.0, 2.0]))
""",
        ),
        Example(
            title="at mask add in lax.cond branch",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def bump(x):
    return x.at[x > 1.0].add(1.0)  # expect: JX103


def keep(x):
    return x


def run():
    return lax.cond(True, bump, keep, jnp.arange(4.0))
""",
        ),
        Example(
            title="mask from a traced attribute",
            valid=False,
            code="""from typing import NamedTuple

import jax
import jax.numpy as jnp


class State(NamedTuple):
    prices: jnp.ndarray
    open_mask: jnp.ndarray


@jax.jit
def exposure(state):
    return state.prices[state.open_mask].sum()  # expect: JX103


def run():
    return exposure(State(jnp.arange(3.0), jnp.array([True, False, True])))
""",
        ),
        Example(
            title="jnp.where instead of mask",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def positive_sum(x):
    return jnp.where(x > 0, x, 0.0).sum() + jnp.sum(x, where=x > 0)


def run():
    return positive_sum(jnp.array([1.0, -2.0, 3.0]))
""",
        ),
        Example(
            title="static numpy mask",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

ODD = np.array([False, True, False, True])


@jax.jit
def odd_sum(x):
    return x[ODD].sum() + x.at[ODD].set(0.0).sum()


def run():
    return odd_sum(jnp.arange(4.0))
""",
        ),
        Example(
            title="jnp.where update in lax.scan body",
            valid=True,
            code="""import jax.numpy as jnp
from jax import lax


def body(total, row):
    clipped = jnp.where(row < 0.0, 0.0, row)
    return total + clipped.sum(), clipped


def run():
    return lax.scan(body, 0.0, jnp.ones((3, 4)))
""",
        ),
        Example(
            title="integer index update under vmap",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def set_slot(x, i):
    return x.at[i].set(1.0)


def run():
    return jax.vmap(set_slot)(jnp.zeros((2, 3)), jnp.array([0, 2]))
""",
        ),
        Example(
            title="grad without jit",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def loss(x):
    return (x[x > 0] ** 2).sum()


def run():
    return jax.grad(loss)(jnp.array([1.0, -2.0, 3.0]))
""",
        ),
        Example(
            title="nonzero with size then integer indexing",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def first_two_positive(x):
    (idx,) = jnp.nonzero(x > 0, size=2, fill_value=0)
    return x[idx]


def run():
    return first_two_positive(jnp.array([1.0, -2.0, 3.0]))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_Subscript(ctx: RuleContext, node: cst.Subscript) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    base = ctx.value(node.value)
    if base.kind in (Kind.HOST, Kind.LIST, Kind.TUPLE, Kind.DICT):
        return
    idx, _ = index_values(node)
    for expr in idx:
        v = ctx.value(expr)
        if v.traced and v.kind is Kind.DEVICE and (v.boolean or _named_like_mask(expr)):
            ctx.report(
                RULE,
                node,
                f"`{ctx.source(node.value)}` is indexed with the traced boolean mask "
                f"`{ctx.source(expr)}`: the result's shape depends on the data, JAX raises "
                "NonConcreteBooleanIndexError; use jnp.where(mask, x, fill) or a reduction "
                "with where=",
                v,
            )
            return


# Names that hold boolean arrays by convention (`mask`, `valid_mask`, `done`, `is_open`, ...): an
# index whose dtype the analysis cannot see is taken as a mask only when it is named like one.
_MASK_NAME = re.compile(r"(^|_)(mask|done|dones|finished|terminated|truncated|valid)$|^(is|has)_")


def _named_like_mask(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return bool(_MASK_NAME.search(expr.value))
    if isinstance(expr, cst.Attribute):
        return bool(_MASK_NAME.search(expr.attr.value))
    return False

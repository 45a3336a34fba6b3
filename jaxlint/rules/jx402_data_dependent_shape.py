"""JX402 data-dependent-shape: `jnp.nonzero`/`argwhere`/`flatnonzero`/`unique`/one-argument `jnp.where` without `size=`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.values import Kind, Value
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import bare, code, guarded, pure
from jaxlint.rules.helpers import is_arraylike_traced

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX402",
    name="data-dependent-shape",
    jax_error="ConcretizationTypeError",
    summary="`jnp.nonzero`/`argwhere`/`flatnonzero`/`unique`/one-argument `jnp.where` without `size=`.",
    fix="safe/unsafe/advice",
    doc="""## What it does
Finds calls whose result size depends on the data, inside traced code, without a static `size=`:
`jnp.nonzero(x)`, `jnp.argwhere(x)`, `jnp.flatnonzero(x)`, `jnp.unique(x)` and one-argument
`jnp.where(cond)`.

## Why is this bad?
The number of non-zero (or distinct) elements is only known once the data is, but the output shape
must be known at trace time. JAX raises `ConcretizationTypeError` at trace time, with the same class
under `jax.jit`, `jax.vmap`, `lax.scan`, `lax.cond` branches and `pmap`. Note that inside a trace
even a NumPy constant argument fails: `jnp.nonzero(NP_CONSTANT)` under `jit` becomes a traced
operation too (use `np.nonzero` on a constant: NumPy computes it at trace time).

## Example
```python
@jax.jit
def open_slots(positions):
    return jnp.nonzero(positions == 0)[0]
```

## Use instead
```python
@jax.jit
def open_slots(positions):
    return jnp.nonzero(positions == 0, size=positions.shape[0], fill_value=-1)[0]
```
Or avoid materialising indices: `jnp.where(cond, x, y)`, `jnp.sum(x, where=cond)`,
`jnp.argmax(cond)` for the first match.

## Fix safety
- A NumPy constant (not traced) under `jit`: `jnp.nonzero(NP_CONSTANT)` becomes
  `np.nonzero(NP_CONSTANT)`, computed by NumPy at trace time. **Safe**: the same values.
- A traced argument of `nonzero`, `flatnonzero`, `argwhere` or one-argument `where`: the fix adds
  `size=jnp.size(x), fill_value=-1`. **Unsafe**: the size is the only one that is always right
  (there are never more matches than elements, so nothing is truncated), but the result now always
  has that many entries, the last ones padding with the index `-1`. The real indices come first and
  are the same; code that sums the result, counts it (`.shape[0]`) or indexes with it (`x[idx]`
  reads the last element for `-1`) computes other values without any error. Mask the padding
  (`idx >= 0`), or avoid materialising indices: `jnp.where(cond, x, y)`, `jnp.sum(x, where=cond)`,
  `jnp.argmax(cond)` for the first match.
- `jnp.unique` and its siblings get no fix: their padding is a valid value (the smallest element
  by default), so only the author can pick `size=` and a `fill_value=` the following code ignores.
""",
    examples=(
        Example(
            title="jnp.nonzero under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def open_slots(positions):
    return jnp.nonzero(positions == 0)[0]  # expect: JX402


def run():
    return open_slots(jnp.array([0, 1, 0]))
""",
        ),
        Example(
            title="one-argument jnp.where under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def hits(row):
    return jnp.where(row > 0.5)[0]  # expect: JX402


def run():
    return jax.vmap(hits)(jnp.array([[0.9, 0.1, 0.7], [0.6, 0.8, 0.2]]))
""",
        ),
        Example(
            title="jnp.unique in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(carry, row):
    distinct = jnp.unique(row)  # expect: JX402
    return carry + distinct.shape[0], distinct.sum()


def run():
    return lax.scan(body, 0, jnp.array([[1, 1, 2], [3, 3, 3]]))
""",
        ),
        Example(
            title="jnp.argwhere in helper",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def breaches(prices, stop):
    return jnp.argwhere(prices < stop)  # expect: JX402


@jax.jit
def first_breach(prices):
    return breaches(prices, prices[0] * 0.9)[0]


def run():
    return first_breach(jnp.array([10.0, 9.5, 8.5]))
""",
        ),
        Example(
            title="jnp.flatnonzero in lax.cond branch",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def active(x):
    return jnp.flatnonzero(x)  # expect: JX402


def run():
    return lax.cond(True, active, lambda x: jnp.full(3, -1), jnp.array([0.0, 1.0, 2.0]))
""",
        ),
        Example(
            title="jnp.nonzero of a numpy constant under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp
import numpy as np

SESSION_OPEN = np.array([False, True, True, False])


@jax.jit
def open_prices(prices):
    idx = jnp.nonzero(SESSION_OPEN)[0]  # expect: JX402
    return prices[idx]


def run():
    return open_prices(jnp.arange(4.0))
""",
        ),
        Example(
            title="nonzero with size and fill_value",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def open_slots(positions):
    return jnp.nonzero(positions == 0, size=positions.shape[0], fill_value=-1)[0]


def run():
    return open_slots(jnp.array([0, 1, 0]))
""",
        ),
        Example(
            title="three-argument jnp.where under vmap",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def hits(row):
    return jnp.where(row > 0.5, 1, 0).sum() + jnp.sum(row, where=row > 0.5)


def run():
    return jax.vmap(hits)(jnp.ones((2, 3)))
""",
        ),
        Example(
            title="unique and argwhere with size in lax.scan body",
            valid=True,
            code="""import jax.numpy as jnp
from jax import lax


def body(carry, row):
    distinct = jnp.unique(row, size=3, fill_value=0)
    first = jnp.argwhere(row > 1, size=1, fill_value=-1)
    return carry + distinct.sum() + first.sum(), distinct


def run():
    return lax.scan(body, 0, jnp.array([[1, 1, 2], [3, 3, 3]]))
""",
        ),
        Example(
            title="np.nonzero of a numpy constant",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

SESSION_OPEN = np.array([False, True, True, False])


@jax.jit
def open_prices(prices):
    idx = np.nonzero(SESSION_OPEN)[0]
    return prices[idx]


def run():
    return open_prices(jnp.arange(4.0))
""",
        ),
        Example(
            title="eager call outside any transform",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def active_indices(x):
    return jnp.nonzero(x)[0]


@jax.jit
def gather(x, idx):
    return x[idx]


def run():
    x = jnp.array([0.0, 2.0, 3.0])
    return gather(x, active_indices(x))
""",
        ),
        Example(
            title="argmax for first match",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def first_breach(prices):
    hit = prices < prices[0] * 0.9
    return jnp.where(hit.any(), jnp.argmax(hit), -1)


def run():
    return first_breach(jnp.array([10.0, 9.5, 8.5]))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    qual = ctx.qual(node.func)
    if qual is None:
        return
    positional = [a for a in node.args if a.keyword is None]
    one_arg_where = qual == "jax.numpy.where" and len(positional) == 1
    if qual not in K.DATA_DEPENDENT and not one_arg_where:
        return
    if any(a.keyword is not None and a.keyword.value == "size" for a in node.args):
        return
    if not positional:
        return
    v = ctx.value(positional[0].value)
    # Under jit even a constant argument is traced (jnp calls stage out); under vmap alone only
    # a traced argument has an unknown number of non-zero entries.
    if is_arraylike_traced(v) or ctx.staged:
        ctx.report(
            RULE,
            node,
            f"`{ctx.source(node.func)}` without `size=` returns a shape that depends on the "
            "traced data: JAX raises ConcretizationTypeError; pass size= (and fill_value=)",
            v,
            fix=_fix(ctx, node, qual, positional[0].value, v),
        )


# Functions whose padded result is a set of indices: -1 marks padding unambiguously.
_INDEX_RESULTS = frozenset({"nonzero", "flatnonzero", "argwhere", "where"})


@guarded
def _fix(
    ctx: RuleContext, node: cst.Call, qual: str, arg: cst.BaseExpression, v: Value
) -> NodeFix | None:
    name = qual.rsplit(".", 1)[-1]
    if not v.traced and v.kind in (Kind.HOST, Kind.LIST, Kind.TUPLE):
        # a NumPy constant (or a literal container): NumPy computes the indices at trace time
        np_name, imports = ctx.alias("numpy")
        return NodeFix(
            "safe",
            f"compute it with NumPy at trace time: `{np_name}.{name}` (the argument is a constant)",
            ((node.func, f"{np_name}.{name}"),),
            imports,
        )
    if name not in _INDEX_RESULTS or any(a.keyword is not None for a in node.args):
        return None
    if any(a.star for a in node.args) or not pure(ctx, arg):
        return None
    jnp, imports = ctx.alias("jax.numpy")
    last = node.args[-1].value
    size = f"{jnp}.size({bare(arg)})"
    return NodeFix(
        "unsafe",
        f"pad to a static size: `size={size}, fill_value=-1`; the real indices come first, the "
        "padding (-1) must be masked wherever the result is summed, counted or used as an index",
        ((last, f"{code(last)}, size={size}, fill_value=-1"),),
        imports,
    )

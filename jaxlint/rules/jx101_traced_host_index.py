"""JX101 traced-host-index: A NumPy array, list or tuple indexed with a traced value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import Kind
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import verdict
from jaxlint.rules.helpers import holds_tracers, index_values, transform_word
from jaxlint.rules.operand_fix import static_source_fix

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX101",
    name="traced-host-index",
    jax_error="TracerArrayConversionError",
    summary="A NumPy array, list or tuple indexed with a traced value.",
    fix="safe/unsafe",
    doc="""## What it does
Finds a host container (a NumPy array, a Python list, tuple or dict) indexed with a traced value inside
traced code: `TABLE[i]` where `TABLE` is a module constant, a closed-over NumPy array or an attribute
such as `self.table`, and `i` is traced (a parameter of a jitted function, a `lax.scan`/`fori_loop`
body argument, or anything computed from one).

## Why is this bad?
A host container cannot be indexed with an abstract value: it needs a concrete integer.
With jax 0.10.2 the class depends on the container, not on the transform:

- NumPy array: `TracerArrayConversionError` (NumPy tries `__array__` on the tracer) under `jax.jit`,
  `jax.vmap`, `lax.scan`, `lax.fori_loop`, `lax.cond` branches and `pmap`;
- list or tuple: `TracerIntegerConversionError` (Python calls `__index__` on the tracer) under the
  same transforms;
- dict: `TypeError` (Python hashes the key, and tracers are not hashable).

Both are raised at trace time, at this line. Indexing with a static value (a loop variable of
`for k in range(3)`, `x.shape[0] - 1`, a `static_argnums` parameter) is fine, and so is any index
inside a `jax.pure_callback` callback, which runs on the host with concrete arrays.

## Example
```python
PRICES = np.linspace(100.0, 110.0, 16)

@jax.jit
def price_at(t):
    return PRICES[t]
```

## Use instead
```python
@jax.jit
def price_at(t):
    return jnp.asarray(PRICES)[t]      # or jnp.take(PRICES, t)
```
The host data is embedded as a constant of the compiled program and indexed on the device.

## Fix safety
The fix rewrites `TABLE[i]` to `jnp.asarray(TABLE)[i]`. For a NumPy array it is **safe**: for
every index on which the original runs eagerly (in range, negative indices included) it returns
the same element, converted to JAX's default dtype (float32 unless `jax_enable_x64`, as it would
be anyway once combined with traced arrays). Out-of-range indices behave differently, but the
original raises `IndexError` on them eagerly: under `jit`, `jnp.asarray(T)[10]` clamps to the last
element, and `jnp.take(T, 10)` (default mode) returns NaN for floats. The fix keeps the subscript
rather than `jnp.take` so that multi-axis indices and slices (`T[i, :]`) keep their meaning. Do not
switch to `jnp.take(..., mode="clip")` by hand: it maps `-1` to the first element instead of the
last. For a list or tuple the fix is **unsafe**: `jnp.asarray` needs items of one shape and turns
mixed ints and floats into floats (and nested containers into arrays). A dict looked up with a
traced key gets no rewrite of the lookup; where the key is a jit parameter of this file or a
Python number passed in as a transform's argument or operand, it is made static at its source as
JX401 describes (with the same safety).

Every fix that is called safe here is safe in a function that a transform traces (or a body
that it hands to `lax.scan`, `lax.cond`, ...): there every run sees JAX values. In a helper that is
*called* from traced code the same rewrite is offered as **unsafe**, because Python code may call
the helper too, with NumPy float64 data or Python numbers, and would then get float32 JAX arrays.
""",
    examples=(
        Example(
            title="dict looked up with a traced key",
            valid=False,
            raises="TypeError",
            code="""import jax
import jax.numpy as jnp

FEES = {0: 0.0, 1: 0.5, 2: 0.5}


@jax.jit
def fee(action):
    return jnp.float32(FEES[action])  # expect: JX101


def run():
    return fee(1)
""",
        ),
        Example(
            title="dict looked up with static keys under jit",
            valid=True,
            code="""import jax
import jax.numpy as jnp

FEES = {"buy": 0.5, "sell": 0.25}


@jax.jit
def fee(size):
    return size * FEES["buy"] + jnp.abs(size) * FEES["sell"]


def run():
    return fee(2.0)
""",
        ),
        Example(
            title="numpy constant under jit",
            valid=False,
            code="""import jax
import numpy as np

PRICES = np.linspace(100.0, 110.0, 16)


@jax.jit
def price_at(t):
    return PRICES[t]  # expect: JX101


def run():
    return price_at(3)
""",
        ),
        Example(
            title="python list under vmap",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""import jax
import jax.numpy as jnp

WEIGHTS = [0.5, 1.0, 2.0]


def scale(x, i):
    return x * WEIGHTS[i]  # expect: JX101


def run():
    return jax.vmap(scale)(jnp.ones(3), jnp.arange(3))
""",
        ),
        Example(
            title="tuple under partial jit with static_argnames",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""from functools import partial

import jax

SIZES = (8, 16, 32)


@partial(jax.jit, static_argnames=("scale",))
def pick(i, scale):
    return SIZES[i] * scale  # expect: JX101


def run():
    return pick(1, scale=2)
""",
        ),
        Example(
            title="lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
import numpy as np
from jax import lax

RTH_STARTS = np.array([0, 390, 780, 1170])


def body(total, i):
    start = RTH_STARTS[i]  # expect: JX101
    return total + start, start


def run():
    return lax.scan(body, 0, jnp.arange(4))
""",
        ),
        Example(
            title="lax.fori_loop body",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""from jax import lax

FEES = [0.1, 0.2, 0.3]


def body(i, acc):
    return acc + FEES[i]  # expect: JX101


def run():
    return lax.fori_loop(0, 3, body, 0.0)
""",
        ),
        Example(
            title="closure numpy array in function passed to jax.jit",
            valid=False,
            code="""import jax
import numpy as np


def make_lookup(n):
    table = np.arange(n, dtype=np.float32)

    def lookup(i):
        return table[i] * 2.0  # expect: JX101

    return jax.jit(lookup)


def run():
    return make_lookup(5)(2)
""",
        ),
        Example(
            title="self.table indexed in method passed to jax.jit",
            valid=False,
            code="""import jax
import numpy as np


class Env:
    def __init__(self):
        self.table = np.array([1.0, 2.0, 4.0])
        self.jitted_step = jax.jit(self.step)

    def step(self, i):
        return self.table[i]  # expect: JX101


def run():
    return Env().jitted_step(1)
""",
        ),
        Example(
            title="helper called with a traced argument",
            valid=False,
            code="""import jax
import numpy as np

LEVELS = np.array([0.0, 0.5, 1.0, 1.5])


def level(k):
    return LEVELS[k]  # expect: JX101


@jax.jit
def step(i):
    return level(i + 1) * 2.0


def run():
    return step(1)
""",
        ),
        Example(
            title="tuple unpacking of a traced state",
            valid=False,
            code="""import jax
import jax.numpy as jnp
import numpy as np

BARS = np.arange(20.0)


@jax.jit
def mark(state):
    pos, cash = state
    return cash + BARS[pos + 1]  # expect: JX101


def run():
    return mark((jnp.int32(3), jnp.float32(10.0)))
""",
        ),
        Example(
            title="flax module initialised under jit",
            valid=False,
            code="""import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

SCALES = np.array([0.5, 1.0, 2.0])


class Head(nn.Module):
    @nn.compact
    def __call__(self, x, idx):
        return nn.Dense(2)(x) * SCALES[idx]  # expect: JX101


def run():
    model = Head()
    return jax.jit(model.init)(jax.random.key(0), jnp.ones(3), 1)
""",
        ),
        Example(
            title="numpy constant in lax.cond branch",
            valid=False,
            code="""import jax.numpy as jnp
import numpy as np
from jax import lax

BONUS = np.array([1.0, 2.0, 3.0])


def with_bonus(i):
    return BONUS[i]  # expect: JX101


def without_bonus(i):
    return jnp.float32(0.0)


def run():
    return lax.cond(True, with_bonus, without_bonus, jnp.int32(1))
""",
        ),
        Example(
            title="jnp array indexed with a tracer",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

PRICES = np.linspace(100.0, 110.0, 16)


@jax.jit
def price_at(t):
    return jnp.asarray(PRICES)[t] + jnp.take(PRICES, t)


def run():
    return price_at(3)
""",
        ),
        Example(
            title="static loop variable",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

W = np.array([0.2, 0.3, 0.5])


@jax.jit
def weighted(x):
    acc = 0.0
    for k in range(3):
        acc = acc + W[k] * x[k]
    return acc


def run():
    return weighted(jnp.ones(3))
""",
        ),
        Example(
            title="index from shape",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

PRICES = np.arange(10.0)


@jax.jit
def last_price(x):
    return x.sum() + PRICES[x.shape[0] - 1] + PRICES[len(x)]


def run():
    return last_price(jnp.ones(4))
""",
        ),
        Example(
            title="static_argnums parameter",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp

SIZES = (8, 16, 32)


@partial(jax.jit, static_argnums=1)
def scaled(x, i):
    return x * SIZES[i]


def run():
    return scaled(jnp.ones(2), 2)
""",
        ),
        Example(
            title="pure_callback runs on the host",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

PRICES = np.arange(10.0)


def host_lookup(i):
    return np.asarray(PRICES[i], dtype=np.float32)


@jax.jit
def price_at(t):
    return jax.pure_callback(host_lookup, jax.ShapeDtypeStruct((), jnp.float32), t)


def run():
    return price_at(3)
""",
        ),
        Example(
            title="grad without jit",
            valid=True,
            code="""import jax
import numpy as np

RATES = np.array([0.1, 0.2, 0.3])


def loss(w, i):
    return w * RATES[i]


def run():
    return jax.grad(loss)(1.0, 2)
""",
        ),
        Example(
            title="closed-over static config index",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

LEVELS = np.array([0.0, 0.5, 1.0])


def make_step(level_index):
    def step(x):
        return x * LEVELS[level_index]

    return jax.jit(step)


def run():
    return make_step(2)(jnp.ones(3))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_Subscript(ctx: RuleContext, node: cst.Subscript) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    if isinstance(node.value, cst.Attribute) and node.value.attr.value == "at":
        return
    base = ctx.value(node.value)
    if base.kind is Kind.DICT:
        _dict_key(ctx, node)
        return
    if base.kind not in (Kind.HOST, Kind.LIST, Kind.TUPLE):
        return
    idx, _ = index_values(node)
    for expr in idx:
        v = ctx.value(expr)
        if holds_tracers(v):
            host = base.kind is Kind.HOST
            error = "TracerArrayConversionError" if host else "TracerIntegerConversionError"
            what = "NumPy array" if host else f"Python {base.kind.value}"
            advice = "jnp.take(...)" if host else "jnp.asarray(...)[...] or lax.switch"
            jnp, imports = ctx.alias("jax.numpy")
            fix = NodeFix(
                # NumPy raises on out-of-range indices where jnp clamps: equal wherever the
                # original runs. A list or tuple converts only when its items are same-shaped.
                verdict(ctx, host),
                f"index a JAX array: `{jnp}.asarray({ctx.source(node.value, 30)})[...]`",
                ((node.value, f"{jnp}.asarray({ctx.code(node.value)})"),),
                imports,
            )
            ctx.report(
                RULE,
                node,
                f"`{ctx.source(node.value)}` is a {what} indexed with the traced value "
                f"`{ctx.source(expr)}`: JAX raises {error} {transform_word(ctx)}; index a JAX "
                f"array instead ({advice})",
                v,
                jax_error=error,
                fix=fix,
            )
            return


def _dict_key(ctx: RuleContext, node: cst.Subscript) -> None:
    """A dict looked up with a traced key: Python hashes it, and tracers are not hashable."""
    idx, _ = index_values(node)
    for expr in idx:
        v = ctx.value(expr)
        if holds_tracers(v):
            ctx.report(
                RULE,
                node,
                f"`{ctx.source(node.value)}` is a Python dict looked up with the traced key "
                f"`{ctx.source(expr)}`: JAX raises TypeError (a tracer is not hashable); use an "
                "array indexed by position, or lax.switch",
                v,
                jax_error="TypeError",
                fix=static_source_fix(ctx, expr),
            )
            return

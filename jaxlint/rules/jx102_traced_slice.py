"""JX102 traced-slice: Slice bounds that are traced (`x[s:s + w]`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import Kind
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import bare, guarded
from jaxlint.rules.helpers import holds_tracers, index_values
from jaxlint.rules.operand_fix import static_source_fix

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX102",
    name="traced-slice",
    jax_error="IndexError",
    summary="Slice bounds that are traced (`x[s:s + w]`).",
    fix="unsafe/advice",
    doc="""## What it does
Finds a slice whose start, stop or step is traced, on any sliceable value: `x[s:s + w]`,
`x[t:]`, `x[:n]`, `x[::k]`, where `s`, `t`, `n` or `k` is traced inside traced code.

## Why is this bad?
A slice fixes the shape of its result, and shapes must be known at trace time. With jax 0.10.2 the
class depends on what is sliced, not on the transform (`jax.jit`, `jax.vmap`, `lax.scan`,
`lax.fori_loop`, `lax.while_loop`, `lax.cond` branches, `pmap`):

- a JAX array (or tracer): `IndexError` ("Array slice indices must have static start/stop/step");
- a NumPy array, list or tuple: `TracerIntegerConversionError` (`__index__` on the tracer).

Slices with static bounds (literals, `x.shape[0] // 2`, a `static_argnames` parameter, a loop
variable of `for k in range(3)`) are fine.

## Example
```python
@partial(jax.jit, static_argnames="w")
def window(x, s, w):
    return x[s:s + w]
```

## Use instead
```python
@partial(jax.jit, static_argnames="w")
def window(x, s, w):
    return lax.dynamic_slice_in_dim(x, s, w, axis=0)
```
The window length must be static; only the start may be traced.

## Fix safety
The fix is offered when the length `stop - start` is static: the bounds are the same traced
expression plus static terms (`x[s:s + w]`, `x[t - 3:t]`, `x[t - W + 1:t + 1]`), with full `:` on
the other axes (the axis is the slice's position: `x[:, t:t + 4]` slices axis 1). A NumPy operand
is wrapped in `jnp.asarray`. It is **unsafe**: `lax.dynamic_slice` clamps the start so that the
whole window fits. It agrees with Python slicing only when the window lies inside the array. With
`x = np.arange(10)` and `w = 3`, `x[8:11]` is `[8, 9]` (length 2) but the dynamic slice is
`[7, 8, 9]`; `x[-2:1]` is empty but the dynamic slice is `[7, 8, 9]`. Apply it when the start is
known to be in `[0, len(x) - w]`. Open slices (`x[i:]`, `x[:n]`), traced steps and lengths that are
not static get no window fix: their result shape depends on the data (use a fixed window and a
mask). Where such a bound is a parameter of a function jitted in this file, or a Python number
that reaches the function as a `vmap`/`pmap` argument or a `lax.cond`/`lax.scan`/`fori_loop`
operand, it is made static at its source as JX401 describes (with the same safety).
""",
    examples=(
        Example(
            title="jax array window under jit",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="w")
def window(x, s, w):
    return x[s : s + w]  # expect: JX102


def run():
    return window(jnp.arange(10.0), 2, w=3)
""",
        ),
        Example(
            title="numpy constant sliced under jit",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""import jax
import numpy as np

PRICES = np.arange(10.0)


@jax.jit
def recent(t):
    return PRICES[t - 3 : t].mean()  # expect: JX102


def run():
    return recent(5)
""",
        ),
        Example(
            title="open slice under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def tail_sum(x, i):
    return x[i:].sum()  # expect: JX102


def run():
    return jax.vmap(tail_sum, in_axes=(None, 0))(jnp.arange(6.0), jnp.arange(3))
""",
        ),
        Example(
            title="observation window in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax

FEATURES = jnp.arange(32.0)


def body(carry, t):
    obs = FEATURES[t : t + 4]  # expect: JX102
    return carry + obs.sum(), obs


def run():
    return lax.scan(body, 0.0, jnp.arange(4, 8))
""",
        ),
        Example(
            title="prefix in lax.fori_loop body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax

X = jnp.arange(8.0)


def body(i, acc):
    return acc + X[:i].sum()  # expect: JX102


def run():
    return lax.fori_loop(0, 4, body, 0.0)
""",
        ),
        Example(
            title="helper called with a traced start",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def window(x, start):
    return x[start : start + 2]  # expect: JX102


@jax.jit
def step(x, t):
    return window(x, t + 1).sum()


def run():
    return step(jnp.arange(10.0), 3)
""",
        ),
        Example(
            title="self.helper method with jax.jit of bound method",
            valid=False,
            code="""import jax
import jax.numpy as jnp


class Env:
    def __init__(self, bars):
        self.bars = bars
        self.step = jax.jit(self._step)

    def _window(self, t):
        return self.bars[t - 2 : t]  # expect: JX102

    def _step(self, t):
        return self._window(t).mean()


def run():
    return Env(jnp.arange(10.0)).step(5)
""",
        ),
        Example(
            title="traced step in lax.while_loop body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax

X = jnp.arange(12.0)


def cond(state):
    return state[0] < 3


def body(state):
    k, total = state
    return k + 1, total + X[:: k + 1].sum()  # expect: JX102


def run():
    return lax.while_loop(cond, body, (0, 0.0))
""",
        ),
        Example(
            title="python list sliced under jit",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""import jax
import jax.numpy as jnp

LEVELS = [1.0, 2.0, 3.0, 4.0]


@jax.jit
def upper(i):
    return jnp.asarray(LEVELS[i:]).sum()  # expect: JX102


def run():
    return upper(1)
""",
        ),
        Example(
            title="dynamic_slice_in_dim",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp
from jax import lax


@partial(jax.jit, static_argnames="w")
def window(x, s, w):
    return lax.dynamic_slice_in_dim(x, s, w, axis=0)


def run():
    return window(jnp.arange(10.0), 2, w=3)
""",
        ),
        Example(
            title="bounds from shape",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def halves(x):
    half = x.shape[0] // 2
    return x[:half].sum() - x[half:].sum() + x[len(x) - 1 :].sum()


def run():
    return halves(jnp.arange(6.0))
""",
        ),
        Example(
            title="static_argnames bounds",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames=("start", "width"))
def window(x, start, width):
    return x[start : start + width]


def run():
    return window(jnp.arange(10.0), start=2, width=3)
""",
        ),
        Example(
            title="static loop variable in slice",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def pair_sums(x):
    return jnp.stack([x[k : k + 2].sum() for k in range(3)])


def run():
    return pair_sums(jnp.arange(5.0))
""",
        ),
        Example(
            title="dynamic_slice in lax.scan body",
            valid=True,
            code="""import jax.numpy as jnp
from jax import lax

FEATURES = jnp.arange(32.0)


def body(carry, t):
    obs = lax.dynamic_slice(FEATURES, (t,), (4,))
    return carry + obs.sum(), obs


def run():
    return lax.scan(body, 0.0, jnp.arange(4, 8))
""",
        ),
        Example(
            title="grad without jit",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def loss(x, s):
    return (x[s : s + 2] ** 2).sum()


def run():
    return jax.grad(loss)(jnp.arange(5.0), 1)
""",
        ),
        Example(
            title="closed-over config window",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def make_step(config):
    lookback = config["lookback"]

    def step(x):
        return x[-lookback:].mean()

    return jax.jit(step)


def run():
    return make_step({"lookback": 3})(jnp.arange(10.0))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_Subscript(ctx: RuleContext, node: cst.Subscript) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    _, bounds = index_values(node)
    for expr in bounds:
        v = ctx.value(expr)
        if holds_tracers(v):
            base = ctx.value(node.value)
            host = base.kind in (Kind.HOST, Kind.LIST, Kind.TUPLE)
            error = "TracerIntegerConversionError" if host else "IndexError"
            ctx.report(
                RULE,
                node,
                f"slice bound `{ctx.source(expr)}` of `{ctx.source(node.value)}` is traced: "
                f"slice shapes must be static, JAX raises {error}; use "
                f"lax.dynamic_slice_in_dim(x, start, size) with a static size",
                v,
                jax_error=error,
                fix=_window_fix(ctx, node, host) or static_source_fix(ctx, expr),
            )
            return


# ---------------------------------------------------------------------------------------- fix
# An index expression as `base + terms`: base is the traced part's source (None: all static),
# terms are (sign, static node).
_Affine = tuple[str | None, list[tuple[int, cst.BaseExpression]]]


def _affine(ctx: RuleContext, expr: cst.BaseExpression) -> _Affine:
    if not ctx.value(expr).traced:
        return None, [(1, expr)]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add | cst.Subtract):
        sign = 1 if isinstance(expr.operator, cst.Add) else -1
        if not ctx.value(expr.right).traced:
            base, terms = _affine(ctx, expr.left)
            return base, [*terms, (sign, expr.right)]
        if sign == 1 and not ctx.value(expr.left).traced:
            base, terms = _affine(ctx, expr.right)
            return base, [*terms, (1, expr.left)]
    return bare(expr), []


def _literal_int(expr: cst.BaseExpression) -> int | None:
    if isinstance(expr, cst.Integer):
        return int(expr.evaluated_value)
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus)
        and isinstance(expr.expression, cst.Integer)
    ):
        return -int(expr.expression.evaluated_value)
    return None


def _length(terms: list[tuple[int, cst.BaseExpression]]) -> str | None:
    """Source of the static sum of signed terms (integer literals folded); None when it cannot be
    positive."""
    constant = 0
    symbolic: list[tuple[int, cst.BaseExpression]] = []
    for sign, t in terms:
        value = _literal_int(t)
        if value is None:
            symbolic.append((sign, t))
        else:
            constant += sign * value
    if not any(sign > 0 for sign, _ in symbolic) and constant <= 0:
        return None
    parts: list[str] = []
    for sign, t in sorted(symbolic, key=lambda st: -st[0]):  # positive terms first
        text = bare(t)
        low = isinstance(t, cst.BinaryOperation) and isinstance(t.operator, cst.Add | cst.Subtract)
        if (not isinstance(t, cst.BinaryOperation | cst.UnaryOperation) and not _atomic(t)) or (
            sign < 0 and low
        ):
            text = f"({text})"
        if sign > 0:
            parts.append(f" + {text}" if parts else text)
        else:
            parts.append(f" - {text}" if parts else f"-{text}")
    if constant or not parts:
        parts.append(f" {'+' if constant > 0 else '-'} {abs(constant)}" if parts else str(constant))
    return "".join(parts)


def _atomic(t: cst.BaseExpression) -> bool:
    return bool(getattr(t, "lpar", ())) or isinstance(
        t, cst.Name | cst.Attribute | cst.Call | cst.Subscript | cst.Integer | cst.Float
    )


@guarded
def _window_fix(ctx: RuleContext, node: cst.Subscript, host: bool) -> NodeFix | None:
    """`x[s:s + w]` with a static `w` -> `lax.dynamic_slice_in_dim(x, s, w, axis)`."""
    axis = None
    for k, el in enumerate(node.slice):
        s = el.slice
        if not isinstance(s, cst.Slice):
            return None
        if s.lower is None and s.upper is None and s.step is None:
            continue  # a full `:` keeps its axis
        if axis is not None or s.step is not None or s.lower is None or s.upper is None:
            return None
        axis = k
    if axis is None:
        return None
    window = node.slice[axis].slice
    assert isinstance(window, cst.Slice) and window.lower is not None and window.upper is not None
    lo_base, lo_terms = _affine(ctx, window.lower)
    hi_base, hi_terms = _affine(ctx, window.upper)
    if lo_base is None or lo_base != hi_base:
        return None
    length = _length([*hi_terms, *((-sign, t) for sign, t in lo_terms)])
    if length is None:
        return None
    lax, imports = ctx.alias("jax.lax")
    operand_text = bare(node.value)
    if host:
        jnp, more = ctx.alias("jax.numpy")
        operand_text = f"{jnp}.asarray({operand_text})"
        imports = (*imports, *(i for i in more if i not in imports))
    args = [operand_text, bare(window.lower), length]
    if axis:
        args.append(f"axis={axis}")
    return NodeFix(
        "unsafe",
        f"use `{lax}.dynamic_slice_in_dim` (the window is shifted to fit inside the array)",
        ((node, f"{lax}.dynamic_slice_in_dim({', '.join(args)})"),),
        imports,
    )

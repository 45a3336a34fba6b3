"""JX302 traced-bool-op: `and`/`or`/`not`, chained comparisons or builtin `min`/`max` on traced values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import Kind, Value
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import bare, code, guarded, numeric, pure, verdict
from jaxlint.rules.helpers import holds_traced_array, is_arraylike_traced

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX302",
    name="traced-bool-op",
    jax_error="TracerBoolConversionError",
    summary="`and`/`or`/`not`, chained comparisons, `in`, builtin `min`/`max`/`any`/`all`/"
    "`sorted` on traced values.",
    fix="safe/unsafe",
    doc="""## What it does
Finds Python boolean operators and comparisons that need the truth value of a traced operand,
inside traced code: `a and b`, `a or b`, `not a`, chained comparisons (`0 < t < 5`, which means
`0 < t and t < 5`), membership tests (`t in (1, 2)`, `1.0 in x`, `t in {...}`), and the
builtins `min(t, c)` / `max(t, c)`, `any(x > 0)`, `all(...)` and `sorted(x)`.

## Why is this bad?
`and`, `or` and `not` call `bool()` on their operand; a chained comparison calls `bool()` on the
first comparison; builtin `min`/`max` compare their arguments and call `bool()` on the result.
`in` compares the value with each element (`1.0 in x` compares each element of the array);
`any`/`all`/`sorted` take the truth value of each element or of each comparison. A tracer has no
truth value: JAX raises `TracerBoolConversionError` at trace time, with the same class under `jax.jit`, `jax.vmap`, `lax.scan`, `lax.fori_loop`, `lax.cond` branches and `pmap`.
`jax.grad` without `jit` does not abstract its inputs, so these work there. Operators on static
values (`x.ndim == 1 and x.shape[0] > 2`, `x is None or flag`, `"bias" in params`,
`any(d > 1 for d in x.shape)`) are fine. A membership test in a set or a dict hashes the value
instead, and tracers are not hashable: `TypeError`.

## Example
```python
@jax.jit
def in_session(t):
    return 0 < t < 390 and not (t == 200)
```

## Use instead
```python
@jax.jit
def in_session(t):
    return jnp.logical_and((0 < t) & (t < 390), jnp.logical_not(t == 200))
```
Use `jnp.logical_and`/`logical_or`/`logical_not` (or `&`, `|`, `~` on boolean arrays), split a
chained comparison into `&`-joined comparisons, and `jnp.minimum`/`jnp.maximum` instead of the
builtins.

## Fix safety
- `not t` -> `jnp.logical_not(t)` is **safe**: `not x` is `x == 0` for every number (NaN is
  truthy: both give `False`).
- `a and b` / `a or b` -> `jnp.logical_and(a, b)` / `jnp.logical_or(a, b)` is **safe** when both
  operands are booleans (comparisons, masks, `not`, `True`/`False`) and `b` cannot raise or have a
  side effect (it is computed even where `a` decides alone); otherwise **unsafe**: `a and b`
  returns one of its operands (`2 and 3` is `3`, `jnp.logical_and(2, 3)` is `True`).
- `0 < t < 5` -> `jnp.logical_and(0 < t, t < 5)` is **safe** when the operands after the first are
  plain expressions (the middle one is computed twice).
- `min(a, b)` / `max(a, b)` -> `jnp.minimum(a, b)` / `jnp.maximum(a, b)` (nested for more
  arguments) is **unsafe** because of NaN only: the builtin keeps its first argument when a
  comparison with NaN is `False` (`min(1.0, nan)` is `1.0`), `jnp.minimum` propagates NaN. They
  agree on every input without NaN. `key=` and `default=` get no fix.
- `any(a)` / `all(a)` -> `jnp.any(a)` / `jnp.all(a)` is **safe** where `a` is known to be a traced
  array (a comparison, a mask, a JAX result): Python iterates its first axis, which for a 1-D
  array is every element, and for more dimensions Python's truth of a row of several elements
  raises eagerly, so wherever the original runs the whole-array reduction is the same.
  `min(a)` / `max(a)` -> `jnp.min(a)` / `jnp.max(a)` likewise, **unsafe** for NaN (as above). A
  value of unknown structure (a tuple of arrays, a pytree parameter) gets no fix: `jnp` would
  stack it.
- `t in (1.0, 2.0)` -> `jnp.any(jnp.isin(t, jnp.asarray((1.0, 2.0))))` (`not in`: wrapped in
  `jnp.logical_not`) is **safe** where `t` is a traced array and the container a literal of
  numbers: Python's `in` is `any(t == e)`, which runs eagerly only for a one-element array, and
  there the reduction is the same truth value.

Every fix that is called safe here is safe in a function that a transform traces (or a body
that it hands to `lax.scan`, `lax.cond`, ...): there every run sees JAX values. In a helper that is
*called* from traced code the same rewrite is offered as **unsafe**, because Python code may call
the helper too, with NumPy float64 data or Python numbers, and would then get float32 JAX arrays.
""",
    examples=(
        Example(
            title="membership test against a tuple under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def trades(action):
    trading = action in (1, 2)  # expect: JX302
    return jnp.float32(trading)


def run():
    return trades(1)
""",
        ),
        Example(
            title="builtin any over a traced array under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def breached(prices, stop):
    hit = any(prices < stop)  # expect: JX302
    return jnp.float32(hit)


def run():
    return jax.vmap(breached, in_axes=(0, None))(jnp.ones((2, 3)), 0.5)
""",
        ),
        Example(
            title="builtin sorted in a lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(carry, row):
    ranked = sorted(abs(row - carry))  # expect: JX302
    return carry, ranked[0]


def run():
    return lax.scan(body, 0.0, jnp.array([[3.0, 1.0], [2.0, 5.0]]))
""",
        ),
        Example(
            title="key membership in a pytree dict and any over static shapes",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def forward(params, x):
    y = x @ params["w"]
    if "b" in params:
        y = y + params["b"]
    if any(d > 1 for d in x.shape):
        y = y * 2.0
    return y


def run():
    return forward({"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}, jnp.ones((4, 3)))
""",
        ),
        Example(
            title="and under jit",
            valid=False,
            code="""import jax


@jax.jit
def in_range(t):
    return (t > 0) and (t < 5)  # expect: JX302


def run():
    return in_range(3.0)
""",
        ),
        Example(
            title="not under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def flat(position):
    return not (position != 0.0)  # expect: JX302


def run():
    return jax.vmap(flat)(jnp.array([0.0, 1.0]))
""",
        ),
        Example(
            title="chained comparison in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(count, t):
    inside = 0 < t < 5  # expect: JX302
    return count + jnp.int32(inside), inside


def run():
    return lax.scan(body, 0, jnp.arange(3))
""",
        ),
        Example(
            title="builtin min under jit",
            valid=False,
            code="""import jax


@jax.jit
def capped(reward):
    return min(reward, 1.0)  # expect: JX302


def run():
    return capped(2.0)
""",
        ),
        Example(
            title="builtin max in helper",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def floor_at_zero(v):
    return max(v, 0.0)  # expect: JX302


@jax.jit
def step(x):
    pnl = x.sum() - 1.0
    return floor_at_zero(pnl)


def run():
    return step(jnp.ones(3))
""",
        ),
        Example(
            title="or in lax.fori_loop body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(i, done):
    return done or (i > 2)  # expect: JX302


def run():
    return lax.fori_loop(0, 4, body, jnp.bool_(False))
""",
        ),
        Example(
            title="and on unpacked traced state",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def should_close(state):
    position, t = state
    return (position != 0) and (t >= 389)  # expect: JX302


def run():
    return should_close((jnp.int32(1), jnp.int32(389)))
""",
        ),
        Example(
            title="not in self.helper under jit of bound method",
            valid=False,
            code="""import jax
import jax.numpy as jnp


class Env:
    def __init__(self):
        self.step = jax.jit(self._step)

    def _is_open(self, t):
        return not (t >= 390)  # expect: JX302

    def _step(self, t):
        return jnp.int32(self._is_open(t))


def run():
    return Env().step(3)
""",
        ),
        Example(
            title="logical functions and operators",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def in_session(t):
    a = jnp.logical_and(t > 0, t < 390)
    b = (t > 0) & (t < 390) | (t == 400)
    return jnp.logical_not(a) | ~b


def run():
    return in_session(3)
""",
        ),
        Example(
            title="jnp.minimum and jnp.maximum",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def clip_reward(r):
    return jnp.minimum(jnp.maximum(r, -1.0), 1.0)


def run():
    return clip_reward(2.0)
""",
        ),
        Example(
            title="boolean operators on static values",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def head(x, bias=None):
    n = min(x.shape[0], 4)
    if x.ndim == 1 and not (bias is None or len(x) < 2):
        x = x + bias
    return x[:n]


def run():
    return head(jnp.arange(6.0), 1.0)
""",
        ),
        Example(
            title="grad without jit",
            valid=True,
            code="""import jax


def loss(x):
    inside = 0.0 < x < 5.0 and not (x == 1.0)
    return min(x, 3.0) * x if inside else x


def run():
    return jax.grad(loss)(2.0)
""",
        ),
        Example(
            title="static_argnames flags",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames=("long_only", "hedged"))
def exposure(x, long_only, hedged):
    scale = 0.5 if (long_only and not hedged) else 1.0
    return x * max(scale, 0.25)


def run():
    return exposure(jnp.ones(2), long_only=True, hedged=False)
""",
        ),
        Example(
            title="chained comparison split with ampersand in lax.scan body",
            valid=True,
            code="""import jax.numpy as jnp
from jax import lax


def body(count, t):
    inside = (0 < t) & (t < 5)
    return count + inside.astype(jnp.int32), inside


def run():
    return lax.scan(body, 0, jnp.arange(3))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_BooleanOperation(ctx: RuleContext, node: cst.BooleanOperation) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    v = ctx.value(node.left)
    if is_arraylike_traced(v):
        op = "and" if isinstance(node.operator, cst.And) else "or"
        jnp, imports = ctx.alias("jax.numpy")
        twin = f"{jnp}.logical_{op}"
        # `a and b` is b when a is truthy, else a: the same as logical_and only for booleans;
        # and b is computed even where `a` decides alone.
        safe = _boolean(ctx, node.left) and _boolean(ctx, node.right) and pure(ctx, node.right)
        # never on a right operand that may be None or an object (`x or default`)
        fix = (
            NodeFix(
                verdict(ctx, safe),
                f"use `{twin}` (both operands are computed)",
                ((node, f"{twin}({bare(node.left)}, {bare(node.right)})"),),
                imports,
            )
            if numeric(ctx, node.right)
            else None
        )
        ctx.report(
            RULE,
            node,
            f"`{op}` converts the traced value `{ctx.source(node.left)}` to a Python bool: JAX "
            f"raises TracerBoolConversionError; use `jnp.logical_{op}` (or `&`/`|`)",
            v,
            fix=fix,
        )


def on_UnaryOperation(ctx: RuleContext, node: cst.UnaryOperation) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    if not isinstance(node.operator, cst.Not):
        return
    v = ctx.value(node.expression)
    if is_arraylike_traced(v):
        jnp, imports = ctx.alias("jax.numpy")
        # `not x` is `x == 0` for every number (NaN is truthy: both give False).
        fix = NodeFix(
            verdict(ctx, True),
            f"use `{jnp}.logical_not`",
            ((node, f"{jnp}.logical_not({bare(node.expression)})"),),
            imports,
        )
        ctx.report(
            RULE,
            node,
            f"`not` converts the traced value `{ctx.source(node.expression)}` to a Python bool: "
            "JAX raises TracerBoolConversionError; use `jnp.logical_not` (or `~`)",
            v,
            fix=fix,
        )


_ORDERING = (
    cst.LessThan,
    cst.LessThanEqual,
    cst.GreaterThan,
    cst.GreaterThanEqual,
    cst.Equal,
    cst.NotEqual,
)


def on_Comparison(ctx: RuleContext, node: cst.Comparison) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    if _membership(ctx, node):
        return
    if len(node.comparisons) < 2:
        return
    operands = [node.left, *(c.comparator for c in node.comparisons[:-1])]
    for expr in operands:
        v = ctx.value(expr)
        if is_arraylike_traced(v):
            ctx.report(
                RULE,
                node,
                f"the chained comparison `{ctx.source(node)}` converts a traced comparison to a "
                "Python bool: JAX raises TracerBoolConversionError; use "
                "`jnp.logical_and(a < b, b < c)`",
                v,
                fix=_chain_fix(ctx, node),
            )
            return


def _membership(ctx: RuleContext, node: cst.Comparison) -> bool:
    """``t in [a, b]``, ``1 in t``, ``t in {...}``: Python compares (or hashes) a traced value."""
    left: cst.BaseExpression = node.left
    for c in node.comparisons:
        if isinstance(c.operator, cst.In | cst.NotIn):
            item, box = ctx.value(left), ctx.value(c.comparator)
            error = None
            if is_arraylike_traced(box) and (item.traced or item.kind is Kind.SCALAR):
                # the array compares each element (a pytree dict parameter would look up a key)
                error = "TracerBoolConversionError"
            elif box.kind in (Kind.LIST, Kind.TUPLE) and (
                is_arraylike_traced(item) or holds_traced_array(box)
            ):
                error = "TracerBoolConversionError"
            elif is_arraylike_traced(item) and (
                box.kind is Kind.DICT or isinstance(c.comparator, cst.Set | cst.SetComp)
            ):
                error = "TypeError"  # a tracer is not hashable
            if error is not None:
                op = "not in" if isinstance(c.operator, cst.NotIn) else "in"
                why = "hashes" if error == "TypeError" else "compares"
                ctx.report(
                    RULE,
                    node,
                    f"`{op}` {why} the traced value in Python (`{ctx.source(node)}`): JAX raises "
                    f"{error}; use `jnp.isin` or `jnp.any(x == values)`",
                    item if item.traced else box,
                    jax_error=error,
                    fix=_isin_fix(ctx, node, left, c, item),
                )
                return True
        left = c.comparator
    return False


@guarded
def _isin_fix(
    ctx: RuleContext,
    node: cst.Comparison,
    item_node: cst.BaseExpression,
    c: cst.ComparisonTarget,
    item: Value,
) -> NodeFix | None:
    """``t in (1, 2)`` -> ``jnp.any(jnp.isin(t, jnp.asarray((1, 2))))`` where ``t`` is a traced
    array and the container a literal of numbers. Python's ``in`` is ``any(t == e)``, which runs
    eagerly only for an array of one element (a larger one raises in ``bool``): there the
    reduction is the same truth value."""
    if len(node.comparisons) != 1 or not is_arraylike_traced(item):
        return None
    box = c.comparator
    if not isinstance(box, cst.Tuple | cst.List) or not box.elements:
        return None
    if not all(_number(e.value) for e in box.elements):
        return None
    jnp, imports = ctx.alias("jax.numpy")
    values = code(box.with_changes(lpar=[], rpar=[])) if isinstance(box, cst.List) else code(box)
    if isinstance(box, cst.Tuple) and not box.lpar:
        values = f"({values})"
    text = f"{jnp}.any({jnp}.isin({bare(item_node)}, {jnp}.asarray({values})))"
    if isinstance(c.operator, cst.NotIn):
        text = f"{jnp}.logical_not({text})"
    return NodeFix(
        verdict(ctx, True),
        f"use `{jnp}.isin` (reduced with `{jnp}.any`: Python's `in` of a one-element array)",
        ((node, text),),
        imports,
    )


def _number(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _number(node.expression)
    return isinstance(node, cst.Integer | cst.Float)


@guarded
def _chain_fix(ctx: RuleContext, node: cst.Comparison) -> NodeFix | None:
    if not all(isinstance(c.operator, _ORDERING) for c in node.comparisons):
        return None
    jnp, imports = ctx.alias("jax.numpy")
    left: cst.BaseExpression = node.left
    parts = []
    for c in node.comparisons:
        op = code(c.operator).strip()
        parts.append(f"{code(left)} {op} {code(c.comparator)}")
        left = c.comparator
    text = parts[-1]
    for part in reversed(parts[:-1]):
        text = f"{jnp}.logical_and({part}, {text})"
    # Every operand but the first is computed where Python may have stopped early, and the middle
    # ones twice.
    safe = all(pure(ctx, c.comparator) for c in node.comparisons)
    return NodeFix(
        verdict(ctx, safe),
        f"split into comparisons joined with `{jnp}.logical_and`",
        ((node, text),),
        imports,
    )


def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    qual = ctx.qual(node.func)
    if qual in ("builtins.any", "builtins.all", "builtins.sorted"):
        _iterating_builtin(ctx, node, qual[9:])
        return
    if qual not in ("builtins.min", "builtins.max"):
        return
    if len(node.args) == 1:  # min(iterable): compares its elements
        _iterating_builtin(ctx, node, qual[9:])
        return
    for a in node.args:
        v = ctx.value(a.value)
        if is_arraylike_traced(v):
            name = qual.rsplit(".", 1)[-1]
            twin = "jnp.minimum" if name == "min" else "jnp.maximum"
            ctx.report(
                RULE,
                node,
                f"builtin `{name}()` compares the traced value `{ctx.source(a.value)}` in Python: "
                f"JAX raises TracerBoolConversionError; use `{twin}`",
                v,
                fix=_min_max_fix(ctx, node, name),
            )
            return


@guarded
def _min_max_fix(ctx: RuleContext, node: cst.Call, name: str) -> NodeFix | None:
    args = node.args
    if len(args) < 2 or any(a.keyword is not None or a.star for a in args):
        return None  # min(iterable), key=, default=
    jnp, imports = ctx.alias("jax.numpy")
    twin = f"{jnp}.minimum" if name == "min" else f"{jnp}.maximum"
    text = bare(args[-1].value)
    for a in reversed(args[:-1]):
        text = f"{twin}({bare(a.value)}, {text})"
    # Unsafe because of NaN only: the builtin keeps its first argument when a comparison with NaN
    # is False (min(1.0, nan) == 1.0), jnp propagates NaN.
    return NodeFix(
        "unsafe",
        f"use `{twin}` (NaN propagates: builtin `{name}` may drop it)",
        ((node, text),),
        imports,
    )


def _boolean(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """A boolean value: a comparison, a mask, a `not`, a literal bool."""
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return True
    v = ctx.value(expr)
    return v.boolean


_TWINS = {
    "any": "jnp.any",
    "all": "jnp.all",
    "sorted": "jnp.sort",
    "min": "jnp.min",
    "max": "jnp.max",
}


def _iterating_builtin(ctx: RuleContext, node: cst.Call, name: str) -> None:
    """``any(t)``, ``all(x > 0 for x in t)``, ``sorted(t)``: Python takes the truth value of each
    traced element (or compares them)."""
    positional = [a for a in node.args if a.keyword is None]
    if not positional or positional[0].star:
        return
    arg = positional[0].value
    v = ctx.value(arg)
    staged_constant = not v.traced and v.kind is Kind.DEVICE and ctx.staged
    if (
        name in ("any", "all", "sorted")
        and isinstance(arg, cst.Name | cst.Attribute)
        and not v.boolean
        and v.elts is None
        and not staged_constant
    ):
        return  # a parameter of unknown structure may be a dict (its keys) or a tuple
    elem = v.elem if v.elem is not None and v.kind is not Kind.DICT else None  # a dict: keys
    items = [v, *(v.elts or ()), *((elem,) if elem is not None else ())]
    traced = next((x for x in items if is_arraylike_traced(x)), None)
    if traced is None and staged_constant:
        traced = Value(ctx.frame.in_trace)  # under the trace each element is indexed out: staged
    if traced is None:
        return
    ctx.report(
        RULE,
        node,
        f"builtin `{name}()` takes the truth value of traced elements of "
        f"`{ctx.source(positional[0].value)}` in Python: JAX raises TracerBoolConversionError; "
        f"use `{_TWINS[name]}`",
        traced,
        fix=_reduction_fix(ctx, node, name, arg, v),
    )


@guarded
def _reduction_fix(
    ctx: RuleContext, node: cst.Call, name: str, arg: cst.BaseExpression, v: Value
) -> NodeFix | None:
    """``any(a)`` -> ``jnp.any(a)`` (``all``, ``min``, ``max`` alike) where ``a`` is known to be a
    traced array. Python iterates its first axis: for a 1-D array that is every element, and
    for more dimensions Python's truth (or comparison) of a row of several elements raises
    eagerly, so wherever the original runs the reduction over the whole array is the same."""
    if name not in ("any", "all", "min", "max") or len(node.args) != 1 or node.args[0].keyword:
        return None
    if not is_arraylike_traced(v) or v.elts is not None or v.elem is not None:
        return None  # a list or tuple of values: jnp would stack them (shapes may differ)
    if isinstance(arg, cst.GeneratorExp | cst.ListComp):
        return None
    jnp, imports = ctx.alias("jax.numpy")
    # min/max: NaN propagates in jnp, where Python's comparison may skip it
    safe = name in ("any", "all")
    return NodeFix(
        verdict(ctx, safe),
        f"use `{jnp}.{name}` (a reduction over the whole array"
        + ("" if safe else f"; NaN propagates where builtin `{name}` may skip it")
        + ")",
        ((node.func, f"{jnp}.{name}"),),
        imports,
    )

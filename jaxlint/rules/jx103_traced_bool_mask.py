"""JX103 traced-bool-mask: Indexing (or `.at[mask]`) with a traced boolean mask."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.syntax import root_names
from jaxlint.analysis.values import Kind
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import (
    Tree,
    bare,
    code,
    guarded,
    operand,
    pure,
    qual_of,
    tree_of,
    verdict,
)
from jaxlint.rules.helpers import index_values

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX103",
    name="traced-bool-mask",
    jax_error="NonConcreteBooleanIndexError",
    summary="Indexing (or `.at[mask]`) with a traced boolean mask.",
    fix="safe/unsafe/advice",
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
Where the masked selection is reduced right away (`x[m].sum()`, `.mean()`, `.max()`, `.min()`, or
`jnp.sum(x[m])` and friends) the fix writes the `where=` form: `jnp.sum(x, where=m)`,
`jnp.mean(x, where=m)`, `jnp.max(x, where=m, initial=-jnp.inf)`. It is **safe** when the mask is
computed elementwise from `x` itself (`x[x > 0]`, `x[(x > a) & jnp.isfinite(x)]`, or a name
assigned once from such an expression): the mask then has `x`'s shape wherever the original
runs, and the values are the same, including an all-`False` mask (sum 0, mean NaN; max/min of an
empty selection raise in the original). Otherwise it is **unsafe**: a mask with fewer dimensions
selects rows, whereas `where=` broadcasts along the last axis. Sums may differ in the last bit
(another summation order).

`x.at[m].set(v)` becomes `jnp.where(m, v, x)` (`add`/`multiply`/`min`/`max` likewise). It is
**safe** for an integer literal `v` with such a mask: `.at[].set` casts `v` to `x`'s dtype while
`jnp.where` promotes, and a weakly typed integer keeps `x`'s dtype (`x.at[x < 0].set(0.5)` on an
int array stores `0`, `jnp.where` would give floats). Any other value is **unsafe**. Every other
use of a boolean mask gets advice only: its size is data dependent; keep a fixed size and a mask
(`jnp.where`), or `jnp.nonzero(m, size=N, fill_value=...)` with a known maximum `N`.

Every fix that is called safe here is safe in a function that a transform traces (or a body
that it hands to `lax.scan`, `lax.cond`, ...): there every run sees JAX values. In a helper that is
*called* from traced code the same rewrite is offered as **unsafe**, because Python code may call
the helper too, with NumPy float64 data or Python numbers, and would then get float32 JAX arrays.
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
    # (a library object's `[...]`, `jnp.r_[True, v[1:] != v[:-1]]`, concatenates; it masks nothing)
    if base.kind in (Kind.HOST, Kind.LIST, Kind.TUPLE, Kind.DICT, Kind.EXT, Kind.CLASS):
        return
    idx, _ = index_values(node)
    for expr in idx:
        v = ctx.value(expr)
        # only a value known to be boolean: a name such as `mask` may hold integer indices
        if v.traced and v.kind is Kind.DEVICE and v.boolean:
            ctx.report(
                RULE,
                node,
                f"`{ctx.source(node.value)}` is indexed with the traced boolean mask "
                f"`{ctx.source(expr)}`: the result's shape depends on the data, JAX raises "
                "NonConcreteBooleanIndexError; use jnp.where(mask, x, fill) or a reduction "
                "with where=",
                v,
                fix=_mask_fix(ctx, node, expr) if len(node.slice) == 1 else None,
            )
            return


# ---------------------------------------------------------------------------------------- fix
_REDUCTIONS = {"sum": "", "mean": "", "max": "-{jnp}.inf", "min": "{jnp}.inf"}
_REDUCTION_QUALS = {
    f"{m}.{name}": name
    for m in ("jax.numpy", "numpy")
    for name in ("sum", "mean", "max", "min", "amax", "amin")
}
_UPDATES = {
    "set": "{v}",
    "add": "{x} + {v}",
    "multiply": "{x} * {v}",
    "mul": "{x} * {v}",
    "min": "{jnp}.minimum({x}, {v})",
    "max": "{jnp}.maximum({x}, {v})",
}


@guarded
def _mask_fix(ctx: RuleContext, node: cst.Subscript, mask: cst.BaseExpression) -> NodeFix | None:
    tree = tree_of(ctx)
    jnp, imports = ctx.alias("jax.numpy")
    m = bare(mask)
    parent = tree.up(node)
    call = tree.up(parent) if parent is not None else None
    # x.at[mask].set(v) and friends
    owner = node.value
    if isinstance(owner, cst.Attribute) and owner.attr.value == "at":
        if not (
            isinstance(parent, cst.Attribute)
            and parent.attr.value in _UPDATES
            and isinstance(call, cst.Call)
            and call.func is parent
            and len(call.args) == 1
            and call.args[0].keyword is None
            and not call.args[0].star
        ):
            return None
        x = owner.value
        if not pure(ctx, x):
            return None
        v = call.args[0].value
        value = _UPDATES[parent.attr.value].format(
            x=operand(code(x), x), v=operand(code(v), v), jnp=jnp
        )
        if parent.attr.value in ("set", "min", "max"):
            value = bare(v) if parent.attr.value == "set" else value
        # `.at[].set` casts v to x's dtype, jnp.where promotes: equal when v is an integer literal
        # (weakly typed: it takes x's dtype) and the mask has x's shape.
        safe = _integer_literal(v) and _same_shape(ctx, tree, x, mask)
        return NodeFix(
            verdict(ctx, safe),
            f"select with `{jnp}.where` (mask and value must broadcast like x, value in x's dtype)",
            ((call, f"{jnp}.where({m}, {value}, {bare(x)})"),),
            imports,
        )
    # x[mask].sum() / .mean() / .max() / .min()
    x = owner
    target: cst.CSTNode | None = None
    name = None
    if (
        isinstance(parent, cst.Attribute)
        and parent.attr.value in _REDUCTIONS
        and isinstance(call, cst.Call)
        and call.func is parent
        and not call.args
    ):
        target, name = call, parent.attr.value
    elif isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
        outer = tree.up(parent)
        if isinstance(outer, cst.Call) and len(outer.args) == 1:
            q = ctx.qual(outer.func)
            if q in _REDUCTION_QUALS:
                target, name = outer, _REDUCTION_QUALS[q].removeprefix("a")
    if target is None or name is None:
        return None
    args = [bare(x), f"where={m}"]
    if _REDUCTIONS[name]:
        args.append("initial=" + _REDUCTIONS[name].format(jnp=jnp))
    # Same values when the mask has x's shape (then x[mask] holds exactly the selected elements):
    # an empty selection sums to 0 and averages to NaN in both; max/min of an empty selection
    # raise in the original, and +-inf as `initial` is the identity for floats and ints alike.
    safe = _same_shape(ctx, tree, x, mask)
    return NodeFix(
        verdict(ctx, safe),
        f"reduce with `{jnp}.{name}(x, where=mask)`",
        ((target, f"{jnp}.{name}({', '.join(args)})"),),
        imports,
    )


def _integer_literal(v: cst.BaseExpression) -> bool:
    if isinstance(v, cst.UnaryOperation) and isinstance(v.operator, cst.Minus | cst.Plus):
        v = v.expression
    return isinstance(v, cst.Integer)


_ELEMENTWISE = frozenset(
    {"isfinite", "isnan", "isinf", "signbit", "logical_not", "isposinf", "isneginf"}
)


def _same_shape(
    ctx: RuleContext, tree: Tree, x: cst.BaseExpression, mask: cst.BaseExpression, depth: int = 0
) -> bool:
    """The mask has x's shape wherever the original runs: it is computed elementwise from x
    (a comparison, `&`/`|`/`~` of such, `jnp.isfinite(x)`), directly or through a name assigned
    once in this function (x itself never reassigned)."""
    if depth > 4:
        return False
    xs = code(x.with_changes(lpar=[], rpar=[])) if getattr(x, "lpar", ()) else code(x)

    def is_x(e: cst.BaseExpression) -> bool:
        return bare(e) == xs

    if isinstance(mask, cst.Comparison):
        return any(is_x(e) for e in (mask.left, *(c.comparator for c in mask.comparisons)))
    if isinstance(mask, cst.UnaryOperation) and isinstance(mask.operator, cst.BitInvert):
        return _same_shape(ctx, tree, x, mask.expression, depth + 1)
    if isinstance(mask, cst.BinaryOperation) and isinstance(
        mask.operator, cst.BitAnd | cst.BitOr | cst.BitXor
    ):
        # the original runs only when the broadcast mask has x's shape
        return _same_shape(ctx, tree, x, mask.left, depth + 1) or _same_shape(
            ctx, tree, x, mask.right, depth + 1
        )
    if isinstance(mask, cst.Call) and mask.args:
        q = qual_of(ctx, mask.func)
        return (
            q is not None
            and q.startswith("jax.numpy.")
            and q.rsplit(".", 1)[-1] in _ELEMENTWISE
            and is_x(mask.args[0].value)
        )
    if isinstance(mask, cst.Name) and ctx.frame.fn is not None:
        assigned = _assignments(ctx.frame.fn.node)
        values = assigned.get(mask.value, [])
        if len(values) != 1 or values[0] is None:
            return False
        if any(n in assigned for n in root_names(x)):
            return False
        return _same_shape(ctx, tree, x, values[0], depth + 1)
    return False


def _assignments(fn: cst.CSTNode) -> dict[str, list[cst.BaseExpression | None]]:
    """Names bound in a function body: the assigned expression (None: any other binding)."""
    out: dict[str, list[cst.BaseExpression | None]] = {}
    stack: list[cst.CSTNode] = [fn.body] if isinstance(fn, cst.FunctionDef) else []
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Assign):
            for t in n.targets:
                if isinstance(t.target, cst.Name):
                    out.setdefault(t.target.value, []).append(
                        n.value if len(n.targets) == 1 else None
                    )
                else:
                    for name in root_names(t.target):
                        out.setdefault(name, []).append(None)
        elif isinstance(n, cst.AugAssign | cst.AnnAssign) and isinstance(n.target, cst.Name):
            out.setdefault(n.target.value, []).append(None)
        elif isinstance(n, cst.For | cst.CompFor):
            for name in root_names(n.target):
                out.setdefault(name, []).append(None)
        elif isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name):
            out.setdefault(n.target.value, []).append(None)
        if isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        stack.extend(n.children)
    return out

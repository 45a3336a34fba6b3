"""JX402 data-dependent-shape: `jnp.nonzero`/`argwhere`/`flatnonzero`/`unique`/one-argument `jnp.where` without `size=`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.values import Kind, Value
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import (
    Tree,
    array_valued,
    bare,
    code,
    guarded,
    pure,
    qual_of,
    tree_of,
)
from jaxlint.rules.helpers import is_arraylike_traced

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX402",
    name="data-dependent-shape",
    jax_error="ConcretizationTypeError",
    summary=(
        "`jnp.nonzero`/`argwhere`/`flatnonzero`/`unique`/one-argument `jnp.where` without `size=`; "
        "`jnp.bincount` without `length=`; `jax.ops.segment_*` without `num_segments=`."
    ),
    fix="safe/advice",
    doc="""## What it does
Finds calls whose result size depends on the data, inside traced code, without a static `size=`:
`jnp.nonzero(x)`, `jnp.argwhere(x)`, `jnp.flatnonzero(x)`, `jnp.unique(x)` and one-argument
`jnp.where(cond)`; and calls that size their result from the data unless told a size:
`jnp.bincount(x)` without `length=`, `jax.ops.segment_sum(data, ids)` (and `segment_max`,
`segment_min`, `segment_prod`) without `num_segments=` (no fix: only the author knows the bound).

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
- A traced argument of `nonzero`, `flatnonzero` or one-argument `where`, assigned to a name whose
  every use is `A[idx]` inside an elementwise expression reduced by `.mean()`/`.sum()` (or
  `jnp.mean`/`jnp.sum`), as in `closed = jnp.nonzero(pnl)[0]; win_rate = (pnl[closed] > 0).mean()`:
  the fix pads the indices (`size=jnp.size(x), fill_value=-1`) and masks the padding in each
  reduction (`jnp.mean(pnl[closed] > 0, where=closed >= 0)`). **Safe**: the size is always enough
  (never more matches than elements), the real indices come first and are the same, and the
  reduction sees exactly the real entries, so the statistic is the same (up to float rounding).
- Anywhere else (the indices returned, counted with `.shape[0]`, summed, used by other code) there
  is no fix, only advice: padding would change what the program computes, silently. Pad by hand
  where the following code masks it (`size=..., fill_value=-1`, then `idx >= 0`), or avoid
  materialising indices: `jnp.where(cond, x, y)`, `jnp.sum(x, where=cond)`, `jnp.argmax(cond)`.
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
            title="segment_sum without num_segments under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def pool(data, segment_ids):
    return jax.ops.segment_sum(data, segment_ids)  # expect: JX402


def run():
    return pool(jnp.ones((3, 4)), jnp.array([0, 0, 1]))
""",
        ),
        Example(
            title="segment_sum and bincount with static sizes",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def pool(data, segment_ids):
    counts = jnp.bincount(segment_ids, length=2)
    return jax.ops.segment_sum(data, segment_ids, 2) / counts[:, None]


def run():
    return pool(jnp.ones((3, 4)), jnp.array([0, 0, 1]))
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
def _may_name_size(mapping: Value) -> bool:
    """A ``**mapping`` that may hold ``size``: all but a dict whose keys are known."""
    if mapping.kind is not Kind.DICT or mapping.pairs is None:
        return True
    return any(k is None or k == "size" for k, _ in mapping.pairs)


def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    qual = ctx.qual(node.func)
    if qual in K.SIZE_FROM_DATA:
        _size_from_data(ctx, node, qual)
        return
    if qual is None or (qual not in K.DATA_DEPENDENT and qual != "jax.numpy.where"):
        return
    positional = [a for a in node.args if a.keyword is None]
    # `jnp.where(cond, x=..., y=...)` means the three-argument form (older JAX took x and y by
    # keyword; JAX 0.10 raises TypeError at the call): no shape that depends on the data
    values = [a for a in node.args if a.keyword is not None and a.keyword.value in ("x", "y")]
    one_arg_where = qual == "jax.numpy.where" and len(positional) == 1 and not values
    if qual not in K.DATA_DEPENDENT and not one_arg_where:
        return
    if any(a.keyword is not None and a.keyword.value == "size" for a in node.args):
        return
    if any(a.star == "**" and _may_name_size(ctx.value(a.value)) for a in node.args):
        return  # `**kwargs` whose keys are not known: a caller may pass size= through them
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


def _size_from_data(ctx: RuleContext, node: cst.Call, qual: str) -> None:
    """``jnp.bincount(x)`` without ``length=``, ``jax.ops.segment_sum(data, ids)`` without
    ``num_segments=``: the result has ``max(x) + 1`` rows, read from the data."""
    data, keyword, position = K.SIZE_FROM_DATA[qual]
    positional = [a for a in node.args if a.keyword is None]
    if any(a.star for a in node.args) or len(positional) <= data:
        return
    given = any(a.keyword is not None and a.keyword.value == keyword for a in node.args)
    if given or (position is not None and len(positional) > position):
        return
    v = ctx.value(positional[data].value)
    if is_arraylike_traced(v) or ctx.staged:
        ctx.report(
            RULE,
            node,
            f"`{ctx.source(node.func)}` without `{keyword}=` sizes its result from the traced "
            f"`{ctx.source(positional[data].value)}`: JAX raises ConcretizationTypeError; pass "
            f"{keyword}= (a static bound)",
            v,
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
    return _masked_fix(ctx, node, arg)


# Reductions that take ``where=``: the padding is masked out, so the statistic is kept.
_MASKABLE = frozenset({"mean", "sum"})


def _masked_fix(ctx: RuleContext, node: cst.Call, arg: cst.BaseExpression) -> NodeFix | None:
    """``idx = jnp.nonzero(v)[0]`` (or ``flatnonzero``, one-argument ``where``) whose every use is
    ``A[idx]`` inside an elementwise expression that is reduced with ``.mean()``/``.sum()``
    (``jnp.mean``/``jnp.sum``): pad the indices with -1 to ``jnp.size(v)`` and reduce with
    ``where=idx >= 0``. The reduction then sees exactly the real entries, so its value is kept;
    a padded result that reaches anything else (a return, a count, ``.shape``) gets no fix: the
    padding would change what the program computes."""
    tree = tree_of(ctx)
    parent = tree.up(node)
    result: cst.CSTNode = node
    if isinstance(parent, cst.Subscript):
        (element,) = parent.slice if len(parent.slice) == 1 else (None,)
        if element is None or not (
            isinstance(element.slice, cst.Index)
            and isinstance(element.slice.value, cst.Integer)
            and element.slice.value.value == "0"
        ):
            return None
        result = parent
    stmt = tree.up(result)
    if not (
        isinstance(stmt, cst.Assign)
        and stmt.value is result
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0].target, cst.Name)
    ):
        return None
    idx = stmt.targets[0].target.value
    scope = next((a for a in tree.ancestors(stmt) if isinstance(a, cst.FunctionDef)), None)
    if scope is None:
        return None
    jnp, imports = ctx.alias("jax.numpy")
    reductions: dict[int, cst.Call] = {}
    for use in _reads(scope, idx):
        parent = tree.up(use)
        if isinstance(parent, cst.AssignTarget):
            if parent is not stmt.targets[0]:
                return None  # assigned twice: the uses may see another value
            continue
        reduction = _reduction_of(ctx, tree, use, idx)
        if reduction is None:
            return None
        reductions[id(reduction)] = reduction
    if not reductions:
        return None
    last = node.args[-1].value
    size = f"{jnp}.size({bare(arg)})"
    edits: list[tuple[cst.CSTNode, str]] = [(last, f"{code(last)}, size={size}, fill_value=-1")]
    for call in reductions.values():
        func = call.func
        assert isinstance(func, cst.Attribute)
        if call.args:  # jnp.mean(E)
            operand, method = call.args[0].value, func.attr.value
        else:  # E.mean()
            operand, method = func.value, func.attr.value
        edits.append((call, f"{jnp}.{method}({bare(operand)}, where={idx} >= 0)"))
    return NodeFix(
        "safe",
        f"pad `{idx}` to a static size (`size={size}, fill_value=-1`) and mask the padding in "
        f"its reductions (`where={idx} >= 0`): the same statistic over the real entries",
        tuple(edits),
        imports,
    )


def _reads(scope: cst.CSTNode, name: str) -> list[cst.Name]:
    out: list[cst.Name] = []
    stack: list[cst.CSTNode] = [scope]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name) and n.value == name:
            out.append(n)
        elif isinstance(n, cst.Attribute | cst.Arg):
            stack.append(n.value)
        elif isinstance(n, cst.Param | cst.Lambda | cst.FunctionDef) and n is not scope:
            if isinstance(n, cst.Param) and n.name.value == name:
                out.append(n.name)  # shadowed: give up
            elif not isinstance(n, cst.Param):
                stack.extend(n.children)
        else:
            stack.extend(n.children)
    return out


def _reduction_of(ctx: RuleContext, tree: Tree, use: cst.Name, idx: str) -> cst.Call | None:
    """The ``.mean()``/``.sum()`` (or ``jnp.mean``/``jnp.sum``) call that reduces ``A[idx]``
    through elementwise operations with scalars or other ``B[idx]``; None if the use is anything
    else."""
    element = tree.up(use)
    index = tree.up(element) if isinstance(element, cst.Index) else None
    sub = tree.up(index) if isinstance(index, cst.SubscriptElement) else None
    if not (
        isinstance(element, cst.Index)
        and isinstance(sub, cst.Subscript)
        and len(sub.slice) == 1
        and array_valued(ctx, sub.value)
    ):
        return None
    child: cst.CSTNode = sub
    for p in tree.ancestors(sub):
        if isinstance(p, cst.BinaryOperation | cst.Comparison | cst.UnaryOperation):
            if isinstance(p, cst.Comparison) and len(p.comparisons) != 1:
                return None
            others = (
                [p.left, p.right]
                if isinstance(p, cst.BinaryOperation)
                else [p.left, p.comparisons[0].comparator]
                if isinstance(p, cst.Comparison)
                else [p.expression]
            )
            if isinstance(p, cst.UnaryOperation) and isinstance(p.operator, cst.Not):
                return None
            if not all(o is child or _scalar_or_indexed(o, idx) for o in others):
                return None
            child = p
            continue
        if isinstance(p, cst.Attribute) and p.value is child and p.attr.value in _MASKABLE:
            call = tree.up(p)
            if isinstance(call, cst.Call) and call.func is p and not call.args:
                return call
            return None
        if isinstance(p, cst.Arg) and p.keyword is None:
            call = tree.up(p)
            if (
                isinstance(call, cst.Call)
                and len(call.args) == 1
                and call.args[0] is p
                and (qual_of(ctx, call.func) or "") in ("jax.numpy.mean", "jax.numpy.sum")
                and isinstance(call.func, cst.Attribute)
            ):
                return call
        return None
    return None


def _scalar_or_indexed(node: cst.CSTNode, idx: str) -> bool:
    """A numeric literal, or ``B[idx]``: operands that keep the elementwise shape of ``A[idx]``."""
    if isinstance(node, cst.Integer | cst.Float):
        return True
    if isinstance(node, cst.UnaryOperation):
        return not isinstance(node.operator, cst.Not) and _scalar_or_indexed(node.expression, idx)
    if isinstance(node, cst.BinaryOperation):
        return _scalar_or_indexed(node.left, idx) and _scalar_or_indexed(node.right, idx)
    return (
        isinstance(node, cst.Subscript)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
        and isinstance(node.slice[0].slice.value, cst.Name)
        and node.slice[0].slice.value.value == idx
    )

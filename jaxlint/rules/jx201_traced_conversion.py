"""JX201 traced-conversion: `int()`, `float()`, `bool()`, `range()`, `.item()`, `.tolist()` or formatting of a traced value."""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.syntax import descendants, root_names
from jaxlint.analysis.values import Kind
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import (
    array_context,
    bare,
    code,
    directly_traced,
    guarded,
    leading_lines,
    tree_of,
    uses_in_array_context,
    verdict,
)
from jaxlint.rules.helpers import holds_tracers, is_arraylike_traced
from jaxlint.rules.operand_fix import static_source_fix

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX201",
    name="traced-conversion",
    jax_error="ConcretizationTypeError",
    summary="`int()`, `float()`, `bool()`, `range()`, `.item()`, `.tolist()` or formatting of a traced value.",
    fix="safe/unsafe/advice",
    doc="""## What it does
Finds a traced value converted to a Python value inside traced code: `int(t)`, `float(t)`,
`bool(t)`, `complex(t)`, `operator.index(t)`, `range(t)`, `t.item()`, `t.tolist()`, and
formatting with a format spec (`f"{t:.2f}"`, `"{:.2f}".format(t)`, `"%d" % t`); also the
questions about a concrete buffer, `t.devices()`, `t.unsafe_buffer_pointer()` and
`t.on_device_size_in_bytes()` (a tracer lives on no device yet).

## Why is this bad?
A tracer has no value yet, so it cannot become a Python number. With jax 0.10.2 the class depends
on the conversion, and is the same under `jax.jit`, `jax.vmap`, `lax.scan`, `lax.fori_loop`,
`lax.cond` branches and `pmap`:

- `int()`, `float()`, `complex()`, `.item()`, `.tolist()`, `.devices()`:
  `ConcretizationTypeError`;
- `bool()`: `TracerBoolConversionError` (a subclass of `ConcretizationTypeError`);
- `range()`, `operator.index()`: `TracerIntegerConversionError`;
- `hash()`: `TypeError` (tracers are not hashable; under `jax.grad` alone too);
- a format spec (`f"{t:.2f}"`, `"{:>5}".format(t)`): the builtin `TypeError` ("unsupported
  format string passed to ...__format__");
- printf-style formatting: `%d`, `%i`, `%x`, `%o`, `%c` raise `TypeError`; `%f`, `%e`, `%g` raise
  `ConcretizationTypeError` (they call `float()`). `%s`, `%r` and the `!r`/`!s` conversions
  print the tracer and are fine.

`jax.grad` without `jit` is special: `bool()`, `int()` and `.item()` of the differentiated value
work (its primal is concrete), but `float()`, `.tolist()` and `%f` still raise
`ConcretizationTypeError`, because they would silently drop the derivative, and a format spec
still raises `TypeError`.

## Example
```python
@jax.jit
def position_size(cash, price):
    return int(cash / price)
```

## Use instead
```python
@jax.jit
def position_size(cash, price):
    return jnp.floor(cash / price).astype(jnp.int32)
```
Drop `float()`/`.item()` (the value already is an array), use `.astype(...)` for dtype changes,
`jax.debug.print("{x:.2f}", x=t)` for printing, or make the value static (`static_argnames`).

## Fix safety
The fix keeps the value an array, and only where it is used as one afterwards (arithmetic, JAX
functions, the return value of the traced function; assigned names are followed through the
function): where the number becomes a shape, an index, a Python condition or an argument of Python
code, the rewrite would only move the error, and the fix is advice.

- `int(t)` -> `jnp.astype(t, int)` is **safe**: it truncates towards zero like `int` (checked
  against `int` with JAX), in JAX's int dtype (int32 without x64); values beyond that range
  saturate, where a Python int would be converted to int32 anyway once it meets a traced array.
- `float(t)` -> `jnp.astype(t, float)` is **unsafe**: JAX's float is float32 without x64, where
  Python computed in float64 (`float(2**24 + 1)` is exact, float32 is not) and the result loses
  the weak type of a Python float (it can promote bfloat16 arithmetic to float32).
- `bool(t)` -> `jnp.astype(t, bool)` is **safe**: `bool` of a scalar is true where it is non-zero
  (NaN included), as is the cast (checked with JAX); a non-scalar `t` already fails in `bool`.
- `t.item()` -> `t` is **unsafe**: the value stays a JAX array (float32, not a Python float).
- `t.tolist()` -> `t` is **unsafe**: the same numbers, kept in the array (a metric returned for
  logging, arithmetic); a caller that needs a Python list (`append`, `len` of a 0-d value, JSON)
  gets an array. Offered only where the value is used as an array, like the others.

- `int(n)`, `range(n)`, `operator.index(n)` where `n` is a parameter of a function jitted in this
  file (a count from a config, passed unchanged) and the value cannot stay an array: `n` is added
  to the jit's `static_argnames`. **Unsafe**: callers must pass hashable Python values (a JAX
  array is refused), and each new value compiles again. Where `n` is instead a `lax.cond`
  operand, a repeated row of `lax.scan`'s `xs` or a `fori_loop` index (a Python number where
  the call is), the call is rewritten as JX401 describes (closure, the value itself, unrolling).

- `for k in range(n): <body>` with a traced `n` (one or two arguments, no step), whose body only
  assigns names bound before the loop (no `break`/`continue`/`else`, no nested control flow or
  calls for their effect), and whose `k` is not read after the loop: the loop becomes
  `lax.fori_loop(0, n, _for_body, carry)` over the names the body assigns. **Unsafe**: the same
  iterations compute the same values, but each carried name must keep its dtype and shape from
  one iteration to the next (Python let an int become a float), `k` is a traced int32 in the
  body, and `jax.grad` cannot differentiate through a `fori_loop` whose bound is traced. Preferred
  to `static_argnames` (below), which would recompile for each `n` and unroll the loop.

- `"%d" % n` (an integer conversion: `%d`, `%i`, `%x`, `%c`...) of a count that is a jit
  parameter of this file, or a Python number passed in as a transform's argument or operand: the
  count is made static at its source as for `int(n)` above (same safety), so it formats as a
  Python int.

Otherwise `range(t)`, `complex(t)`, `operator.index(t)` and format specs have no
array equivalent: advice (make the value static, use `lax.fori_loop`, `jnp.where` or
`jax.debug.print`).

Every fix that is called safe here is safe in a function that a transform traces (or a body
that it hands to `lax.scan`, `lax.cond`, ...): there every run sees JAX values. In a helper that is
*called* from traced code the same rewrite is offered as **unsafe**, because Python code may call
the helper too, with NumPy float64 data or Python numbers, and would then get float32 JAX arrays.
""",
    examples=(
        Example(
            title="hash of a traced value as a cache key",
            valid=False,
            raises="TypeError",
            code="""import jax

_CACHE = {}


@jax.jit
def lookup(x):
    key = hash(x)  # expect: JX201
    return _CACHE.get(key, x)


def run():
    return lookup(1.0)
""",
        ),
        Example(
            title="percent formatting of a traced count",
            valid=False,
            raises="TypeError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def label(step):
    name = "step %d" % step  # expect: JX201
    return jnp.float32(len(name))


def run():
    return label(3)
""",
        ),
        Example(
            title="str.format with a spec under vmap",
            valid=False,
            raises="TypeError",
            code="""import jax
import jax.numpy as jnp


def describe(pnl):
    text = "pnl={:.2f}".format(pnl)  # expect: JX201
    return jnp.float32(len(text))


def run():
    return jax.vmap(describe)(jnp.array([1.0, -2.5]))
""",
        ),
        Example(
            title="percent float formatting in a lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(carry, x):
    note = "%.3f" % (x,)  # expect: JX201
    return carry + len(note), x


def run():
    return lax.scan(body, 0, jnp.array([1.0, 2.0]))
""",
        ),
        Example(
            title="repr conversions and %s of a traced value",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def label(x):
    a = "%s" % x
    b = f"{x!r:>40}"
    c = "{!r:>40}".format(x)
    return jnp.float32(len(a) + len(b) + len(c)) * x


def run():
    return label(2.0)
""",
        ),
        Example(
            title="int of a traced value under jit",
            valid=False,
            code="""import jax


@jax.jit
def position_size(cash, price):
    return int(cash / price)  # expect: JX201


def run():
    return position_size(100.0, 7.0)
""",
        ),
        Example(
            title="float under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def total(row):
    return float(row.sum())  # expect: JX201


def run():
    return jax.vmap(total)(jnp.ones((2, 3)))
""",
        ),
        Example(
            title="bool under jit",
            valid=False,
            raises="TracerBoolConversionError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def flag(x):
    return jnp.float32(bool(x > 0))  # expect: JX201


def run():
    return flag(1.0)
""",
        ),
        Example(
            title="bool returned from a lax.scan body",
            valid=False,
            raises="TracerBoolConversionError",
            code="""import jax.numpy as jnp
from jax import lax


def body(count, x):
    return count + 1, bool(x)  # expect: JX201


def run():
    return lax.scan(body, 0, jnp.array([0.0, -1.5, jnp.nan, 2.0, -0.0]))
""",
        ),
        Example(
            title="range of a traced count",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def repeat_add(x, n):
    for _ in range(n):  # expect: JX201
        x = x + 1.0
    return x


def run():
    return repeat_add(jnp.zeros(2), 3)
""",
        ),
        Example(
            title="item in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(carry, x):
    value = x.item()  # expect: JX201
    return carry + value, value


def run():
    return lax.scan(body, 0.0, jnp.arange(3.0))
""",
        ),
        Example(
            title="tolist in lax.fori_loop body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(i, acc):
    return acc + sum(acc.tolist())  # expect: JX201


def run():
    return lax.fori_loop(0, 2, body, jnp.ones(3))
""",
        ),
        Example(
            title="operator.index in helper",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""import operator

import jax
import jax.numpy as jnp


def slot(i):
    return operator.index(i)  # expect: JX201


@jax.jit
def step(x, i):
    return x * slot(i + 1)


def run():
    return step(jnp.ones(2), 1)
""",
        ),
        Example(
            title="format spec under jit",
            valid=False,
            raises="TypeError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def report(pnl):
    label = f"pnl={pnl:.2f}"  # expect: JX201
    return jnp.float32(len(label))


def run():
    return report(1.5)
""",
        ),
        Example(
            title="float under grad without jit",
            valid=False,
            code="""import jax


def loss(w):
    scale = float(w)  # expect: JX201
    return w * scale


def run():
    return jax.grad(loss)(2.0)
""",
        ),
        Example(
            title="int in flax module initialised under jit",
            valid=False,
            code="""import flax.linen as nn
import jax
import jax.numpy as jnp


class Policy(nn.Module):
    @nn.compact
    def __call__(self, x, n_actions):
        width = int(n_actions)  # expect: JX201
        return nn.Dense(width)(x)


def run():
    model = Policy()
    return jax.jit(model.init)(jax.random.key(0), jnp.ones(3), 2)
""",
        ),
        Example(
            title="astype instead of int",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def position_size(cash, price):
    return jnp.floor(cash / price).astype(jnp.int32)


def run():
    return position_size(100.0, 7.0)
""",
        ),
        Example(
            title="conversions of static shapes",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def mean(x):
    n = int(x.shape[0])
    label = f"{n:d} bars, shape {x.shape}"
    return x.sum() / float(len(x)) + 0.0 * len(label)


def run():
    return mean(jnp.arange(4.0))
""",
        ),
        Example(
            title="static_argnames conversion",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="n")
def repeat_add(x, n):
    for _ in range(int(n)):
        x = x + 1.0
    return x


def run():
    return repeat_add(jnp.zeros(2), n=3)
""",
        ),
        Example(
            title="float inside pure_callback",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np


def host_log(x):
    print(f"value={float(x):.2f}")
    return np.asarray(x, dtype=np.float32)


@jax.jit
def step(x):
    return jax.pure_callback(host_log, jax.ShapeDtypeStruct((), jnp.float32), x)


def run():
    return step(1.5)
""",
        ),
        Example(
            title="jax.debug.print for formatting",
            valid=True,
            code="""import jax


@jax.jit
def report(pnl):
    jax.debug.print("pnl={p:.2f}", p=pnl)
    return pnl * 2.0


def run():
    return report(1.5)
""",
        ),
        Example(
            title="bool under grad without jit",
            valid=True,
            code="""import jax


def loss(w):
    sign = 1.0 if bool(w > 0) else -1.0
    return sign * w * w


def run():
    return jax.grad(loss)(2.0)
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
    scale: float
    n_envs: int = flax.struct.field(pytree_node=False)


@jax.jit
def init(params):
    return jnp.zeros(int(params.n_envs)) + params.scale


def run():
    return init(Params(scale=1.0, n_envs=4))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
_CONVERSIONS = {
    "builtins.int": "ConcretizationTypeError",
    "builtins.float": "ConcretizationTypeError",
    "builtins.complex": "ConcretizationTypeError",
    "builtins.bool": "TracerBoolConversionError",
    "builtins.range": "TracerIntegerConversionError",
    "operator.index": "TracerIntegerConversionError",
    "builtins.hash": "TypeError",
}
_METHODS = {
    "item": "ConcretizationTypeError",
    "tolist": "ConcretizationTypeError",
    # where a value lives: a tracer has no buffer on any device
    "devices": "ConcretizationTypeError",
    "unsafe_buffer_pointer": "ConcretizationTypeError",
    "on_device_size_in_bytes": "ConcretizationTypeError",
}
# Conversions whose value Python needs as an integer (a count, an index, a loop bound): where it
# is a jit parameter, making it static is the fix.
_COUNTS = frozenset({"int", "range", "index"})
# What still fails under jax.grad alone (JVP tracers): float(), .tolist() and format specs.
_WEAK = {"builtins.float", "builtins.complex", "builtins.hash", "tolist", "devices"}


def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    func = node.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value == "format"
        and isinstance(func.value, cst.SimpleString)
    ):
        _check_format(ctx, node, func.value)
        return
    qual = ctx.qual(node.func)
    if qual in _CONVERSIONS and (qual in _WEAK or not ctx.frame.weak):
        positional = [a for a in node.args if a.keyword is None]
        args = positional if qual == "builtins.range" else positional[:1]
        for a in args:
            v = ctx.value(a.value)
            # bool() of a container is Python's truth; the others need a number
            needs = is_arraylike_traced if qual == "builtins.bool" else holds_tracers
            if needs(v):
                name = qual.rsplit(".", 1)[-1]
                error = _CONVERSIONS[qual]
                fix = None
                if name in ("int", "float", "bool") and len(node.args) == 1 and not a.star:
                    jnp, imports = ctx.alias("jax.numpy")
                    text = f"{jnp}.astype({bare(a.value)}, {name})"
                    fix = _keep_array(ctx, node, text, name, imports)
                if name == "range":
                    fix = _fori_fix(ctx, node)
                if fix is None and name in _COUNTS:
                    # a count that Python needs as an int: the jit parameter it comes from static
                    fix = static_source_fix(ctx, a.value, plain=True)
                ctx.report(
                    RULE,
                    node,
                    f"`{name}()` of the traced value `{ctx.source(a.value)}` needs a concrete "
                    f"value: JAX raises {error}; keep it an array (`.astype(...)`) or make it "
                    "static",
                    v,
                    jax_error=error,
                    fix=fix,
                )
                return
        return
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in _METHODS:
        if ctx.frame.weak and func.attr.value not in _WEAK:
            return
        owner = ctx.value(func.value)
        maybe_array = owner.kind is Kind.UNKNOWN and not ctx.frame.filtered
        if owner.traced and (owner.kind in (Kind.DEVICE, Kind.TREE) or maybe_array):
            fix = None
            if func.attr.value in ("item", "tolist") and not node.args:
                fix = _keep_array(ctx, node, code(func.value), func.attr.value)
            advice = (
                "keep it an array"
                if func.attr.value in ("item", "tolist")
                else "ask where its inputs live outside the trace"
            )
            ctx.report(
                RULE,
                node,
                f"`.{func.attr.value}()` of the traced value `{ctx.source(func.value)}` needs a "
                f"concrete value: JAX raises ConcretizationTypeError; {advice}",
                owner,
                jax_error=_METHODS[func.attr.value],
                fix=fix,
            )


@guarded
def _fori_fix(ctx: RuleContext, node: cst.Call) -> NodeFix | None:
    """``for k in range(n): <assignments>`` with a traced ``n`` becomes ``lax.fori_loop`` over the
    names the body assigns (the carry). Only for a body of plain assignments to names bound
    before the loop (no ``break``/``continue``/``else``, nested control flow or calls for their
    effect), whose loop variable is not read after the loop (Python leaves it bound)."""
    from jaxlint.rules.jx301_traced_branch import (
        _cond_branch,
        _free_name,
        _smalls,
        carry_body,
    )

    tree = tree_of(ctx)
    loop = tree.up(node)
    fn = ctx.frame.fn
    if not (isinstance(loop, cst.For) and loop.iter is node) or fn is None:
        return None
    if loop.orelse is not None or loop.asynchronous is not None or isinstance(fn.node, cst.Lambda):
        return None
    if not isinstance(loop.target, cst.Name) or any(a.keyword or a.star for a in node.args):
        return None
    bounds = [bare(a.value) for a in node.args]
    if len(bounds) == 1:
        bounds = ["0", bounds[0]]
    if len(bounds) != 2:
        return None  # a step: no fori_loop form
    k = loop.target.value
    names = _cond_branch(loop.body)
    smalls = _smalls(loop.body)
    if not names or smalls is None or k in names:
        return None
    if any(isinstance(small, cst.Expr) for small in smalls):
        return None  # a call for its effect would run once, under the trace
    if any(n not in ctx.frame.env for n in names):
        return None  # unbound before the loop: no carry to start from
    inside = {id(n) for n in descendants(loop)}
    if any(
        isinstance(n, cst.Name) and n.value == k and id(n) not in inside
        for n in descendants(fn.node)
    ):
        return None  # the loop variable is read elsewhere (after the loop Python leaves it bound)
    indent = tree.indent.get(id(loop))
    if indent is None:
        return None
    lax, imports = ctx.alias("jax.lax")
    body_fn = _free_name(root_names(fn.node), "_for_body")
    step = tree.block_inner_indent(loop.body, indent)[len(indent) :]
    lines, carry, _, start = carry_body(indent, step, body_fn, f"{k}, ", names, smalls)
    lines.append(f"{indent}{carry} = {lax}.fori_loop({bounds[0]}, {bounds[1]}, {body_fn}, {start})")
    text = leading_lines(loop, indent) + "".join(f"{line}\n" for line in lines)
    return NodeFix(
        "unsafe",
        f"loop with `{lax}.fori_loop` over `{carry}` (each must keep its dtype and shape from one "
        f"iteration to the next; `{k}` is a traced int32; with a traced bound `jax.grad` cannot "
        "differentiate through it)",
        ((loop, text),),
        imports,
    )


@guarded
def _keep_array(
    ctx: RuleContext, node: cst.Call, text: str, what: str, imports: tuple[str, ...] = ()
) -> NodeFix | None:
    """Keep the value an array where it is used only as one: arithmetic, JAX functions, return
    values of the traced function. Not where it becomes a shape, an index, a Python condition or
    an argument of Python code (the fix would only move the error)."""
    fn = ctx.frame.fn
    if fn is None or isinstance(fn.node, cst.Lambda):
        return None
    tree = tree_of(ctx)
    if not array_context(ctx, tree, node):
        return None
    stmt = tree.statement(node)
    if isinstance(stmt, cst.Return):
        # returned to JAX (a transformed function), not to a Python caller that may need a number
        if not directly_traced(ctx):
            return None
    elif isinstance(stmt, cst.Assign | cst.AugAssign):
        targets = (
            [t.target for t in stmt.targets] if isinstance(stmt, cst.Assign) else [stmt.target]
        )
        if not all(isinstance(t, cst.Name) for t in targets):
            return None
        names = {t.value for t in targets}  # type: ignore[attr-defined]
        if not uses_in_array_context(ctx, tree, fn.node, names):
            return None
    elif not isinstance(stmt, cst.Expr):
        return None
    jnp_free = {
        # int() truncates towards zero like astype(int) (JAX's int: int32 without x64)
        "int": ("safe", "keep it an array: `jnp.astype(x, int)` (truncates towards zero)"),
        # float64 Python float -> JAX's default float (float32 without x64); weak type lost
        "float": ("unsafe", "keep it an array: `jnp.astype(x, float)` (float32 without x64)"),
        # bool() of a scalar is `x != 0` (NaN is true), which is what astype(bool) computes
        "bool": ("safe", "keep it an array: `jnp.astype(x, bool)` (true where non-zero)"),
        "item": ("unsafe", "keep it an array: drop `.item()`"),
        # a nested list becomes the array itself: same numbers, another container
        "tolist": (
            "unsafe",
            "keep it an array: drop `.tolist()` (the same numbers in an array, not a list)",
        ),
    }
    applicability, message = jnp_free[what]
    return NodeFix(verdict(ctx, applicability == "safe"), message, ((node, text),), imports)


def on_FormattedStringExpression(ctx: RuleContext, node: cst.FormattedStringExpression) -> None:
    if not node.format_spec or node.conversion is not None:
        return  # no spec, or `!r`/`!s` first turns the value into a string
    v = ctx.value(node.expression)
    if is_arraylike_traced(v):
        ctx.report(
            RULE,
            node,
            f"formatting the traced value `{ctx.source(node.expression)}` with a format spec "
            "needs a concrete value: JAX raises TypeError; use jax.debug.print",
            v,
            jax_error="TypeError",
        )


# printf-style conversions: the ones that need a number from the value, and what JAX raises.
_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?[hlL]?"
    r"(?P<type>[diouxXeEfFgGcrsa%])"
)
_CTE = "ConcretizationTypeError"
_PERCENT_ERROR = {**dict.fromkeys("diouxXc", "TypeError"), **dict.fromkeys("eEfFgG", _CTE)}


def on_BinaryOperation(ctx: RuleContext, node: cst.BinaryOperation) -> None:
    """``"%d" % t``: a numeric conversion of a traced value."""
    if not isinstance(node.operator, cst.Modulo) or not isinstance(node.left, cst.SimpleString):
        return
    fmt = node.left.evaluated_value
    if not isinstance(fmt, str):
        return
    specs = [m for m in _PERCENT.finditer(fmt) if m["type"] != "%"]
    if any(m["width"] == "*" or m["prec"] == "*" for m in specs):
        return
    right = node.right
    pairs: list[tuple[str, cst.BaseExpression]] = []
    if isinstance(right, cst.Tuple):
        values = [e.value for e in right.elements if not isinstance(e, cst.StarredElement)]
        if len(values) != len(right.elements):
            return
        pairs = [(m["type"], v) for m, v in zip(specs, values, strict=False)]
    elif isinstance(right, cst.Dict):
        by_key = {
            e.key.evaluated_value: e.value
            for e in right.elements
            if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
        }
        pairs = [(m["type"], by_key[m["key"]]) for m in specs if m["key"] in by_key]
    elif len(specs) == 1 and specs[0]["key"] is None:
        pairs = [(specs[0]["type"], right)]
    for kind, expr in pairs:
        error = _PERCENT_ERROR.get(kind)
        v = ctx.value(expr)
        if error is not None and is_arraylike_traced(v) and not _weak_ok(ctx, error):
            ctx.report(
                RULE,
                node,
                f"formatting the traced value `{ctx.source(expr)}` with `%{kind}` needs a "
                f"concrete number: JAX raises {error}; use jax.debug.print",
                v,
                jax_error=error,
                # an integer conversion formats a count: static at its source, it is a Python int
                fix=static_source_fix(ctx, expr, plain=True) if error == "TypeError" else None,
            )
            return


def _check_format(ctx: RuleContext, node: cst.Call, literal: cst.SimpleString) -> None:
    """``"{:.2f}".format(t)``: a format spec applied to a traced value (TypeError, under
    ``jax.grad`` alone too: JAX arrays do not implement ``__format__`` with a spec)."""
    fmt = literal.evaluated_value
    fields = _format_fields(fmt) if isinstance(fmt, str) else None
    if not fields or any(a.star for a in node.args):
        return
    positional = [a.value for a in node.args if a.keyword is None]
    keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    for key, spec in fields:
        expr = positional[key] if isinstance(key, int) and key < len(positional) else None
        if isinstance(key, str):
            expr = keywords.get(key)
        if expr is None:
            continue
        v = ctx.value(expr)
        if is_arraylike_traced(v):
            ctx.report(
                RULE,
                node,
                f"formatting the traced value `{ctx.source(expr)}` with the format spec "
                f"`{spec}` needs a concrete value: JAX raises TypeError; use jax.debug.print",
                v,
                jax_error="TypeError",
            )
            return


def _format_fields(fmt: str) -> list[tuple[int | str, str]] | None:
    """(argument index or keyword, format spec) of each replacement field with a spec and no
    conversion; None if the string is not a plain format string."""
    out: list[tuple[int | str, str]] = []
    auto = 0
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field == "":
            key: int | str = auto
            auto += 1
        elif field.isdigit():
            key = int(field)
        elif field.isidentifier():
            key = field
        else:
            continue  # attribute or item access: another value
        if spec and conversion is None and "{" not in spec:
            out.append((key, spec))
    return out


def _weak_ok(ctx: RuleContext, error: str) -> bool:
    """Under jax.grad alone the primal is concrete: only float conversions still fail."""
    return ctx.frame.weak and error != _CTE

"""JX301 traced-branch: `if`/`elif`/`while`/`assert`/conditional expression on a traced condition."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import libcst as cst
from libcst._nodes.internal import CodegenState

from jaxlint.analysis.syntax import descendants, root_names
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import (
    NoFix,
    Tree,
    bare,
    code,
    comments_in,
    guarded,
    leading_lines,
    maybe_pytree,
    numeric,
    operand,
    pure,
    tree_of,
    verdict,
)
from jaxlint.rules.helpers import is_arraylike_traced

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX301",
    name="traced-branch",
    jax_error="TracerBoolConversionError",
    summary="`if`/`elif`/`while`/`assert`/conditional expression/comprehension `if` on a traced "
    "condition.",
    fix="safe/unsafe/advice",
    doc="""## What it does
Finds Python control flow whose condition is traced, inside traced code: `if t > 0:`, `elif`,
`while x.sum() < 10:`, `assert x.min() >= 0`, conditional expressions `a if t > 0 else b`, and
the `if` clauses of comprehensions (`[h for h, m in zip(hs, mask) if m]`).

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
`lax.while_loop` for loops whose trip count depends on data, `checkify` (or
`eqx.error_if`) instead of `assert`, and for a comprehension that filters on traced values, all
elements with the condition as a mask (`jnp.where(m, h, 0.0)`).

## Fix safety
`a if c else b` becomes `jnp.where(c, a, b)`; an `if`/`elif`/`else` chain whose branches only
assign names (`x = ...`, `x += ...`, `a, b = u, v`) becomes one `jnp.where` per assigned name, in
the branches' order (a name a branch leaves alone keeps its value; a value that reads a name
assigned before it in its branch reads the selected one, which in that branch's lanes is the
branch's own); a chain whose branches only `return` becomes one `return jnp.where(...)` (also
`if c: return a` followed by `return b`). A name that was unbound before the `if` and that some
branch leaves alone (a temporary such as `exit_price` in `if exited: exit_price = ...; pnl = ...`)
is computed unconditionally: where the original left it unbound, any later read would have
failed. Tuple literals are selected element by element; values that may be pytrees (a call
building a `NamedTuple`, a container) go through
`jax.tree_util.tree_map(lambda a, b: jnp.where(c, a, b), x, y)`. Comments move above the new
statements.

`jnp.where` computes both values: the fix is **safe** when every value (and every `elif`
condition, and the first condition when it is written more than once) is a plain expression that
cannot raise or have a side effect (names, attributes, numbers, arithmetic with division only on
arrays, comparisons, `jnp`/`lax` calls and array methods on such operands), and the values do
not need `tree_map`. The values returned are then the same wherever the original runs: NaN or
Inf computed in the branch not taken is not selected (it still poisons gradients through
`jnp.where`). The branches must produce one shape (`jnp.where` broadcasts; a traced program cannot
return differently shaped values from a branch anyway). Otherwise the fix is **unsafe**: calls of
other functions run in both branches, and `tree_map` needs both values to have one structure.
An `if`/`else` (no `elif`) whose branches also make calls for their effect
(`jax.debug.print`, a callback) becomes `lax.cond`: each branch turns into a function of the
names it assigns (`def _if_true(loss, scale): ...; return loss, scale`), and
`loss, scale = lax.cond(c, _if_true, _if_false, loss, scale)`. That is **unsafe**: both branches
are traced, so Python side effects (`print`, appending to a list) run for both; under `vmap` a
batched predicate runs both branches; and both must return one type (`x = 0.5` in one branch
and an int `x` in the other raises `TypeError`). A comprehension `if` has no fix (how many elements are kept depends on the data). There is
no fix for loops, nested `if`s,
`return`s inside such branches, an assignment's branches in different orders, a condition
(written out again for each name) that reads a name the chain assigns before it, or an `elif`
without `else` whose `if` returns.

A `while` whose body only assigns names (no `break`/`continue`/`else`, no nested control flow, no
calls for their effect), each bound before the loop, with a test that has no side effect,
becomes `lax.while_loop` with those names as the carry (`def _while_cond(y): return y > 10.0`,
`def _while_body(y): y = y - 1.0; return y`, `y = lax.while_loop(_while_cond, _while_body, y)`).
**Unsafe**: the same iterations compute the same values, but the carry must keep its dtype and
shape from one iteration to the next (Python let `y` go from an int to a float), and `jax.grad`
cannot differentiate through `lax.while_loop` (reverse mode). Other loops get advice.

An `assert` on a traced condition has two options, and the fix takes the first:
- remove it (when the test and message have no side effect): **unsafe**. Wherever the original
  runs the assertion held, so the values are the same, but the check is gone: an input that
  should fail now runs on. `jax.debug.callback` can check on the host instead.
- `jax.experimental.checkify.check(cond, msg)` keeps the check, but only under
  `checkify.checkify(f)`, whose caller gets an error value to `.throw()`: it changes the
  function's signature for every caller, so it is advice (the message says how).

Every fix that is called safe here is safe in a function that a transform traces (or a body
that it hands to `lax.scan`, `lax.cond`, ...): there every run sees JAX values. In a helper that is
*called* from traced code the same rewrite is offered as **unsafe**, because Python code may call
the helper too, with NumPy float64 data or Python numbers, and would then get float32 JAX arrays.
""",
    examples=(
        Example(
            title="if on an element of a JAX constant under jit",
            valid=False,
            code="""import jax
import jax.numpy as jnp

THRESHOLDS = jnp.array([0.5, 1.5])


@jax.jit
def scale(x):
    if THRESHOLDS[0] > 0.0:  # expect: JX301
        return x * 2.0
    return x


def run():
    return scale(1.0)
""",
        ),
        Example(
            title="NumPy constants and a bare JAX flag under jit",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np

THRESHOLDS = np.array([0.5, 1.5])
USE_BIAS = jnp.array(True)


@jax.jit
def scale(x):
    if THRESHOLDS[0] > 0.0:
        x = x * 2.0
    if USE_BIAS:
        x = x + 1.0
    return x


def run():
    return scale(1.0)
""",
        ),
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
            title="exit with a temporary in a lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
from jax import lax


def body(cash, bar):
    price, stop = bar
    if price < stop:  # expect: JX301
        loss = stop - price
        cash = cash - 2.0 * loss
    return cash, cash


def run():
    bars = (jnp.array([5.0, 3.0, 4.5, 1.0]), jnp.array([4.0, 4.0, 4.0, 2.5]))
    return lax.scan(body, 100.0, bars)
""",
        ),
        Example(
            title="tuple assignments under jit",
            valid=False,
            code="""import jax


@jax.jit
def levels(position, low, high):
    if position > 0:  # expect: JX301
        stop, target = low, high
    else:
        stop, target = high, low
    return stop, target - stop


def run():
    return levels(1.0, 2.0, 5.0), levels(-1.0, 2.0, 5.0)
""",
        ),
        Example(
            title="branch with an effect under jit",
            valid=False,
            code="""import jax


@jax.jit
def clip_loss(loss, scale):
    if loss > 10.0:  # expect: JX301
        jax.debug.print("large loss {}", loss)
        loss = loss / 10.0
        scale = scale * 2.0
    return loss, scale


def run():
    return clip_loss(50.0, 1.0), clip_loss(5.0, 1.0)
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
def _check(
    ctx: RuleContext,
    test: cst.BaseExpression,
    what: str,
    advice: str,
    fix: Callable[[], NodeFix | None] | None = None,
) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    v = ctx.value(test)
    if is_arraylike_traced(v):
        ctx.report(
            RULE,
            test,
            f"{what} on the traced condition `{ctx.source(test)}`: Python needs a concrete "
            f"bool, JAX raises TracerBoolConversionError; {advice}",
            v,
            fix=fix() if fix is not None else None,
        )


def on_If(ctx: RuleContext, node: cst.If) -> None:
    _check(
        ctx,
        node.test,
        "`if`",
        "use jnp.where / lax.select for values or lax.cond for branches",
        lambda: _if_fix(ctx, node) or _cond_fix(ctx, node),
    )


def on_While(ctx: RuleContext, node: cst.While) -> None:
    _check(ctx, node.test, "`while`", "use lax.while_loop", lambda: _while_fix(ctx, node))


def on_Assert(ctx: RuleContext, node: cst.Assert) -> None:
    _check(
        ctx,
        node.test,
        "`assert`",
        "use checkify or remove the assert under the trace",
        lambda: _assert_fix(ctx, node),
    )


@guarded
def _while_fix(ctx: RuleContext, node: cst.While) -> NodeFix | None:
    """A ``while`` whose body only assigns names (no ``break``, ``continue``, ``else``, loops or
    ``if``s) becomes ``lax.while_loop`` over those names as the carry. Unsafe: the carry must keep
    one type (dtype, shape) from one iteration to the next, where Python let it change, and
    reverse-mode differentiation (``jax.grad``) cannot go through ``lax.while_loop``."""
    tree = tree_of(ctx)
    indent = tree.indent.get(id(node))
    fn = ctx.frame.fn
    if indent is None or fn is None or isinstance(fn.node, cst.Lambda) or node.orelse is not None:
        return None
    names = _cond_branch(node.body)
    smalls = _smalls(node.body)
    if not names or smalls is None:
        return None
    if any(isinstance(s, cst.Expr) for s in smalls):
        return None  # a call for its effect: it would run under the trace, once
    if any(n not in ctx.frame.env for n in names):
        return None  # unbound before the loop: no carry to start from
    if not pure(ctx, node.test):
        return None
    lax, imports = ctx.alias("jax.lax")
    taken = root_names(fn.node)
    cond_fn = _free_name(taken, "_while_cond")
    body_fn = _free_name(taken | {cond_fn}, "_while_body")
    step = tree.block_inner_indent(node.body, indent)[len(indent) :]
    body, carry, param, start = carry_body(indent, step, body_fn, "", names, smalls)
    unpack = [] if param != "carry" else [f"{indent}{step}{carry} = carry"]
    lines = [f"{indent}{c}" for c in comments_in(node.test)]
    lines += [
        f"{indent}def {cond_fn}({param}):",
        *unpack,
        f"{indent}{step}return {bare(node.test)}",
    ]
    lines += body[: 1 + len(unpack)]
    lines += [f"{indent}{step}{c}" for c in comments_in(node.body)]
    lines += body[1 + len(unpack) :]
    lines.append(f"{indent}{carry} = {lax}.while_loop({cond_fn}, {body_fn}, {start})")
    text = leading_lines(node, indent) + "".join(f"{line}\n" for line in lines)
    return NodeFix(
        "unsafe",
        f"loop with `{lax}.while_loop` over `{carry}` (each must keep its dtype and shape from one "
        "iteration to the next; `jax.grad` cannot differentiate through it)",
        ((node, text),),
        imports,
    )


@guarded
def _assert_fix(ctx: RuleContext, node: cst.Assert) -> NodeFix | None:
    """Remove an ``assert`` whose test has no side effect. Wherever the original runs, its
    assertion held, so the values are the same; what is lost is the check itself (a failing
    input now runs on instead of raising): unsafe. The message says how to keep the check."""
    if not pure(ctx, node.test) or (node.msg is not None and not pure(ctx, node.msg)):
        return None
    tree = tree_of(ctx)
    line = tree.up(node)
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None
    block = tree.up(line)
    owner = tree.up(block) if block is not None else None
    outer = tree.indent.get(id(owner)) if owner is not None else None
    if outer is None or not isinstance(block, cst.IndentedBlock):
        return None
    # The block is written again without the assert's line (a statement's own span does not
    # hold its line break), generated at the owner's indentation so that every other line,
    # continuation lines and strings included, comes out as it was.
    body = [s for s in block.body if s is not line]
    if not body:
        body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=line.leading_lines)]
    module = tree.module
    state = CodegenState(default_indent=module.default_indent, default_newline="\n")
    if outer:
        state.indent_tokens.append(outer)
    block.with_changes(body=body)._codegen(state)
    text = "".join(state.tokens)
    return NodeFix(
        "unsafe",
        "remove the assert: it cannot test a traced value, and the values are the same wherever "
        "it held, but the check is gone. To keep it, use "
        "`jax.experimental.checkify.check(cond, msg)` and run the function through "
        "`checkify.checkify` (its caller then gets an error value to `.throw()`), or "
        "`jax.debug.callback` to check on the host",
        ((block, text),),
    )


def on_CompIf(ctx: RuleContext, node: cst.CompIf) -> None:
    _check(
        ctx,
        node.test,
        "comprehension `if`",
        "keep every element and mask with jnp.where, or make the condition static",
        None,
    )


def on_IfExp(ctx: RuleContext, node: cst.IfExp) -> None:
    _check(
        ctx,
        node.test,
        "conditional expression",
        "use jnp.where(cond, a, b)",
        lambda: _ifexp_fix(ctx, node),
    )


# ---------------------------------------------------------------------------------------- fix
# A branch value: its source text and the node it comes from (None: the name's current value).
_Val = tuple[str, cst.BaseExpression | None]


class _Select:
    """Builds ``jnp.where(c1, a, jnp.where(c2, b, c))`` for a chain of conditions, per element of
    tuple literals, or with ``jax.tree_util.tree_map`` where a value may be a pytree."""

    def __init__(self, ctx: RuleContext, conds: list[cst.BaseExpression]) -> None:
        self.ctx = ctx
        self.conds = conds
        self.jnp, imports = ctx.alias("jax.numpy")
        self.imports = list(imports)
        self.safe = True
        self.uses = 0  # how many times the conditions are written out

    def value(self, vals: list[_Val]) -> str:
        ctx = self.ctx
        nodes = [n for _, n in vals]
        if all(isinstance(n, cst.Tuple) for n in nodes):
            tuples: list[cst.Tuple] = nodes  # type: ignore[assignment]
            width = len(tuples[0].elements)
            if width and all(
                len(t.elements) == width
                and not any(isinstance(e, cst.StarredElement) for e in t.elements)
                for t in tuples
            ):
                parts = [
                    self.value([(bare(t.elements[i].value), t.elements[i].value) for t in tuples])
                    for i in range(width)
                ]
                return "(" + ", ".join(parts) + ("," if width == 1 else "") + ")"
        for text, n in vals:
            if not numeric(ctx, n if n is not None else cst.Name(text)):
                raise NoFix  # jnp.where of None, a string or an object of unknown type
            if n is not None and not pure(ctx, n):
                self.safe = False
        if len({text for text, _ in vals}) == 1:
            return vals[0][0]
        tree = any(maybe_pytree(ctx, n if n is not None else cst.Name(text)) for text, n in vals)
        out = vals[-1][0]
        for cond, (text, _) in zip(reversed(self.conds), reversed(vals[:-1]), strict=True):
            if text == out:
                continue  # where(c, a, a) is a
            c = bare(cond)
            self.uses += 1
            if tree:
                self.safe = False
                tree_map = self._tree_map()
                a, b = _lambda_params(root_names(cond))
                out = f"{tree_map}(lambda {a}, {b}: {self.jnp}.where({c}, {a}, {b}), {text}, {out})"
            else:
                out = f"{self.jnp}.where({c}, {text}, {out})"
        return out

    def _tree_map(self) -> str:
        name, imports = self.ctx.alias("jax.tree_util")
        self.imports.extend(i for i in imports if i not in self.imports)
        return f"{name}.tree_map"

    def check_conditions(self) -> None:
        """The first condition is evaluated once by the original: it may be written out once
        without being pure. Later ones (``elif``) are evaluated only when reached."""
        for i, cond in enumerate(self.conds):
            if (i > 0 or self.uses > 1) and not pure(self.ctx, cond):
                self.safe = False


def _lambda_params(avoid: set[str]) -> tuple[str, str]:
    for a, b in (("a", "b"), ("x", "y"), ("u", "v"), ("lhs", "rhs")):
        if a not in avoid and b not in avoid:
            return a, b
    return "_jaxlint_a", "_jaxlint_b"


@guarded
def _ifexp_fix(ctx: RuleContext, node: cst.IfExp) -> NodeFix | None:
    if isinstance(node.body, cst.StarredElement) or isinstance(node.orelse, cst.StarredElement):
        return None
    sel = _Select(ctx, [node.test])
    text = sel.value([(bare(node.body), node.body), (bare(node.orelse), node.orelse)])
    sel.check_conditions()
    return NodeFix(
        verdict(ctx, sel.safe),
        f"select with `{sel.jnp}.where` (both values are computed)",
        ((node, text),),
        tuple(sel.imports),
    )


def carry_body(
    indent: str,
    step: str,
    name: str,
    index: str,
    names: list[str],
    smalls: list[cst.BaseSmallStatement],
) -> tuple[list[str], str, str, str]:
    """The lines of a ``lax`` loop's body function ``name`` over the carry ``names`` (the
    statements ``smalls``, then the carry returned), with ``index`` its leading loop-index
    parameter (``fori_loop``'s, or "" for ``while_loop``); and the carry's text, the body's
    carry parameter and the initial carry to pass."""
    carry = ", ".join(names)
    single = len(names) == 1
    param = names[0] if single else "carry"
    lines = [f"{indent}def {name}({index}{param}):"]
    if not single:
        lines.append(f"{indent}{step}{carry} = carry")
    lines += [f"{indent}{step}{code(x).strip()}" for x in smalls if not isinstance(x, cst.Pass)]
    lines.append(f"{indent}{step}return {carry}")
    return lines, carry, param, names[0] if single else f"({carry})"


def _smalls(suite: cst.BaseSuite) -> list[cst.BaseSmallStatement] | None:
    if isinstance(suite, cst.SimpleStatementSuite):
        return list(suite.body)
    out: list[cst.BaseSmallStatement] = []
    for stmt in suite.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return None
        out.extend(stmt.body)
    return out


# A branch: ("return", value) or ("assign", {name: (text, node)}) in assignment order.
_Branch = tuple[str, object]


def _branch(ctx: RuleContext, suite: cst.BaseSuite) -> _Branch | None:
    smalls = _smalls(suite)
    if smalls is None:
        return None
    smalls = [s for s in smalls if not isinstance(s, cst.Pass)]
    if len(smalls) == 1 and isinstance(smalls[0], cst.Return):
        value = smalls[0].value
        return ("return", value) if value is not None else None
    assigns: dict[str, _Val] = {}
    for s in smalls:
        pairs = _assigned(s)
        if pairs is None:
            return None
        for name, val in pairs:
            if name in assigns:
                return None
            assigns[name] = val
    return ("assign", assigns)


def _assigned(s: cst.BaseSmallStatement) -> list[tuple[str, _Val]] | None:
    """The (name, value) pairs a statement assigns, in order: ``x = v``, ``x += v``, and
    ``a, b = u, v`` where no value reads a name assigned before it in the same tuple (the split
    assignments then see what the parallel one saw)."""
    if isinstance(s, cst.Assign) and len(s.targets) == 1:
        if isinstance(s.value, cst.NamedExpr):
            return None
        target = s.targets[0].target
        if isinstance(target, cst.Name):
            return [(target.value, (bare(s.value), s.value))]
        value = s.value
        if not (
            isinstance(target, cst.Tuple | cst.List)
            and isinstance(value, cst.Tuple | cst.List)
            and len(target.elements) == len(value.elements) > 0
        ):
            return None
        out: list[tuple[str, _Val]] = []
        for t, v in zip(target.elements, value.elements, strict=True):
            if not isinstance(t.value, cst.Name) or isinstance(v, cst.StarredElement):
                return None
            if isinstance(v.value, cst.NamedExpr) or root_names(v.value) & {n for n, _ in out}:
                return None
            out.append((t.value.value, (bare(v.value), v.value)))
        return out
    if (
        isinstance(s, cst.AugAssign)
        and isinstance(s.target, cst.Name)
        and not isinstance(s.value, cst.Tuple | cst.List | cst.NamedExpr)
    ):
        name = s.target.value
        op = code(s.operator).strip()[:-1]
        rhs = operand(code(s.value), s.value)
        # the combined expression is pure when its operand is (checked on the node)
        return [(name, (f"{name} {op} {rhs}", s.value))]
    return None


def _following_return(tree: Tree, node: cst.If) -> cst.Return | None:
    block = tree.up(node)
    body = getattr(block, "body", None)
    if not isinstance(body, tuple | list):
        return None
    for i, stmt in enumerate(body):
        if stmt is node:
            nxt = body[i + 1] if i + 1 < len(body) else None
            if (
                isinstance(nxt, cst.SimpleStatementLine)
                and len(nxt.body) == 1
                and isinstance(nxt.body[0], cst.Return)
                and nxt.body[0].value is not None
            ):
                return nxt.body[0]
            return None
    return None


@guarded
def _if_fix(ctx: RuleContext, node: cst.If) -> NodeFix | None:
    tree = tree_of(ctx)
    parent = tree.up(node)
    is_elif = isinstance(parent, cst.If) and parent.orelse is node
    indent = tree.indent.get(id(node))
    if indent is None or ctx.frame.fn is None:
        return None
    conds: list[cst.BaseExpression] = []
    branches: list[_Branch] = []
    cur: cst.If = node
    has_else = False
    while True:
        b = _branch(ctx, cur.body)
        if b is None:
            return None
        conds.append(cur.test)
        branches.append(b)
        orelse = cur.orelse
        if isinstance(orelse, cst.If):
            cur = orelse
            continue
        if isinstance(orelse, cst.Else):
            b = _branch(ctx, orelse.body)
            if b is None:
                return None
            branches.append(b)
            has_else = True
        break
    kinds = {k for k, _ in branches}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    sel = _Select(ctx, conds)
    copied: list[cst.CSTNode] = list(conds)
    extra: list[tuple[cst.CSTNode, str]] = []
    if kind == "return":
        values: list[cst.BaseExpression] = [v for _, v in branches]  # type: ignore[misc]
        if not has_else:
            ret = None if is_elif else _following_return(tree, node)
            if ret is None or ret.value is None:
                return None
            values.append(ret.value)
        copied += values
        text = sel.value([(bare(v), v) for v in values])
        stmts = [f"return {text}"]
        if not has_else:
            extra.append((ret, stmts.pop()))
    else:
        maps: list[dict[str, _Val]] = [m for _, m in branches]  # type: ignore[misc]
        if not has_else:
            maps.append({})
        order: list[str] = []
        for m in maps:
            for name in m:
                if name not in order:
                    order.append(name)
        if not order:
            return None
        for m in maps:
            positions = [order.index(n) for n in m]
            if positions != sorted(positions):
                return None
        cond_names = set().union(*(root_names(c) for c in conds))
        stmts = []
        for k, name in enumerate(order):
            if cond_names & set(order[:k]):
                return None  # the conditions, written out again, would read a changed name
            for m in maps:
                n = m.get(name, (name, None))[1]
                if n is not None:
                    copied.append(n)
            if name in ctx.frame.env:
                vals = [m.get(name, (name, None)) for m in maps]
            else:
                # unbound before the `if`: where a branch leaves it alone, the original fails
                # on any later read, so any branch's value may stand there
                given = [m[name] for m in maps if name in m]
                vals = [m.get(name, given[-1]) for m in maps]
            stmts.append(f"{name} = {sel.value(vals)}")
    sel.check_conditions()
    comments = comments_in(node, [*copied, *node.leading_lines])
    if is_elif:
        inner = tree.block_inner_indent(node.body, indent)
        lines = [f"{indent}else:"]
    else:
        inner = indent
        lines = []
    lines += [f"{inner}{c}" for c in comments] + [f"{inner}{s}" for s in stmts]
    text = leading_lines(node, indent) + "".join(f"{line}\n" for line in lines)
    how = "`return`" if kind == "return" else "assignment"
    return NodeFix(
        verdict(ctx, sel.safe),
        f"select each {how} with `{sel.jnp}.where` (both branches are computed)",
        ((node, text), *extra),
        tuple(sel.imports),
    )


# ---------------------------------------------------------------------------------------- lax.cond
_COND_STATEMENTS = (cst.Assign, cst.AugAssign, cst.Expr, cst.Pass)


def _cond_branch(suite: cst.BaseSuite | None) -> list[str] | None:
    """The names a branch assigns, in order, if it is made of assignments to names and
    expression statements (calls with effects: ``jax.debug.print``, callbacks)."""
    if suite is None:
        return []
    smalls = _smalls(suite)
    if smalls is None:
        return None
    out: list[str] = []
    for s in smalls:
        if not isinstance(s, _COND_STATEMENTS):
            return None
        if isinstance(s, cst.Assign):
            targets = [t.target for t in s.targets]
            elements = [
                e.value if isinstance(t, cst.Tuple | cst.List) else t
                for t in targets
                for e in (t.elements if isinstance(t, cst.Tuple | cst.List) else [t])
            ]
        elif isinstance(s, cst.AugAssign):
            elements = [s.target]
        else:
            elements = []
        for e in elements:
            if not isinstance(e, cst.Name):
                return None
            if e.value not in out:
                out.append(e.value)
        if any(isinstance(n, cst.NamedExpr | cst.Yield | cst.Await) for n in descendants(s)):
            return None
    return out


def _free_name(taken: set[str], base: str) -> str:
    name, k = base, 2
    while name in taken:
        name, k = f"{base}{k}", k + 1
    return name


@guarded
def _cond_fix(ctx: RuleContext, node: cst.If) -> NodeFix | None:
    """An ``if``/``else`` whose branches do more than assign (calls with effects, work that only
    one branch should run): each branch becomes a function of the names it assigns, run by
    ``lax.cond``. Unsafe: both branches are traced (Python side effects run for both), under
    ``vmap`` both run, and their results must have one type."""
    tree = tree_of(ctx)
    parent = tree.up(node)
    indent = tree.indent.get(id(node))
    fn = ctx.frame.fn
    if indent is None or fn is None or isinstance(fn.node, cst.Lambda):
        return None
    if (isinstance(parent, cst.If) and parent.orelse is node) or isinstance(node.orelse, cst.If):
        return None  # elif chains: nested lax.cond would be needed
    else_body = node.orelse.body if isinstance(node.orelse, cst.Else) else None
    then_names = _cond_branch(node.body)
    else_names = _cond_branch(else_body)
    if then_names is None or else_names is None:
        return None
    outs = then_names + [n for n in else_names if n not in then_names]
    params = [n for n in outs if n in ctx.frame.env]
    for n in outs:
        if n not in params and not (n in then_names and n in else_names):
            return None  # unbound before the `if` and left alone by a branch
    lax, imports = ctx.alias("jax.lax")
    taken = root_names(fn.node)
    true_fn = _free_name(taken, "_if_true")
    false_fn = _free_name(taken | {true_fn}, "_if_false")
    inner = tree.block_inner_indent(node.body, indent)
    step = inner[len(indent) :]
    ret = ", ".join(outs) if outs else "None"
    lines = [f"{indent}{c}" for c in comments_in(node.test)]

    def define(name: str, suite: cst.BaseSuite | None) -> None:
        lines.append(f"{indent}def {name}({', '.join(params)}):")
        if suite is not None:
            for c in comments_in(suite):
                lines.append(f"{indent}{step}{c}")
            for small in _smalls(suite) or []:
                if not isinstance(small, cst.Pass):
                    lines.append(f"{indent}{step}{code(small).strip()}")
        lines.append(f"{indent}{step}return {ret}")

    define(true_fn, node.body)
    define(false_fn, else_body)
    call = (
        f"{lax}.cond({bare(node.test)}, {true_fn}, {false_fn}{''.join(', ' + p for p in params)})"
    )
    lines.append(f"{indent}{', '.join(outs)} = {call}" if outs else f"{indent}{call}")
    text = leading_lines(node, indent) + "".join(f"{line}\n" for line in lines)
    return NodeFix(
        "unsafe",
        f"run the branches with `{lax}.cond` (both are traced: Python side effects run for both, "
        "under vmap both branches run, and they must return one type)",
        ((node, text),),
        imports,
    )

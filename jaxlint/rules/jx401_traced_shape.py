"""JX401 traced-shape: A shape, size, length or count argument that is traced."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.values import Kind, Value
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.helpers import holds_tracers
from jaxlint.rules.operand_fix import static_source_fix

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX401",
    name="traced-shape",
    jax_error="TypeError",
    summary="A shape, size, length or count argument that is traced.",
    fix="safe/unsafe/advice",
    doc="""## What it does
Finds a traced value passed where JAX needs a static shape, size, length or count, inside traced
code: `jnp.zeros(n)`, `jnp.ones((n, 2))`, `jnp.full(n, v)`, `jnp.eye(n)`, `jnp.arange(n)`,
`jnp.linspace(0, 1, n)`, `x.reshape(n, -1)`, `jnp.broadcast_to(x, (n, k))`, `jnp.repeat(x, n)`,
`jnp.tile(x, n)`, `jnp.pad(x, n)`, `jnp.split(x, n)`, `lax.top_k(x, k)`,
`jnp.bincount(x, length=n)`, the `shape` of `jax.random.normal(key, (n,))` and its siblings,
diagonal offsets (`jnp.diag(x, k=n)`, `jnp.tril`, `jnp.triu`) and axes (`jnp.sum(x, axis=a)`,
`x.argmax(a)`, `jnp.concatenate(xs, axis=a)`, `jnp.moveaxis(x, a, 0)`, ...).

## Why is this bad?
Array shapes are part of the compiled program and must be known at trace time. With jax 0.10.2 the
class depends on the function, and is the same under `jax.jit`, `jax.vmap`, `lax.scan`,
`lax.fori_loop`, `lax.cond` branches and `pmap`:

- shape arguments (`zeros`, `ones`, `full`, `eye`, `reshape`, `broadcast_to`, `jax.random.*`
  shapes): the builtin `TypeError` ("Shapes must be 1D sequences of concrete values of integer
  type"); `jnp.tile`: `TypeError` as well (unhashable primitive parameter);
- counts (`arange`, `linspace`, `repeat`, `pad`, `split`, `bincount`, `one_hot`):
  `ConcretizationTypeError`; `lax.top_k`: `TracerBoolConversionError`; `jnp.diag`:
  `TracerIntegerConversionError`; `tril`/`triu`/`diagonal`, `jnp.resize`: `ValueError`;
- axes: `ConcretizationTypeError` for reductions (`sum`, `mean`, `max`, `any`, ...), `flip`,
  `roll`, `expand_dims`, `squeeze`, `moveaxis`, `jax.nn.softmax`; `TracerIntegerConversionError`
  for `argmax`/`argmin`, `concatenate`, `stack`, `take`, `transpose`; `ValueError` for `cumsum`,
  `sort`, `argsort`, `median`, the `nan*` reductions, `diff`, `swapaxes`,
  `jax.nn.log_softmax`. The message names the class measured for each function.

Sizes derived from shapes (`x.shape[0]`, `len(x)`), literals, `static_argnames` parameters,
closed-over config values and static dataclass fields are fine. A traced *bound* such as the
`maxval` of `jax.random.randint(key, (), 0, n)` is fine too.

Transform arguments are sizes too: the `length` of `lax.scan(f, init, xs=None, length=n)`
(`ConcretizationTypeError`) and the `batch_size` of `lax.map` (`TracerBoolConversionError`)
must be static. A `lax.fori_loop` whose bound is traced by `jit` or `vmap` becomes a
`while_loop`, which works, until it is differentiated in reverse mode: `jax.grad(g)(x)` (also
`value_and_grad`, `jacrev`, `hessian`) of a function running such a loop on a differentiated
carry raises `ValueError` ("Reverse-mode differentiation does not work for lax.while_loop or
lax.fori_loop with dynamic start/stop values") at the call of the differentiated function,
which is where the finding is; so does `jax.jit(jax.grad(g))(x, n)`, where the jit traces `n`.

## Example
```python
@jax.jit
def make_buffer(n_envs):
    return jnp.zeros((n_envs, 4))
```

## Use instead
```python
@partial(jax.jit, static_argnames="n_envs")
def make_buffer(n_envs):
    return jnp.zeros((n_envs, 4))
```
Or derive the size from an array shape, or keep a fixed maximum size and a mask.

## Fix safety
When the traced size is a parameter of a function jitted in the same file (read there, in a
function it encloses, or in a helper that received it unchanged; alone, in a shape tuple or in
arithmetic with static values), the fix adds it to `static_argnames`: `@jax.jit` becomes
`@partial(jax.jit, static_argnames=("n",))` (importing `partial` when needed), and an existing
`@partial(jax.jit, ...)` or `jax.jit(f, ...)` call gets the name added. When it is a field of a
flax struct dataclass defined in the same file (`params.n_envs`), the fix declares the field
static: `n_envs: int = flax.struct.field(pytree_node=False)`. Both are **unsafe**: every
distinct value recompiles the function, callers passing an array (rather than a Python int) then
fail with a non-hashable static argument, and a static field is no longer a leaf for
`jax.tree` functions or `vmap`. When the size is a field of a jit parameter that is not a
flax struct of this file (`cfg.n_envs`, a `NamedTuple` or frozen dataclass config passed to the
jitted function), the whole parameter goes into `static_argnames` (on a decorator, or on
`jax.jit(f, ...)` of a function named in this file): **unsafe** as above, and more so: every
field of it becomes static, so it must be hashable and hold no arrays (a dict config is refused
by JAX; the fix is not offered where the analysis knows it is a dict or a list). When the size
is an argument that `jax.vmap(f, in_axes=(..., 0))` maps, and the call passes an array of one
repeated value (`jnp.full((b,), n)`, `jnp.stack([n, n])`, `jnp.array([n, n])`, n a name or a
number), the fix passes `n` itself with that `in_axes` entry `None`: **safe**, since every batch
element saw `n`, and a Python int stays one inside `vmap` (outputs are broadcast along the batch
axis as before). Under `jax.pmap`, which traces an unmapped argument too, the same rewrite (also
of `jnp.asarray(n)[None]`) adds the position to `static_broadcasted_argnums` (**safe**; each new
`n` compiles again). When the size comes to the function as an operand of a control-flow call
in this file, passed on unchanged or combined with Python numbers, and the analysis saw a Python
number there: `lax.cond(p, f, g, *operands)` closes its branches over the operands
(`lambda ops=(x, n): f(*ops)`, `lambda: g(x, n)`; **safe**: the same values, read where the call
was), a row of `lax.scan`'s `xs` built as one repeated value (`jnp.full((k,), n)`) is read as `n`
in the body (**safe**), and a `lax.fori_loop` with known bounds (at most 64 iterations) whose
index is the size is unrolled into `functools.reduce` over `range(lo, hi)` (**unsafe**: one copy
of the body per iteration, and the carry is no longer checked to keep its type). Otherwise the
fix is advice only.
`jnp.repeat(x, n, total_repeat_length=N)` accepts a traced `n` only with a static total length
`N`, and pads or truncates when `sum(n) != N`.
""",
    examples=(
        Example(
            title="reduction axis from a jit parameter",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def total(x, axis):
    return jnp.sum(x, axis=axis)  # expect: JX401


def run():
    return total(jnp.ones((2, 3)), 1)
""",
        ),
        Example(
            title="argmax axis method under vmap",
            valid=False,
            raises="TracerIntegerConversionError",
            code="""import jax
import jax.numpy as jnp


def best(q, axis):
    return q.argmax(axis)  # expect: JX401


def run():
    return jax.vmap(best)(jnp.ones((2, 3, 4)), jnp.array([0, 1]))
""",
        ),
        Example(
            title="jnp.pad with a traced width",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def left_pad(x, n):
    return jnp.pad(x, (n, 0))  # expect: JX401


def run():
    return left_pad(jnp.ones(3), 2)
""",
        ),
        Example(
            title="lax.top_k with a traced k",
            valid=False,
            raises="TracerBoolConversionError",
            code="""import jax
import jax.numpy as jnp
from jax import lax


@jax.jit
def best(scores, k):
    return lax.top_k(scores, k)  # expect: JX401


def run():
    return best(jnp.arange(5.0), 2)
""",
        ),
        Example(
            title="lax.scan length from a jit parameter",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
from jax import lax


@jax.jit
def count_up(x, n):
    return lax.scan(lambda c, _: (c + 1.0, c), x, xs=None, length=n)  # expect: JX401


def run():
    return count_up(0.0, 3)
""",
        ),
        Example(
            title="lax.scan length under vmap",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
import jax.numpy as jnp
from jax import lax


def rollout(x, steps):
    def body(c, _):
        return c * 2.0, c

    return lax.scan(body, x, None, steps)  # expect: JX401


def run():
    return jax.vmap(rollout)(jnp.ones(2), jnp.array([3, 3]))
""",
        ),
        Example(
            title="lax.map batch_size from a jit parameter",
            valid=False,
            raises="TracerBoolConversionError",
            code="""import jax
import jax.numpy as jnp
from jax import lax


@jax.jit
def doubled(xs, batch):
    return lax.map(lambda x: x * 2.0, xs, batch_size=batch)  # expect: JX401


def run():
    return doubled(jnp.ones(4), 2)
""",
        ),
        Example(
            title="grad of a fori_loop with a traced bound under jit",
            valid=False,
            raises="ValueError",
            code="""import jax
from jax import lax


@jax.jit
def slope(x, n):
    def power(s):
        return lax.fori_loop(0, n, lambda k, c: c * s, s)

    return jax.grad(power)(x)  # expect: JX401


def run():
    return slope(1.5, 3)
""",
        ),
        Example(
            title="value_and_grad of a helper's fori_loop under vmap",
            valid=False,
            raises="ValueError",
            code="""import jax
import jax.numpy as jnp
from jax import lax


def loss(w, steps):
    return lax.fori_loop(0, steps, lambda k, c: c * w, w)


def per_env(w, steps):
    value_grad = jax.value_and_grad(loss)
    return value_grad(  # expect: JX401
        w,
        steps,
    )


def run():
    return jax.vmap(per_env)(jnp.ones(2), jnp.array([2, 3]))
""",
        ),
        Example(
            title="jax.jit of jax.grad of a fori_loop with a bound argument",
            valid=False,
            raises="ValueError",
            code="""import jax
from jax import lax


def power(x, n):
    return lax.fori_loop(0, n, lambda k, c: c * x, x)


def run():
    return jax.jit(jax.grad(power))(1.5, 3)  # expect: JX401
""",
        ),
        Example(
            title="jax.jit of jax.grad with the loop bound static",
            valid=True,
            code="""import jax
from jax import lax


def power(x, n):
    return lax.fori_loop(0, n, lambda k, c: c * x, x)


def run():
    return jax.jit(jax.grad(power), static_argnums=1)(1.5, 3) + jax.grad(power)(1.5, 3)
""",
        ),
        Example(
            title="fori_loop bounds: static under grad, traced without grad or carry",
            valid=True,
            code="""from functools import partial

import jax
from jax import lax


@partial(jax.jit, static_argnames="n")
def slope(x, n, m):
    def power(s):
        return lax.fori_loop(0, n, lambda k, c: c * s, s)

    def counted(s):
        return s * lax.fori_loop(0, m, lambda k, c: c + 1, 0)

    steps = lax.fori_loop(0, m, lambda k, c: c * 2.0, x)
    return jax.grad(power)(x) + jax.grad(counted)(x) + steps


def run():
    return slope(1.5, 3, 2)
""",
        ),
        Example(
            title="scan length unbatched by in_axes built with + and *",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp
from jax import lax


@partial(jax.vmap, in_axes=[0] + [None] * 2)
def rollout(x, steps, inner):
    return lax.scan(lambda c, _: (c + 1.0, None), x, None, length=steps // inner)


def run():
    return rollout(jnp.ones(2), 4, 2)
""",
        ),
        Example(
            title="static scan length and batch size",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp
from jax import lax


@partial(jax.jit, static_argnames=("n", "batch"))
def both(x, xs, n, batch):
    carry, _ = lax.scan(lambda c, _: (c + 1.0, None), x, length=n)
    ys = lax.map(lambda v: v * carry, xs, batch_size=batch)
    zs, _ = lax.scan(lambda c, v: (c, v), 0.0, xs, length=xs.shape[0])
    return ys, zs


def run():
    return both(0.0, jnp.ones(4), 3, 2)
""",
        ),
        Example(
            title="axes and widths from static values",
            valid=True,
            code="""import jax
import jax.numpy as jnp
from jax import lax


@jax.jit
def features(x):
    last = jnp.sum(x, axis=x.ndim - 1)
    padded = jnp.pad(last, (x.shape[0], 0))
    top, _ = lax.top_k(padded, 2)
    return top, x.mean(0), jnp.diag(x, k=1)


def run():
    return features(jnp.ones((3, 3)))
""",
        ),
        Example(
            title="jnp.zeros with a jit parameter",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def make_buffer(n_envs):
    return jnp.zeros((n_envs, 4))  # expect: JX401


def run():
    return make_buffer(8)
""",
        ),
        Example(
            title="jnp.arange with traced length",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def ramp(n):
    return jnp.arange(n) * 2  # expect: JX401


def run():
    return ramp(5)
""",
        ),
        Example(
            title="reshape with traced size",
            valid=False,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def to_minibatches(x, n_minibatches):
    return x.reshape(n_minibatches, -1)  # expect: JX401


def run():
    return to_minibatches(jnp.arange(8.0), 2)
""",
        ),
        Example(
            title="jnp.repeat with traced count",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
import jax.numpy as jnp


@jax.jit
def upsample(x, factor):
    return jnp.repeat(x, factor)  # expect: JX401


def run():
    return upsample(jnp.arange(3.0), 2)
""",
        ),
        Example(
            title="random shape from traced count",
            valid=False,
            code="""import jax


@jax.jit
def noise(key, n):
    return jax.random.normal(key, (n,))  # expect: JX401


def run():
    return noise(jax.random.key(0), 3)
""",
        ),
        Example(
            title="jnp.full under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def fill(n):
    return jnp.full(n, 1.0)  # expect: JX401


def run():
    return jax.vmap(fill)(jnp.array([2, 3]))
""",
        ),
        Example(
            title="jnp.linspace in lax.scan body",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax.numpy as jnp
from jax import lax


def body(carry, n):
    grid = jnp.linspace(0.0, 1.0, n)  # expect: JX401
    return carry + grid.sum(), grid.sum()


def run():
    return lax.scan(body, 0.0, jnp.array([3, 3]))
""",
        ),
        Example(
            title="helper with size from a traced config",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def empty_book(depth):
    return jnp.zeros((depth, 2))  # expect: JX401


@jax.jit
def reset(config):
    return empty_book(config["depth"] * 2)


def run():
    return reset({"depth": 3})
""",
        ),
        Example(
            title="plain flax struct field is traced",
            valid=False,
            code="""import flax.struct
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class Params:
    n_envs: int


@jax.jit
def init(params):
    return jnp.ones(params.n_envs)  # expect: JX401


def run():
    return init(Params(n_envs=4))
""",
        ),
        Example(
            title="size from shape and len",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def normalise(x):
    ones = jnp.ones(x.shape[0]) + jnp.zeros(len(x))
    return (x * ones).reshape(x.shape[0] // 2, -1) / jnp.arange(1, x.size + 1).reshape(2, -1)


def run():
    return normalise(jnp.arange(4.0))
""",
        ),
        Example(
            title="static_argnames size",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames=("n_envs", "factor"))
def make_buffer(x, n_envs, factor):
    return jnp.zeros((n_envs, 4)) + jnp.repeat(x, factor).sum() + jnp.arange(n_envs)[:, None]


def run():
    return make_buffer(jnp.ones(2), n_envs=8, factor=2)
""",
        ),
        Example(
            title="closed-over config sizes",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def make_train(config):
    n_envs = config["n_envs"]
    n_minibatches = config["n_minibatches"]

    def train(key, x):
        noise = jax.random.normal(key, (n_envs,))
        return x.reshape(n_minibatches, -1), noise

    return jax.jit(train)


def run():
    return make_train({"n_envs": 4, "n_minibatches": 2})(jax.random.key(0), jnp.arange(8.0))
""",
        ),
        Example(
            title="traced randint bound",
            valid=True,
            code="""import jax


@jax.jit
def start_bar(key, n_bars):
    return jax.random.randint(key, (), 0, n_bars)


def run():
    return start_bar(jax.random.key(0), 100)
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
    n_envs: int = flax.struct.field(pytree_node=False)


@jax.jit
def init(params):
    return jnp.zeros(params.n_envs) + params.fee


def run():
    return init(Params(fee=0.1, n_envs=4))
""",
        ),
        Example(
            title="repeat with static total_repeat_length",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def expand(x, counts):
    return jnp.repeat(x, counts, total_repeat_length=6)


def run():
    return expand(jnp.arange(3.0), jnp.array([1, 2, 3]))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
# Sizes that control-flow primitives need while tracing (the number of iterations, a batch size):
# (positions, keywords, the class jax 0.10.2 raises under jit and vmap, what the argument is).
TRANSFORM_SIZE_ARGS: dict[str, tuple[tuple[int, ...], tuple[str, ...], str, str]] = {
    "jax.lax.scan": ((3,), ("length",), "ConcretizationTypeError", "scan length"),
    "jax.lax.map": ((), ("batch_size",), "TracerBoolConversionError", "batch size"),
}


def _shape_args(
    ctx: RuleContext, node: cst.Call, positions: tuple[int, ...], keywords: tuple[str, ...]
) -> list[cst.BaseExpression]:
    positional = [a.value for a in node.args if a.keyword is None and not a.star]
    out = [positional[i] for i in positions if i < len(positional)]
    out += [a.value for a in node.args if a.keyword is not None and a.keyword.value in keywords]
    return out


def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    qual = ctx.qual(node.func)
    if qual in LOOPS and ctx.project.interp.reverse_diff:
        _note_dynamic_loop(ctx, node)
        return
    exprs: list[cst.BaseExpression] = []
    error = "TypeError"
    name = ""
    what = "shape argument"
    if qual is not None and qual in K.SHAPE_ARGS:
        exprs = _shape_args(ctx, node, *K.SHAPE_ARGS[qual])
        error = K.SHAPE_ERROR.get(qual, "TypeError")
        name = qual
        if qual.endswith(("diag", "diagonal", "tril", "triu")):
            what = "diagonal offset"
    elif qual is not None and qual in TRANSFORM_SIZE_ARGS:
        positions, keywords, error, what = TRANSFORM_SIZE_ARGS[qual]
        exprs = _shape_args(ctx, node, positions, keywords)
        name = qual
    elif qual is not None and qual.startswith("jax.random.") and qual[11:] in K.RANDOM_SHAPE_ARGS:
        pos = K.RANDOM_SHAPE_ARGS[qual[11:]]
        exprs = _shape_args(ctx, node, (pos,) if pos >= 0 else (), ("shape",))
        error = K.SHAPE_ERROR.get(qual, "TypeError")
        name = qual
    elif qual is not None and qual in K.AXIS_ARGS:
        positions, keywords, error = K.AXIS_ARGS[qual]
        exprs = _shape_args(ctx, node, positions, keywords)
        name, what = qual, "axis argument"
    elif isinstance(node.func, cst.Attribute) and node.func.attr.value in K.SHAPE_METHODS:
        owner = ctx.value(node.func.value)
        if not _array_owner(owner):
            return
        method = node.func.attr.value
        exprs = [
            a.value
            for a in node.args
            if a.keyword is None or a.keyword.value in ("shape", "repeats", "new_shape")
        ]
        if method == "repeat":
            exprs = exprs[:1]
            error = "ConcretizationTypeError"
        name = f".{method}"
    elif isinstance(node.func, cst.Attribute) and node.func.attr.value in K.AXIS_METHODS:
        owner_node = node.func.value
        if (
            isinstance(owner_node, cst.Subscript)
            and isinstance(owner_node.value, cst.Attribute)
            and owner_node.value.attr.value == "at"
        ):
            return  # x.at[i].min(v): an indexed update, its argument is a value
        if not _array_owner(ctx.value(owner_node)):
            return
        method = node.func.attr.value
        exprs = _shape_args(ctx, node, (0,), ("axis",))
        error, name, what = K.AXIS_METHODS[method], f".{method}", "axis argument"
    for expr in exprs:
        v = ctx.value(expr)
        if holds_tracers(v):
            if name.endswith("repeat") and any(
                a.keyword is not None and a.keyword.value == "total_repeat_length"
                for a in node.args
            ):
                return
            must = {
                "axis argument": "axes",
                "diagonal offset": "diagonal offsets",
                "scan length": "the number of iterations",
                "batch size": "batch sizes",
            }.get(what, "array shapes")
            ctx.report(
                RULE,
                node,
                f"the {what} `{ctx.source(expr)}` of `{ctx.source(node.func)}` is traced: "
                f"{must} must be static, JAX raises {error}; derive it from `.shape` or "
                "make it a static argument (static_argnames)",
                v,
                jax_error=error,
                fix=static_source_fix(ctx, expr, fields=True),
            )
            return


LOOPS = frozenset({"jax.lax.fori_loop", "flax.nnx.fori_loop"})


def _note_dynamic_loop(ctx: RuleContext, node: cst.Call) -> None:
    """A fori_loop with a traced bound inside a reverse-differentiated call: JAX lowers it to a
    while_loop, which it cannot transpose. Noted here, reported at the differentiated call (where
    JAX raises), by :func:`on_reverse_diff`. A loop whose carry is static is never transposed."""
    bounds = _shape_args(ctx, node, (0, 1), ("lower", "upper"))
    carry = _shape_args(ctx, node, (3,), ("init_val",))
    if not carry or not ctx.value(carry[0]).traced:
        return
    for expr in bounds:
        v = ctx.value(expr)
        if holds_tracers(v):
            ctx.project.interp.reverse_diff[-1].append((expr, v))
            return


def on_reverse_diff(
    ctx: RuleContext, node: cst.Call, t: object, loops: list[tuple[cst.CSTNode, Value]]
) -> None:
    """``jax.grad(g)(x)`` under jit/vmap where ``g`` runs a fori_loop with a traced bound."""
    expr, v = loops[0]
    # the bound was read in the differentiated function's frame: known here too, for the fix
    ctx.frame.values.setdefault(id(expr), v)
    ctx.report(
        RULE,
        node,
        f"this call differentiates (reverse mode) a `lax.fori_loop` whose bound "
        f"`{ctx.source(expr)}` is traced: the loop becomes a while_loop, which reverse-mode "
        "differentiation cannot transpose, JAX raises ValueError here; make the bound static "
        "(static_argnames, a shape) or use lax.scan with a static length",
        v,
        jax_error="ValueError",
        fix=static_source_fix(ctx, expr) if isinstance(expr, cst.BaseExpression) else None,
    )


def _array_owner(owner: Value) -> bool:
    """A method call on an array (not on some object that has a method of that name): a value
    of unknown kind counts only where it is traced; untraced, it may be a module picked at run
    time (e3nn's `jnp = _infer_backend(x)` then `jnp.reshape(x, shape)`)."""
    return owner.kind in (Kind.DEVICE, Kind.HOST) or (owner.kind is Kind.UNKNOWN and owner.traced)

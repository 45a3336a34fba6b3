"""JX202 traced-host-call: A NumPy conversion or ufunc, or a `math.*` function, applied to a traced value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.base import Example, Rule
from jaxlint.rules.fixing import code, guarded, verdict
from jaxlint.rules.helpers import holds_traced_array, holds_tracers

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX202",
    name="traced-host-call",
    jax_error="TracerArrayConversionError",
    summary="A NumPy conversion or ufunc, or a `math.*` function, applied to a traced value.",
    fix="safe/unsafe",
    doc="""## What it does
Finds a host-side numeric function applied to a traced value inside traced code: NumPy functions
that convert their argument to an `ndarray` (`np.asarray`, `np.array`, ufuncs such as `np.exp`,
`np.log`, `np.maximum`, and functions such as `np.where`, `np.clip`, `np.dot`), and `math.*`
functions (`math.sqrt`, `math.exp`, `math.floor`, ...).
NumPy reductions that dispatch to the array's own method (`np.sum(t)`, `np.mean(t)`) trace fine
and are not reported.

## Why is this bad?
NumPy and `math` compute on the host with concrete numbers; a tracer has none. With jax 0.10.2
the class depends on the library, and is the same under `jax.jit`, `jax.vmap`, `lax.scan`,
`lax.fori_loop`, `lax.cond` branches and `pmap`:

- NumPy: `TracerArrayConversionError` (NumPy calls `__array__` on the tracer);
- `math`: `ConcretizationTypeError` (`math` calls `__float__`).

Unlike branches, these also fail under `jax.grad` without `jit`: the differentiated value is a
JVP tracer and converting it would drop its derivative.

## Example
```python
@jax.jit
def log_return(p0, p1):
    return np.log(p1 / p0) + math.sqrt(p0)
```

## Use instead
```python
@jax.jit
def log_return(p0, p1):
    return jnp.log(p1 / p0) + jnp.sqrt(p0)
```
NumPy on static values (shapes, module constants) is fine; to run real host code on traced
values, use `jax.pure_callback`.

## Fix safety
The fix renames the function to its `jnp` twin: `np.exp` -> `jnp.exp`, `np.asarray` ->
`jnp.asarray` (the NumPy functions listed in `NUMPY_TWINS`: elementwise math, comparisons,
`where`, `clip`, `dot`, `concatenate`, `stack`, ...; not the shape-making ones nor those with a
data-dependent size), `math.sqrt` -> `jnp.sqrt`, `math.asin` -> `jnp.arcsin`, `math.fabs` ->
`jnp.fabs`, `math.pow` -> `jnp.float_power`, and `math.floor`/`ceil`/`trunc` ->
`jnp.floor(x).astype(int)` (math returns an int). It is **safe**: the tests compare every twin
with NumPy and `math` using JAX: NumPy computes float32 inputs in float32 and agrees within a few
ulps; `math` computes in float64 and the twin agrees to float32 rounding, and with
`jax_enable_x64` to float64 rounding, so the only difference is JAX's default dtype (float32).
`math` functions that raise on invalid input (`math.sqrt(-1.0)`) return NaN instead, on inputs
where the original does not run. With keyword arguments other than `axis` (`dtype=np.float64`
above all: float32 in JAX without x64) the fix is **unsafe**. NumPy's scalar types called on a
value (`np.float32(t)`, `np.int32(t)`, ...) become `jnp`'s (the same dtype: **safe**; an array
where NumPy gave a NumPy scalar), except `np.float64`/`np.int64`, which JAX narrows to 32 bits
without x64 (**unsafe**). Other functions get no fix.

Every fix that is called safe here is safe in a function that a transform traces (or a body
that it hands to `lax.scan`, `lax.cond`, ...): there every run sees JAX values. In a helper that is
*called* from traced code the same rewrite is offered as **unsafe**, because Python code may call
the helper too, with NumPy float64 data or Python numbers, and would then get float32 JAX arrays.
""",
    examples=(
        Example(
            title="np.asarray under jit",
            valid=False,
            code="""import jax
import numpy as np


@jax.jit
def normalise(x):
    host = np.asarray(x)  # expect: JX202
    return host / host.sum()


def run():
    return normalise(np.arange(1.0, 4.0))
""",
        ),
        Example(
            title="np ufunc under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp
import numpy as np


def softplus(x):
    return np.log1p(np.exp(x))  # expect: JX202


def run():
    return jax.vmap(softplus)(jnp.arange(3.0))
""",
        ),
        Example(
            title="math.sqrt under jit",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import math

import jax


@jax.jit
def volatility(variance):
    return math.sqrt(variance)  # expect: JX202


def run():
    return volatility(4.0)
""",
        ),
        Example(
            title="np.array in lax.scan body",
            valid=False,
            code="""import jax.numpy as jnp
import numpy as np
from jax import lax


def body(carry, x):
    row = np.array([x, carry])  # expect: JX202
    return carry + x, row


def run():
    return lax.scan(body, 0.0, jnp.arange(3.0))
""",
        ),
        Example(
            title="math.exp in lax.fori_loop body",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import math

from jax import lax


def body(i, acc):
    return acc * math.exp(-0.1 * i)  # expect: JX202


def run():
    return lax.fori_loop(0, 3, body, 1.0)
""",
        ),
        Example(
            title="np.maximum in helper",
            valid=False,
            code="""import jax
import jax.numpy as jnp
import numpy as np


def relu(v):
    return np.maximum(v, 0.0)  # expect: JX202


@jax.jit
def step(x):
    return relu(x - 1.0).sum()


def run():
    return step(jnp.arange(4.0))
""",
        ),
        Example(
            title="np.clip on a traced attribute",
            valid=False,
            code="""from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class State(NamedTuple):
    position: jnp.ndarray
    cash: jnp.ndarray


@jax.jit
def clamp(state):
    return np.clip(state.position, -1.0, 1.0)  # expect: JX202


def run():
    return clamp(State(jnp.float32(2.0), jnp.float32(0.0)))
""",
        ),
        Example(
            title="np.asarray under grad without jit",
            valid=False,
            code="""import jax
import numpy as np


def loss(w):
    return (np.asarray(w) * w).sum()  # expect: JX202


def run():
    return jax.grad(loss)(2.0)
""",
        ),
        Example(
            title="jnp twins",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def log_return(p0, p1):
    return jnp.log(p1 / p0) + jnp.sqrt(p0) + jnp.maximum(p1, 0.0)


def run():
    return log_return(100.0, 101.0)
""",
        ),
        Example(
            title="numpy reductions dispatch to the tracer",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def stats(x):
    return np.sum(x) + np.mean(x)


def run():
    return stats(jnp.arange(4.0))
""",
        ),
        Example(
            title="numpy and math on static values",
            valid=True,
            code="""import math

import jax
import jax.numpy as jnp
import numpy as np

WINDOW = np.hanning(5)


@jax.jit
def smooth(x):
    scale = math.sqrt(x.shape[0]) * np.log(len(x))
    return jnp.convolve(x, WINDOW / WINDOW.sum(), mode="same") * scale


def run():
    return smooth(jnp.arange(8.0))
""",
        ),
        Example(
            title="host code inside pure_callback",
            valid=True,
            code="""import math

import jax
import jax.numpy as jnp
import numpy as np


def host_transform(x):
    return np.asarray(np.exp(x) + math.pi, dtype=np.float32)


@jax.jit
def step(x):
    return jax.pure_callback(host_transform, jax.ShapeDtypeStruct(x.shape, x.dtype), x)


def run():
    return step(jnp.arange(3.0))
""",
        ),
        Example(
            title="math on static_argnums parameter",
            valid=True,
            code="""import math
from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=1)
def annualise(returns, periods):
    return returns.mean() * math.sqrt(periods)


def run():
    return annualise(jnp.ones(4), 252)
""",
        ),
        Example(
            title="closed-over config computed with numpy",
            valid=True,
            code="""import jax
import jax.numpy as jnp
import numpy as np


def make_step(config):
    discount = np.exp(-config["rate"])

    def step(x):
        return x * discount

    return jax.jit(step)


def run():
    return make_step({"rate": 0.1})(jnp.ones(3))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    qual = ctx.qual(node.func)
    if qual is None or K.returns_python_value(qual):
        return
    if qual.startswith("numpy."):
        name = qual[len("numpy.") :]
        if name in K.NUMPY_DISPATCHING or name.startswith(("testing.", "typing.")):
            return
        error, twin = K.NUMPY_ERRORS.get(name, "TracerArrayConversionError"), f"jnp.{name}"
        if name.startswith("random."):
            twin = f"jax.{name} with a key"
    elif qual.startswith("math."):
        name = qual[len("math.") :]
        error, twin = "ConcretizationTypeError", f"jnp.{MATH_TWINS.get(name, name)}"
    else:
        return
    # np.asarray of a dict (or an object) of tracers makes an object array without converting them;
    # a ufunc or a reduction of any value holding tracers converts them
    holds = holds_traced_array if name in _OBJECT_ARRAYS else holds_tracers
    for a in node.args:
        v = ctx.value(a.value)
        if holds(v):
            ctx.report(
                RULE,
                node,
                f"`{ctx.source(node.func)}` converts the traced value `{ctx.source(a.value)}` "
                f"to a host value: JAX raises {error}; use `{twin}`",
                v,
                jax_error=error,
                fix=_twin_fix(ctx, node, qual),
            )
            return


_OBJECT_ARRAYS = frozenset({"asarray", "array", "asanyarray", "asarray_chkfinite"})

# NumPy functions whose `jax.numpy` namesake computes the same values (verified against NumPy in
# tests/test_fix_equivalence.py). Shape-making functions (zeros, arange, ...) and functions with a
# data-dependent result size (nonzero, unique, one-argument where) are left out: their twin would
# raise under the trace as well.
NUMPY_TWINS = frozenset(
    [
        "abs",
        "absolute",
        "negative",
        "positive",
        "sign",
        "sqrt",
        "cbrt",
        "square",
        "exp",
        "exp2",
        "expm1",
        "log",
        "log2",
        "log10",
        "log1p",
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "arcsinh",
        "arccosh",
        "arctanh",
        "floor",
        "ceil",
        "trunc",
        "rint",
        "isnan",
        "isinf",
        "isfinite",
        "signbit",
        "deg2rad",
        "rad2deg",
        "degrees",
        "radians",
        "logical_not",
        "logical_and",
        "logical_or",
        "logical_xor",
        "add",
        "subtract",
        "multiply",
        "divide",
        "true_divide",
        "floor_divide",
        "power",
        "mod",
        "remainder",
        "fmod",
        "maximum",
        "minimum",
        "fmax",
        "fmin",
        "arctan2",
        "hypot",
        "copysign",
        "logaddexp",
        "logaddexp2",
        "equal",
        "not_equal",
        "less",
        "less_equal",
        "greater",
        "greater_equal",
        "where",
        "clip",
        "dot",
        "matmul",
        "inner",
        "outer",
        "concatenate",
        "stack",
        "hstack",
        "vstack",
        "asarray",
        "array",
        "nan_to_num",
        # scalar types called on a value: jnp's converts to the same dtype
        # (not the small and unsigned ints: a float out of their range converts differently)
        "float16",
        "float32",
        "int32",
        "bool_",
        "float64",
        "int64",
    ]
)
# Twins whose dtype JAX narrows without x64 (float64 -> float32): the fix is unsafe.
_NARROWED = frozenset({"float64", "int64"})
# Keyword arguments that mean the same in NumPy and jax.numpy (anything else, `dtype=` included,
# makes the fix unsafe: float64 in NumPy is float32 in JAX without x64).
_SAME_KEYWORDS = frozenset({"axis"})
_ARITY = {"where": 3}
# math function -> jax.numpy twin (the same values, in JAX's float dtype)
MATH_TWINS = {
    "sqrt": "sqrt",
    "cbrt": "cbrt",
    "exp": "exp",
    "exp2": "exp2",
    "expm1": "expm1",
    "log": "log",
    "log1p": "log1p",
    "log2": "log2",
    "log10": "log10",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "fabs": "fabs",
    "pow": "float_power",
    "hypot": "hypot",
    "copysign": "copysign",
    "fmod": "fmod",
    "degrees": "degrees",
    "radians": "radians",
    "isnan": "isnan",
    "isinf": "isinf",
    "isfinite": "isfinite",
    # math returns an int: the twin is cast back (`jnp.floor(x).astype(int)`)
    "floor": "floor",
    "ceil": "ceil",
    "trunc": "trunc",
}
_MATH_ARITY = {"atan2": 2, "hypot": 2, "copysign": 2, "fmod": 2, "pow": 2, "log": 1}
_MATH_INT = frozenset({"floor", "ceil", "trunc"})


@guarded
def _twin_fix(ctx: RuleContext, node: cst.Call, qual: str) -> NodeFix | None:
    module, _, name = qual.partition(".")
    if any(a.star for a in node.args):
        return None
    positional = [a for a in node.args if a.keyword is None]
    jnp, imports = ctx.alias("jax.numpy")
    if module == "numpy":
        if name not in NUMPY_TWINS or len(positional) != _ARITY.get(name, len(positional)):
            return None
        same = all(a.keyword is None or a.keyword.value in _SAME_KEYWORDS for a in node.args)
        same = same and name not in _NARROWED
        return NodeFix(
            verdict(ctx, same),
            f"use `{jnp}.{name}`" + ("" if same else " (dtype and keyword arguments may differ)"),
            ((node.func, f"{jnp}.{name}"),),
            imports,
        )
    twin = MATH_TWINS.get(name)
    if twin is None or any(a.keyword is not None for a in node.args):
        return None
    if len(positional) != _MATH_ARITY.get(name, 1):
        return None
    if name in _MATH_INT:
        call = node.with_changes(func=cst.parse_expression(f"{jnp}.{twin}"), lpar=[], rpar=[])
        return NodeFix(
            verdict(ctx, True),
            f"use `{jnp}.{twin}(...).astype(int)`",
            ((node, f"{code(call)}.astype(int)"),),
            imports,
        )
    return NodeFix(
        verdict(ctx, True), f"use `{jnp}.{twin}`", ((node.func, f"{jnp}.{twin}"),), imports
    )

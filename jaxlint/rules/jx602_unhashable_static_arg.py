"""JX602 unhashable-static-arg: a list, dict, set or array passed where a jitted callee wants a
static (hashed) argument."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.syntax import dotted
from jaxlint.analysis.values import Kind, Value
from jaxlint.rules.base import Example, Rule

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext
    from jaxlint.analysis.model import Param, TransformedRef

RULE = Rule(
    code="JX602",
    name="unhashable-static-arg",
    jax_error="ValueError",
    summary="A list, dict, set or array passed to a parameter that a jitted callee declares static.",
    fix="advice",
    doc="""## What it does
Finds a call to a jitted function (`@jax.jit` / `@partial(jax.jit, ...)` / `jax.jit(f, ...)`)
that passes a value known to be unhashable to a parameter the callee declares static
(`static_argnums` / `static_argnames`): a list, dict or set literal or comprehension, `list(...)`,
`dict(...)`, `set(...)`, or an array built by NumPy or JAX (`np.array`, `np.zeros`, `jnp.array`,
`jnp.arange`, `jax.random.key`, ...). The call may be in traced code or in plain Python; the finding
is at the call. It is the twin of JX601 (a traced value at a static position). A value whose type
the analysis does not know is never reported.

## Why is this bad?
JAX hashes static arguments to pick a compiled version of the callee. jax 0.10.2 raises
`ValueError` ("Non-hashable static arguments are not supported. An error occurred while trying
to hash an object of type <class 'list'> ...") at the call, before the callee is traced. A NumPy
or JAX array is unhashable too (`numpy.ndarray`, `ArrayImpl`, typed PRNG keys), even a 0-d one;
NumPy scalars (`np.float32(1.0)`) and tuples of hashable values are fine.

## Example
```python
@partial(jax.jit, static_argnames="sizes")
def split(x, sizes):
    return jnp.split(x, sizes)

split(x, sizes=[2, 5])
```

## Use instead
```python
split(x, sizes=(2, 5))
```
Pass a tuple (of hashable values) instead of a list, a `frozenset` instead of a set, a tuple of
pairs instead of a dict; or, for an array the callee only computes with, make the parameter
non-static and pass the array as an ordinary (traced) argument.

## Fix safety
No automatic fix: a tuple is not a list (the callee may append to it or compare it with a list),
and whether an array should stay static (as a tuple) or become a traced argument is a design
decision. The finding says which value and which parameter.
""",
    examples=(
        Example(
            title="list literal for static_argnames",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="sizes")
def split(x, sizes):
    return jnp.split(x, sizes)


def run():
    return split(jnp.arange(6.0), sizes=[2, 4])  # expect: JX602
""",
        ),
        Example(
            title="JAX array for static_argnums of a jax.jit wrapper",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def scale(x, factor):
    return x * factor


scale_jit = jax.jit(scale, static_argnums=1)


def run():
    return scale_jit(jnp.ones(2), jnp.array([1.0, 2.0]))  # expect: JX602
""",
        ),
        Example(
            title="dict from traced code",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="cfg")
def pad(x, cfg):
    return jnp.pad(x, (0, cfg["extra"]))


@jax.jit
def step(x):
    return pad(x, cfg={"extra": 2})  # expect: JX602


def run():
    return step(jnp.ones(2))
""",
        ),
        Example(
            title="list bound to a name, multi-line call",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def take(x, idx):
    return x[jnp.array(idx)]


take_static = jax.jit(take, static_argnames="idx")


def run():
    idx = [0, 2]
    return take_static(  # expect: JX602
        jnp.arange(4.0),
        idx=idx,
    )
""",
        ),
        Example(
            title="NumPy array for static_argnums",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp
import numpy as np


@partial(jax.jit, static_argnums=1)
def offset(x, table):
    return x + jnp.asarray(table)


def run():
    return offset(jnp.ones(2), np.zeros(2))  # expect: JX602
""",
        ),
        Example(
            title="set comprehension at a static position",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=(1,))
def select(x, keep):
    return x[jnp.array(sorted(keep))]


def run():
    return select(jnp.arange(4.0), {i for i in range(2)})  # expect: JX602
""",
        ),
        Example(
            title="tuple instead of a list",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="sizes")
def split(x, sizes):
    return jnp.split(x, sizes)


def run():
    return split(jnp.arange(6.0), sizes=(2, 4))
""",
        ),
        Example(
            title="list and array at non-static positions",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp
import numpy as np


@partial(jax.jit, static_argnames="n")
def head(xs, n):
    return [x[:n] for x in xs]


def run():
    return head([jnp.arange(4.0), np.zeros(4)], n=2)
""",
        ),
        Example(
            title="hashable objects of unknown type and NumPy scalars",
            valid=True,
            code="""import dataclasses
from functools import partial

import jax
import numpy as np


@dataclasses.dataclass(frozen=True)
class Options:
    scale: float = 2.0


@partial(jax.jit, static_argnums=(1, 2))
def apply(x, opts, bias):
    return x * opts.scale + bias


def run(opts=Options()):
    return apply(1.0, opts, np.float32(1.0)) + apply(1.0, Options(), 0.5)
""",
        ),
        Example(
            title="static_argnums of a jitted bound method count after self",
            valid=True,
            code="""import jax
import jax.numpy as jnp


class Agent:
    def __init__(self):
        self.act = jax.jit(self._act, static_argnums=1)

    def _act(self, obs, n):
        return [o[:n] for o in obs]


def run():
    return Agent().act([jnp.ones(3), jnp.zeros(3)], 2)
""",
        ),
        Example(
            title="list for static_argnums of jax.checkpoint",
            valid=True,
            code="""import jax


def scaled(x, factors):
    return x * sum(factors)


def run():
    return jax.checkpoint(scaled, static_argnums=1)(1.0, [1.0, 2.0])
""",
        ),
        Example(
            title="static value spread from a list",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=1)
def repeat(x, n):
    return jnp.tile(x, n)


def run():
    args = [jnp.ones(2), 3]
    return repeat(*args) + repeat(*[jnp.ones(2), 3])
""",
        ),
    ),
)

# Transforms that hash their static arguments (measured: jax.checkpoint's static_argnums accept
# a list, so remat/checkpoint are not here).
HASHING_TRANSFORMS = frozenset(
    {
        "jax.jit",
        "jax.pmap",
        "jax.make_jaxpr",
        "jax.experimental.pjit.pjit",
        "flax.linen.jit",
        "flax.nnx.jit",
        "flax.nnx.pmap",
    }
)
# Calls whose result is a NumPy or JAX array (or a typed PRNG key): never hashable, even 0-d.
ARRAY_MODULES = ("numpy.", "jax.numpy.")
ARRAY_BUILDERS = frozenset(
    {
        "array",
        "asarray",
        "zeros",
        "ones",
        "empty",
        "full",
        "zeros_like",
        "ones_like",
        "empty_like",
        "full_like",
        "arange",
        "linspace",
        "eye",
        "identity",
        "concatenate",
        "stack",
    }
)
RANDOM_BUILDERS = frozenset({"jax.random.key", "jax.random.PRNGKey", "jax.random.split"})
BUILTIN_CONTAINERS = {"builtins.list": "list", "builtins.dict": "dict", "builtins.set": "set"}
LITERALS: dict[type, str] = {
    cst.List: "list",
    cst.ListComp: "list",
    cst.Dict: "dict",
    cst.DictComp: "dict",
    cst.Set: "set",
    cst.SetComp: "set",
}


def _array_call(qual: str | None) -> str | None:
    """What an array-building call returns ("numpy array" / "JAX array"), else None."""
    if qual is None:
        return None
    if qual in RANDOM_BUILDERS:
        return "JAX PRNG key array"
    for mod in ARRAY_MODULES:
        if qual.startswith(mod) and qual[len(mod) :] in ARRAY_BUILDERS:
            return "JAX array" if mod == "jax.numpy." else "NumPy array"
    return None


def callee_qual(ctx: RuleContext, func: cst.BaseExpression) -> str | None:
    """Qualified name of a callee, also in untraced code (where no values are recorded): the
    base name's binding (an import) joined with the attributes read from it."""
    qual = ctx.qual(func)
    if qual is not None:
        return qual
    name = dotted(func)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    bound = ctx.frame.lookup(head)
    if bound is None:
        return f"builtins.{head}" if not rest else None
    if bound.kind is not Kind.EXT:
        return None
    return f"{bound.ref}.{rest}" if rest else bound.ref


def unhashable(ctx: RuleContext, node: cst.CSTNode, value: Value) -> str | None:
    """What the value at ``node`` is, when it is known to be unhashable; None when unknown
    (precision first: an object of unknown type may well be hashable)."""
    what = LITERALS.get(type(node))
    if what is not None:
        return what
    if isinstance(node, cst.Call):
        qual = callee_qual(ctx, node.func)
        return BUILTIN_CONTAINERS.get(qual or "") or _array_call(qual)
    if isinstance(node, cst.Name):
        # a name bound to one of the above: literals keep their elements, JAX calls their callee
        if value.kind is Kind.DICT and value.pairs is not None:
            return "dict"
        if value.kind is Kind.LIST and value.elts is not None:
            return "list or set"
        ref = value.ref
        if isinstance(ref, tuple) and len(ref) == 2 and ref[0] == "call":
            return _array_call(ref[1])
    return None


# ---------------------------------------------------------------------------------------- check
def on_static_value(
    ctx: RuleContext,
    node: cst.Call,
    param: Param,
    value: Value,
    t: TransformedRef,
    arg: cst.CSTNode,
) -> None:
    """Reported on the call (JAX hashes static arguments there, before tracing the callee)."""
    if t.qual not in HASHING_TRANSFORMS:
        return
    what = unhashable(ctx, arg, value)
    if what is None:
        return
    ctx.report(
        RULE,
        node,
        f"`{ctx.source(arg)}` (a {what}) is passed to `{param.name}`, which "
        f"{t.target.fn.name}() declares static: static arguments are hashed and a {what} is "
        "not hashable, JAX raises ValueError (Non-hashable static arguments are not supported); "
        "pass a tuple (of hashable values), or make the parameter non-static",
        value,
    )

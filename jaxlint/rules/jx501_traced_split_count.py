"""JX501 traced-split-count: `jax.random.split(key, n)` with a traced count `n`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.rules.base import Example, Rule
from jaxlint.rules.helpers import holds_tracers
from jaxlint.rules.operand_fix import static_source_fix

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

RULE = Rule(
    code="JX501",
    name="traced-split-count",
    jax_error="TypeError",
    summary="`jax.random.split(key, n)` with a traced count `n`.",
    fix="safe/unsafe/advice",
    doc="""## What it does
Finds `jax.random.split(key, n)` (and `jax.random.split(key, num=n)`) where the count `n` is
traced, inside traced code: typically `n_envs` or `n_minibatches` read from a config object that
is passed to the jitted function as an ordinary argument.

## Why is this bad?
The number of keys is the leading dimension of the result, so it must be static. The class that
jax 0.10.2 raises depends on the transform:

- under `jax.jit` (and `lax.scan`, `lax.fori_loop`, `lax.cond` branches, `pmap`): the builtin
  `TypeError` "parameters to jaxpr equations must have `__hash__` and `__eq__` methods. In a call
  to primitive random_split, the value of parameter shape was not hashable" — a message that does
  not say which argument was traced;
- under `jax.vmap` without `jit`: `ConcretizationTypeError`.

A count from a shape (`x.shape[0]`), a literal, a `static_argnames` parameter or a closed-over
config value is fine.

## Example
```python
@jax.jit
def rollout(key, config):
    keys = jax.random.split(key, config["n_envs"])
    ...
```

## Use instead
```python
@partial(jax.jit, static_argnames="n_envs")
def rollout(key, n_envs):
    keys = jax.random.split(key, n_envs)
    ...
```
Or split outside the trace and pass the keys in, or close over the config
(`make_train(config)` pattern), or derive the count from an array shape.

## Fix safety
When the count is a parameter of a function jitted in the same file (read there, in a function
it encloses, or in a helper that received it unchanged), the fix adds it to `static_argnames`,
as JX401 does for shapes, and a field of a flax struct dataclass defined in the same file is
declared static (`flax.struct.field(pytree_node=False)`): **unsafe**, because every caller must
then pass a hashable Python int, and each distinct count compiles the function again. A field
of a jit parameter (`cfg.n_envs`) makes the whole parameter static, as in JX401 (it must then be
hashable and hold no arrays). A count that `jax.vmap` or `jax.pmap` maps as an array of one
repeated value is passed unmapped, and a count that is a `lax.cond` operand, a repeated row of
`lax.scan`'s `xs` or a `fori_loop` index is handled at that call, as in JX401. Otherwise no automatic fix: splitting
outside the trace changes the function's signature for every caller. The finding explains the
options.
""",
    examples=(
        Example(
            title="split count from a config dict under jit",
            valid=False,
            code="""import jax


@jax.jit
def env_keys(key, config):
    return jax.random.split(key, config["n_envs"])  # expect: JX501


def run():
    return env_keys(jax.random.key(0), {"n_envs": 4})
""",
        ),
        Example(
            title="split count under vmap",
            valid=False,
            raises="ConcretizationTypeError",
            code="""import jax
import jax.numpy as jnp


def fan_out(key, n):
    return jax.random.split(key, n)  # expect: JX501


def run():
    keys = jax.random.split(jax.random.key(0), 2)
    return jax.vmap(fan_out)(keys, jnp.array([3, 3]))
""",
        ),
        Example(
            title="split num= keyword in lax.scan body",
            valid=False,
            code="""import jax
import jax.numpy as jnp
from jax import lax


def body(key, n):
    keys = jax.random.split(key, num=n)  # expect: JX501
    return keys[0], keys[1]


def run():
    return lax.scan(body, jax.random.key(0), jnp.array([2, 2]))
""",
        ),
        Example(
            title="helper with arithmetic on traced count",
            valid=False,
            code="""import jax


def minibatch_keys(key, n_minibatches):
    return jax.random.split(key, n_minibatches * 2)  # expect: JX501


@jax.jit
def update(key, n_minibatches):
    return minibatch_keys(key, n_minibatches)


def run():
    return update(jax.random.key(0), 2)
""",
        ),
        Example(
            title="plain flax struct field under jit",
            valid=False,
            code="""import flax.struct
import jax


@flax.struct.dataclass
class Config:
    n_envs: int


@jax.jit
def reset_keys(key, config):
    return jax.random.split(key, config.n_envs)  # expect: JX501


def run():
    return reset_keys(jax.random.key(0), Config(n_envs=4))
""",
        ),
        Example(
            title="split in lax.fori_loop body",
            valid=False,
            code="""import jax
from jax import lax


def body(i, key):
    return jax.random.split(key, i + 2)[0]  # expect: JX501


def run():
    return lax.fori_loop(0, 2, body, jax.random.key(0))
""",
        ),
        Example(
            title="static_argnames count",
            valid=True,
            code="""from functools import partial

import jax


@partial(jax.jit, static_argnames="n_envs")
def env_keys(key, n_envs):
    return jax.random.split(key, n_envs)


def run():
    return env_keys(jax.random.key(0), n_envs=4)
""",
        ),
        Example(
            title="count from shape",
            valid=True,
            code="""import jax
import jax.numpy as jnp


@jax.jit
def noisy(key, obs):
    keys = jax.random.split(key, obs.shape[0])
    return jax.vmap(jax.random.normal)(keys) + obs


def run():
    return noisy(jax.random.key(0), jnp.ones(3))
""",
        ),
        Example(
            title="split outside and pass keys in",
            valid=True,
            code="""import jax
import jax.numpy as jnp


def step(key, x):
    return x + jax.random.normal(key)


def run():
    keys = jax.random.split(jax.random.key(0), 4)
    return jax.vmap(step)(keys, jnp.zeros(4))
""",
        ),
        Example(
            title="closed-over config count",
            valid=True,
            code="""import jax


def make_train(config):
    n_envs = config["n_envs"]

    def train(key):
        key, sub = jax.random.split(key)
        return jax.random.split(sub, n_envs)

    return jax.jit(train)


def run():
    return make_train({"n_envs": 4})(jax.random.key(0))
""",
        ),
        Example(
            title="literal counts in lax.scan body",
            valid=True,
            code="""import jax
from jax import lax


def body(key, _):
    key, sub = jax.random.split(key)
    return key, jax.random.split(sub, 3)


def run():
    return lax.scan(body, jax.random.key(0), None, length=2)
""",
        ),
        Example(
            title="static field of a flax struct",
            valid=True,
            code="""import flax.struct
import jax


@flax.struct.dataclass
class Config:
    fee: float
    n_envs: int = flax.struct.field(pytree_node=False)


@jax.jit
def reset_keys(key, config):
    return jax.random.split(key, config.n_envs)


def run():
    return reset_keys(jax.random.key(0), Config(fee=0.1, n_envs=4))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_Call(ctx: RuleContext, node: cst.Call) -> None:
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    if ctx.qual(node.func) != "jax.random.split":
        return
    positional = [a.value for a in node.args if a.keyword is None]
    counts = positional[1:2] + [
        a.value for a in node.args if a.keyword is not None and a.keyword.value == "num"
    ]
    for expr in counts:
        v = ctx.value(expr)
        if holds_tracers(v):
            error = "TypeError" if ctx.staged else "ConcretizationTypeError"
            ctx.report(
                RULE,
                node,
                f"the split count `{ctx.source(expr)}` is traced: the number of keys is a shape, "
                f"JAX raises {error}; split outside the trace and pass the keys in, or use a "
                "static count",
                v,
                jax_error=error,
                fix=static_source_fix(ctx, expr, fields=True),
            )
            return

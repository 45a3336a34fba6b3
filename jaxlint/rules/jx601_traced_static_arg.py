"""JX601 traced-static-arg: A traced value passed to a parameter that a jitted callee declares static."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import Value
from jaxlint.rules.base import Example, Rule

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext
    from jaxlint.analysis.model import Param, TransformedRef

RULE = Rule(
    code="JX601",
    name="traced-static-arg",
    jax_error="ValueError",
    summary="A traced value passed to a parameter that a jitted callee declares static.",
    fix="advice",
    doc="""## What it does
Finds a call, from traced code, to a jitted function where a traced value is passed to a parameter
that the callee declares static (`static_argnums` / `static_argnames`). The finding is at the call
site. It typically appears after a refactor upstream: a config object that used to be static (or
closed over) is now passed to the outer jitted function as an ordinary argument, so everything read
from it is traced.

## Why is this bad?
Static arguments are hashed to select a compiled version of the callee; a tracer is not hashable.
JAX raises `ValueError` ("Non-hashable static arguments are not supported") at trace time, at the
call site, under `jax.jit`, `jax.vmap`, `lax.scan`, `lax.fori_loop` and `lax.cond` branches
alike. Even a hashable value would be wrong here: a static argument must be known when the caller
is traced, and a traced one is not.

## Example
```python
@partial(jax.jit, static_argnames="n_envs")
def reset(key, n_envs):
    return jax.random.split(key, n_envs)

@jax.jit
def train(key, config):
    return reset(key, n_envs=config["n_envs"])
```

## Use instead
```python
@partial(jax.jit, static_argnames="config_n_envs")
def train(key, config_n_envs):
    return reset(key, n_envs=config_n_envs)
```
Pass a static value (a `static_argnames` parameter of the caller, a closed-over config value,
`x.shape[0]`, a literal), or, when the callee does not need it static, make the callee's
parameter non-static.

## Fix safety
No automatic fix: which side to change (the caller's argument or the callee's signature) is a
design decision; making the callee's parameter non-static can break code in the callee that needs
it static (shapes, Python control flow). The finding explains both options.
""",
    examples=(
        Example(
            title="config value passed to a static_argnames parameter",
            valid=False,
            code="""from functools import partial

import jax


@partial(jax.jit, static_argnames="n_envs")
def reset(key, n_envs):
    return jax.random.split(key, n_envs)


@jax.jit
def train(key, config):
    return reset(key, n_envs=config["n_envs"])  # expect: JX601


def run():
    return train(jax.random.key(0), {"n_envs": 4})
""",
        ),
        Example(
            title="traced positional argument for static_argnums",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=1)
def pad_to(x, length):
    return jnp.pad(x, (0, length - x.shape[0]))


@jax.jit
def step(x, length):
    return pad_to(x, length)  # expect: JX601


def run():
    return step(jnp.ones(2), 4)
""",
        ),
        Example(
            title="jax.jit call with static_argnames under vmap",
            valid=False,
            code="""import jax
import jax.numpy as jnp


def scale(x, factor):
    return x * factor


scale_jit = jax.jit(scale, static_argnames="factor")


def per_env(x, factor):
    return scale_jit(x, factor=factor)  # expect: JX601


def run():
    return jax.vmap(per_env)(jnp.ones((2, 3)), jnp.array([1.0, 2.0]))
""",
        ),
        Example(
            title="static callee in lax.scan body",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp
from jax import lax


@partial(jax.jit, static_argnames="mode")
def fee(size, mode):
    return size * 0.001 if mode == 1 else size * 0.002


def body(total, inputs):
    size, mode = inputs
    return total + fee(size, mode=mode), size  # expect: JX601


def run():
    return lax.scan(body, 0.0, (jnp.ones(2), jnp.array([1, 2])))
""",
        ),
        Example(
            title="jitted bound method with static argument",
            valid=False,
            code="""import jax
import jax.numpy as jnp


class Agent:
    def __init__(self):
        self.act = jax.jit(self._act, static_argnames="n_actions")
        self.step = jax.jit(self._step)

    def _act(self, obs, n_actions):
        return jnp.argmax(obs[:n_actions])

    def _step(self, obs, n_actions):
        return self.act(obs, n_actions=n_actions)  # expect: JX601


def run():
    return Agent().step(jnp.arange(4.0), 3)
""",
        ),
        Example(
            title="static callee in lax.fori_loop body",
            valid=False,
            code="""from functools import partial

import jax
from jax import lax


@partial(jax.jit, static_argnums=1)
def power(x, k):
    return x**k


def body(i, acc):
    return acc + power(2.0, i)  # expect: JX601


def run():
    return lax.fori_loop(0, 3, body, 0.0)
""",
        ),
        Example(
            title="multi-line call reported at its first line",
            valid=False,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="length")
def pad_to(x, length):
    return jnp.pad(x, (0, length - x.shape[0]))


@jax.jit
def step(x, length):
    return pad_to(  # expect: JX601
        x,
        length=length,
    )


def run():
    return step(jnp.ones(2), 4)
""",
        ),
        Example(
            title="static value from the caller's static parameter",
            valid=True,
            code="""from functools import partial

import jax


@partial(jax.jit, static_argnames="n_envs")
def reset(key, n_envs):
    return jax.random.split(key, n_envs)


@partial(jax.jit, static_argnames="n_envs")
def train(key, n_envs):
    return reset(key, n_envs=n_envs)


def run():
    return train(jax.random.key(0), n_envs=4)
""",
        ),
        Example(
            title="shape and literal static arguments",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=1)
def pad_to(x, length):
    return jnp.pad(x, (0, length - x.shape[0]))


@jax.jit
def step(x):
    return pad_to(x, x.shape[0] * 2) + pad_to(x, 4)


def run():
    return step(jnp.ones(2))
""",
        ),
        Example(
            title="closed-over config",
            valid=True,
            code="""from functools import partial

import jax


@partial(jax.jit, static_argnames="n_envs")
def reset(key, n_envs):
    return jax.random.split(key, n_envs)


def make_train(config):
    def train(key):
        return reset(key, n_envs=config["n_envs"])

    return jax.jit(train)


def run():
    return make_train({"n_envs": 4})(jax.random.key(0))
""",
        ),
        Example(
            title="traced value to a non-static parameter",
            valid=True,
            code="""from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="mode")
def fee(size, rate, mode):
    return size * rate if mode == "flat" else size * rate * 2.0


def body(total, inputs):
    size, rate = inputs
    return total + fee(size, rate, mode="flat"), size


def run():
    return jax.lax.scan(body, 0.0, (jnp.ones(2), jnp.array([0.1, 0.2])))
""",
        ),
        Example(
            title="static field of a flax struct",
            valid=True,
            code="""from functools import partial

import flax.struct
import jax


@flax.struct.dataclass
class Config:
    fee: float
    n_envs: int = flax.struct.field(pytree_node=False)


@partial(jax.jit, static_argnames="n_envs")
def reset(key, n_envs):
    return jax.random.split(key, n_envs)


@jax.jit
def train(key, config):
    return reset(key, n_envs=config.n_envs)


def run():
    return train(jax.random.key(0), Config(fee=0.1, n_envs=4))
""",
        ),
    ),
)


# ---------------------------------------------------------------------------------------- check
def on_static_arg(
    ctx: RuleContext,
    node: cst.Call,
    param: Param,
    value: Value,
    t: TransformedRef,
    arg: cst.CSTNode | None,
) -> None:
    """Reported on the call (its first line is where JAX's traceback points), naming the argument."""
    if ctx.frame.weak:  # grad alone: JVP tracers convert to bool and index fine
        return
    ctx.report(
        RULE,
        node,
        f"the traced value `{ctx.source(arg or node)}` is passed to `{param.name}`, which "
        f"{t.target.fn.name}() declares static: static arguments must be hashable Python values, "
        "JAX raises ValueError; pass a static value or make the parameter non-static",
        value,
    )

# jax-ml/jax#5208 "Unexpected JIT error for operations on static arguments" (grid3: static grid_spec)
from functools import partial
import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=(0,))
def grid3(grid_spec):
    t0, tf, dt = grid_spec
    num_steps = jnp.maximum(jnp.abs((tf - t0) / dt), 1).astype(int)
    ts = jnp.linspace(t0, tf, num_steps + 1)
    return ts


def run():
    return grid3((0., 1., 1e-1))

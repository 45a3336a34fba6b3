# jax-ml/jax#5208 "Unexpected JIT error for operations on static arguments"
import jax
import jax.numpy as jnp


@jax.jit
def grid1():
    t0, tf, num_steps = 0., 1., 10
    ts = jnp.linspace(t0, tf, num_steps + 1)
    return ts


@jax.jit
def grid2():
    t0, tf, dt = 0., 1., 1e-1
    num_steps = jnp.maximum(jnp.abs((tf - t0) / dt), 1)
    ts = jnp.linspace(t0, tf, num_steps + 1)
    return ts


def run():
    grid1()
    return grid2()

# jax-ml/jax#21994 "Add support for boolean mask indices inside jit"
import jax
import jax.numpy as jnp


def f(x):
    return x.at[:4, jnp.mod(x[0], 2) == 0].set(0)


def run():
    x = jnp.reshape(jnp.arange(100), shape=(10, 10))
    return jax.jit(f)(x)

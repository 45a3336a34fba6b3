# jax-ml/jax#4449 "Operations on static inputs/shapes yield concretization errors"
import jax
import jax.numpy as jnp


@jax.jit
def custom_ones(arr):
    count = jnp.add(arr.size, 1)
    return jnp.ones((count,))


def run():
    a = jnp.ones((3,))
    return custom_ones(a)

# jax-ml/jax#4471 "Change in behavior of boolean masks inside jitted functions in jax 0.2.0"
from functools import partial
import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=(1,))
def create_mask_inside_jitted_function(x, y):
    mask = jnp.arange(x.shape[0]) < y
    return x[mask].sum()


def run():
    x = jnp.arange(5.0)
    return create_mask_inside_jitted_function(x, 3)

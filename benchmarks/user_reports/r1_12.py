# jax-ml/jax#16430 review comment (dbelenko): `z = nullable_value or default_value`
from typing import Optional
import jax
import jax.numpy as jnp


def scale(x, temperature: Optional[jax.Array] = None, default=1.0):
    t = temperature or default
    return x / t


def run():
    return jax.jit(scale)(jnp.ones(3), jnp.array(2.0))

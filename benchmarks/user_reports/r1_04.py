# jax-ml/jax#3133 "Tracing a function that indexes into Numpy array gives a poor error message"
import numpy as np
import jax
import jax.numpy as jnp

f = lambda i: jnp.zeros((3, 3))[i, :]
g = lambda i: np.zeros((3, 3))[i, :]


def run():
    a = np.array([1, 2])
    jax.jit(f)(a)
    return jax.jit(g)(a)

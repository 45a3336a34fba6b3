# jax-ml/jax#553 "np.arange weirdness with jit."
import numpy as onp
import jax.numpy as np
from jax import jit


def fun(x):
    r = onp.arange(x.shape[0])[x]
    return r


def run():
    return jit(fun)(np.array([0, 1, 2], dtype=np.int32))

# jax-ml/jax#5186 "new version breaks arange?"
import jax.numpy as np
from jax import jit


def test_arange(n):
    return np.arange(0, n, 1)


test = jit(test_arange)


def run():
    return test(5)

# jax-ml/jax#689 "improve jax.random shape error messages"
import numpy as onp
import jax.numpy as np
from jax import jit, random


@jit
def feature_map(n, d, sigma=1.0, seed=123):
    key = random.PRNGKey(seed)
    W = random.normal(key, (d, n)) / sigma
    w = random.normal(key, (d,)) / sigma
    b = 2 * onp.pi * random.uniform(key, (d,))
    return W, w, b


def run():
    return feature_map(5, 3)

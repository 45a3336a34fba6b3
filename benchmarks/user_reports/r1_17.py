# jax-ml/jax#6350 "jax.ops.segment_sum incompatible with jit"
import jax
import numpy as np

c = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [5, 6, 7, 8]])
b = np.array([0, 0, 1])


def run():
    jax.ops.segment_sum(c, b)
    jit_fn = jax.jit(jax.ops.segment_sum)
    return jit_fn(c, b)

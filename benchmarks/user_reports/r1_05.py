# jax-ml/jax#5853 "Improve error when tracer is used as a list index" (related #5839)
import jax


def run():
    return jax.jit(lambda i: [1, 2, 3][i])(0)

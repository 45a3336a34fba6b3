# jax-ml/jax#12334 "ensure_index: raise better error for traced inputs" (fixes #12331)
import jax


def f(x):
    return jax.numpy.squeeze(x, jax.numpy.array(1))


def run():
    return jax.jit(f)(jax.numpy.arange(5).reshape(5, 1))

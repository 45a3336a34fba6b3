# jax-ml/jax#23228 "improve `scan` error message on non-concrete `length` argument"
import jax


def run():
    return jax.jit(lambda n, x: jax.lax.scan(lambda c, z: (c, z), x, (), length=n))(3, 1.)

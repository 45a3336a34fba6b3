# jax-ml/jax#5073 "jax.scipy.special.multigammaln fails under jit"
from jax.scipy.special import multigammaln
from jax import jit


def run():
    return jit(multigammaln)(1, 2)

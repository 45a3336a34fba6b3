# jax-ml/jax#1076 "noob vmap question with if statement" (truncated Gaussian kernel_scalar branches on `if np.abs(x) > lam` under vmap)
import numpy as onp
import jax.numpy as np
from jax import vmap


def kernel_scalar(x, lam=0.18, beta=1.0):
    if np.abs(x) > lam:
        return 0.0
    else:
        return np.exp(-beta*x**2)


def kernel(xs):
    kernels = vmap(kernel_scalar)(xs)
    return kernels


def run():
    n = 10
    xs = onp.random.RandomState(0).randn(n)
    k = kernel(xs)
    return k


if __name__ == "__main__":
    run()

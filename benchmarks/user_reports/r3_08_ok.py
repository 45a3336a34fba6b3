# fixed: the step count is static, so it is computed with NumPy (answer: keep shape computations out of jnp)
import jax
import jax.numpy as jnp
from jax.lax import scan
import numpy as np


def jaxfixedsolve(rhs, t_span, y0, max_dt):

    delta_t = t_span[1] - t_span[0]
    steps = np.array(delta_t // max_dt).astype(int)
    h = delta_t / steps

    def scan_func(carry, step):
        eval_time = t_span[0] + (h * step)
        return (carry + rhs(eval_time, carry)*h, None)

    yf = scan(scan_func, y0, jnp.arange(steps))[0]
    return yf


def sim_function(coeff):

    def rhs(t, y):
        return coeff * y

    return jaxfixedsolve(rhs, t_span=[0, 0.5], y0=jnp.array(1., dtype=float), max_dt=0.1)


def run():
    print(sim_function(2.0))  # works without jit
    return jax.jit(sim_function)(2.0)


if __name__ == "__main__":
    run()

import jax, jax.numpy as jnp
from functools import partial

def rhs(x, t):
    return -x

@partial(jax.jit, static_argnums=(1, 2, 3))
def forwardEuler(x0, t0, tf, dt):
    nSteps = int((tf - t0) / dt)
    def body(i, x):
        return x + dt * rhs(x, t0 + i * dt)
    return jax.lax.fori_loop(0, nSteps, body, x0)

def run():
    return forwardEuler(jnp.ones(3), 0.0, 1.0, 0.1)
if __name__ == "__main__": run()

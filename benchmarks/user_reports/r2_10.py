# jax#25186 "Value becoming a tracer error": forwardEuler under jit, step count from traced times (sub) used as loop bound
import jax, jax.numpy as jnp

def rhs(x, t):
    return -x

@jax.jit
def forwardEuler(x0, t0, tf, dt):
    nSteps = ((tf - t0) / dt).astype(int)
    x = x0
    for i in range(nSteps):
        x = x + dt * rhs(x, t0 + i * dt)
    return x

def run():
    return forwardEuler(jnp.ones(3), 0.0, 1.0, 0.1)
if __name__ == "__main__": run()

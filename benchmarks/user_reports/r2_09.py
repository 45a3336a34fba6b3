# jax PR #7952: a tuple of traced values passed as the axis argument
import jax, jax.numpy as jnp

@jax.jit
def h(x, y):
    return jnp.sum(x, axis=(y,))

def run():
    return h(jnp.ones((2, 3)), 1)
if __name__ == "__main__": run()

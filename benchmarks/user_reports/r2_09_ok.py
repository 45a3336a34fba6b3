import jax, jax.numpy as jnp
from functools import partial

@partial(jax.jit, static_argnums=1)
def h(x, y):
    return jnp.sum(x, axis=(y,))

def run():
    return h(jnp.ones((2, 3)), 1)
if __name__ == "__main__": run()

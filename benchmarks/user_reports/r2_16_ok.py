import jax
from jax import numpy as jnp
from jax import vmap

def mandle_brot(c, max_iter):
    def body(i, carry):
        z, n = carry
        z = z * z + c
        n = jnp.where((n == max_iter) & (jnp.abs(z) > 2.0), i, n)
        return z, n
    _, n = jax.lax.fori_loop(0, max_iter, body, (jnp.complex64(0.0), max_iter))
    return jnp.array([n])

def run():
    z = jnp.complex64(-0.75 + 0.1j)
    Z = jnp.array([z, z, z, z])
    mandle_brot_vmap = vmap(mandle_brot, in_axes=(0, None))
    return mandle_brot_vmap(Z, 10)
if __name__ == "__main__": run()

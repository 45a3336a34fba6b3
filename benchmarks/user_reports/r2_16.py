# jax#24740 "TracerBoolConversionError" (Mandelbrot under vmap): Python if on a vmapped value
import jax
from jax import numpy as jnp
from jax import vmap

def mandle_brot(c, max_iter):
    z = jnp.array([0.0 + 0.0j])
    for i in range(max_iter):
        z = z * z + c
        if (jnp.abs(z) > 2.0):
            return jnp.array([i])
    return jnp.array([max_iter])

def run():
    z = jnp.complex64(-0.75 + 0.1j)
    Z = jnp.array([z, z, z, z])
    mandle_brot_vmap = vmap(mandle_brot, in_axes=(0, None))
    return mandle_brot_vmap(Z, 10)
if __name__ == "__main__": run()

# equinox#177 "Globally set default filter functions?": IntEnum unit field in an eqx.Module becomes a tracer
import enum
import jax, jax.numpy as jnp, equinox as eqx

class Unit(enum.IntEnum):
    METRES = 0
    ARCSEC = 1

class Optic(eqx.Module):
    diameter: jax.Array
    unit: Unit
    def __call__(self, wl):
        if self.unit == Unit.ARCSEC:                  # traced under jax.jit
            return wl / self.diameter * 206265.0
        return wl / self.diameter

@jax.jit
def psf(optic, wl):
    return optic(wl)

def run():
    return psf(Optic(jnp.array(2.0), Unit.ARCSEC), jnp.array(1e-6))
if __name__ == "__main__": run()

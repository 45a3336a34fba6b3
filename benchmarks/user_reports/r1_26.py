# asantini29/phentax#28 "guard jnp calls and assertions against JIT tracing in initial_processing"
import jax
import jax.numpy as jnp


class IMRPhenomTHM:
    def __init__(self, delta_t=1.0):
        self.delta_t = delta_t

    def initial_processing(self, T, chi1, chi2):
        assert jnp.all(jnp.abs(jnp.array([chi1, chi2])) <= 1.0)
        n_points = int(jnp.ceil(T / self.delta_t))
        return n_points

    def compute_polarizations(self, T, chi1, chi2):
        n = self.initial_processing(T, chi1, chi2)
        return jnp.zeros(n)


def run():
    wf = IMRPhenomTHM()
    return jax.jit(wf.compute_polarizations)(10.0, 0.1, 0.2)

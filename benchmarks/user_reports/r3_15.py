# jax-ml/jax#4473 "Support for variable length in jitted scans?" (integrate_euler: scan length computed from traced time and dt)
from functools import partial

from jax import jit
from jax.lax import scan
import jax.numpy as np


@partial(jit, static_argnums=(0,))
def integrate_euler(f, initial_state, time, dt):
    propagated_state, _ = scan(
        f=lambda state, _: (euler_integration_step(f, state, dt), None),
        init=initial_state,
        length=np.divide(time, dt).astype(int),
        xs=None,
    )
    return propagated_state


def euler_integration_step(f, state, dt):
    return state + dt*f(state)


def run():
    # Example: solve dx/dt = 9x/10, for t=1.0, starting with x0 = [1, 2], and using a timestep of 0.01.
    return integrate_euler(
        lambda x: 0.9*x,
        initial_state=np.array([1., 2.]),
        time=1.0,
        dt=1e-2
    )


if __name__ == "__main__":
    run()

# fixed: time and dt are static and the length is computed with Python arithmetic (the answer)
from functools import partial

from jax import jit
from jax.lax import scan
import jax.numpy as np


@partial(jit, static_argnums=(0, 2, 3))
def integrate_euler(f, initial_state, time, dt):
    propagated_state, _ = scan(
        f=lambda state, _: (euler_integration_step(f, state, dt), None),
        init=initial_state,
        length=int(round(time / dt)),
        xs=None,
    )
    return propagated_state


def euler_integration_step(f, state, dt):
    return state + dt*f(state)


def run():
    return integrate_euler(
        lambda x: 0.9*x,
        initial_state=np.array([1., 2.]),
        time=1.0,
        dt=1e-2
    )


if __name__ == "__main__":
    run()

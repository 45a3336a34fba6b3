# brax#306 "brax trying to convert traced array into numpy.ndarray": lax.scan over env.step, helper uses numpy
import jax, jax.numpy as jnp, numpy as np

def quat_to_axis(q):
    return np.array([q[1], q[2], q[3]]) / 2.0          # numpy conversion of traced quaternion

class Env:
    def reset(self, rng):
        return {"q": jnp.array([1.0, 0.0, 0.0, 0.0]), "r": jnp.zeros(())}
    def step(self, state, action):
        ax = quat_to_axis(state["q"] + action)
        return {"q": state["q"], "r": jnp.sum(ax)}

env = Env()

def step(state, _):
    next_state = env.step(state, jnp.zeros(4))
    return next_state, next_state["r"]

def run():
    state = env.reset(jax.random.PRNGKey(0))
    return jax.lax.scan(step, state, None, length=5)
if __name__ == "__main__": run()

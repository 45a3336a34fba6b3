import jax, jax.numpy as jnp, numpy as np
from flax import struct

@struct.dataclass
class State:
    rot: jax.Array
    reward: jax.Array

class Reacher:
    action_size = 2
    def reset(self, rng):
        return State(rot=jnp.ones((3,)), reward=jnp.zeros(()))
    def _tip(self, rot):
        return jnp.stack([rot[0], rot[1], rot[2]])
    def step(self, state, action):
        tip = self._tip(state.rot)
        return state.replace(reward=jnp.sum(tip) + action.sum())

def run():
    env = Reacher()
    state = jax.jit(env.reset)(jax.random.PRNGKey(0))
    jit_env_step = jax.jit(env.step)
    return jit_env_step(state, jnp.ones((env.action_size,)))
if __name__ == "__main__": run()

# RobertTLange/gymnax#83 "Error running the Asterix environment" (asterix.py step_entities: bool(done > 0))
from flax import struct
import jax
import jax.numpy as jnp


@struct.dataclass
class EnvState:
    player_x: jnp.ndarray
    entities: jnp.ndarray
    terminal: bool


def step_entities(state: EnvState):
    reward = 0
    done = jnp.sum(state.entities[:, 0] == state.player_x)
    state = state.replace(terminal=bool(done > 0))
    return state, reward, done


class Asterix:
    def step_env(self, key, state, action):
        state = state.replace(player_x=state.player_x + action)
        state, reward, done = step_entities(state)
        return state, reward, done

    def step(self, key, state, action):
        return self.step_env(key, state, action)


def run():
    env = Asterix()
    state = EnvState(jnp.int32(3), jnp.zeros((8, 4), jnp.int32), False)
    return jax.jit(env.step)(jax.random.PRNGKey(0), state, 1)

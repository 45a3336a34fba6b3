# jax-ml/jax#3654 "bad error message when `one_hot` gets a non-static parameter" (dopamine replay)
import jax
import jax.numpy as jnp


@jax.jit
def train(replay_elements, num_actions, q_values):
    replay_action_one_hot = jax.nn.one_hot(replay_elements['action'], num_actions)
    return jnp.sum(q_values * replay_action_one_hot, axis=1)


def run():
    replay = {'action': jnp.zeros((128,), jnp.int32)}
    return train(replay, 4, jnp.ones((128, 4)))

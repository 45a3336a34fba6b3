# fixed: only the arrays of the actor travel in the scan carry; its static parts (Dropout's p / inference flags) are closed over
import jax
import jax.numpy as jnp
import equinox as eqx


class ResidualLayer(eqx.Module):
    linear: eqx.nn.Linear
    dropout: eqx.nn.Dropout

    def __init__(self, width, key):
        self.linear = eqx.nn.Linear(width, width, key=key)
        self.dropout = eqx.nn.Dropout(p=0.1)

    def __call__(self, x, key):
        return x + self.dropout(jax.nn.relu(self.linear(x)), key=key)


class Actor(eqx.Module):
    inp: eqx.nn.Linear
    residuallayers: list
    out: eqx.nn.Linear

    def __init__(self, obs_dim, n_actions, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.inp = eqx.nn.Linear(obs_dim, 32, key=k1)
        self.residuallayers = [ResidualLayer(32, k2)]
        self.out = eqx.nn.Linear(32, n_actions, key=k3)

    def __call__(self, obs, key):
        x = self.inp(obs)
        for layer in self.residuallayers:
            x = layer(x, key)
        return self.out(x)


class TrainState(eqx.Module):
    actor: Actor


def env_step(env_state, action):
    env_state = env_state + 0.1 * (action[0] - action[1])
    return env_state, -jnp.sum(env_state**2)


def run():
    train_state = TrainState(actor=Actor(4, 2, jax.random.PRNGKey(0)))
    params, static = eqx.partition(train_state, eqx.is_array)

    def _env_step(runner_state, unused):
        params, env_state, rng = runner_state
        train_state = eqx.combine(params, static)
        rng, key = jax.random.split(rng)
        logits = train_state.actor(env_state, key)
        action = jax.nn.softmax(logits)
        env_state, reward = env_step(env_state, action)
        return (params, env_state, rng), reward

    runner_state = (params, jnp.zeros(4), jax.random.PRNGKey(1))
    runner_state, trajectory_batch = jax.lax.scan(_env_step, runner_state, None, 8)
    return trajectory_batch


if __name__ == "__main__":
    run()

# fixed: static train
import jax, jax.numpy as jnp
import flax.linen as nn
import optax
from functools import partial
from flax.training import train_state

class MLP(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool):
        x = nn.Dense(16)(x)
        x = nn.Dropout(rate=0.5, deterministic=not train)(x)
        return nn.Dense(1)(x)

@partial(jax.jit, static_argnums=2)
def train_step(state, batch, train, key):
    def loss_fn(params):
        out = state.apply_fn({"params": params}, batch, train, rngs={"dropout": key})
        return jnp.mean(out ** 2)
    grads = jax.grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads)

def run():
    model = MLP()
    x = jnp.ones((4, 3))
    params = model.init(jax.random.PRNGKey(0), x, train=False)["params"]
    state = train_state.TrainState.create(apply_fn=model.apply, params=params, tx=optax.sgd(0.1))
    return train_step(state, x, True, jax.random.PRNGKey(1))
if __name__ == "__main__": run()

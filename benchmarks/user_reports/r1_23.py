# google/flax#4085 "Dropout seems not compatible with jax.jit"
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class DNN(nn.Module):
    num_hidden_units1: int
    num_outputs: int
    dropout_rate: float

    @nn.compact
    def __call__(self, x, training):
        x = nn.Dense(self.num_hidden_units1)(x)
        x = nn.relu(x)
        x = nn.Dropout(rate=self.dropout_rate, deterministic=not training)(x)
        x = nn.Dense(self.num_outputs)(x)
        return x


model = DNN(8, 1, 0.1)
optimizer = optax.adam(1e-3)


def mse(params, X, y, training):
    def squared_error(X, y):
        y_pred = model.apply(params, X, training, rngs={'dropout': jax.random.PRNGKey(114)})
        diff = y_pred - y
        return jnp.inner(diff, diff)
    return jnp.mean(jax.vmap(squared_error)(X, y), axis=0)


@jax.jit
def train_step(params, opt_state, X, y, training):
    loss, grads = jax.value_and_grad(mse)(params, X, y, training)
    updates, opt_state = optimizer.update(grads, opt_state)
    params = optax.apply_updates(params, updates)
    return params, opt_state, loss


def run():
    X = jnp.ones((4, 3))
    y = jnp.ones((4, 1))
    params = model.init(jax.random.PRNGKey(114), X, False)
    opt_state = optimizer.init(params)
    return train_step(params, opt_state, X, y, True)

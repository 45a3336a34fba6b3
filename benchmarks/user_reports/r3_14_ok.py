# fixed: the PR replaced the triangular schedule by an optax cosine schedule that traces under jit
import jax
import jax.numpy as jnp
import optax
from flax import linen as nn
from flax.training import train_state


def create_triangular_schedule(lr_min, lr_max, steps_per_cycle):
  """Return fn from epoch to LR, linearly interpolating between `lr_min`->`lr_max`->`lr_min`."""
  top = (steps_per_cycle + 1) // 2
  def learning_rate_fn(step):
    cycle_step = step % steps_per_cycle
    if cycle_step < top:
      lr = lr_min + cycle_step/top * (lr_max - lr_min)
    else:
      lr = lr_max - ((cycle_step - top)/top) * (lr_max - lr_min)
    return lr
  return learning_rate_fn


class CNN(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = nn.Conv(features=8, kernel_size=(3, 3))(x)
    x = nn.relu(x)
    x = x.reshape((x.shape[0], -1))
    return nn.Dense(features=10)(x)


def create_train_state(rng, learning_rate_fn):
  cnn = CNN()
  params = cnn.init(rng, jnp.ones([1, 8, 8, 1]))['params']
  tx = optax.sgd(learning_rate_fn, momentum=0.9)
  return train_state.TrainState.create(apply_fn=cnn.apply, params=params, tx=tx)


@jax.jit
def train_step(state, batch):
  def loss_fn(params):
    logits = state.apply_fn({'params': params}, batch['image'])
    one_hot = jax.nn.one_hot(batch['label'], 10)
    return optax.softmax_cross_entropy(logits, one_hot).mean()
  grads = jax.grad(loss_fn)(state.params)
  return state.apply_gradients(grads=grads)


def run():
  learning_rate_fn = optax.cosine_decay_schedule(init_value=3e-2, decay_steps=2 * 10)
  state = create_train_state(jax.random.PRNGKey(0), learning_rate_fn)
  batch = {'image': jnp.ones((4, 8, 8, 1)), 'label': jnp.arange(4)}
  for _ in range(3):
    state = train_step(state, batch)
  return state


if __name__ == "__main__":
  run()

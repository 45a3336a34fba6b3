# brainpy/BrainPy#607 "How to index and slice in the loss function during training"
import jax
import jax.numpy as jnp

batch_size = 3


@jax.jit
def loss(out, gt):
    total = 0.0
    for i in range(batch_size):
        idx = jax.lax.dynamic_index_in_dim(gt, i)
        l1 = jax.lax.dynamic_slice(out, (0, i), (idx, 1))
        total = total + jnp.sum(l1)
    return total


def run():
    return loss(jnp.ones((10, batch_size)), jnp.array([2, 3, 4]))

# fixed
import jax, jax.numpy as jnp, numpy as np

def to_batch_shape_index(batch_shape, index):
    new_index = [x[index] for x in jnp.indices(batch_shape)]
    return tuple(new_index)

class Categorical:
    def __init__(self, logits):
        self.logits = logits
    @property
    def batch_shape(self):
        return self.logits.shape[:-1]
    def __getitem__(self, index):
        index = to_batch_shape_index(self.batch_shape, index)
        return Categorical(logits=self.logits[index])
    def entropy(self):
        p = jax.nn.softmax(self.logits)
        return -jnp.sum(p * jax.nn.log_softmax(self.logits), -1)

def foo(logits):
    d = Categorical(logits=logits)
    mask = jnp.arange(logits.shape[0])
    return d[mask].entropy()

def run():
    return jax.jit(foo)(jnp.zeros((3, 3, 3)))
if __name__ == "__main__": run()

# fixed
import jax, jax.numpy as jnp
from flax import nnx

class Block(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.linear = nnx.Linear(3, 3, rngs=rngs)
        self.rngs = rngs
    def __call__(self, x, train):
        x = self.linear(x)
        if train:
            x = x + 0.1 * jax.random.normal(self.rngs.dropout(), x.shape)
        return x

@nnx.jit(static_argnames="train")
def forward(model, x, train):
    return model(x, train)

def run():
    model = Block(nnx.Rngs(0))
    return forward(model, jnp.ones((2, 3)), True)
if __name__ == "__main__": run()

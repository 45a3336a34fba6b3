# marin-community/haliax#57 "better stack trace for concretization inside scan"
import jax
import jax.numpy as jnp


class Block:
    def __init__(self, w):
        self.w = w

    def foo(self, x, layer_idx):
        attn_output = jnp.tanh(x @ self.w)
        x = x + attn_output
        if jnp.equal(layer_idx, 4):
            x = x + 0.01 * jnp.sin(x * 1e2)
        return x


def run():
    blk = Block(jnp.eye(3))

    def body(carry, idx):
        return blk.foo(carry, idx), None

    out, _ = jax.lax.scan(body, jnp.ones(3), jnp.arange(6))
    return out

# AakashKumarNain/mistral_jax#1 "Error with `cache_slice` when generating."
import jax
import jax.numpy as jnp


class Attention:
    def __init__(self, n_rep):
        self.n_rep = n_rep

    def get_cache_slice(self, x, pos, kv_repeats):
        x_slice = x.at[:pos, :, :].get()
        x_slice = jnp.repeat(x_slice, kv_repeats, axis=1)
        return x_slice

    def __call__(self, cache_k, xq, positions):
        pos = positions[-1] + 1
        key = self.get_cache_slice(cache_k, pos, self.n_rep)
        return jnp.einsum("hd,thd->t", xq, key)


def run():
    attn = Attention(2)
    f = jax.jit(lambda ck, xq, p: attn(ck, xq, p))
    return f(jnp.ones((16, 2, 4)), jnp.ones((4, 4)), jnp.arange(3))

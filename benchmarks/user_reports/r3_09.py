# danielward27/flowjax#132 "Concatenate transform incompatible with jax tracing" (int array split_idxs field passed to jnp.array_split)
from itertools import accumulate

import equinox as eqx
import jax
import jax.numpy as jnp


class Affine(eqx.Module):
    loc: jax.Array
    scale: jax.Array
    shape: tuple = eqx.field(static=True)
    cond_shape: None = eqx.field(static=True, default=None)

    def __init__(self, loc=0, scale=1):
        self.loc = jnp.asarray(loc, dtype=float)
        self.scale = jnp.broadcast_to(jnp.asarray(scale, dtype=float), self.loc.shape)
        self.shape = self.loc.shape

    def transform(self, x, condition=None):
        return x * self.scale + self.loc


class Concatenate(eqx.Module):
    """Concatenate bijections along an existing axis, similar to ``jnp.concatenate``."""

    bijections: tuple
    split_idxs: jax.Array
    shape: tuple = eqx.field(static=True)
    axis: int = eqx.field(static=True)

    def __init__(self, bijections, axis=0):
        self.bijections = tuple(bijections)
        self.axis = axis
        shapes = [b.shape for b in bijections]
        self.shape = shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]
        self.split_idxs = jnp.array(list(accumulate([s[axis] for s in shapes[:-1]])))

    def transform(self, x, condition=None):
        x_parts = jnp.array_split(x, self.split_idxs, axis=self.axis)
        ys = [b.transform(x, condition) for b, x in zip(self.bijections, x_parts)]
        return jnp.concatenate(ys, self.axis)


def run():
    bijections = (Affine(loc=jnp.zeros(1)),) * 2
    bijection = Concatenate(bijections)
    return jax.jit(jax.vmap(bijection.transform))(jnp.ones((1, 2)))


if __name__ == "__main__":
    run()

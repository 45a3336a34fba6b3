# jax-ml/jax#13769 "Improve jnp.split API" (carlosgmartin: jnp.array of a list of ints)
import jax
import jax.numpy as jnp


def sizes_of(config):
    return [config["a"], config["a"] + config["b"]]


@jax.jit
def f(x):
    indices = sizes_of({"a": 2, "b": 3})
    parts = jnp.split(x, jnp.array(indices))
    return parts[0].sum() + parts[1].sum()


def run():
    return f(jnp.arange(10.0))

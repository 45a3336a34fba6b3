# pyro-ppl/numpyro#853 "IndexError: Array boolean indices must be concrete." (model traced by MCMC; jnp.unique size)
import jax
import jax.numpy as jnp


def model(key, tank, density, volume, survived=None):
    k1, k2 = jax.random.split(key)
    a = jax.random.normal(k1, tank.shape)
    s = 0.5 * jax.random.normal(k2, (jnp.unique(volume).size,))
    logits = a[tank] + s[volume]
    return jnp.sum(density * jax.nn.log_sigmoid(logits))


def run():
    tank = jnp.arange(6)
    volume = jnp.array([0, 0, 1, 1, 0, 1])
    return jax.jit(model)(jax.random.PRNGKey(0), tank, jnp.ones(6), volume)

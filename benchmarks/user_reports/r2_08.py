# probml/pyprobml#647 subspace_mlp_demo: vmap over subspace dimension d used as a shape
import jax, jax.numpy as jnp
from functools import partial

def project_test(d, D):
    key = jax.random.PRNGKey(314)
    return jax.random.normal(key, shape=(D, d))

project_partial = partial(project_test, D=10)

def run():
    return jax.vmap(project_partial)(jnp.array([2, 3]))
if __name__ == "__main__": run()

import jax, jax.numpy as jnp
from functools import partial

def project_test(d, D):
    key = jax.random.PRNGKey(314)
    return jax.random.normal(key, shape=(D, d))

project_partial = partial(project_test, D=10)

def run():
    return [project_partial(d) for d in [2, 3]]   # Python loop over differently-shaped subspaces
if __name__ == "__main__": run()

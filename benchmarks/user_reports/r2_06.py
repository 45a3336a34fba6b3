# numpyro#754 (examples/annotation.py): int(jnp.max(annotations)) inside a model run by MCMC
import jax, jax.numpy as jnp, numpy as np
import numpyro, numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

def multinomial(annotations):
    num_classes = int(jnp.max(annotations)) + 1
    num_items, num_positions = annotations.shape
    pi = numpyro.sample("pi", dist.Dirichlet(jnp.ones(num_classes)))
    with numpyro.plate("item", num_items, dim=-2):
        with numpyro.plate("position", num_positions):
            numpyro.sample("y", dist.Categorical(pi), obs=annotations)

def run():
    annotations = np.array([[0, 1, 2], [1, 1, 0], [2, 2, 1], [0, 0, 1]])
    mcmc = MCMC(NUTS(multinomial), num_warmup=5, num_samples=5, progress_bar=False)
    mcmc.run(jax.random.PRNGKey(0), annotations)
if __name__ == "__main__": run()

# fixed: the branch on the sampled value is a jnp.where, not a Python if (the answer)
import numpy as np
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import random
from numpyro.infer import MCMC, NUTS


""" FORWARD FUNCTION """
def forward(x, a, b):
    y = b + a * x

    y = jnp.where(a < 5, y, y)  # checking value, traced
    return y


""" VARIABLE INITIALIZATION """
x_values = np.arange(0, 1e2, dtype=float)
coefficient_directeur = 10
ordonnee_origine = 150

""" GENERATING NOISE """
alpha = 200
noise = jnp.array(np.random.RandomState(0).randn(len(x_values))) * alpha
y_values = forward(x_values, coefficient_directeur, ordonnee_origine) + noise


def model(x, y=None):
    a = numpyro.sample("a", dist.Uniform(0, 20))
    b = numpyro.sample("b", dist.Uniform(0, 300))
    sigma = numpyro.sample("sigma", dist.HalfNormal(300))
    y_pred = forward(x, a, b)
    numpyro.sample("obs", dist.Normal(y_pred, sigma), obs=y)


def run():
    mcmc = MCMC(NUTS(model), num_warmup=20, num_samples=20, progress_bar=False)
    mcmc.run(random.PRNGKey(0), x_values, y_values)
    return mcmc.get_samples()


if __name__ == "__main__":
    run()

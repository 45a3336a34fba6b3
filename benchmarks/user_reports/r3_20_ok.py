# fixed: test `output_scale is None` instead of its truth value (the PR)
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax


def prototype_output_scale():
    return jnp.ones(())


def ibm_transitions(num_derivatives, output_scale):
    q = num_derivatives
    idx = np.arange(q + 1)
    fact = np.array([math.factorial(k) for k in range(2 * q + 2)], dtype=float)
    powers = np.clip(idx[None, :] - idx[:, None], 0, None)
    upper = idx[None, :] >= idx[:, None]
    q_powers = 2 * q + 1 - idx[:, None] - idx[None, :]
    q_denom = q_powers * fact[q - idx][:, None] * fact[q - idx][None, :]

    def discretise(dt):
        A = jnp.where(upper, dt**powers / fact[powers], 0.0)
        Q = output_scale**2 * dt**q_powers / q_denom
        return A, Q

    return discretise


def prior_ibm(num_derivatives, output_scale=None):
    """Construct an adaptive(/continuous-time), multiply-integrated Wiener process."""
    if output_scale is None:
        output_scale = jnp.ones_like(prototype_output_scale())
    discretise = ibm_transitions(num_derivatives, output_scale)
    return discretise, num_derivatives


def prior_ibm_discrete(ts, *, num_derivatives, output_scale=None):
    """Compute a time-discretised, multiply-integrated Wiener process."""
    discretise, _ = prior_ibm(num_derivatives, output_scale=output_scale)
    transitions, covariances = jax.vmap(discretise)(jnp.diff(ts))
    return transitions, covariances


def negative_log_likelihood(output_scale, ts, ys):
    transitions, covariances = prior_ibm_discrete(ts, num_derivatives=2, output_scale=output_scale)
    means = jnp.einsum("nij,j->ni", transitions, jnp.array([1.0, 0.0, 0.0]))[:, 0]
    var = covariances[:, 0, 0] + 1e-6
    return 0.5 * jnp.sum((ys - means) ** 2 / var + jnp.log(var))


def run():
    ts = jnp.linspace(0.0, 1.0, 11)
    ys = jnp.cos(ts[1:])
    optimizer = optax.adam(1e-2)
    output_scale = jnp.asarray(1.0)
    opt_state = optimizer.init(output_scale)

    @jax.jit
    def update(output_scale, opt_state):
        loss, grad = jax.value_and_grad(negative_log_likelihood)(output_scale, ts, ys)
        updates, opt_state = optimizer.update(grad, opt_state)
        return optax.apply_updates(output_scale, updates), opt_state, loss

    for _ in range(3):
        output_scale, opt_state, loss = update(output_scale, opt_state)
    return output_scale


if __name__ == "__main__":
    run()

"""Actor-critic MLP and the categorical-policy helpers PPO needs."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (tanh); returns (logits, value).

    Separate torsos keep the value loss from disturbing the policy features, the usual choice
    for small PPO nets. Orthogonal init with a small policy-head gain starts the policy close to
    uniform, so early exploration does not depend on the seed.
    """

    num_actions: int
    hidden_sizes: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        hidden_init = nn.initializers.orthogonal(np.sqrt(2.0))
        zeros = nn.initializers.zeros

        actor = obs
        for width in self.hidden_sizes:
            actor = nn.tanh(nn.Dense(width, kernel_init=hidden_init, bias_init=zeros)(actor))
        logits = nn.Dense(
            self.num_actions, kernel_init=nn.initializers.orthogonal(0.01), bias_init=zeros
        )(actor)

        critic = obs
        for width in self.hidden_sizes:
            critic = nn.tanh(nn.Dense(width, kernel_init=hidden_init, bias_init=zeros)(critic))
        value = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0), bias_init=zeros)(critic)
        return logits, jnp.squeeze(value, axis=-1)


def log_prob(logits: jax.Array, action: jax.Array) -> jax.Array:
    """Log-probability of integer ``action`` under categorical ``logits`` (last axis)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return jnp.take_along_axis(logp, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def entropy(logits: jax.Array) -> jax.Array:
    """Entropy of the categorical distribution given by ``logits`` (last axis)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.sum(jnp.exp(logp) * logp, axis=-1)

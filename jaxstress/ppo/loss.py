"""The PPO objective, piece by piece, so each term can be tested against hand computation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from jaxstress.ppo.network import entropy, log_prob


@struct.dataclass
class Batch:
    """One (mini)batch of flattened rollout data, ready for the loss."""

    obs: jax.Array
    action: jax.Array
    old_log_prob: jax.Array
    old_value: jax.Array
    advantage: jax.Array
    target: jax.Array


def normalize(advantage: jax.Array, eps: float = 1e-8) -> jax.Array:
    """Per-minibatch advantage normalisation: keeps the policy-gradient scale reward-free."""
    return (advantage - advantage.mean()) / (advantage.std() + eps)


def policy_loss(
    new_log_prob: jax.Array, old_log_prob: jax.Array, advantage: jax.Array, clip_eps: float
) -> jax.Array:
    """Clipped surrogate: -mean(min(r A, clip(r, 1-eps, 1+eps) A)), r = pi_new / pi_old."""
    ratio = jnp.exp(new_log_prob - old_log_prob)
    unclipped = ratio * advantage
    clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantage
    return -jnp.mean(jnp.minimum(unclipped, clipped))


def value_loss(
    value: jax.Array, old_value: jax.Array, target: jax.Array, clip_eps: float
) -> jax.Array:
    """Clipped value loss: 0.5 * mean(max((v - R)^2, (v_old + clip(v - v_old) - R)^2))."""
    clipped = old_value + jnp.clip(value - old_value, -clip_eps, clip_eps)
    return 0.5 * jnp.mean(jnp.maximum(jnp.square(value - target), jnp.square(clipped - target)))


def ppo_loss(
    params: Any,
    apply_fn: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]],
    batch: Batch,
    clip_eps: float,
    vf_coef: float,
    ent_coef: float,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Total loss = policy + vf_coef * value - ent_coef * entropy, plus diagnostics."""
    logits, value = apply_fn(params, batch.obs)
    new_log_prob = log_prob(logits, batch.action)
    adv = normalize(batch.advantage)
    pg = policy_loss(new_log_prob, batch.old_log_prob, adv, clip_eps)
    vf = value_loss(value, batch.old_value, batch.target, clip_eps)
    ent = jnp.mean(entropy(logits))
    total = pg + vf_coef * vf - ent_coef * ent
    log_ratio = new_log_prob - batch.old_log_prob
    ratio = jnp.exp(log_ratio)
    aux = {
        "total_loss": total,
        "policy_loss": pg,
        "value_loss": vf,
        "entropy": ent,
        # Low-variance KL estimator (Schulman): E[(r - 1) - log r] >= 0.
        "approx_kl": jnp.mean((ratio - 1.0) - log_ratio),
        "clip_frac": jnp.mean((jnp.abs(ratio - 1.0) > clip_eps).astype(jnp.float32)),
    }
    return total, aux

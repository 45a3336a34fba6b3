"""PPO for jaxstress envs, PureJaxRL style: the whole training loop under one ``jax.jit``."""

from jaxstress.ppo.config import ConfigError, PPOConfig
from jaxstress.ppo.loss import Batch, normalize, policy_loss, ppo_loss, value_loss
from jaxstress.ppo.memory import RolloutMemory, estimate_buffer_bytes, rollout_memory
from jaxstress.ppo.network import ActorCritic, entropy, log_prob
from jaxstress.ppo.rollout import Env, EpisodeStats, Transition, collect_rollout, gae
from jaxstress.ppo.train import (
    RunnerState,
    learning_rate_schedule,
    make_init,
    make_network,
    make_optimizer,
    make_train,
    make_train_chunk,
    make_update,
)

__all__ = [
    "ActorCritic",
    "Batch",
    "ConfigError",
    "Env",
    "EpisodeStats",
    "PPOConfig",
    "RolloutMemory",
    "RunnerState",
    "Transition",
    "collect_rollout",
    "entropy",
    "estimate_buffer_bytes",
    "gae",
    "learning_rate_schedule",
    "log_prob",
    "make_init",
    "make_network",
    "make_optimizer",
    "make_train",
    "make_train_chunk",
    "make_update",
    "normalize",
    "policy_loss",
    "ppo_loss",
    "rollout_memory",
    "value_loss",
]

"""PPO hyper-parameters as one frozen dataclass.

The config is closed over by ``make_train`` (the PureJaxRL pattern), so every field is a plain
Python value and static under ``jax.jit``: changing one recompiles, which is why shape-defining
fields (num_envs, num_steps, num_minibatches, hidden_sizes) belong here and not in traced state.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

OBS_BUFFERS = ("auto", "obs", "state")


class ConfigError(ValueError):
    """A config value or file that cannot be used; the message is one line for the CLI."""


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """Hyper-parameters of one PPO run (defaults follow common PureJaxRL settings)."""

    num_envs: int = 64
    num_steps: int = 128
    total_timesteps: int = 524_288
    update_epochs: int = 4
    num_minibatches: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    lr: float = 2.5e-4
    anneal_lr: bool = True
    hidden_sizes: tuple[int, ...] = (64, 64)
    seed: int = 0
    # What the rollout buffer keeps per step: "obs" (the observation), "state" (the env state,
    # observations recomputed per minibatch with env.get_obs) or "auto" ("state" when the env
    # has get_obs). See jaxstress.ppo.memory: for window observations "state" is far smaller.
    obs_buffer: str = "auto"

    def __post_init__(self) -> None:
        # Normalise lists from JSON/TOML into a hashable tuple.
        object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in self.hidden_sizes))
        self.validate()

    @property
    def batch_size(self) -> int:
        """Env steps collected per update."""
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    @property
    def num_updates(self) -> int:
        """Updates needed to reach total_timesteps (rounded up: at least the asked-for steps)."""
        return max(1, math.ceil(self.total_timesteps / self.batch_size))

    def validate(self) -> None:
        positive = ("num_envs", "num_steps", "total_timesteps", "update_epochs", "num_minibatches")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size % self.num_minibatches:
            raise ConfigError(
                f"num_envs * num_steps ({self.batch_size}) must be divisible by "
                f"num_minibatches ({self.num_minibatches})"
            )
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        for name in ("clip_eps", "ent_coef", "vf_coef", "max_grad_norm", "lr"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.obs_buffer not in OBS_BUFFERS:
            raise ConfigError(f"obs_buffer must be one of {OBS_BUFFERS}, got {self.obs_buffer!r}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ConfigError(f"hidden_sizes must be positive integers, got {self.hidden_sizes!r}")

    def stores_obs(self, env: Any) -> bool:
        """Whether the rollout buffer keeps observations (else env states) for ``env``."""
        if self.obs_buffer == "state" and not hasattr(env, "get_obs"):
            raise ConfigError("obs_buffer='state' needs an env with get_obs(state, params, data)")
        return self.obs_buffer == "obs" or not hasattr(env, "get_obs")

    def replace(self, **changes: Any) -> PPOConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hidden_sizes"] = list(self.hidden_sizes)
        return out

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PPOConfig:
        """Build from a mapping, rejecting unknown keys and wrongly typed values."""
        unknown = set(values) - cls.field_names()
        if unknown:
            raise ConfigError(
                f"unknown PPO config key(s) {sorted(unknown)}; known: {sorted(cls.field_names())}"
            )
        types = {f.name: type(f.default) for f in dataclasses.fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            want = types[key]
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            ok = (
                isinstance(value, list | tuple)
                if want is tuple
                else isinstance(value, want) and (want is bool or not isinstance(value, bool))
            )
            if not ok:
                raise ConfigError(f"{key} must be {want.__name__}, got {value!r}")
            clean[key] = value
        try:
            return cls(**clean)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(str(exc)) from exc

"""Trace-safe trading environments (gymnax-style, functional, pure JAX)."""

from jaxstress.envs.phase1 import EnvParams, EnvState, Phase1Env

__all__ = ["EnvParams", "EnvState", "Phase1Env"]

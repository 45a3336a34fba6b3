"""The sweep's env loading (``--env-module``) and its jit-vs-eager check, in process."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jaxstress.bench.envs import EnvLoadError, LegacyEnvAdapter, check_env, load_env

REPO = Path(__file__).resolve().parents[1]

MAKE_ENV_MODULE = """
from jaxstress.envs.dummy import DummyEnv


def make_env(data=None):
    env = DummyEnv(obs_size=4, episode_length=3)
    return env, env.default_params(), None
"""

# Python state on the env object: eagerly the reward counts calls, under jit the count is
# frozen into the compiled step at trace time. Fast, and wrong.
STATEFUL_MODULE = """
import jax.numpy as jnp
from jaxstress.envs.dummy import DummyEnv


class CountingEnv(DummyEnv):
    calls = 0

    def step(self, key, state, action, params, data=None):
        obs, state, reward, done, info = super().step(key, state, action, params, data)
        CountingEnv.calls += 1
        return obs, state, reward + jnp.float32(CountingEnv.calls), done, info


def make_env(data=None):
    env = CountingEnv(obs_size=4, episode_length=3)
    return env, env.default_params(), None
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_builtin_env_passes_the_check() -> None:
    # (phase1 passes it in every sweep's probe: see test_bench_sweep's end-to-end test)
    loaded = load_env("dummy")
    result = check_env(loaded.env, loaded.params, loaded.data, steps=4)
    assert result.ok, result
    assert result.max_abs_diff is not None and result.max_abs_diff < 1e-5


def test_env_module_with_make_env(tmp_path: Path) -> None:
    loaded = load_env(env_module=write(tmp_path, "my_env.py", MAKE_ENV_MODULE))
    assert loaded.name == "my_env.py" and loaded.env.obs_size == 4
    assert check_env(loaded.env, loaded.params, loaded.data, steps=4).ok


def test_a_jitted_env_that_computes_something_else_fails_the_check(tmp_path: Path) -> None:
    loaded = load_env(env_module=write(tmp_path, "counting_env.py", STATEFUL_MODULE))
    result = check_env(loaded.env, loaded.params, loaded.data, steps=4)
    assert not result.ok and result.error_type is None
    assert "jitted env disagrees with the eager env" in result.message


def test_broken_migration_env_is_adapted_and_fails_under_jit_only() -> None:
    loaded = load_env(env_module=str(REPO / "examples" / "jax_migration" / "env_phase1_jax.py"))
    assert isinstance(loaded.env, LegacyEnvAdapter)
    result = check_env(loaded.env, loaded.params, loaded.data, steps=4)
    assert not result.ok and result.tracer_error
    assert result.error_type is not None and result.error_type.startswith(("Tracer", "Concret"))
    assert result.location is not None and result.location.startswith("env_phase1_jax.py:")
    assert "without jit" not in result.message  # it runs eagerly; only the trace fails


def test_env_module_errors(tmp_path: Path) -> None:
    with pytest.raises(EnvLoadError, match="does not exist"):
        load_env(env_module=str(tmp_path / "nope.py"))
    with pytest.raises(EnvLoadError, match="no make_env"):
        load_env(env_module=write(tmp_path, "empty_env.py", "X = 1\n"))
    with pytest.raises(EnvLoadError, match="importing env module"):
        load_env(env_module=write(tmp_path, "broken_env.py", "import not_a_module_xyz\n"))

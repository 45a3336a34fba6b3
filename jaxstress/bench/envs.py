"""Envs for the sweep: the built-in ones, a user's ``--env-module``, and the jit-vs-eager check.

``--env-module PATH`` loads a Python file (its folder goes on ``sys.path`` so it can import its
siblings) and takes the env from it in this order:

1. ``make_env(data=None)`` returning ``(env, env_params, data)`` with the jaxstress API
   (``reset(key, params, data)``, ``step(key, state, action, params, data)``, ``num_actions``);
2. otherwise the first class defined in the module with ``reset`` and ``step`` methods. Its
   ``__init__`` may take the market as ``data`` (built with a ``load_market_data(path)`` function
   found in the module or a module it imported from its own folder, as in
   ``examples/jax_migration``); its params come from ``default_params()`` or a module-level
   ``EnvParams()``. A class with the gymnax-style signatures without ``data``
   (``reset(key, params)``, ``step(state, action, params)``) is wrapped by `LegacyEnvAdapter`,
   which adds auto-reset and flattens observations.

Nothing here decides whether the env is trace-safe: `check_env` runs it eagerly and under
``jax.jit`` with the same keys and actions and reports the first tracer error (by its JAX class)
or the first disagreement. A fast env that computes something else is not a benchmark result.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from typing import Any

TRACER_ERRORS = (
    "ConcretizationTypeError",
    "TracerArrayConversionError",
    "TracerIntegerConversionError",
    "TracerBoolConversionError",
    "NonConcreteBooleanIndexError",
    "UnexpectedTracerError",
    "KeyReuseError",
)


class EnvLoadError(ValueError):
    """An env (module) that cannot be loaded as asked (one-line message, usage error)."""


@dataclasses.dataclass
class LoadedEnv:
    env: Any
    params: Any
    data: Any
    name: str


def load_env(
    env: str = "phase1",
    env_module: str | None = None,
    data: str | None = None,
    settings: Any = None,
) -> LoadedEnv:
    """The env, its params and market for the sweep (``settings``: a TrainSettings or None)."""
    if env_module:
        return _load_module_env(env_module, data)
    from jaxstress.training import TrainSettings, build_env

    settings = settings if settings is not None else TrainSettings()
    settings = settings.merged({"env": env, **({"data": data} if data else {})})
    built = build_env(settings)
    return LoadedEnv(*built, name=env)


def _import_path(path: Path) -> Any:
    if not path.is_file():
        raise EnvLoadError(f"env module {path} does not exist")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"jaxstress_env_module_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EnvLoadError(f"cannot import env module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        message = f"importing env module {path} failed: {type(exc).__name__}: {exc}"
        raise EnvLoadError(message) from exc
    return module


def _find_loader(module: Any, folder: Path) -> Any:
    loader = getattr(module, "load_market_data", None)
    if callable(loader):
        return loader
    for other in list(sys.modules.values()):
        file = getattr(other, "__file__", None)
        if file and Path(file).resolve().parent == folder:
            loader = getattr(other, "load_market_data", None)
            if callable(loader):
                return loader
    return None


def _positional(fn: Any) -> list[str]:
    return [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    ]


def _load_module_env(path_text: str, data_path: str | None) -> LoadedEnv:
    path = Path(path_text)
    module = _import_path(path)
    name = path.name
    make_env = getattr(module, "make_env", None)
    if callable(make_env):
        env, params, data = make_env(data=data_path)
        return LoadedEnv(env, params, data, name)
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and obj.__module__ == module.__name__
        and callable(getattr(obj, "reset", None))
        and callable(getattr(obj, "step", None))
    ]
    if not classes:
        raise EnvLoadError(f"{path} has no make_env() and no class with reset() and step()")
    cls = classes[0]
    init_args = _positional(cls.__init__)
    data = None
    if init_args and init_args[0] == "data":
        loader = _find_loader(module, path.resolve().parent)
        if loader is None:
            raise EnvLoadError(f"{cls.__name__}(data, ...) needs a load_market_data() near {path}")
        data = loader(data_path)
        env = cls(data)
    else:
        env = cls()
    if callable(getattr(env, "default_params", None)):
        params = env.default_params()
    elif inspect.isclass(getattr(module, "EnvParams", None)):
        params = module.EnvParams()
    else:
        raise EnvLoadError(f"{path}: no default_params() on {cls.__name__} and no EnvParams")
    if len(_positional(cls.reset)) == 2 and len(_positional(cls.step)) == 3:
        return LoadedEnv(LegacyEnvAdapter(env), params, None, name)
    return LoadedEnv(env, params, None if data is None else data, name)


class LegacyEnvAdapter:
    """The jaxstress env API over ``reset(key, params)`` / ``step(state, action, params)``.

    The wrapped env holds its own market, so ``data`` is ignored; ``step`` auto-resets (with
    ``jnp.where``, as the built-in envs do) and observations are flattened for the MLP policy.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self.num_actions = int(getattr(env, "num_actions", 3))

    def observation_size(self, params: Any) -> int:
        import jax

        obs, _ = jax.eval_shape(self.env.reset, jax.random.PRNGKey(0), params)
        size = 1
        for dim in obs.shape:
            size *= dim
        return size

    def reset(self, key: Any, params: Any, data: Any = None) -> tuple[Any, Any]:
        import jax.numpy as jnp

        obs, state = self.env.reset(key, params)
        return jnp.ravel(jnp.asarray(obs, jnp.float32)), state

    def step(self, key: Any, state: Any, action: Any, params: Any, data: Any = None) -> Any:
        import jax
        import jax.numpy as jnp

        obs, new_state, reward, done, _info = self.env.step(state, action, params)
        obs_reset, state_reset = self.env.reset(key, params)
        done = jnp.asarray(done)
        new_state = jax.tree.map(lambda r, s: jnp.where(done, r, s), state_reset, new_state)
        obs = jnp.where(done, jnp.asarray(obs_reset), jnp.asarray(obs))
        return (
            jnp.ravel(obs.astype(jnp.float32)),
            new_state,
            jnp.asarray(reward, jnp.float32),
            done,
            {},
        )


@dataclasses.dataclass
class EnvCheck:
    """Result of `check_env`: ``ok`` or the reason (``error_type``: a JAX class name)."""

    ok: bool
    steps: int
    max_abs_diff: float | None = None
    error_type: str | None = None
    tracer_error: bool = False
    location: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _location(exc: BaseException, skip_dirs: tuple[str, ...]) -> str | None:
    """Innermost traceback frame outside JAX and this package: where the user's code failed."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if not any(d in frame.filename for d in skip_dirs):
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return None


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """Class, tracer flag, location and first message line of an exception."""
    import jax

    name = type(exc).__name__
    first = next((line for line in str(exc).splitlines() if line.strip()), name)
    skip = (str(Path(jax.__file__).parent), str(Path(__file__).parent), "/flax/", "/optax/")
    return {
        "error_type": name,
        "tracer_error": name in TRACER_ERRORS,
        "location": _location(exc, skip),
        "message": first.strip(),
    }


def _actions(steps: int, num_actions: int) -> list[int]:
    pattern = [1, 0, 0, 2, 2, 1, 0, 1, 2, 0]
    return [pattern[i % len(pattern)] % num_actions for i in range(steps)]


def _rollout(env: Any, params: Any, data: Any, steps: int, jit: bool, seed: int) -> list[Any]:
    import jax
    import numpy as np

    reset, step = (jax.jit(env.reset), jax.jit(env.step)) if jit else (env.reset, env.step)
    keys = jax.random.split(jax.random.PRNGKey(seed), steps + 1)
    obs, state = reset(keys[0], params, data)
    out = [np.asarray(obs, np.float64)]
    for i, action in enumerate(_actions(steps, int(env.num_actions))):
        obs, state, reward, done, _ = step(
            keys[i + 1], state, jax.numpy.asarray(action, jax.numpy.int32), params, data
        )
        out += [np.asarray(obs, np.float64), np.asarray(reward, np.float64)]
        out.append(np.asarray(done, np.float64))
    return out


def check_env(
    env: Any, params: Any, data: Any, steps: int = 8, seed: int = 0, rtol: float = 1e-5
) -> EnvCheck:
    """Run ``steps`` steps eagerly and jitted (same keys, same actions); compare everything.

    Observations, rewards and done flags must agree to ``rtol`` (and 1e-6 absolute). An
    exception in the eager run is an env bug; one under jit is the trace-safety failure this
    check exists for (``tracer_error`` when it is one of JAX's tracer errors).
    """
    import numpy as np

    try:
        eager = _rollout(env, params, data, steps, jit=False, seed=seed)
    except Exception as exc:
        info = describe_exception(exc)
        info["message"] = f"the env fails even without jit: {info['message']}"
        return EnvCheck(ok=False, steps=steps, **info)
    try:
        jitted = _rollout(env, params, data, steps, jit=True, seed=seed)
    except Exception as exc:
        return EnvCheck(ok=False, steps=steps, **describe_exception(exc))
    worst = 0.0
    for a, b in zip(eager, jitted, strict=True):
        if a.shape != b.shape:
            return EnvCheck(False, steps, None, message=f"shapes differ: {a.shape} vs {b.shape}")
        if a.size:
            worst = max(worst, float(np.max(np.abs(a - b))))
        if not np.allclose(a, b, rtol=rtol, atol=1e-6, equal_nan=True):
            return EnvCheck(
                False,
                steps,
                worst,
                message=f"jitted env disagrees with the eager env (max abs diff {worst:.3g})",
            )
    return EnvCheck(ok=True, steps=steps, max_abs_diff=worst)

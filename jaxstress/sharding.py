"""Data parallelism over devices: one code path for ``jaxstress train`` and ``jaxstress bench``.

A 1-D ``Mesh`` with one axis, ``data``: every runner-state leaf with a leading ``num_envs`` axis
(env states, observations, episode returns) is split over it, and so are PPO minibatches (via
``make_update``'s ``batch_sharding``); network/optimizer state, the rng and the market are
replicated. Results do not depend on the device count beyond float summation order, so a
configuration the bench measured on N devices trains the same way, and as fast, under
``train`` on those N devices.

JAX is imported inside the functions: the bench's parent process uses ``indivisible`` and
``parse_devices`` without loading JAX (its points run in child processes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

AXIS = "data"


class DeviceError(ValueError):
    """A ``--devices`` value this host cannot honour (one-line message)."""


def parse_devices(text: str) -> str | int:
    """``--devices all|N`` as ``"all"`` or a positive int (checked against the host later)."""
    if text == "all":
        return "all"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise DeviceError(f"--devices takes 'all' or a positive integer, got {text!r}")


def select_devices(devices: str | int = "all") -> list[Any]:
    """The first ``devices`` of ``jax.devices()`` (all of them for ``"all"``)."""
    import jax

    available = jax.devices()
    if devices in ("all", None):
        return list(available)
    n = int(devices)
    if n < 1 or n > len(available):
        raise DeviceError(
            f"--devices {n}: this host has {len(available)} {available[0].platform} device(s)"
        )
    return list(available[:n])


def indivisible(num_envs: int, devices: int) -> str | None:
    """Why ``num_envs`` envs cannot be split over ``devices`` devices; None when they can.

    The env batch is split into equal shards (one per device), so it must divide evenly; the
    bench skips such points and ``train`` refuses them, rather than silently changing num_envs.
    """
    if num_envs % devices:
        return f"num_envs={num_envs} not divisible by {devices} devices"
    return None


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a PPO program's inputs and outputs live on a data-parallel mesh.

    ``runner`` mirrors a ``RunnerState`` (batch-split or replicated per leaf), ``data`` mirrors
    the market (replicated; None without one).
    """

    devices: tuple[Any, ...]
    batch: Any  # NamedSharding(mesh, P("data")): a leading batch axis split over the devices
    replicated: Any
    runner: Any
    data: Any

    @property
    def size(self) -> int:
        return len(self.devices)

    @property
    def minibatch(self) -> Any:
        """``batch_sharding`` for ``make_update``: None on one device (nothing to split)."""
        return self.batch if self.size > 1 else None

    def jit(self, fn: Callable[..., Any], extra_args: int = 0, **kwargs: Any) -> Any:
        """``jax.jit`` of ``fn(runner, data, *extra) -> (runner, outputs)`` on this placement.

        The runner comes back laid out as it went in, so chunk after chunk runs the same
        compiled program without resharding; the ``extra_args`` scalars and the outputs
        (metrics) are replicated, so the host reads them without a gather per device.
        """
        import jax

        return jax.jit(
            fn,
            in_shardings=(self.runner, self.data, *(self.replicated,) * extra_args),
            out_shardings=(self.runner, self.replicated),
            **kwargs,
        )

    def put_data(self, data: Any) -> Any:
        import jax

        return None if data is None else jax.device_put(data, self.data)


def place(devices: Sequence[Any], runner: Any, num_envs: int, data: Any = None) -> Placement:
    """The placement over ``devices`` for a runner state (or its shapes) and a market.

    Raises ``DeviceError`` when ``num_envs`` does not split evenly over the devices.
    """
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    problem = indivisible(num_envs, len(devices))
    if problem:
        raise DeviceError(problem)
    mesh = Mesh(np.array(devices), (AXIS,))
    batch, replicated = NamedSharding(mesh, P(AXIS)), NamedSharding(mesh, P())

    def by_leaf(leaf: Any) -> Any:
        return batch if leaf.ndim >= 1 and leaf.shape[0] == num_envs else replicated

    runner_sh = runner.replace(
        params=jax.tree.map(lambda _: replicated, runner.params),
        opt_state=jax.tree.map(lambda _: replicated, runner.opt_state),
        env_state=jax.tree.map(by_leaf, runner.env_state),
        obs=batch,
        episode_return=batch,
        rng=replicated,
        update_step=replicated,
    )
    data_sh = None if data is None else jax.tree.map(lambda _: replicated, data)
    return Placement(tuple(devices), batch, replicated, runner_sh, data_sh)

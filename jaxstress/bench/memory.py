"""Memory and bandwidth: predicted peak from the compiled program, measured peak, traffic bound.

* `predicted_peak_bytes`: XLA's ``memory_analysis()`` of the compiled program, per device:
  arguments + outputs + temporaries - aliased (donated) bytes + generated code. Available before
  anything runs, so a point that cannot fit is skipped without running it.
* `measured_peak`: ``device.memory_stats()["peak_bytes_in_use"]`` (GPU/TPU allocators). The CPU
  backend keeps no such statistics (``memory_stats()`` is None): there the process's peak
  resident set (``ru_maxrss``) is reported instead, labelled as such, and it includes the
  Python/JAX runtime and the compiler. Each sweep point runs in its own process, so a process
  peak is that point's peak.
* `update_traffic`: bytes one PPO update moves. XLA's ``cost_analysis()`` counts a loop body
  once whatever its trip count, so the per-update total is assembled from loop-free pieces: one
  rollout step (policy + vmapped env step) x ``num_steps``, plus one minibatch step (gather,
  observation rebuild, gradient, optimizer) x ``update_epochs * num_minibatches``. GAE and the
  batch reshape are left out (a few floats per transition): the bound is a little optimistic.
* `measure_bandwidth`: a large-array copy (``x + 1`` over ``nbytes``: read once, write once)
  timed on one device. Together they give a roofline-style bound on env steps per second:
  ``devices * bandwidth / (bytes per update / env steps per update)``.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from typing import Any


def predicted_peak_bytes(compiled: Any) -> dict[str, int] | None:
    """Per-device bytes the compiled program needs, from ``memory_analysis()`` (None: n/a)."""
    try:
        stats = compiled.memory_analysis()
    except (NotImplementedError, AttributeError, RuntimeError):
        return None
    if stats is None:
        return None
    parts = {
        "argument_bytes": int(stats.argument_size_in_bytes),
        "output_bytes": int(stats.output_size_in_bytes),
        "temp_bytes": int(stats.temp_size_in_bytes),
        "alias_bytes": int(stats.alias_size_in_bytes),
        "generated_code_bytes": int(stats.generated_code_size_in_bytes),
    }
    parts["peak_bytes"] = (
        parts["argument_bytes"]
        + parts["output_bytes"]
        + parts["temp_bytes"]
        - parts["alias_bytes"]
        + parts["generated_code_bytes"]
    )
    return parts


def _cost(compiled: Any, key: str) -> float | None:
    try:
        cost = compiled.cost_analysis()
    except (NotImplementedError, AttributeError, RuntimeError):
        return None
    if isinstance(cost, list | tuple):  # older JAX: one dict per program
        cost = cost[0] if cost else None
    if not cost:
        return None
    value = cost.get(key)
    return float(value) if value is not None else None


def bytes_accessed(compiled: Any) -> float | None:
    return _cost(compiled, "bytes accessed")


def flops(compiled: Any) -> float | None:
    """XLA's flop count of one device's partitioned program (loop bodies counted once)."""
    return _cost(compiled, "flops")


def host_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


def device_memory_limit(devices: list[Any]) -> tuple[int | None, str]:
    """Memory one device may use, and where that number came from."""
    stats = _stats(devices[0])
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"]), "device allocator bytes_limit"
    total = host_memory_bytes()
    # Forced host devices share the host's memory.
    share = total // len(devices) if total else None
    return share, "host RAM" + (f" / {len(devices)} devices" if len(devices) > 1 else "")


def _stats(device: Any) -> dict[str, Any] | None:
    try:
        return device.memory_stats()
    except (NotImplementedError, AttributeError, RuntimeError):
        return None


def peak_rss_bytes() -> int:
    """Peak resident set of this process so far (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def measured_peak(devices: list[Any]) -> dict[str, Any]:
    """Peak memory of this process's run on ``devices`` (max over devices), with its source."""
    peaks = []
    for device in devices:
        stats = _stats(device)
        if stats and "peak_bytes_in_use" in stats:
            peaks.append(int(stats["peak_bytes_in_use"]))
    if peaks:
        return {"bytes": max(peaks), "source": "device memory_stats peak_bytes_in_use"}
    return {
        "bytes": peak_rss_bytes(),
        "source": "process peak RSS (CPU: no device memory stats; includes runtime and compiler)",
    }


def measure_bandwidth(device: Any, nbytes: int = 256 * 2**20, repeats: int = 5) -> dict[str, Any]:
    """Device memory bandwidth from a large-array copy: (read + write) bytes / median time."""
    import jax
    import jax.numpy as jnp

    n = max(1, nbytes // 4)
    x = jax.device_put(jnp.zeros((n,), jnp.float32), device)
    copy = jax.jit(lambda a: a + 1.0).lower(x).compile()
    copy(x).block_until_ready()  # warm-up (first touch of the output pages)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        copy(x).block_until_ready()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    moved = 2 * n * 4
    return {
        "bytes_per_s": moved / median,
        "array_bytes": n * 4,
        "bytes_moved": moved,
        "median_s": median,
        "times_s": times,
        "method": "jit(x + 1) over a float32 array: read + write, median of repeats",
    }


def update_traffic(config: Any, env: Any, env_params: Any, data: Any) -> dict[str, Any] | None:
    """Bytes one PPO update moves, from ``cost_analysis()`` of loop-free pieces (see above)."""
    import jax
    import jax.numpy as jnp
    import optax

    from jaxstress.ppo import Batch, collect_rollout, make_init, make_network, make_optimizer
    from jaxstress.ppo.loss import ppo_loss

    network = make_network(config, env)
    tx = make_optimizer(config)
    store_obs = config.stores_obs(env)
    runner = jax.eval_shape(make_init(config, env, env_params), jax.random.PRNGKey(0), data)

    def rollout_step(runner: Any, data: Any) -> Any:
        return collect_rollout(
            network.apply,
            runner.params,
            env,
            env_params,
            data,
            runner.env_state,
            runner.obs,
            runner.episode_return,
            runner.rng,
            1,
            store_obs,
        )

    rollout = jax.jit(rollout_step).lower(runner, data).compile()
    traj = jax.eval_shape(rollout_step, runner, data)[1]
    batch_size, mb_size = config.batch_size, config.minibatch_size

    def flat(x: Any) -> Any:
        return jax.ShapeDtypeStruct((batch_size, *x.shape[2:]), x.dtype)

    flat_batch = Batch(
        jax.tree.map(flat, traj.obs),
        flat(traj.action),
        flat(traj.log_prob),
        flat(traj.value),
        flat(traj.value),
        flat(traj.value),
    )

    def minibatch_step(params: Any, opt_state: Any, batch: Any, idx: Any, data: Any) -> Any:
        mb = jax.tree.map(lambda x: jnp.take(x, idx, axis=0), batch)
        if not store_obs:
            obs = jax.vmap(env.get_obs, in_axes=(0, None, None))(mb.obs, env_params, data)
            mb = mb.replace(obs=obs)

        def loss(p: Any) -> Any:
            return ppo_loss(p, network.apply, mb, config.clip_eps, config.vf_coef, config.ent_coef)

        grads, _ = jax.grad(loss, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    idx = jax.ShapeDtypeStruct((mb_size,), jnp.int32)
    minibatch = (
        jax.jit(minibatch_step)
        .lower(runner.params, runner.opt_state, flat_batch, idx, data)
        .compile()
    )
    per_step = bytes_accessed(rollout)
    per_minibatch = bytes_accessed(minibatch)
    if per_step is None or per_minibatch is None:
        return None
    steps = config.num_steps
    minibatches = config.update_epochs * config.num_minibatches
    total = per_step * steps + per_minibatch * minibatches
    return {
        "rollout_step_bytes": per_step,
        "minibatch_step_bytes": per_minibatch,
        "bytes_per_update": total,
        "bytes_per_env_step": total / batch_size,
        "method": "cost_analysis bytes accessed: rollout step x num_steps + minibatch step x "
        "update_epochs x num_minibatches (GAE left out)",
    }

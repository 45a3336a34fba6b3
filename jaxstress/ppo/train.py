"""PureJaxRL-style PPO: init, one update, K-update chunks and the whole run, each under jit.

Everything that decides shapes (the config, the env object, env params) is closed over as
static Python; everything that changes between updates lives in ``RunnerState``. The market
``data`` is passed as a jit *argument* instead of being closed over, so large bar arrays are not
baked into the compiled program as constants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxstress.ppo.config import PPOConfig
from jaxstress.ppo.loss import Batch, ppo_loss
from jaxstress.ppo.network import ActorCritic
from jaxstress.ppo.rollout import Env, collect_rollout, gae

if TYPE_CHECKING:
    from jaxstress.sharding import Placement

Metrics = dict[str, jax.Array]


@struct.dataclass
class RunnerState:
    """Everything carried from one update to the next (and saved in a checkpoint)."""

    params: Any
    opt_state: Any
    env_state: Any
    obs: jax.Array
    episode_return: jax.Array
    rng: jax.Array
    update_step: jax.Array


def make_network(config: PPOConfig, env: Env) -> ActorCritic:
    return ActorCritic(num_actions=env.num_actions, hidden_sizes=config.hidden_sizes)


def learning_rate_schedule(config: PPOConfig) -> Callable[[jax.Array], jax.Array] | float:
    """Linear decay to 0 over ``num_updates`` updates (counted in optimizer steps)."""
    if not config.anneal_lr:
        return config.lr
    steps_per_update = config.update_epochs * config.num_minibatches

    def schedule(count: jax.Array) -> jax.Array:
        done = (count // steps_per_update) / config.num_updates
        # Clamped at 0: a resumed run that goes past the planned updates must not go negative.
        return config.lr * jnp.maximum(1.0 - done, 0.0)

    return schedule


def make_optimizer(config: PPOConfig) -> optax.GradientTransformation:
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.adam(learning_rate=learning_rate_schedule(config), eps=1e-5),
    )


def make_init(
    config: PPOConfig, env: Env, env_params: Any
) -> Callable[[jax.Array, Any], RunnerState]:
    """``init(rng, data)``: network params, optimizer state and ``num_envs`` reset envs."""
    network = make_network(config, env)
    tx = make_optimizer(config)
    reset_envs = jax.vmap(env.reset, in_axes=(0, None, None))

    def init(rng: jax.Array, data: Any) -> RunnerState:
        rng, net_key, reset_key = jax.random.split(rng, 3)
        obs, env_state = reset_envs(jax.random.split(reset_key, config.num_envs), env_params, data)
        if obs.ndim != 2:
            raise ValueError(f"observations must be flat vectors, got shape {obs.shape[1:]}")
        params = network.init(net_key, obs)
        return RunnerState(
            params=params,
            opt_state=tx.init(params),
            env_state=env_state,
            obs=obs,
            episode_return=jnp.zeros((config.num_envs,), jnp.float32),
            rng=rng,
            update_step=jnp.zeros((), jnp.int32),
        )

    return init


def make_update(
    config: PPOConfig,
    env: Env,
    env_params: Any,
    batch_sharding: jax.sharding.Sharding | None = None,
) -> Callable[[RunnerState, Any], tuple[RunnerState, Metrics]]:
    """``update(runner, data)``: one rollout, GAE, then epochs x minibatches of PPO steps.

    ``batch_sharding`` (a sharding of a leading batch axis over several devices, e.g.
    ``NamedSharding(mesh, P("data"))``) keeps every minibatch split over the devices: each one
    runs the forward and backward pass on its slice, and gradients are all-reduced. Without it
    the SPMD partitioner gathers the shuffled minibatch onto every device and repeats the whole
    learning phase there. The minibatches are the same either way (one global permutation per
    epoch), so the result does not depend on the device count beyond float summation order.
    """
    store_obs = config.stores_obs(env)
    network = make_network(config, env)
    tx = make_optimizer(config)
    schedule = learning_rate_schedule(config)
    batch_size, mb_size = config.batch_size, config.minibatch_size

    def loss_fn(params: Any, batch: Batch) -> tuple[jax.Array, Metrics]:
        return ppo_loss(
            params, network.apply, batch, config.clip_eps, config.vf_coef, config.ent_coef
        )

    grad_fn = jax.grad(loss_fn, has_aux=True)

    def split(tree: Any) -> Any:
        if batch_sharding is None:
            return tree
        return jax.lax.with_sharding_constraint(tree, batch_sharding)

    def observe(stored: Any, data: Any) -> jax.Array:
        if store_obs:
            return stored
        return jax.vmap(env.get_obs, in_axes=(0, None, None))(stored, env_params, data)

    def update(runner: RunnerState, data: Any) -> tuple[RunnerState, Metrics]:
        (env_state, obs, ep_ret, rng), traj, stats = collect_rollout(
            network.apply,
            runner.params,
            env,
            env_params,
            data,
            runner.env_state,
            runner.obs,
            runner.episode_return,
            runner.rng,
            config.num_steps,
            store_obs,
        )
        _, last_value = network.apply(runner.params, obs)
        advantage, target = gae(
            traj.reward, traj.value, traj.done, last_value, config.gamma, config.gae_lambda
        )
        flat = jax.tree_util.tree_map(
            lambda x: x.reshape((batch_size, *x.shape[2:])),
            Batch(traj.obs, traj.action, traj.log_prob, traj.value, advantage, target),
        )

        def minibatch_step(
            carry: tuple[Any, Any], idx: jax.Array
        ) -> tuple[tuple[Any, Any], Metrics]:
            params, opt_state = carry
            # Gather the minibatch by index: no shuffled copy of the whole batch per epoch.
            mb = split(jax.tree_util.tree_map(lambda x: jnp.take(x, idx, axis=0), flat))
            mb = mb.replace(obs=split(observe(mb.obs, data)))
            grads, aux = grad_fn(params, mb)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), aux

        def epoch(carry: tuple[Any, Any, jax.Array], _: None) -> tuple[Any, Metrics]:
            params, opt_state, rng = carry
            rng, perm_key = jax.random.split(rng)
            order = jax.random.permutation(perm_key, batch_size)
            order = order.reshape((config.num_minibatches, mb_size))
            (params, opt_state), aux = jax.lax.scan(minibatch_step, (params, opt_state), order)
            return (params, opt_state, rng), aux

        (params, opt_state, rng), aux = jax.lax.scan(
            epoch, (runner.params, runner.opt_state, rng), None, length=config.update_epochs
        )
        metrics = {name: jnp.mean(value) for name, value in aux.items()}
        count = stats.count
        metrics["mean_episode_return"] = jnp.where(
            count > 0, stats.return_sum / jnp.maximum(count, 1), jnp.nan
        )
        metrics["episodes"] = count
        metrics["mean_reward"] = jnp.mean(traj.reward)
        step_count = runner.update_step * config.update_epochs * config.num_minibatches
        metrics["lr"] = jnp.asarray(schedule(step_count) if callable(schedule) else schedule)
        metrics["update"] = runner.update_step + 1
        new_runner = RunnerState(
            params=params,
            opt_state=opt_state,
            env_state=env_state,
            obs=obs,
            episode_return=ep_ret,
            rng=rng,
            update_step=runner.update_step + 1,
        )
        return new_runner, metrics

    return update


def make_train_chunk(
    config: PPOConfig,
    env: Env,
    env_params: Any,
    chunk_size: int,
    placement: Placement | None = None,
) -> Callable[[RunnerState, Any, jax.Array | int], tuple[RunnerState, Metrics]]:
    """Jitted ``chunk(runner, data, n)``: ``min(n, chunk_size)`` updates in one device call.

    The trip count is a traced argument, so one compilation serves full chunks and the shorter
    last one. Metrics come back with leading axis ``chunk_size``; rows ``>= n`` are zeros. The
    runner state is donated on accelerators (its buffers are reused in place). With a
    ``placement`` (`jaxstress.sharding.place`) the env batch and minibatches are split over its
    devices exactly as ``jaxstress bench`` measures them; the runner must be placed accordingly.
    """
    update = make_update(
        config, env, env_params, None if placement is None else placement.minibatch
    )

    def chunk(runner: RunnerState, data: Any, n: jax.Array) -> tuple[RunnerState, Metrics]:
        shapes = jax.eval_shape(update, runner, data)[1]
        buffer = jax.tree_util.tree_map(
            lambda s: jnp.zeros((chunk_size, *s.shape), s.dtype), shapes
        )

        def body(i: jax.Array, carry: tuple[RunnerState, Metrics]) -> tuple[RunnerState, Metrics]:
            runner, buffer = carry
            runner, metrics = update(runner, data)
            buffer = jax.tree_util.tree_map(lambda b, m: b.at[i].set(m), buffer, metrics)
            return runner, buffer

        stop = jnp.minimum(jnp.asarray(n, jnp.int32), chunk_size)
        return jax.lax.fori_loop(0, stop, body, (runner, buffer))

    donate = () if jax.default_backend() == "cpu" else (0,)
    if placement is None:
        return jax.jit(chunk, donate_argnums=donate)
    return placement.jit(chunk, extra_args=1, donate_argnums=donate)


def make_train(
    config: PPOConfig, env: Env, env_params: Any, data: Any = None
) -> Callable[[jax.Array], tuple[RunnerState, Metrics]]:
    """``train(rng) -> (runner_state, metrics)``: the whole run as one jitted program.

    Metrics have leading axis ``config.num_updates``. ``train`` can be vmapped over seeds.
    """
    init = make_init(config, env, env_params)
    update = make_update(config, env, env_params)

    def train_impl(rng: jax.Array, data: Any) -> tuple[RunnerState, Metrics]:
        runner = init(rng, data)

        def body(runner: RunnerState, _: None) -> tuple[RunnerState, Metrics]:
            return update(runner, data)

        return jax.lax.scan(body, runner, None, length=config.num_updates)

    jitted = jax.jit(train_impl)

    def train(rng: jax.Array) -> tuple[RunnerState, Metrics]:
        return jitted(rng, data)

    return train

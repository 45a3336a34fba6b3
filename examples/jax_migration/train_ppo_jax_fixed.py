"""PPO for the phase-1 futures env: our PyTorch trainer ported to flax + optax.

("_fixed": the second attempt, after the first port fell over on torch.Tensor calls.)

    train(env_params, key, num_envs)
      -> collect_rollouts   [jax.jit]
           -> step_fn       [lax.scan body]
                -> batch_reset = jax.vmap(env.reset)   (autoreset of finished envs)
                -> batch_step  = jax.vmap(env.step)
      -> update             [jax.jit]

num_envs is an argument of train/collect_rollouts (not part of the config) so that the
stress sweep can reuse one trainer for every batch size.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from env_phase1_jax import FuturesEnvPhase1


@dataclass(frozen=True)
class PPOConfig:
    num_steps: int = 64  # env steps per rollout
    num_updates: int = 10
    update_epochs: int = 2
    num_minibatches: int = 2
    lr: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    hidden: int = 64


class ActorCritic(nn.Module):
    n_actions: int = 3
    hidden: int = 64

    @nn.compact
    def __call__(self, obs):
        x = obs.reshape(obs.shape[:-2] + (-1,))
        x = nn.tanh(nn.Dense(self.hidden)(x))
        out = nn.Dense(self.n_actions + 1)(x)  # policy logits and value from one head
        return out[..., :-1], out[..., -1]


class Transition(NamedTuple):
    obs: jnp.ndarray
    action: jnp.ndarray
    log_prob: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    done: jnp.ndarray
    info: Any


def compute_gae(rewards, values, dones, last_value, gamma, lam, num_envs):
    """Generalised advantage estimation, same loop as the PyTorch version."""
    num_steps = rewards.shape[0]
    advantages = jnp.zeros((num_steps, num_envs))
    last_gae = 0.0
    next_value = last_value
    for t in reversed(range(num_steps)):
        not_done = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * not_done - values[t]
        last_gae = delta + gamma * lam * not_done * last_gae
        advantages = advantages.at[t].set(last_gae)
        next_value = values[t]
    return advantages, advantages + values


def make_train(config: PPOConfig, env: FuturesEnvPhase1):
    network = ActorCritic(hidden=config.hidden)
    tx = optax.adam(config.lr, eps=1e-5)
    batch_reset = jax.vmap(env.reset, in_axes=(0, None))
    batch_step = jax.vmap(env.step, in_axes=(0, 0, None))

    @jax.jit
    def collect_rollouts(train_state, runner_state, env_params, num_envs):
        def step_fn(carry, _):
            env_state, obs, done, key = carry
            key, k_reset, k_act = jax.random.split(key, 3)
            # autoreset: envs whose episode ended on the previous step start a new one now
            reset_obs, reset_state = batch_reset(jax.random.split(k_reset, num_envs), env_params)
            env_state = jax.tree.map(lambda r, s: jnp.where(done, r, s), reset_state, env_state)
            obs = jnp.where(done[:, None, None], reset_obs, obs)

            logits, value = train_state.apply_fn(train_state.params, obs)
            action = jax.random.categorical(k_act, logits)
            log_prob = jax.nn.log_softmax(logits)[jnp.arange(num_envs), action]
            next_obs, env_state, reward, next_done, info = batch_step(env_state, action, env_params)
            transition = Transition(obs, action, log_prob, value, reward, next_done, info)
            return (env_state, next_obs, next_done, key), transition

        runner_state, traj = jax.lax.scan(step_fn, runner_state, None, length=config.num_steps)
        _, last_value = train_state.apply_fn(train_state.params, runner_state[1])
        advantages, returns = compute_gae(
            traj.reward, traj.value, traj.done, last_value, config.gamma, config.gae_lambda, num_envs
        )

        # episode statistics for the logs
        finished = traj.done
        episode_return = traj.info["episode_return"][finished].mean()
        trade_pnl = traj.info["trade_pnl"].ravel()
        closed = jnp.nonzero(trade_pnl)[0]  # steps on which a trade was closed
        win_rate = (trade_pnl[closed] > 0).mean()
        metrics = {
            "episode_return": episode_return,
            "win_rate": win_rate,
            "mean_reward": float(traj.reward.mean()),
        }

        batch = (traj.obs, traj.action, traj.log_prob, traj.value, advantages, returns)
        batch = jax.tree.map(lambda x: x.reshape(config.num_steps * num_envs, *x.shape[2:]), batch)
        return runner_state, batch, metrics

    def loss_fn(params, apply_fn, minibatch):
        obs, action, old_log_prob, old_value, adv, ret = minibatch
        logits, value = apply_fn(params, obs)
        log_probs = jax.nn.log_softmax(logits)
        log_prob = jnp.take_along_axis(log_probs, action[:, None], axis=1)[:, 0]
        adv = (adv - adv.mean()) / max(adv.std(), 1e-8)
        ratio = jnp.exp(log_prob - old_log_prob)
        clipped = jnp.clip(ratio, 1.0 - config.clip_eps, 1.0 + config.clip_eps)
        pg_loss = -jnp.minimum(ratio * adv, clipped * adv).mean()
        v_clipped = old_value + jnp.clip(value - old_value, -config.clip_eps, config.clip_eps)
        v_loss = 0.5 * jnp.maximum((value - ret) ** 2, (v_clipped - ret) ** 2).mean()
        entropy = -(jnp.exp(log_probs) * log_probs).sum(-1).mean()
        total = pg_loss + config.vf_coef * v_loss - config.ent_coef * entropy
        return total, (pg_loss, v_loss, entropy)

    @jax.jit
    def update(train_state, batch, key):
        batch_size = batch[0].shape[0]
        minibatch_size = batch_size // config.num_minibatches
        for _ in range(config.update_epochs):
            key, k_perm = jax.random.split(key)
            perm = jax.random.permutation(k_perm, batch_size)
            for i in range(config.num_minibatches):
                idx = perm[i * minibatch_size : (i + 1) * minibatch_size]
                minibatch = jax.tree.map(lambda x: x[idx], batch)
                (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                    train_state.params, train_state.apply_fn, minibatch
                )
                train_state = train_state.apply_gradients(grads=grads)
        return train_state, {"loss": loss, "pg_loss": aux[0], "v_loss": aux[1], "entropy": aux[2]}

    def train(env_params, key, num_envs):
        key, k_init = jax.random.split(key)
        params = network.init(k_init, jnp.zeros((1, *env.obs_shape)))
        train_state = TrainState.create(apply_fn=network.apply, params=params, tx=tx)
        # every env starts out "done", so step_fn resets it on the first step
        key, k_env = jax.random.split(key)
        runner_state = (
            env.blank_state(num_envs),
            jnp.zeros((num_envs, *env.obs_shape)),
            jnp.ones(num_envs, dtype=bool),
            k_env,
        )
        history = []
        for _ in range(config.num_updates):
            runner_state, batch, metrics = collect_rollouts(train_state, runner_state, env_params, num_envs)
            key, k_update = jax.random.split(key)
            train_state, losses = update(train_state, batch, k_update)
            history.append({**metrics, **losses})
        return train_state, history

    return train

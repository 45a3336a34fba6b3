# google-research/computation-thru-dynamics#15 "Fixed point finder tutorial notebook: optimizer state non-hashable static arguments"
import jax.numpy as np
from jax import grad, jit, lax, vmap
from jax.example_libraries import optimizers


def get_fp_loss_fun(rnn_fun):
  """Return the per-example mean squared error objective for fixed points."""
  batch_rnn_fun = vmap(rnn_fun, in_axes=(0,))
  return lambda h: np.mean((h - batch_rnn_fun(h))**2, axis=1)


def get_total_fp_loss_fun(rnn_fun):
  fp_loss_fun = get_fp_loss_fun(rnn_fun)
  return lambda h: np.mean(fp_loss_fun(h))


def optimize_fp_core(batch_idx_start, num_batches, update_fun, opt_state):
  """Gradient updates to fixed points candidates, in a lax.fori_loop."""

  def run_update(batch_idx, opt_state):
    opt_state = update_fun(batch_idx, opt_state)
    return opt_state

  lower = batch_idx_start
  upper = batch_idx_start + num_batches
  return lax.fori_loop(lower, upper, run_update, opt_state)


optimize_fp_core_jit = jit(optimize_fp_core, static_argnums=(1, 2, 3))


def optimize_fps(rnn_fun, fp_candidates, hps):
  total_fp_loss_fun = get_total_fp_loss_fun(rnn_fun)

  def get_update_fun(opt_update, get_params):
    def update(i, opt_state):
      params = get_params(opt_state)
      grads = grad(total_fp_loss_fun)(params)
      return opt_update(i, grads, opt_state)
    return update

  decay_fun = optimizers.exponential_decay(hps['step_size'], hps['decay_steps'], hps['decay_factor'])
  opt_init, opt_update, get_params = optimizers.adam(step_size=decay_fun, b1=hps['adam_b1'],
                                                     b2=hps['adam_b2'], eps=hps['adam_eps'])
  opt_state = opt_init(fp_candidates)
  update_fun = get_update_fun(opt_update, get_params)

  num_batches = hps['num_batches']
  print_every = hps['opt_print_every']
  num_opt_loops = int(num_batches / print_every)
  fp_losses = []
  for oidx in range(num_opt_loops):
    batch_idx_start = oidx * print_every
    opt_state = optimize_fp_core_jit(batch_idx_start, print_every, update_fun, opt_state)
    fps = get_params(opt_state)
    fp_losses.append(total_fp_loss_fun(fps))
  return fps, {'fp_losses': fp_losses}


def run():
  W = 0.9 * np.eye(4)
  rnn_fun = lambda h: np.tanh(W @ h)
  fp_candidates = np.ones((8, 4))
  hps = {'num_batches': 20, 'step_size': 0.1, 'decay_factor': 0.9999, 'decay_steps': 1,
         'adam_b1': 0.9, 'adam_b2': 0.999, 'adam_eps': 1e-5, 'opt_print_every': 10}
  return optimize_fps(rnn_fun, fp_candidates, hps)


if __name__ == "__main__":
  run()

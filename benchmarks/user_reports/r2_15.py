# optax custom schedule: Python `if` on the traced step count inside the jitted update
import jax, jax.numpy as jnp, optax

WARMUP = 10

def lr_schedule(step):
    if step < WARMUP:
        return 1e-3 * step / WARMUP
    return 1e-3

opt = optax.adam(learning_rate=lr_schedule)

@jax.jit
def update(params, opt_state, grads):
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

def run():
    params = jnp.ones(3)
    opt_state = opt.init(params)
    return update(params, opt_state, jnp.ones(3))
if __name__ == "__main__": run()

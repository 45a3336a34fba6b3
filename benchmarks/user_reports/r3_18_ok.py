# fixed: no Python check on the traced temperature; jnp.maximum guards the division (the merged version)
import jax
import jax.numpy as jnp

EPSILON = 1e-9


def temperature_scale(logits, temperature):
    """Scale logits by temperature."""
    # Prevent division by zero by adding a small epsilon if temperature is zero
    safe_temperature = jnp.maximum(temperature, EPSILON)
    return logits / safe_temperature


def top_k_logits(logits, k):
    """Mask all logits except the top k."""
    values, _ = jax.lax.top_k(logits, k)
    min_values = values[..., -1:]
    return jnp.where(logits < min_values, jnp.full_like(logits, -1e9), logits)


def sample_logits(logits, rng_key, temperature=1.0, top_k=None, do_sample=True):
    """Sample a token index from the logits."""
    if not do_sample:
        return jnp.argmax(logits, axis=-1)
    logits = temperature_scale(logits, temperature)
    if top_k is not None:
        logits = top_k_logits(logits, top_k)
    return jax.random.categorical(rng_key, logits, axis=-1)


def generate(apply_fn, params, input_ids, max_length, rng, temperature=1.0, top_k=None, do_sample=True):
    sample_step = jax.jit(sample_logits, static_argnames=("top_k", "do_sample"))
    for _ in range(max_length - input_ids.shape[1]):
        logits = apply_fn(params, input_ids)[:, -1, :]
        rng, step_key = jax.random.split(rng)
        next_token = sample_step(logits, step_key, temperature, top_k=top_k, do_sample=do_sample)
        input_ids = jnp.concatenate([input_ids, next_token[:, None]], axis=1)
    return input_ids


def toy_lm(params, input_ids):
    return jnp.take(params, input_ids, axis=0)


def run():
    vocab = 16
    params = jax.random.normal(jax.random.PRNGKey(0), (vocab, vocab))
    input_ids = jnp.zeros((2, 1), dtype=jnp.int32)
    return generate(toy_lm, params, input_ids, max_length=6, rng=jax.random.PRNGKey(1),
                    temperature=0.7, top_k=5)


if __name__ == "__main__":
    run()

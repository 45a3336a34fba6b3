# jax-ml/jax#23637 "when a tracer error happens in for_loop, should point to the user's body function"
import jax


def body(_, c):
    return bool(c)


def run():
    return jax.lax.fori_loop(0, 5, body, 3.)

# StackOverflow "How to loop a random number of times in jax with jit compilation" (https://openillumi.com/en/en-jax-jit-dynamic-loop-error-fix): range() of a jax.random.randint count inside @jax.jit
import jax


@jax.jit
def do_stuff(start):
    key = jax.random.PRNGKey(0)
    num_iters = jax.random.randint(key, (1,), 1, 10)
    for i in range(num_iters):
        start = start + i
    return start


def run():
    return do_stuff(0)


if __name__ == "__main__":
    run()

# fixed: draw the count outside jit, convert it with int() and pass it as a static argument (the accepted answer)
from functools import partial

import jax


@partial(jax.jit, static_argnums=(1,))
def do_stuff(start, num_iters):
    for i in range(num_iters):
        start = start + i
    return start


def run():
    key = jax.random.PRNGKey(0)
    num_iters = int(jax.random.randint(key, (), 1, 10))
    return do_stuff(0, num_iters)


if __name__ == "__main__":
    run()

# jax-ml/jax#7542 "`jnp.apply_along_axis` errors, but numpy works" (jnp.apply_along_axis(jnp.where, 1, x))
import numpy as np
import jax.numpy as jnp


def run():
    x = np.array([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 0]])
    print(np.apply_along_axis(np.where, 1, x).squeeze())
    return jnp.apply_along_axis(jnp.where, 1, x).squeeze()


if __name__ == "__main__":
    run()

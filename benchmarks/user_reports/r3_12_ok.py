# fixed: give jnp.where a static size so the mapped function has a static output shape (the answer)
import numpy as np
import jax.numpy as jnp


def run():
    x = np.array([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 0]])
    print(np.apply_along_axis(np.where, 1, x).squeeze())
    return jnp.apply_along_axis(lambda row: jnp.where(row, size=2)[0], 1, x)


if __name__ == "__main__":
    run()

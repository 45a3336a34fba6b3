# jax-ml/jax#968 "Generating random numbers with `jax.random.split` can be >200x slower than `np.random.normal`" (jitted compare() chains comparisons with `and`)
import jax.numpy as np
import jax.random as random
from jax import jit

z = random.normal(random.PRNGKey(123123), shape=[10, 10])


@jit
def compare(z, i, j):
    return z[j, i] <= z[j - 1, i] and z[j, i] <= z[j + 1, i] and z[j, i] <= z[j, i - 1] and z[j, i] <= z[j, i + 1]


def run():
    points = []
    for i in range(10):
        if i in [0, 9]: continue
        for j in range(10):
            if j in [0, 9]: continue
            if compare(z, i, j):
                points.append([i, j])
    return points


if __name__ == "__main__":
    run()

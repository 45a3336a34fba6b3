# jax-ml/jax#5186 "new version breaks arange?" (morphine geometry.filled_circle_aa, index_update -> .at)
import jax
import jax.numpy as np


def filled_circle_aa(shape, xcenter, ycenter, radius, xarray, yarray, fillvalue=1):
    array = np.zeros(shape)
    r = np.sqrt((xarray - xcenter) ** 2 + (yarray - ycenter) ** 2)
    array = array.at[r < radius].set(fillvalue)
    return array


@jax.jit
def pupil(radius):
    y, x = np.indices((8, 8), dtype=float)
    return filled_circle_aa((8, 8), 4.0, 4.0, radius, x, y)


def run():
    return pupil(3.0)

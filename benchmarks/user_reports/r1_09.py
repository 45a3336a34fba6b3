# jax-ml/jax#204 "Error using dynamic_update_slice with jit"
import numpy as onp
import jax.numpy as np
from jax import jit, lax


def dynamic_update_slice_test(first_row, pad_to_length):
    width = first_row.shape[0]
    empty_array = lax.full((pad_to_length, width), 0, first_row.dtype)
    first_row_reshaped = np.reshape(first_row, (1, width))
    return lax.dynamic_update_slice(empty_array, first_row_reshaped, (0, 0))


def run():
    f = jit(dynamic_update_slice_test)
    return f(onp.array([1, 2]), 4)

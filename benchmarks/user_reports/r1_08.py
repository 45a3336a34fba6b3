# google/jaxonnxruntime#29 "Cannot jax.jit the nonzero operator"
import functools
import jax
import jax.numpy as jnp


@functools.partial(jax.jit)
def onnx_nonzero(x):
    return jnp.stack(jnp.nonzero(x))


def run():
    return onnx_nonzero(jnp.array([[1, 0], [0, 3]]))

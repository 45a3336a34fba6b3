# jax-ml/jax#22098 "remove double dots from an error message"
import jax


@jax.jit
def f(qiaoqiao):
    if True and qiaoqiao:
        return 1
    return 0


def run():
    return f(True)

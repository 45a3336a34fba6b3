# php.wlsqs.com/faq/1902260 (SO: grad of lax.switch with chained comparisons): 0. < x < 1. in switch branches
import jax.numpy as jnp
from jax.lax import switch
from jax import grad

func_0 = lambda x: jnp.where(0. < x < 1., x, 0.)
func_1 = lambda x: jnp.where(0. < x < 1., x, 1.)
func_list = [func_0, func_1]
func = lambda index, x: switch(index, func_list, x)

def run():
    return grad(func, argnums=1)(1, 0.5)
if __name__ == "__main__": run()

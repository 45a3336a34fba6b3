# diffrax#379 "FLOPS count": max_steps passed as a jit argument reaches `if max_steps == 1` in the library loop
import jax, jax.numpy as jnp

def checkpointed_while_loop(cond_fun, body_fun, init_val, max_steps):
    if max_steps == 1:
        return body_fun(init_val)
    return jax.lax.while_loop(cond_fun, body_fun, init_val)

def diffeqsolve(y0, dt0, max_steps=4096):
    def cond(c): return c[0] < 1.0
    def body(c): return (c[0] + dt0, c[1] - dt0 * c[1])
    return checkpointed_while_loop(cond, body, (0.0, y0), max_steps=max_steps)

@jax.jit
def solve(y0, max_steps):
    return diffeqsolve(y0, 0.1, max_steps=max_steps)

def run():
    return solve(jnp.ones(2), 100)
if __name__ == "__main__": run()

# fixed: static field
import jax, jax.numpy as jnp
from flax import struct

@struct.dataclass
class GuidanceParams:
    lambda_prior: float = 0.1
    max_iters: int = struct.field(pytree_node=False, default=5)

@jax.jit
def _optimize_vmapped(x, guidance_params: GuidanceParams):
    costs = jnp.zeros((guidance_params.max_iters,))
    return x * guidance_params.lambda_prior + costs.sum()

def run():
    return _optimize_vmapped(jnp.ones(3), GuidanceParams())
if __name__ == "__main__": run()

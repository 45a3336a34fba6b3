# waymax#37 "Discrete Wrapper incompatible with jax.lax.scan": discretizer maps traced action index with numpy
import jax, jax.numpy as jnp, numpy as np

class Discretizer:
    def __init__(self, min_value, max_value, bins):
        self._min = np.asarray(min_value); self._max = np.asarray(max_value); self._bins = np.asarray(bins)
    def make_continuous(self, index):
        idx = np.unravel_index(index, tuple(self._bins + 1))   # numpy on traced index
        return self._min + np.array(idx) * (self._max - self._min) / self._bins

class DiscreteActionSpaceWrapper:
    def __init__(self, dynamics_model, bins):
        self._cont = dynamics_model
        self._disc = Discretizer([-1.0, -1.0], [1.0, 1.0], bins)
    def compute_update(self, action, state):
        cont = self._disc.make_continuous(action)
        return self._cont(cont, state)

dyn = DiscreteActionSpaceWrapper(lambda a, s: s + jnp.sum(a), [4, 4])

def run():
    def body(state, action):
        state = dyn.compute_update(action, state)
        return state, state
    return jax.lax.scan(body, jnp.zeros(()), jnp.arange(5))
if __name__ == "__main__": run()

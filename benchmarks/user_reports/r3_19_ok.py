# fixed: a traced rhs (solve called from inside a caller's jit) takes the whole-array path (the PR)
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl


class TPMatrix:
    """Tensor-product matrix with a cached LU factorization."""

    def __init__(self, A):
        self.shape = A.shape[:1]
        self._lu = jsl.lu_factor(A)
        self._solve_jit = jax.jit(lambda lu, piv, b: jsl.lu_solve((lu, piv), b))

    def _solve_per_device(self, rhs):
        return jax.device_put(self._solve_jit(*self._lu, rhs), rhs.sharding)

    def solve(self, rhs):
        """Solution with the same shape and sharding as ``rhs``."""
        if not isinstance(rhs, jax.core.Tracer) and len(rhs.devices()) > 1:
            return self._solve_per_device(rhs)
        return self._solve_jit(*self._lu, rhs)


class IMEXEuler:
    def __init__(self, N, dt, nu=0.1):
        k = jnp.arange(N, dtype=float)
        self.dt = dt
        self.mat = TPMatrix(jnp.diag(1.0 + dt * nu * k**2) + 0.01 * jnp.eye(N, k=1))

    def nonlinear(self, u):
        return -u * jnp.gradient(u)

    def step(self, u):
        rhs = u + self.dt * self.nonlinear(u)
        return self.mat.solve(rhs)

    def run(self, u0, steps):
        step = jax.jit(self.step)
        u = u0
        for _ in range(steps):
            u = step(u)
        return u


def run():
    N = 16
    integrator = IMEXEuler(N, dt=0.01)
    u0 = jnp.sin(jnp.linspace(0, 2 * jnp.pi, N))
    return integrator.run(u0, 3)


if __name__ == "__main__":
    run()

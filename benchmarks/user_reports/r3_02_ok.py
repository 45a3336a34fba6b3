# fixed: the inputs are converted to JAX arrays before the loop indexes them with the traced loop index
import jax
import jax.numpy as jnp
import numpy as np
from jax.test_util import check_grads

LIGHTSPEED = 299792458.0


def phase_delay(lm, uvw, frequency):
    l = lm[:, 0]
    m = lm[:, 1]
    n = jnp.sqrt(1.0 - l**2 - m**2) - 1.0
    u = uvw[:, 0]
    v = uvw[:, 1]
    w = uvw[:, 2]
    real_phase = -2.0 * jnp.pi * (
        l[:, None] * u[None, :] + m[:, None] * v[None, :] + n[:, None] * w[None, :]
    )
    return jnp.cos(real_phase[:, :, None] * frequency[None, None, :] / LIGHTSPEED)


def fused_rime(lm, uvw, frequency, stokes):
    lm, uvw, frequency, stokes = map(jnp.asarray, (lm, uvw, frequency, stokes))
    source = lm.shape[0]
    row = uvw.shape[0]
    chan = frequency.shape[0]
    vis = jnp.zeros((row, chan, stokes.shape[1]), dtype=jnp.float32)

    def body(s, vis):
        phdelay = phase_delay(lm[None, s], uvw, frequency)
        brness = stokes[None, s]
        coh = jnp.einsum("srf,si->rfi", phdelay, brness)
        return vis + coh

    return jax.lax.fori_loop(0, source, body, vis)


def loss(lm, uvw, frequency, stokes):
    return jnp.sum(fused_rime(lm, uvw, frequency, stokes))


def run():
    rs = np.random.RandomState(0)
    lm = rs.uniform(-0.01, 0.01, (3, 2)).astype(np.float32)
    uvw = rs.uniform(-10.0, 10.0, (5, 3)).astype(np.float32)
    frequency = np.linspace(0.8e9, 1.2e9, 4).astype(np.float32)
    stokes = rs.uniform(0.5, 1.0, (3, 4)).astype(np.float32)
    jax.grad(loss, argnums=(0, 1, 2, 3))(lm, uvw, frequency, stokes)
    check_grads(loss, (lm, uvw, frequency, stokes), order=1, modes=["fwd"], atol=1.0, rtol=1.0)


if __name__ == "__main__":
    run()

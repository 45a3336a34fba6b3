# fixed: m and n are static arguments of the jitted gradient (the answer)
import jax.numpy as np
import numpy as onp
from jax import grad, jit


def spatial_functional(X, Y, K, m, n, lambda_, tau, h):
    r = X.shape[0]
    X_imshape = np.reshape(X, (r, m, n), order='F')
    data_term = 0.5 * np.sum((K @ X - Y)**2)
    dx = np.diff(X_imshape, axis=1) / h
    dy = np.diff(X_imshape, axis=2) / h
    tv = np.sum(np.sqrt(dx[:, :, :-1]**2 + dy[:, :-1, :]**2 + tau))
    return data_term + lambda_ * tv


jax_gradient_spatial_functional = jit(grad(spatial_functional), static_argnums=(3, 4))


def projectVectorsCanonicalSimplex(X):
    X = np.maximum(X, 0.0)
    return X / np.sum(X, axis=0, keepdims=True)


def optimII(x0, fGrad, projC, alpha0, L, maxIter):
    """Accelerated projected gradient descent."""
    xOld = x0
    yOld = x0
    alpha = alpha0
    for _ in range(maxIter):
        xNew = projC(yOld - 1 / L * fGrad(yOld))
        alphaNew = 0.5 * (1 + onp.sqrt(1 + 4 * alpha**2))
        yOld = xNew + (alpha - 1) / alphaNew * (xNew - xOld)
        xOld, alpha = xNew, alphaNew
    return xOld


def main():
    m, n, r, bands = 4, 5, 3, 6
    rs = onp.random.RandomState(0)
    K_GT = np.asarray(rs.rand(bands, r))
    Y = np.asarray(rs.rand(bands, m * n))
    x0 = np.ones((r, m * n)) / r
    lambda_, tau, h = 0.1, 1e-3, 1.0
    x_res = optimII(x0, lambda x: jax_gradient_spatial_functional(x, Y, K_GT, m, n, lambda_, tau, h),
                    projectVectorsCanonicalSimplex, 1.0, 10.0, 5)
    return x_res


def run():
    return main()


if __name__ == "__main__":
    run()

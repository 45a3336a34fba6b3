"""jaxlint: find JAX tracer hazards statically, before ``jax.jit`` does."""

__version__ = "0.1.0"

"""``jaxstress bench``: the stress sweep and hardware profiles (see SPEC section 3).

Modules: `sweep` (the grid runner and ``--check``), `point` (one configuration in its own
process), `envs` (env loading and the jit-vs-eager check), `memory` (predicted and measured
peak memory, bandwidth bound), `profile` (profile JSON), `plot` (PNG), `table` (rich table),
`commands` (the CLI). Importing this package does not import JAX.
"""

"""The trace analysis: which values JAX traces, and why."""

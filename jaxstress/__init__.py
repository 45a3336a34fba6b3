"""jaxstress: the trace-safe trading runtime, PPO trainer and hardware stress sweep."""

__version__ = "0.1.0"

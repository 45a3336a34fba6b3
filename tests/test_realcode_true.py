"""The true findings of the real-code corpus (benchmarks/realcode_triage.json), shown with JAX.

Each verdict "true" there names an error that JAX really raises; these programs raise it. optax is
installed, so its bug runs in optax itself; dynamax is not a dependency, so its pattern is written
out in the shape it has in dynamax 1.0.3 (``hmm_smoother`` jitted with
``static_argnames=["transition_fn"]`` only, branching on its ``compute_trans_probs`` argument).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from optax.losses import _segmentation

TRIAGE = Path(__file__).resolve().parent.parent / "benchmarks" / "realcode_triage.json"


def _true(project: str) -> list[dict]:
    entries = json.loads(TRIAGE.read_text(encoding="utf-8"))
    return [e for e in entries if e["project"] == project and e["verdict"] == "true"]


def test_optax_dice_loss_without_softmax_raises_under_jit() -> None:
    assert {e["line"] for e in _true("optax")} >= {156}
    predictions = jnp.full((2, 4, 3), 1 / 3)
    targets = jnp.ones((2, 4, 3))
    # eagerly it runs: the check is a Python `if` on concrete values
    _segmentation.dice_loss(predictions, targets, apply_softmax=False)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(lambda p, t: _segmentation.dice_loss(p, t, apply_softmax=False))(
            predictions, targets
        )


@partial(jax.jit, static_argnames=["transition_fn"])
def hmm_smoother(initial_probs, log_likelihoods, transition_fn=None, compute_trans_probs=True):
    smoothed = jax.nn.softmax(log_likelihoods + jnp.log(initial_probs), axis=-1)
    if compute_trans_probs:
        return smoothed, smoothed[:-1, :, None] * smoothed[1:, None, :]
    return smoothed, None


def test_dynamax_compute_trans_probs_is_traced() -> None:
    assert {e["line"] for e in _true("dynamax")} == {255, 337}
    probs, lls = jnp.full(3, 1 / 3), jnp.zeros((5, 3))
    hmm_smoother(probs, lls)  # the default is filled in inside the trace: a Python bool
    with pytest.raises(jax.errors.TracerBoolConversionError):
        hmm_smoother(probs, lls, compute_trans_probs=False)

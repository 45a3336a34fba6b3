"""The hazard table of shared/jax-hazards.md, measured: every (hazard, transform) program is run
with JAX, and jaxlint must report each failing one at the line JAX raises with the class JAX
raised, and nothing on the programs that trace cleanly (benchmarks/hazard_table.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import hazard_table


@pytest.mark.slow
def test_every_hazard_found_with_its_class_and_no_false_positive() -> None:
    cases = hazard_table.run_all()
    wrong = [
        c
        for c in cases
        if c.verdict not in ("tp", "tn", "eager")
        and not (c.verdict == "fn" and c.hazard in hazard_table.KNOWN_MISSES)
    ]
    missed = {c.hazard for c in cases if c.verdict == "fn"}
    assert missed == set(hazard_table.KNOWN_MISSES), "update KNOWN_MISSES"
    assert not wrong, "\n".join(
        f"{c.verdict} {c.hazard} under {c.transform}: JAX {c.jax_error}@{c.jax_line}, "
        f"jaxlint {c.findings}"
        for c in wrong
    )
    s = hazard_table.summary(cases)
    assert s["tp"] >= 250 and s["tn"] >= 120, s  # the table really exercises both sides

"""benchmarks/fix_table.py in CI: every hazard jaxlint finds, fixed with --fix --unsafe-fixes, runs
under its transform and matches the eager original, except KNOWN_UNFIXABLE (which fails when an
entry gets fixed: keep it current); no fix is ever broken, non-idempotent or unparsable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import fix_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows() -> list[fix_table.Row]:
    return fix_table.run_all()


def test_no_fix_is_broken(rows: list[fix_table.Row]) -> None:
    broken = [f"{r.pattern}/{r.transform}: {r.error}" for r in rows if r.verdict == "broken"]
    assert not broken, "\n".join(broken)


def test_every_fix_is_idempotent_and_parses(rows: list[fix_table.Row]) -> None:
    bad = [
        f"{r.pattern}/{r.transform}"
        for r in rows
        if r.verdict is not None and not (r.idempotent and r.parses)
    ]
    assert not bad


def test_found_hazards_are_fixed_or_known(rows: list[fix_table.Row]) -> None:
    found = [r for r in rows if r.verdict not in (None, "not found")]
    unexpected = [
        f"{r.verdict}: {r.pattern}/{r.transform} {r.codes} -> {r.left} {r.error or ''}"
        for r in found
        if r.verdict != "equal" and not fix_table.known_unfixable(r)
    ]
    assert not unexpected, "\n".join(unexpected)
    stale = [
        f"{r.pattern}/{r.transform}"
        for r in found
        if r.verdict == "equal" and fix_table.known_unfixable(r)
    ]
    assert not stale, f"fixed now: remove from KNOWN_UNFIXABLE: {stale}"
    keys = {f"{r.pattern}/{r.transform}" for r in found} | {f"{r.pattern}/*" for r in found}
    unused = sorted(set(fix_table.KNOWN_UNFIXABLE) - keys)
    assert not unused, f"KNOWN_UNFIXABLE entries that match no found hazard: {unused}"


def test_fixed_and_equal_rows_lint_clean(rows: list[fix_table.Row]) -> None:
    left = [f"{r.pattern}/{r.transform}: {r.left}" for r in rows if r.verdict == "equal" and r.left]
    assert not left, left


def test_example_migration_row(rows: list[fix_table.Row]) -> None:
    (example,) = [r for r in rows if r.pattern == "examples/jax_migration"]
    assert example.verdict == "equal", example.error
    assert example.left == [] and example.idempotent and example.parses

"""Code that traces cleanly must get no finding: one minimal program per false positive found on
real public JAX code (see each fixture's docstring for the pattern). JAX runs each program, so a
fixture cannot claim a clean trace that JAX does not confirm."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax.numpy as jnp
import pytest

from jaxlint.engine import lint_source

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "precision").glob("*.py"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_no_finding_on_code_that_traces(path: Path) -> None:
    assert lint_source(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_jax_traces_the_fixture(path: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"precision_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.run()


KEYWORD_WHERE = """\
import jax
import jax.numpy as jnp


@jax.jit
def clear(book):
    return jnp.where(book[:, 1] <= 0, x=-jnp.ones_like(book), y=book)
"""


def test_where_with_keyword_operands_is_not_a_data_dependent_shape() -> None:
    """`jnp.where(c, x=..., y=...)` (jaxlob) is the three-argument form: no JX402. JAX 0.10 takes
    x and y by position only and raises TypeError at the call, which is not a tracer hazard."""
    assert [f.code for f in lint_source(KEYWORD_WHERE, "book.py")] == []
    namespace: dict[str, object] = {}
    exec(compile(KEYWORD_WHERE, "book.py", "exec"), namespace)
    with pytest.raises(TypeError, match="positional-only"):
        namespace["clear"](jnp.ones((3, 2)))  # type: ignore[operator]

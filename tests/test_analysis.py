"""Behaviour of the trace analysis across files: what is traced, why, and where it is reported.

Each hazard claimed here is also run through JAX, so the analysis cannot drift from what JAX does.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

from jaxlint.engine import lint_files, lint_source
from jaxlint.settings import Settings


def write(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code).lstrip(), encoding="utf-8")
    return path


def jax_failure(tmp_path: Path, module: str, entry: str = "run") -> tuple[str, str, int]:
    """Run ``module.entry()`` from tmp_path; return (exception class, file name, line)."""
    sys.path.insert(0, str(tmp_path))
    try:
        for name in list(sys.modules):
            if name in {p.stem for p in tmp_path.glob("*.py")}:
                del sys.modules[name]
        mod = importlib.import_module(module)
        try:
            getattr(mod, entry)()
        except Exception as exc:
            frames = [
                f
                for f in traceback.extract_tb(exc.__traceback__)
                if f.filename.startswith(str(tmp_path))
            ]
            return type(exc).__name__, Path(frames[-1].filename).name, frames[-1].lineno or 0
        raise AssertionError("expected JAX to fail")
    finally:
        sys.path.remove(str(tmp_path))


def test_hazard_in_a_helper_module_is_reported_there_with_the_chain(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tables.py",
        """
        import numpy as np

        PRICES = np.linspace(1.0, 2.0, 16)


        def price_at(t):
            return PRICES[t]
        """,
    )
    write(
        tmp_path,
        "env.py",
        """
        import jax

        from tables import price_at


        @jax.jit
        def step(t):
            return price_at(t + 1)


        def run():
            return step(3)
        """,
    )
    files = sorted(tmp_path.glob("*.py"))
    result = lint_files(files, Settings(), display=[f.name for f in files])
    (finding,) = result.findings
    assert (finding.path, finding.line, finding.code) == ("tables.py", 7, "JX101")
    assert finding.jax_error == "TracerArrayConversionError"
    assert finding.trace[0] == "step() is traced: decorated with @jax.jit at env.py:6"
    assert finding.trace[1] == "`t` is argument 1 of step()"
    assert "price_at() at env.py:8" in finding.trace[2]
    assert jax_failure(tmp_path, "env") == ("TracerArrayConversionError", "tables.py", 7)


def test_with_reason_keeps_every_other_field() -> None:
    """``Value.with_reason`` copies the fields by position (not ``dataclasses.replace``)."""
    import dataclasses

    from jaxlint.analysis.values import Value

    given = {f.name: object() for f in dataclasses.fields(Value)}
    reason = (("why", None),)
    got = Value(**given).with_reason(reason)
    assert {f.name: getattr(got, f.name) for f in dataclasses.fields(Value)} == {
        **given,
        "reason": reason,
    }


def test_columns_count_characters_not_bytes() -> None:
    code = textwrap.dedent(
        """
        import jax
        import numpy as np

        TABLE = np.arange(4.0)


        @jax.jit
        def f(i):
            label = "prix é"; return TABLE[i]
        """
    ).lstrip()
    (finding,) = lint_source(code, "m.py")
    line = code.splitlines()[finding.line - 1]
    assert line[finding.column - 1 : finding.end_column - 1] == "TABLE[i]"


def test_recursion_and_cycles_terminate() -> None:
    code = textwrap.dedent(
        """
        import jax


        def ping(x, n):
            return pong(x, n - 1)


        def pong(x, n):
            return ping(x, n)


        @jax.jit
        def f(x):
            return ping(x, 3)
        """
    )
    assert lint_source(code, "m.py") == []


def test_pytree_of_unknown_structure_is_not_taken_for_an_array() -> None:
    """Attributes of a pytree whose class is unknown may be static metadata: no finding."""
    code = textwrap.dedent(
        """
        import jax


        @jax.jit
        def f(tree, x):
            if tree.config:
                x = x + 1
            return x
        """
    )
    assert lint_source(code, "m.py") == []


def test_module_that_never_mentions_jax_is_analysed_when_traced_code_calls_it(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "util.py",
        """
        def clipped(v, hi):
            if v > hi:
                return hi
            return v
        """,
    )
    write(
        tmp_path,
        "main.py",
        """
        import jax

        import util


        @jax.jit
        def f(x):
            return util.clipped(x, 1.0)


        def run():
            return f(2.0)
        """,
    )
    files = sorted(tmp_path.glob("*.py"))
    result = lint_files(files, Settings(), display=[f.name for f in files])
    assert [(f.path, f.line, f.code) for f in result.findings] == [("util.py", 2, "JX301")]
    assert jax_failure(tmp_path, "main") == ("TracerBoolConversionError", "util.py", 2)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, [(6, "JX401")]),
        ({"static_names": ("n",)}, []),
        ({"extend_transforms": ("my_jit",)}, [(6, "JX401"), (11, "JX401")]),
    ],
)
def test_settings_change_what_is_traced(extra: dict, expected: list) -> None:
    code = textwrap.dedent(
        """
        import jax
        import jax.numpy as jnp

        @jax.jit
        def f(n):
            return jnp.zeros(n)


        @my_jit
        def g(n):
            return jnp.zeros(n)
        """
    ).lstrip()
    got = [(f.line, f.code) for f in lint_source(code, "m.py", Settings(**extra))]
    assert got == expected

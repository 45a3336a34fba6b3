"""Traces that cross into library code: a project function a library calls back under its own
trace (a numpyro model sampled by ``MCMC.run``, an optax schedule called by a jitted
``opt.update``) and JAX's own functions handed to transforms (``jax.jit(jnp.sum)(x, 0)``,
``jnp.apply_along_axis(jnp.unique, 0, x)``).

Each hazard fixture is run with the installed JAX and library: every ``case_*`` function must
raise the class its ``# expect:`` comment names, at that line (the innermost frame of the
fixture in the traceback); jaxlint must report exactly those lines, codes and classes, with a
trace that names the library call. Each fixed twin must run and get no finding."""

from __future__ import annotations

import importlib.util
import inspect
import re
import traceback
from pathlib import Path
from types import ModuleType

import pytest
from expectations import expected_markers

from jaxlint.analysis import knowledge as K
from jaxlint.engine import lint_source

FIXTURES = Path(__file__).parent / "fixtures" / "libraries"

# fixture stem -> (library the program needs, what the first trace steps must name)
CASES = {
    "jax_functions": ("jax", r"(passed to (jax\.jit|jax\.vmap|jnp\.apply_along_axis|lax\.map))"),
    "optax_schedule": ("optax", r"passed to optax\.(adam|inject_hyperparams\(\)) at"),
    "numpyro_model": ("numpyro", r"passed to numpyro\.infer\.NUTS at"),
}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_lib_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cases(module: ModuleType) -> list[str]:
    return sorted(k for k in vars(module) if k.startswith("case_"))


def _lint(path: Path) -> list:
    return lint_source(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("stem", sorted(CASES))
def test_jax_raises_what_the_findings_say(stem: str) -> None:
    library, chain = CASES[stem]
    pytest.importorskip(library)
    path = FIXTURES / f"{stem}_hazards.py"
    expected = expected_markers(path.read_text(encoding="utf-8"))
    module = _load(path)
    raised = set()
    for case in _cases(module):
        with pytest.raises(Exception) as info:
            getattr(module, case)()
        frames = [
            f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == str(path)
        ]
        line = frames[-1].lineno
        match = {e for e in expected if e[0] == line}
        assert match, f"{case}: JAX raised {type(info.value).__name__} at line {line}"
        assert type(info.value).__name__ == next(iter(match))[2], case
        raised |= match
    assert raised == expected
    findings = _lint(path)
    assert {(f.line, f.code, f.jax_error) for f in findings} == expected
    for f in findings:
        assert any(re.search(chain, step) for step in f.trace), f.trace


@pytest.mark.parametrize("stem", sorted(CASES))
def test_fixed_twin_runs_and_is_clean(stem: str) -> None:
    pytest.importorskip(CASES[stem][0])
    path = FIXTURES / f"{stem}_fixed.py"
    module = _load(path)
    for case in _cases(module):
        getattr(module, case)()
    assert _lint(path) == []


def test_library_function_findings_have_no_fix() -> None:
    """The code to change is the library call's arguments, not the transform call's text."""
    findings = _lint(FIXTURES / "jax_functions_hazards.py")
    assert findings and all(f.fix is None for f in findings)


def test_callbacks_outside_a_trace_are_not_traced() -> None:
    """A schedule called with Python numbers (plotting it) or an optimizer never updated under
    a trace: nothing is traced."""
    text = (
        "import numpy as np\nimport optax\n\n\n"
        "def schedule(count):\n    return np.cos(count)\n\n\n"
        "opt = optax.adam(schedule)\n\n\n"
        "def run(params, grads):\n"
        "    state = opt.init(params)\n"
        "    return opt.update(grads, state, params), [schedule(i) for i in range(3)]\n"
    )
    assert lint_source(text, "sched.py") == []


def test_axis_positions_match_jax_signatures() -> None:
    """Where an axis is passed positionally, read from the installed JAX's signatures."""
    import importlib

    pytest.importorskip("jax")
    for qual, (positions, keywords, _) in K.AXIS_ARGS.items():
        module, _, name = qual.rpartition(".")
        params = list(inspect.signature(getattr(importlib.import_module(module), name)).parameters)
        assert tuple(params.index(k) for k in keywords) == positions, qual


def test_no_analysis_error_on_the_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analysis errors cost one function's precision silently; here they must not happen."""
    from jaxlint.analysis import calls

    monkeypatch.setattr(calls, "DEBUG", True)
    for path in sorted(FIXTURES.glob("*.py")):
        _lint(path)

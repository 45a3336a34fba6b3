"""Installed libraries read from source: a project class that subclasses a library's base gets the
traces of the library's own transforms (gymnax's jitted ``Environment.step`` calls the project's
``step_env``). JAX runs every fixture to confirm what it raises."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from expectations import expected_markers

from jaxlint.engine import lint_source
from jaxlint.settings import Settings

pytest.importorskip("gymnax")

FIXTURES = Path(__file__).parent / "fixtures" / "libraries"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gymnax_subclass_hazards_found_through_the_library() -> None:
    path = FIXTURES / "gymnax_env_hazards.py"
    text = path.read_text(encoding="utf-8")
    findings = lint_source(text, str(path))
    got = {(f.line, f.code, f.jax_error) for f in findings}
    assert got == expected_markers(text)
    for f in findings:
        # the chain starts at gymnax's own jitted method, in the installed package
        assert re.search(
            r"(step|reset)\(\) is traced: decorated with @jax\.jit at .*gymnax", f.trace[0]
        )


def test_jax_raises_what_the_findings_say() -> None:
    module = _load(FIXTURES / "gymnax_env_hazards.py")
    env = module.Walk()
    key = __import__("jax").random.PRNGKey(0)
    from jax.errors import ConcretizationTypeError, TracerBoolConversionError

    with pytest.raises(ConcretizationTypeError) as reset_error:
        env.reset(key, env.default_params)
    assert not isinstance(reset_error.value, TracerBoolConversionError)
    fixed = _load(FIXTURES / "gymnax_env_fixed.py")
    _, state = fixed.Walk().reset(key, env.default_params)
    with pytest.raises(TracerBoolConversionError):
        env.step(key, state, 1.0, env.default_params)


def test_fixed_env_is_clean_and_runs() -> None:
    path = FIXTURES / "gymnax_env_fixed.py"
    assert lint_source(path.read_text(encoding="utf-8"), str(path)) == []
    _load(path).run()


def test_without_libraries_the_base_is_opaque() -> None:
    path = FIXTURES / "gymnax_env_hazards.py"
    text = path.read_text(encoding="utf-8")
    assert lint_source(text, str(path), Settings(library_paths=())) == []


def test_jaxlint_runs_without_jax_installed(tmp_path: Path) -> None:
    """With jax, numpy and the libraries unimportable, jaxlint still imports and lints, and finds
    the same: it reads the libraries' source, it never imports them."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('jax', 'jaxlib', 'flax', 'gymnax', 'numpy'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    code = (
        "import jaxlint.engine as e, sys; "
        "print(len(e.lint_source(open(sys.argv[1]).read(), sys.argv[1])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / "gymnax_env_hazards.py")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{Path(__file__).parents[1]}"},
        check=True,
    )
    assert out.stdout.strip() == "2"

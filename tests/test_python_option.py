"""``--python PATH`` / ``[tool.jaxlint] python``: installed libraries are read from the project's
own interpreter (its virtualenv), as mypy and pyright ask it, not only from jaxlint's."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from jaxlint.cli import main

# A library installed only in the project's environment: its base class jits `step`, which
# calls the subclass's `step_env` (the gymnax pattern).
LIBRARY = """import jax
from functools import partial


class Base:
    @partial(jax.jit, static_argnums=(0,))
    def step(self, x):
        return self.step_env(x)

    def step_env(self, x):
        return x
"""
PROJECT = """import jax.numpy as jnp
from envlib import Base


class Walk(Base):
    def step_env(self, x):
        if x > 0:
            return x - 1
        return jnp.asarray(x)
"""


def _interpreter(root: Path, site: Path) -> Path:
    """A stand-in for the project's python: it answers the import-path question only."""
    python = root / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\necho '{json.dumps([str(site)])}'\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return python


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "venv-site"
    (site / "envlib").mkdir(parents=True)
    (site / "envlib" / "__init__.py").write_text(LIBRARY)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "walk.py").write_text(PROJECT)
    _interpreter(root, site)
    monkeypatch.chdir(root)
    return root


def _codes(capsys: pytest.CaptureFixture[str], *argv: str) -> list[tuple[int, str]]:
    code = main(["--format", "json", "--no-cache", "--exit-zero", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [(f["line"], f["code"]) for f in json.loads(out)]


def test_without_the_projects_interpreter_the_library_is_unknown(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text("[tool.jaxlint]\n")
    assert _codes(capsys, "walk.py") == []


def test_python_option_reads_the_library_from_that_interpreter(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text("[tool.jaxlint]\n")
    assert _codes(capsys, "--python", "bin/python", "walk.py") == [(7, "JX301")]


def test_python_in_the_configuration_is_relative_to_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text('[tool.jaxlint]\npython = "bin/python"\n')
    os.chdir(project.parent)
    assert _codes(capsys, "proj/walk.py") == [(7, "JX301")]


def test_an_interpreter_that_cannot_answer_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text('[tool.jaxlint]\npython = "bin/missing"\n')
    assert main(["--no-cache", "walk.py"]) == 2
    assert "cannot ask" in capsys.readouterr().err
    (project / "pyproject.toml").write_text("[tool.jaxlint]\n")
    assert main(["--no-cache", "--python", "bin/missing", "walk.py"]) == 2
    assert "--python" in capsys.readouterr().err

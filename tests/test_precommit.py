"""The ``.pre-commit-hooks.yaml`` hooks, run by the real ``pre-commit`` (``try-repo``).

``pre-commit try-repo`` on a checkout with uncommitted work only takes the staged and the modified
tracked files (``git add -u``), not new untracked ones; so the test commits this checkout's working
tree (the package, ``pyproject.toml``, ``README.md`` and the hooks file) into a throw-away hook
repository, which pre-commit then installs into a fresh virtualenv with pip, as a user's would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")

REPO = Path(__file__).resolve().parents[1]
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "jaxlint")

# A NumPy constant indexed with a jitted parameter: JX101, with a safe fix.
HAZARD = """\
import jax
import numpy as np

TABLE = np.arange(10.0)


@jax.jit
def lookup(i):
    return TABLE[i] * 2.0
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=jaxlint-test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _commit_all(repo: Path) -> None:
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")


def _hook_repo(tmp_path: Path) -> Path:
    """This checkout's working tree, committed into a repository of its own."""
    target = tmp_path / "hook-repo"
    target.mkdir()
    for name in HOOK_REPO_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source,
                target / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".jaxlint_cache"),
            )
        else:
            shutil.copy2(source, target / name)
    _commit_all(target)
    return target


def _try_repo(
    project: Path, hook_repo: Path, hook: str, home: Path, *, all_files: bool = True
) -> subprocess.CompletedProcess:
    """``pre-commit try-repo``: on every file, or (``all_files=False``) on the staged ones."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV"))
    }
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hook_repo),
            hook,
            *(["--all-files"] if all_files else []),
            "--color",
            "never",
            "--verbose",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_hooks_file_declares_check_and_fix() -> None:
    import yaml  # pre-commit depends on PyYAML

    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"jaxlint", "jaxlint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert "python" in hook["types_or"]
        assert hook["entry"].startswith("jaxlint check")
    assert "--fix" in hooks["jaxlint-fix"]["entry"].split()
    assert "--fix" not in hooks["jaxlint"]["entry"].split()


@pytest.mark.slow
def test_try_repo_check_then_fix_then_check(tmp_path: Path) -> None:
    hook_repo = _hook_repo(tmp_path)
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    target = project / "pkg" / "table.py"
    target.write_text(HAZARD)
    _commit_all(project)
    home = tmp_path / "pre-commit-home"

    check = _try_repo(project, hook_repo, "jaxlint", home)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "pkg/table.py:9:12: JX101" in check.stdout
    assert target.read_text() == HAZARD

    fix = _try_repo(project, hook_repo, "jaxlint-fix", home)
    # pre-commit fails a hook that modified files, as it does for ruff's --fix.
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "files were modified by this hook" in fix.stdout
    assert "(1 fixed, 0 remaining)" in fix.stdout
    fixed = target.read_text()
    assert fixed != HAZARD
    assert "jax.numpy.asarray(TABLE)[i] * 2.0" in fixed or "jnp.asarray(TABLE)[i]" in fixed

    again = _try_repo(project, hook_repo, "jaxlint", home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout


# The case: env.py has no transform of its own; train.py jits a function that scans
# env.step, which is what makes env.py's code traced.
ENV = """\
import jax.numpy as jnp
import numpy as np

PRICES = np.linspace(1.0, 2.0, 100)


class Env:
    def step(self, state, action):
        price = PRICES[state]
        if action > 0:
            state = state + 1
        return state, jnp.asarray(float(price) * action)
"""
TRAIN = """\
import jax
from jax import lax

from env import Env


def make_train():
    env = Env()

    @jax.jit
    def train(state, actions):
        def body(carry, action):
            return env.step(carry, action)

        return lax.scan(body, state, actions)

    return train
"""
ENV_HEADERS = ["env.py:9:17: JX101", "env.py:10:12: JX301", "env.py:12:35: JX201"]


def _headers(output: str) -> list[str]:
    """``PATH:LINE:COL: CODE`` of each finding in the hook's text output."""
    found = re.findall(r"^(\S+:\d+:\d+: JX\d+) ", output, re.M)
    return list(found)


@pytest.mark.slow
def test_staged_files_get_the_findings_of_the_whole_project(tmp_path: Path) -> None:
    """pre-commit hands over only the staged files; their findings are those of the project."""
    hook_repo = _hook_repo(tmp_path)
    home = tmp_path / "pre-commit-home"
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    _commit_all(project)

    # Only env.py is staged: its hazards, which only train.py's jit reaches, fail the hook.
    (project / "env.py").write_text(ENV)
    _git(project, "add", "env.py")
    staged = _try_repo(project, hook_repo, "jaxlint", home, all_files=False)
    assert staged.returncode == 1, staged.stdout + staged.stderr
    assert _headers(staged.stdout) == ENV_HEADERS
    assert "train() is traced: decorated with @jax.jit at train.py:10" in staged.stdout

    # A staged caller reports its own findings, not those of the unstaged callee.
    _git(project, "commit", "-q", "-m", "env")
    caller = TRAIN.replace("from env import Env", "from env import PRICES, Env").replace(
        "return lax.scan(body, state, actions)",
        "return lax.scan(body, state, actions), PRICES[state]",
    )
    (project / "train.py").write_text(caller)
    _git(project, "add", "train.py")
    again = _try_repo(project, hook_repo, "jaxlint", home, all_files=False)
    assert again.returncode == 1, again.stdout + again.stderr
    assert _headers(again.stdout) == ["train.py:15:48: JX101"]

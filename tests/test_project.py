"""What a run analyses vs what it reports (SPEC): the given files' whole projects, reported for the
given files only, so a file's findings never depend on the other paths given, on ``-j`` or on
pre-commit passing one staged file. Everything runs ``jaxlint`` on real trees under tmp_path.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jaxlint.analysis.parallel import analyse_many
from jaxlint.analysis.project import analyse_group, module_name
from jaxlint.cli import main
from jaxlint.config import ConfigResolver
from jaxlint.discovery import ProjectFinder, project_sources
from jaxlint.settings import Settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "jax_migration"
Capsys = pytest.CaptureFixture[str]

# The case: env.py has no transform of its own; its hazards are reachable only because
# train.py jits a function that scans env.step.
ENV = """\
import jax.numpy as jnp
import numpy as np

PRICES = np.linspace(1.0, 2.0, 100)


class Env:
    def __init__(self, n_steps):
        self.n_steps = n_steps

    def step(self, state, action):
        price = PRICES[state]
        if action > 0:
            state = state + 1
        reward = float(price) * action
        return state, jnp.asarray(reward)
"""
TRAIN = """\
import jax
from jax import lax

from env import Env


def make_train(n_steps):
    env = Env(n_steps)

    @jax.jit
    def train(state, actions):
        def body(carry, action):
            carry, reward = env.step(carry, action)
            return carry, reward

        return lax.scan(body, state, actions)

    return train
"""
ENV_FINDINGS = [("env.py", 12, "JX101"), ("env.py", 13, "JX301"), ("env.py", 15, "JX201")]


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_project(root: Path, marker: str = "pyproject.toml") -> Path:
    write(root / marker, "[tool.jaxlint]\n" if marker == "pyproject.toml" else "")
    write(root / "env.py", ENV)
    write(root / "train.py", TRAIN)
    return root


def lint_json(capsys: Capsys, *argv: str) -> list[dict]:
    code = main(["--format", "json", "--no-cache", "--exit-zero", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def where(findings: list[dict]) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["code"]) for f in findings]


def assert_each_file_alone_matches(capsys: Capsys, files: list[str], *argv: str) -> None:
    """``jaxlint F`` gives, byte for byte, the findings ``jaxlint .`` gives for F."""
    whole = lint_json(capsys, ".", *argv)
    assert whole, "the comparison needs findings"
    for name in files:
        alone = lint_json(capsys, name, *argv)
        assert alone == [f for f in whole if f["path"] == name], name


# --- one file of a project ----------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["pyproject.toml", "setup.cfg", "setup.py", ".git"])
def test_a_callee_alone_gets_the_findings_its_callers_give_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys, marker: str
) -> None:
    make_project(tmp_path / "repo", marker)
    monkeypatch.chdir(tmp_path / "repo")
    alone = lint_json(capsys, "env.py")
    assert where(alone) == ENV_FINDINGS
    assert alone == lint_json(capsys, ".")
    assert alone[0]["trace"][0] == "train() is traced: decorated with @jax.jit at train.py:10"
    assert lint_json(capsys, "train.py") == []
    # --no-project: only the given files, as before (the hazards are missed).
    assert lint_json(capsys, "env.py", "--no-project") == []


def test_without_a_marker_the_root_is_above_the_top_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    write(tmp_path / "work" / "pkg" / "__init__.py")
    write(tmp_path / "work" / "pkg" / "sub" / "__init__.py")
    write(tmp_path / "work" / "pkg" / "sub" / "env.py", ENV)
    write(tmp_path / "work" / "train.py", TRAIN.replace("from env", "from pkg.sub.env"))
    # Not a package: a project of its own (its directory), never analysed with work/.
    write(tmp_path / "work" / "scripts" / "other.py", TRAIN.replace("from env", "from pkg.sub.env"))
    monkeypatch.chdir(tmp_path / "work")
    finder = ProjectFinder()
    assert finder.root_of(tmp_path / "work" / "pkg" / "sub" / "env.py").path == tmp_path / "work"
    assert finder.root_of(tmp_path / "work" / "scripts" / "other.py").path == (
        tmp_path / "work" / "scripts"
    )
    alone = lint_json(capsys, "pkg/sub/env.py")
    assert [(line, code) for _, line, code in where(alone)] == [
        (12, "JX101"),
        (13, "JX301"),
        (15, "JX201"),
    ]
    assert alone == lint_json(capsys, ".")


@pytest.mark.parametrize("marked", [False, True])
def test_namespace_directories_inside_a_package_are_part_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys, marked: bool
) -> None:
    """torax's layout: ``torax/__init__.py``, then ``_src/core_profiles/plasma_composition/``
    without any ``__init__.py``; Python imports ``torax._src....`` all the same, so the
    analysis must name those modules so, and follow the imports into them."""
    work = tmp_path / "work"
    if marked:
        write(work / "pyproject.toml", "[tool.jaxlint]\n")
    write(work / "pkg" / "__init__.py")
    write(work / "pkg" / "_src" / "core" / "profiles" / "sub" / "env.py", ENV)
    train = TRAIN.replace("from env", "from pkg._src.core.profiles.sub.env")
    write(work / "pkg" / "_src" / "train.py", train)
    monkeypatch.chdir(work)
    env = work / "pkg" / "_src" / "core" / "profiles" / "sub" / "env.py"
    assert ProjectFinder().root_of(env).path == work
    assert module_name(str(env)) == ("pkg._src.core.profiles.sub.env", "pkg._src.core.profiles.sub")
    alone = lint_json(capsys, "pkg/_src/core/profiles/sub/env.py")
    assert [(line, code) for _, line, code in where(alone)] == [
        (12, "JX101"),
        (13, "JX301"),
        (15, "JX201"),
    ]
    assert alone == lint_json(capsys, ".")


def test_installed_packages_are_projects_of_their_own(tmp_path: Path) -> None:
    """A file under site-packages is not part of the project around the virtualenv, and its
    project is its own package, not every package installed next to it."""
    write(tmp_path / "pyproject.toml")
    site = tmp_path / ".venv" / "lib" / "site-packages"
    write(site / "lib_a" / "__init__.py")
    write(site / "lib_a" / "core" / "__init__.py")
    write(site / "lib_a" / "core" / "x.py")
    write(site / "lib_b" / "__init__.py")
    write(site / "six.py")
    finder = ProjectFinder()
    root = finder.root_of(site / "lib_a" / "core" / "x.py")
    assert (root.path, root.marked) == (site / "lib_a", False)
    files = [p for p, _ in project_sources(root, ConfigResolver(tmp_path))]
    assert files == [
        site / "lib_a" / "__init__.py",
        site / "lib_a/core/__init__.py",
        site / "lib_a/core/x.py",
    ]
    six = finder.root_of(site / "six.py")
    assert (six.path, six.packages) == (site, False)
    assert [p for p, _ in project_sources(six, ConfigResolver(tmp_path))] == [site / "six.py"]
    assert finder.root_of(tmp_path / "a.py").path == tmp_path


def test_nested_projects_are_analysed_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """A directory with its own marker is another project: the outer one neither analyses nor
    reports it, so callers in the outer project do not change its findings."""
    make_project(tmp_path / "outer")
    make_project(tmp_path / "outer" / "vendored")
    write(tmp_path / "outer" / "vendored" / "train.py", "")  # no caller inside its project
    monkeypatch.chdir(tmp_path / "outer")
    resolver = ConfigResolver(tmp_path / "outer")
    outer = ProjectFinder().root_of(tmp_path / "outer" / "env.py")
    names = [p.name for p, _ in project_sources(outer, resolver)]
    assert names == ["env.py", "train.py"]
    assert where(lint_json(capsys, ".")) == ENV_FINDINGS
    assert lint_json(capsys, "vendored/env.py") == []


def test_src_sets_the_project_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """``src`` replaces the root as the project's sources; a given file outside them is
    analysed with them, without changing what the sources report."""
    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nsrc = ["lib"]\n')
    write(tmp_path / "lib" / "env.py", ENV)
    write(tmp_path / "scripts" / "train.py", TRAIN)
    monkeypatch.chdir(tmp_path)
    # scripts/ is not a source: lib/env.py has no caller in its project.
    assert lint_json(capsys, "lib/env.py") == []
    assert lint_json(capsys, ".") == []
    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nsrc = ["lib", "scripts"]\n')
    assert [(line, code) for _, line, code in where(lint_json(capsys, "lib/env.py"))] == [
        (12, "JX101"),
        (13, "JX301"),
        (15, "JX201"),
    ]


def test_a_given_file_outside_the_sources_is_reported_from_an_analysis_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nsrc = ["lib"]\n')
    write(tmp_path / "lib" / "tables.py", "import numpy as np\n\nTABLE = np.arange(10.0)\n")
    write(
        tmp_path / "tool",  # a script without .py: checked because it is named
        "import jax\nfrom tables import TABLE\n\n\n@jax.jit\ndef f(i):\n    return TABLE[i]\n",
    )
    monkeypatch.chdir(tmp_path)
    assert where(lint_json(capsys, "tool")) == [("tool", 7, "JX101")]
    assert lint_json(capsys, "lib/tables.py") == []


def test_given_files_of_several_projects_equal_each_project_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    for name in ("one", "two", "three"):
        make_project(tmp_path / name)
    # Same module names in every project: each must resolve `from env import Env` in its own.
    write(tmp_path / "two" / "env.py", ENV.replace("if action > 0:", "if True:"))
    monkeypatch.chdir(tmp_path)
    alone = []
    for name in ("one", "two", "three"):
        alone += lint_json(capsys, f"{name}/env.py")
    together = lint_json(capsys, "one/env.py", "two", "three/env.py", "three/train.py")
    assert together == sorted(alone, key=lambda f: (f["path"], f["line"], f["column"]))
    assert ("two/env.py", 13, "JX301") not in where(together)
    assert lint_json(capsys, ".", "-j", "2") == lint_json(capsys, ".", "-j", "1") == together


def test_analyses_in_worker_processes_equal_one_process(tmp_path: Path) -> None:
    """``-j``'s pool, forced on small inputs: each analysis's findings are one process's."""
    analyses = []
    for i, source in enumerate((ENV, TRAIN)):
        texts = {f"p{i}/env.py": ENV, f"p{i}/train.py": TRAIN if i else source}
        analyses.append((texts, Settings()))
    one = [analyse_group(t, s, t.keys()) for t, s in analyses]
    assert analyse_many(analyses, jobs=2, min_chars=0) == one
    assert any(one)


def test_trace_chains_name_other_files_the_same_whatever_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """Paths outside the current directory: the finding's path is the given one, and the trace
    names the caller by one convention (relative to the current directory)."""
    make_project(tmp_path / "repo")
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    relative = lint_json(capsys, "../repo/env.py")
    absolute = lint_json(capsys, str(tmp_path / "repo" / "env.py"))
    whole = lint_json(capsys, "../repo")
    assert [f["path"] for f in relative] == ["../repo/env.py"] * 3
    assert [f["path"] for f in absolute] == [str(tmp_path / "repo" / "env.py")] * 3
    assert relative == whole
    assert [f["trace"] for f in absolute] == [f["trace"] for f in relative]
    assert relative[0]["trace"][0].endswith("at ../repo/train.py:10")


# --- the example and the fixtures ---------------------------------------------------------------


def test_each_file_of_the_example_alone_matches_the_whole_example(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    monkeypatch.chdir(EXAMPLE)
    files = sorted(p.name for p in EXAMPLE.glob("*.py"))
    assert_each_file_alone_matches(capsys, files)
    assert_each_file_alone_matches(capsys, files, "--select", "JX1,JX3")
    assert lint_json(capsys, ".", "-j", "2") == lint_json(capsys, ".", "-j", "1")


@pytest.mark.slow
def test_each_example_and_fixture_file_alone_matches_the_repository(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """From the repository root: the example is its own project, the fixtures belong to the
    repository's (and are analysed with its tests, which read but do not import them)."""
    monkeypatch.chdir(REPO)
    whole = lint_json(capsys, ".")
    files = sorted(
        p.relative_to(REPO).as_posix()
        for p in [*EXAMPLE.glob("*.py"), *(REPO / "tests" / "fixtures").rglob("*.py")]
    )
    assert {f["path"] for f in whole} & set(files)
    # Each analysis of a file alone is one of the whole repository (about 6 s): a fixed sample
    # (an example file, precision and recall fixtures) alone, then all of them given together.
    # Every example file alone is test_each_file_of_the_example_alone_matches_the_whole_example.
    alone = files[::25]
    for name in alone:
        assert lint_json(capsys, name) == [f for f in whole if f["path"] == name], name
    together = [f for f in whole if f["path"] in set(files)]
    assert lint_json(capsys, *files) == together
    assert lint_json(capsys, ".", "-j", "2") == whole


# --- --fix and --diff ---------------------------------------------------------------------------


def test_fix_and_diff_touch_only_the_given_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    root = make_project(tmp_path / "repo")
    # train.py gets a fixable hazard of its own; only env.py is given.
    train = TRAIN.replace(
        "return lax.scan(body, state, actions)",
        "return lax.scan(body, state, actions), PRICES[state]",
    )
    train = train.replace("from env import Env", "from env import PRICES, Env")
    write(root / "train.py", train)
    monkeypatch.chdir(root)
    assert ("train.py", 16, "JX101") in where(lint_json(capsys, "."))

    assert main(["--diff", "--unsafe-fixes", "--no-cache", "env.py"]) == 1
    diff = capsys.readouterr().out
    assert "--- env.py" in diff and "train.py" not in diff

    # Every finding of env.py is fixed (exit 0), although train.py, not given, keeps its own.
    assert main(["--fix", "--unsafe-fixes", "--no-cache", "-q", "env.py"]) == 0
    capsys.readouterr()
    assert (root / "train.py").read_text() == train
    assert (root / "env.py").read_text() != ENV
    assert where(lint_json(capsys, ".")) == [("train.py", 16, "JX101")]


# --- the cache ----------------------------------------------------------------------------------


def test_cache_keys_on_the_whole_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    from jaxlint.cli import _check_parser, check_files, discover_for

    root = make_project(tmp_path / "repo")
    monkeypatch.chdir(root)

    def check(*argv: str) -> tuple[int, int, list[tuple[str, int, str]]]:
        args = _check_parser().parse_args(list(argv))
        found = discover_for(args, Path.cwd())
        outcome = check_files(found.files, args, found.resolver)
        return (
            outcome.cache_hits,
            outcome.cache_misses,
            [(f.path, f.line, f.code) for f in outcome.findings],
        )

    assert check(".") == (0, 1, ENV_FINDINGS)
    # The project's result serves any of its files: no new analysis for env.py alone.
    assert check("env.py") == (1, 0, ENV_FINDINGS)
    assert check("train.py") == (1, 0, [])
    # Editing only the caller invalidates the callee's findings.
    (root / "train.py").write_text(
        TRAIN.replace("carry, reward = env.step(carry, action)", "reward = carry")
    )
    assert check("env.py") == (0, 1, [])
    assert check("env.py") == (1, 0, [])


@pytest.mark.slow
def test_a_large_tree_gives_the_same_findings_for_any_jobs_and_any_grouping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """The installed flax + optax (about 95k lines) as one project, next to a copy of the example:
    ``-j 1`` and ``-j 2`` (two projects: the pool runs) agree byte for byte, and so do one file
    alone, each project alone and both together."""
    big = tmp_path / "ff"
    for name in ("flax", "optax"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            pytest.skip(f"{name} is not installed")
        source = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(source, big / name, ignore=shutil.ignore_patterns("__pycache__"))
    write(big / "pyproject.toml", "[tool.jaxlint]\n")
    shutil.copytree(EXAMPLE, tmp_path / "ex", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)

    serial = lint_json(capsys, "ff", "ex", "-j", "1")
    assert lint_json(capsys, "ff", "ex", "-j", "2") == serial
    in_big = [f for f in serial if f["path"].startswith("ff/")]
    assert in_big and len(serial) > len(in_big)
    assert lint_json(capsys, "ff") == in_big
    assert lint_json(capsys, "ex") == [f for f in serial if f["path"].startswith("ex/")]
    one = in_big[0]["path"]
    assert lint_json(capsys, one, "ex/env_phase1_jax.py", "-j", "2") == [
        f for f in serial if f["path"] in (one, "ex/env_phase1_jax.py")
    ]


def test_help_documents_the_project_model(capsys: Capsys) -> None:
    assert main(["check", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--no-project analyse only the given files" in out
    assert "only the paths given are reported" in out


LAZY_INIT = """\
import importlib


def __getattr__(name):
    # lazy_loader style: the names come from a stub the analysis does not read
    return getattr(importlib.import_module("pkg.base"), name)
"""
LAZY_BASE = """\
import jax
from flax import struct


class Position(struct.PyTreeNode):
    q: jax.Array

    def w(self, scale):
        return self.q * scale
"""
LAZY_USE = """\
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from pkg import Position


class Quad(struct.PyTreeNode):
    x: object
    w: object


def quadrature(order):
    x, w = np.polynomial.legendre.leggauss(order)
    return Quad(x, w)  # another class's `w`: a NumPy array


QUAD = quadrature(3)


class Arm(Position):
    pass


@jax.jit
def f(arm, i):
    w0 = arm.w(2.0)
    return w0[i + 1]


print(float(f(Arm(q=jnp.arange(4.0)), jnp.int32(1))), round(QUAD.w.sum()))
"""


def test_attributes_of_a_base_class_not_in_view_are_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """galax: a class derives from a base its package loads lazily (``__getattr__``), so the
    analysis cannot read it; ``arm.w(...)`` is that base's method, not the NumPy attribute
    another class of the project calls ``w``. JAX runs the code; nothing is reported."""
    write(tmp_path / "pyproject.toml", "[tool.jaxlint]\n")
    write(tmp_path / "pkg" / "__init__.py", LAZY_INIT)
    write(tmp_path / "pkg" / "base.py", LAZY_BASE)
    write(tmp_path / "pkg" / "use.py", LAZY_USE)
    monkeypatch.chdir(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "import pkg.use"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout.split() == ["4.0", "2"], proc.stderr
    assert lint_json(capsys, ".") == []

"""Robustness: ``jaxlint`` and ``jaxlint --fix`` on real-world code never crash or break a file.

For each corpus (the installed ``jax``, ``flax``, ``optax``, ``numpy`` and the standard library)
the files are copied into tmp_path, keeping their package layout, and then:

1. ``jaxlint check`` exits 0 or 1, or 2 only where files cannot be decoded (the standard library's
   encoding tests), each reported as one ``jaxlint: error: PATH: ...`` line;
2. ``jaxlint check --fix --unsafe-fixes`` (every fix jaxlint has) exits likewise, every file still
   parses, and a file that did not parse before is byte for byte untouched;
3. a second ``--fix --unsafe-fixes`` run (no cache: a genuine re-analysis) changes no byte.

By default a deterministic sample runs (the full set takes about 5 minutes for one check alone on
2 cores, and each corpus is checked three times): every ``STRIDE``-th file in sorted order per
corpus, plus every file whose name or place marks it as an edge case (bad encodings, BOMs, CRLF,
Python 2 test data, ``badsyntax_*``). Set ``JAXLINT_ROBUSTNESS_FULL=1`` to run every file.

A second part feeds programs generated from the Python grammar (hypothesmith) through
``lint_source`` and the fixer: no exception, and fixed code parses.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest

from jaxlint.engine import lint_source
from jaxlint.findings import Finding
from jaxlint.fixes.apply import fix_texts, parses
from jaxlint.source import SourceError, decode_source

FULL = os.environ.get("JAXLINT_ROBUSTNESS_FULL", "") not in ("", "0")
# Every STRIDE-th file per corpus by default (JAX-heavy corpora cost the most per file).
STRIDE = {"jax": 10, "flax": 4, "optax": 4, "numpy": 8, "stdlib": 12}
EDGE_CASE = re.compile(r"(?i)bad|bom|crlf|encoding|coding|py2|grammar|tokenizedata|lib2to3/tests")
ERROR_LINE = re.compile(r"jaxlint: error: (?P<path>.+?): (?P<reason>.+)")
# Directories that discovery skips anyway (ruff's defaults) are not worth copying.
SKIP_DIRS = {"__pycache__", "site-packages", "dist-packages", "build", "dist", "venv"}


def _corpus_root(name: str) -> Path | None:
    if name == "stdlib":
        return Path(sysconfig.get_paths()["stdlib"])
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _python_files(root: Path) -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        found += [Path(directory, f).relative_to(root) for f in files if f.endswith(".py")]
    return sorted(found)


def _sample(files: list[Path], stride: int) -> list[Path]:
    if FULL:
        return files
    return [f for i, f in enumerate(files) if i % stride == 0 or EDGE_CASE.search(f.as_posix())]


def _jaxlint(cwd: Path, cache: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JAXLINT_CACHE_DIR=str(cache), NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "jaxlint", "check", "-q", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=3000,
    )


def _assert_clean_exit(result: subprocess.CompletedProcess[str], cwd: Path) -> None:
    """Exit 0 or 1; 2 only with one-line errors, each naming a file that cannot be decoded."""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("jaxlint: error:")]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("jaxlint: warning")]
    assert len(errors) + len(warnings) == len(result.stderr.splitlines()), result.stderr
    if result.returncode == 2:
        assert errors, result.stderr
    else:
        assert result.returncode in (0, 1) and not errors, result.stderr
    for line in errors:
        match = ERROR_LINE.fullmatch(line)
        assert match, line
        with pytest.raises(SourceError):
            decode_source((cwd / match["path"]).read_bytes())


def _parses(data: bytes) -> bool:
    """Whether Python parses the file's bytes (honouring its coding cookie or BOM)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["jax", "flax", "optax", "numpy", "stdlib"])
def test_check_and_fix_never_crash_or_break_code(corpus: str, tmp_path: Path) -> None:
    root = _corpus_root(corpus)
    if root is None:
        pytest.skip(f"{corpus} is not installed")
    files = _sample(_python_files(root), STRIDE[corpus])
    work = tmp_path / "work"
    target = work / (corpus if corpus != "stdlib" else "stdlib_copy")
    for rel in files:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target / rel)
    before = {rel: (target / rel).read_bytes() for rel in files}
    cache = tmp_path / "cache"

    check = _jaxlint(work, cache, target.name)
    _assert_clean_exit(check, work)

    fix = _jaxlint(work, cache, "--fix", "--unsafe-fixes", target.name)
    _assert_clean_exit(fix, work)
    after = {rel: (target / rel).read_bytes() for rel in files}
    changed = [rel for rel in files if after[rel] != before[rel]]
    for rel in files:
        if not _parses(before[rel]):
            assert after[rel] == before[rel], f"{rel} did not parse and was changed"
    for rel in changed:
        assert _parses(after[rel]), f"--fix broke {rel}"

    again = _jaxlint(work, cache, "--fix", "--unsafe-fixes", "--no-cache", target.name)
    _assert_clean_exit(again, work)
    still = [rel for rel in files if (target / rel).read_bytes() != after[rel]]
    assert still == [], f"a second --fix changed {still[:5]}"


# ------------------------------------------------------------------------------- generated code
try:
    import hypothesmith
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesmith is a dev dependency
    hypothesmith = None

needs_hypothesmith = pytest.mark.skipif(hypothesmith is None, reason="needs hypothesmith")
# Generated code that mentions JAX goes through LibCST and the whole analysis, not only ast.
PREFIXES = ("", "import jax\nimport jax.numpy as jnp\nimport numpy as np\n")


def _settings() -> settings:
    # The analysis raises the recursion limit on first use; do it before Hypothesis notes the limit.
    lint_source("import jax\n")
    return settings(
        max_examples=8,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


def _lint(texts: dict[str, str]) -> list[Finding]:
    return [f for path, text in texts.items() for f in lint_source(text, path)]


def _lint_and_fix(text: str) -> None:
    lint_source(text, "gen.py")
    run = fix_texts({"gen.py": text}, _lint, unsafe=True)
    if run.changed:
        assert parses(run.texts["gen.py"])


@pytest.mark.slow
@needs_hypothesmith
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@pytest.mark.parametrize("strategy", ["from_grammar", "from_node"])
def test_generated_programs(strategy: str) -> None:
    @_settings()
    @given(source=getattr(hypothesmith, strategy)(), prefix=st.sampled_from(PREFIXES))
    def check(source: str, prefix: str) -> None:
        _lint_and_fix(prefix + source)

    check()


@pytest.mark.slow
@needs_hypothesmith
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
def test_generated_statements_in_a_jitted_function() -> None:
    """Generated statements as the body of a jitted function that indexes a NumPy constant."""

    @_settings()
    @given(body=hypothesmith.from_grammar(start="file_input"))
    def check(body: str) -> None:
        lines = body.splitlines() or ["pass"]
        indented = "\n".join("    " + line if line.strip() else line for line in lines)
        _lint_and_fix(
            "import jax\nimport numpy as np\nT = np.arange(4)\n\n\n"
            f"@jax.jit\ndef f(x, i):\n    y = T[i]\n{indented}\n    return y\n"
        )

    check()

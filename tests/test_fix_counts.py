"""Counts that tell the truth: what ``check`` says ``--fix`` would fix, ``--statistics``,
``--show-fixes`` and ``--diff`` all agree with what ``--fix`` then does, and with the findings
that ``--fix`` leaves (safe fixes alone, and with ``--unsafe-fixes``)."""

from __future__ import annotations

import io
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from jaxlint.cli import main as jaxlint_main
from jaxlint.findings import Edit, Finding, Fix
from jaxlint.fixes.apply import fix_texts

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "jax_migration"

# Small projects where counting applied fixes and counting findings disagree: one edit that
# resolves several findings (a shared `static_argnames`), a fix that only a later round offers
# (a `min` inside an `if` test), overlapping fixes on one line, and a finding with no fix at all.
PROJECTS: dict[str, str] = {
    "shared_static": (
        "import jax\nimport jax.numpy as jnp\n\n\n"
        "@jax.jit\ndef f(x, n):\n    a = jnp.zeros(n)\n    b = jnp.ones((n, 2))\n"
        "    return x + a.sum() + b.sum()\n"
    ),
    "rounds": (
        "import jax\nimport numpy as np\n\n\n"
        "@jax.jit\ndef g(t):\n    y = 1.0\n    if min(t, 3.0) > 0 and t < 5:\n        y = 2.0\n"
        "    z = np.exp(t)\n    return y + z\n"
    ),
    "mixed": (
        "import jax\nimport jax.numpy as jnp\nimport numpy as np\n\nNP = np.arange(10.0)\n\n\n"
        "@jax.jit\ndef h(x, i, t):\n    a = NP[i]\n    b = x[i:i + 3]\n    c = float(t)\n"
        "    d = jnp.nonzero(x)\n    e = 1.0 if t > 0 else 2.0\n    return a, b, c, d, e\n"
    ),
}


def _jaxlint(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = jaxlint_main(["check", *args, "--no-cache"])
    return code, out.getvalue(), err.getvalue()


def _number(pattern: str, text: str, default: int = 0) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else default


def _counts(path: Path, unsafe: bool) -> dict[str, int]:
    """Every figure the commands print for one project, without changing it, then after --fix."""
    flags = ["--unsafe-fixes"] if unsafe else []
    _, out, _ = _jaxlint(str(path))
    total = _number(r"Found (\d+) finding", out)
    safe = _number(r"\((\d+) fixable with --fix\)", out)
    more = _number(r"(\d+) more findings? fixable with --fix --unsafe-fixes", out)
    _, stats, _ = _jaxlint("--statistics", str(path))
    _, shown, _ = _jaxlint("--show-fixes", str(path))
    kinds = re.findall(r"(\d+) \u00d7 \S+ \(\S+\) \[(safe|unsafe)\]", shown)
    _, _, diff_err = _jaxlint("--diff", *flags, str(path))
    _, fixed_out, _ = _jaxlint("--fix", *flags, str(path))
    _, left_out, _ = _jaxlint(str(path))
    return {
        "total": total,
        "planned": safe + more if unsafe else safe,
        "planned_more": more,
        "statistics_total": sum(int(line.split("\t")[0]) for line in stats.splitlines()),
        "show_fixes": sum(int(n) for n, kind in kinds if unsafe or kind == "safe"),
        "diff": _number(r"Would fix (\d+) finding", diff_err),
        "fixed": _number(r"\((\d+) fixed, \d+ remaining\)", fixed_out),
        "remaining": _number(r"\(\d+ fixed, (\d+) remaining\)", fixed_out),
        "left_after": _number(r"Found (\d+) finding", left_out),
        "fix_says_more": _number(r"(\d+) more findings? fixable with --fix --unsafe", fixed_out),
    }


def _assert_agree(c: dict[str, int], unsafe: bool) -> None:
    assert c["statistics_total"] == c["total"], c
    assert c["planned"] == c["show_fixes"] == c["diff"] == c["fixed"], c
    assert c["fixed"] + c["remaining"] == c["total"], c
    assert c["remaining"] == c["left_after"], c
    if not unsafe:
        # after the safe fixes, what --unsafe-fixes would add is what check said it would
        assert c["fix_says_more"] <= c["planned_more"], c


@pytest.mark.parametrize("unsafe", [False, True])
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_counts_agree_on_fixtures(tmp_path: Path, name: str, unsafe: bool) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / f"{name}.py").write_text(PROJECTS[name])
    c = _counts(tmp_path, unsafe)
    assert c["total"] > 0
    _assert_agree(c, unsafe)


@pytest.mark.slow
@pytest.mark.parametrize("unsafe", [False, True])
def test_counts_agree_on_the_example(tmp_path: Path, unsafe: bool) -> None:
    dest = tmp_path / "jax_migration"
    shutil.copytree(EXAMPLE_DIR, dest, ignore=shutil.ignore_patterns("__pycache__"))
    c = _counts(dest, unsafe)
    assert c["total"] == 31, c
    _assert_agree(c, unsafe)
    if unsafe:
        assert c["left_after"] == 0, c


# ---------------------------------------------------------------------------------------- re-check
def _finding(code: str, line: int, fix_to: str | None = None) -> Finding:
    fix = None
    if fix_to is not None:
        fix = Fix("safe", "m", (Edit(line, 1, line, 2, fix_to),))
    return Finding(code, "n", None, f"m{line}", "a.py", line, 1, line, 2, (), fix)


def _lint(texts: dict[str, str]) -> list[Finding]:
    """A stand-in linter: `a` and `b` lines are hazards with fixes (`a` -> `c`, `b` -> `d`); a `c`
    line is a hazard of another rule without a fix (what the `a` fix would leave behind)."""
    out = []
    for number, line in enumerate(texts["a.py"].splitlines(), start=1):
        if line == "a":
            out.append(_finding("JX101", number, "c"))
        elif line == "b":
            out.append(_finding("JX102", number, "d"))
        elif line == "c":
            out.append(_finding("JX201", number))
    return out


def test_a_fix_that_leaves_a_new_finding_is_not_applied() -> None:
    run = fix_texts({"a.py": "a\nb\n"}, _lint)
    assert run.texts["a.py"] == "a\nd\n"  # the `b` fix went in, the `a` fix did not
    assert [f.code for f in run.remaining] == ["JX101"]
    assert [r.finding.code for r in run.rejected] == ["JX101"]
    assert "new finding (JX201)" in run.rejected[0].reason
    assert [f.code for f in run.resolved] == ["JX102"]

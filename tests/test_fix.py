"""``jaxlint --fix`` / ``--diff`` / ``--unsafe-fixes``: choosing edits, the fixed point, writing files.

Unit tests of one round use hand-written ``Fix`` objects (the edit algebra does not depend on which
rule made them); everything else runs the real linter on real files under tmp_path. The hazard in
most of them is JX101 (a NumPy constant indexed with a jitted parameter; safe fix) and its list
variant (unsafe fix); the fixed code is run under ``jax.jit`` to show that it traces.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from jaxlint.cli import main
from jaxlint.engine import lint_source
from jaxlint.findings import Edit, Finding, Fix
from jaxlint.fixes.apply import apply_fixes, fix_texts, parses
from jaxlint.fixes.write import WriteError, write_fixed
from jaxlint.source import read_source_info

Capsys = pytest.CaptureFixture[str]

HAZARD = """\
import jax
import numpy as np

TABLE = np.arange(10.0)


@jax.jit
def lookup(i):
    return TABLE[i] * 2.0
"""
FIXED_LINE = "    return jax.numpy.asarray(TABLE)[i] * 2.0\n"

# No ``import jax``: the fix must add ``import jax.numpy as jnp`` once for all three findings.
NEEDS_IMPORT = '''\
"""Doc."""
from jax import jit
import numpy as np

TABLE = np.arange(10.0)
WEIGHTS = [1.0, 2.0, 3.0]


@jit
def mix(i):
    return TABLE[i] + TABLE[i + 1] + WEIGHTS[i]
'''


def edit(line: int, col: int, end_line: int, end_col: int, content: str) -> Edit:
    return Edit(line, col, end_line, end_col, content)


def fix(*edits: Edit, applicability: str = "safe") -> Fix:
    return Fix(applicability, "test", tuple(edits))


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------ one round
def test_edits_apply_from_the_end_with_character_columns() -> None:
    text = "x = 'é'; y = a[i]\nz = b[j]\n"
    result = apply_fixes(
        text, [fix(edit(1, 14, 1, 15, "A")), fix(edit(2, 5, 2, 6, "jnp.asarray(b)"))]
    )
    assert result.text == "x = 'é'; y = A[i]\nz = jnp.asarray(b)[j]\n"
    assert result.applied == [0, 1]


def test_overlapping_fix_is_deferred_not_lost() -> None:
    text = "y = f(a)\n"
    first = fix(edit(1, 5, 1, 9, "g(a)"))
    inner = fix(edit(1, 7, 1, 8, "b"))
    result = apply_fixes(text, [first, inner])
    assert result.text == "y = g(a)\n"
    assert result.applied == [0] and result.deferred == [1] and result.rejected == []


def test_identical_import_insertions_are_added_once() -> None:
    text = "import numpy as np\nx = np.a[i] + np.b[i]\n"
    imp = edit(2, 1, 2, 1, "import jax.numpy as jnp\n")
    result = apply_fixes(
        text,
        [
            fix(imp, edit(2, 5, 2, 9, "jnp.asarray(np.a)")),
            fix(imp, edit(2, 15, 2, 19, "jnp.asarray(np.b)")),
        ],
    )
    assert result.text == (
        "import numpy as np\nimport jax.numpy as jnp\n"
        "x = jnp.asarray(np.a)[i] + jnp.asarray(np.b)[i]\n"
    )
    assert result.applied == [0, 1]


def test_import_lines_dedupe_line_by_line_and_keep_order() -> None:
    text = "import numpy as np\nx = 1\n"
    result = apply_fixes(
        text,
        [
            fix(edit(2, 1, 2, 1, "import jax\nimport jax.numpy as jnp\n")),
            fix(edit(2, 1, 2, 1, "import jax.numpy as jnp\nfrom jax import lax\n")),
        ],
    )
    assert result.text == (
        "import numpy as np\nimport jax\nimport jax.numpy as jnp\nfrom jax import lax\nx = 1\n"
    )


def test_fix_whose_result_does_not_parse_is_rejected_and_others_kept() -> None:
    text = "a = x[i]\nb = y[j]\n"
    result = apply_fixes(text, [fix(edit(1, 5, 1, 6, "(")), fix(edit(2, 5, 2, 6, "Y"))])
    assert result.text == "a = x[i]\nb = Y[j]\n"
    assert result.applied == [1]
    assert result.rejected == [(0, "the fixed code would not parse")]
    assert parses(result.text)


def test_edit_outside_the_file_is_rejected() -> None:
    result = apply_fixes("a = 1\n", [fix(edit(1, 9, 1, 10, "x")), fix(edit(7, 1, 7, 2, "x"))])
    assert result.text == "a = 1\n"
    assert [reason for _, reason in result.rejected] == [
        "edit 1:9-1:10 is outside the file",
        "edit 7:1-7:2 is outside the file",
    ]


def test_fix_that_changes_nothing_is_not_counted() -> None:
    result = apply_fixes("a = x[i]\n", [fix(edit(1, 5, 1, 6, "x"))])
    assert result.text == "a = x[i]\n" and result.applied == []


def test_crlf_file_gets_crlf_in_inserted_lines() -> None:
    text = "import numpy as np\r\nx = a[i]\r\n"
    result = apply_fixes(
        text,
        [fix(edit(2, 1, 2, 1, "import jax.numpy as jnp\n"), edit(2, 5, 2, 6, "jnp.asarray(a)"))],
        newline="\r\n",
    )
    assert (
        result.text == "import numpy as np\r\nimport jax.numpy as jnp\r\nx = jnp.asarray(a)[i]\r\n"
    )


def test_import_after_a_last_line_without_line_break() -> None:
    result = apply_fixes("import numpy as np", [fix(edit(2, 1, 2, 1, "import jax\n"))])
    assert result.text == "import numpy as np\nimport jax\n"


# ---------------------------------------------------------------------------- the fixed point
def _lint(texts: dict[str, str]) -> list[Finding]:
    return [f for path, text in texts.items() for f in lint_source(text, path)]


def test_fix_texts_reaches_a_fixed_point_and_is_idempotent() -> None:
    run = fix_texts({"m.py": NEEDS_IMPORT}, _lint, unsafe=True)
    assert run.fixed_count == 3 and run.remaining == [] and not run.unsettled
    again = fix_texts(run.texts, _lint, unsafe=True)
    assert again.texts == run.texts and again.fixed_count == 0 and again.rounds == 0


def test_unsafe_fixes_only_when_asked() -> None:
    safe = fix_texts({"m.py": NEEDS_IMPORT}, _lint)
    assert safe.fixed_count == 2
    assert [f.fix.applicability for f in safe.remaining if f.fix] == ["unsafe"]
    assert "WEIGHTS[i]" in safe.texts["m.py"]


def test_nested_subscripts_are_fixed_together() -> None:
    text = "import jax\nimport numpy as np\n\nT = np.arange(10)\n\n\n@jax.jit\ndef f(i):\n    return T[T[i]]\n"
    assert len(lint_source(text, "m.py")) == 2
    run = fix_texts({"m.py": text}, _lint)
    assert run.fixed_count == 2 and run.remaining == []
    assert "jax.numpy.asarray(T)[jax.numpy.asarray(T)[i]]" in run.texts["m.py"]


def _renaming_lint(rules: dict[str, str]) -> Callable[[dict[str, str]], list[Finding]]:
    """A stand-in rule set for the loop itself: each ``old`` name is a finding fixed to ``new``."""

    def lint(texts: dict[str, str]) -> list[Finding]:
        out = []
        for path, text in texts.items():
            for number, line in enumerate(text.splitlines(), start=1):
                for old, new in rules.items():
                    col = line.find(old)
                    if col >= 0:
                        span = (number, col + 1, number, col + 1 + len(old))
                        out.append(
                            Finding("JX101", "n", None, "m", path, *span, fix=fix(edit(*span, new)))
                        )
        return out

    return lint


def test_a_fix_that_exposes_another_is_applied_in_a_later_round() -> None:
    run = fix_texts({"m.py": "x = AAA\n"}, _renaming_lint({"AAA": "BB", "BB": "C"}))
    assert run.texts["m.py"] == "x = C\n"
    assert run.rounds == 2 and run.fixed_count == 2 and run.remaining == []


def test_overlapping_fixes_go_in_over_two_rounds() -> None:
    run = fix_texts({"m.py": "x = ABC\n"}, _renaming_lint({"AB": "a", "BC": "c"}))
    assert run.texts["m.py"] == "x = aC\n" and run.rounds == 1 and run.fixed_count == 1


def test_fixes_that_undo_each_other_stop_and_are_reported() -> None:
    run = fix_texts({"m.py": "x = A\n"}, _renaming_lint({"A": "B", "B": "A"}))
    assert run.unsettled == ["m.py"] and run.rounds <= 2


def test_round_limit() -> None:
    chain = {f"N{i}_": f"N{i + 1}_" for i in range(30)}
    run = fix_texts({"m.py": "x = N0_\n"}, _renaming_lint(chain), max_rounds=3)
    assert run.texts["m.py"] == "x = N3_\n" and run.unsettled == ["m.py"]


def test_file_that_does_not_parse_is_never_touched() -> None:
    broken = NEEDS_IMPORT + "def oops(:\n"

    def lint(texts: dict[str, str]) -> list[Finding]:
        # The analysis reports JX000 only; make its fixable findings appear too, to be sure the
        # syntax error alone keeps the file untouched.
        return _lint({"m.py": NEEDS_IMPORT}) + _lint(texts)

    run = fix_texts({"m.py": broken}, lint)
    assert run.texts["m.py"] == broken and run.fixed_count == 0


# ------------------------------------------------------------------------------ the command line
def test_fix_writes_reports_and_a_second_run_changes_nothing(cwd: Path, capsys: Capsys) -> None:
    target = cwd / "table.py"
    target.write_text(HAZARD)
    code, out, err = run(capsys, "--fix", "--no-cache", "table.py")
    assert (code, err) == (0, "")
    assert out == "Found 1 finding (1 fixed, 0 remaining).\n"
    text = target.read_text()
    assert text == HAZARD.replace("    return TABLE[i] * 2.0\n", FIXED_LINE)
    before = target.stat()
    assert run(capsys, "--fix", "--no-cache", "table.py") == (0, "All checks passed!\n", "")
    after = target.stat()
    assert target.read_text() == text and after.st_mtime_ns == before.st_mtime_ns


def test_fixed_code_traces_under_jit(cwd: Path, capsys: Capsys) -> None:
    jax = pytest.importorskip("jax")
    target = cwd / "table.py"
    target.write_text(HAZARD)
    namespace: dict[str, object] = {}
    exec(compile(HAZARD, "table.py", "exec"), namespace)
    with pytest.raises(jax.errors.TracerArrayConversionError):
        namespace["lookup"](3)  # type: ignore[operator]
    assert run(capsys, "--fix", "--no-cache", "table.py")[0] == 0
    namespace = {}
    exec(compile(target.read_text(), "table.py", "exec"), namespace)
    assert float(namespace["lookup"](3)) == 6.0  # type: ignore[operator]


def test_remaining_findings_are_listed_after_fix(cwd: Path, capsys: Capsys) -> None:
    (cwd / "m.py").write_text(NEEDS_IMPORT)
    code, out, err = run(capsys, "--fix", "--no-cache", "m.py")
    assert code == 1 and err == ""
    assert out.startswith("m.py:12:")  # the list, now one line lower (the import went in)
    assert out.rstrip().splitlines()[-2:] == [
        "Found 3 findings (2 fixed, 1 remaining).",
        "1 more finding fixable with --fix --unsafe-fixes.",
    ]
    assert (cwd / "m.py").read_text().count("import jax.numpy as jnp\n") == 1


def test_json_after_fix_is_the_remaining_findings(cwd: Path, capsys: Capsys) -> None:
    (cwd / "m.py").write_text(NEEDS_IMPORT)
    code, out, _ = run(capsys, "--fix", "--no-cache", "--format", "json", "m.py")
    rows = json.loads(out)
    assert code == 1 and [(r["code"], r["line"], r["fix"]["applicability"]) for r in rows] == [
        ("JX101", 12, "unsafe")
    ]


def test_unsafe_fixes_flag(cwd: Path, capsys: Capsys) -> None:
    (cwd / "m.py").write_text(NEEDS_IMPORT)
    code, out, _ = run(capsys, "--fix", "--unsafe-fixes", "--no-cache", "m.py")
    assert code == 0 and out == "Found 3 findings (3 fixed, 0 remaining).\n"
    assert "jnp.asarray(WEIGHTS)[i]" in (cwd / "m.py").read_text()


def test_diff_prints_a_patch_and_changes_nothing(cwd: Path, capsys: Capsys) -> None:
    target = cwd / "table.py"
    target.write_text(HAZARD)
    code, out, err = run(capsys, "--diff", "--no-cache", "table.py")
    assert code == 1
    assert target.read_text() == HAZARD
    assert out.splitlines()[:2] == ["--- table.py", "+++ table.py"]
    assert "-    return TABLE[i] * 2.0\n+" + FIXED_LINE in out
    assert err == "Would fix 1 finding.\n"
    # The patch applies with patch(1) semantics: replay it by hand on the original lines.
    assert run(capsys, "--diff", "--no-cache", "--fix", "table.py")[0] == 1
    assert target.read_text() == HAZARD


def test_diff_without_fixes_exits_zero(cwd: Path, capsys: Capsys) -> None:
    (cwd / "m.py").write_text(NEEDS_IMPORT.replace("TABLE[i] + TABLE[i + 1] + ", ""))
    code, out, err = run(capsys, "--diff", "--no-cache", "m.py")
    assert (code, out, err) == (0, "", "No findings would be fixed.\n")


def test_no_fixable_findings_changes_no_byte(cwd: Path, capsys: Capsys) -> None:
    """An advice-only finding, and a fixable one under ``# noqa``: neither file is rewritten."""
    split = (
        "import jax\n\n\n@jax.jit\ndef f(key, cfg):\n    return jax.random.split(key, cfg['n'])\n"
    )
    assert [(f.code, f.fix) for f in lint_source(split)] == [("JX501", None)]
    quiet = HAZARD.replace("TABLE[i] * 2.0", "TABLE[i] * 2.0  # noqa: JX101")
    for name, source in (("split.py", split), ("quiet.py", quiet)):
        (cwd / name).write_text(source)
        os.utime(cwd / name, ns=(1_000_000_000, 1_000_000_000))
    code, out, _ = run(capsys, "--fix", "--no-cache", "split.py", "quiet.py")
    assert code == 1 and out.rstrip().endswith("Found 1 finding (0 fixed, 1 remaining).")
    assert (cwd / "split.py").read_text() == split and (cwd / "quiet.py").read_text() == quiet
    assert {(cwd / n).stat().st_mtime_ns for n in ("split.py", "quiet.py")} == {1_000_000_000}


def test_syntax_error_file_is_untouched(cwd: Path, capsys: Capsys) -> None:
    broken = HAZARD + "def oops(:\n"
    (cwd / "broken.py").write_text(broken)
    code, out, _ = run(capsys, "--fix", "--no-cache", "broken.py")
    assert code == 1 and ": JX000 " in out
    assert (cwd / "broken.py").read_text() == broken


def test_crlf_bom_and_mode_are_kept(cwd: Path, capsys: Capsys) -> None:
    target = cwd / "crlf.py"
    source = NEEDS_IMPORT.replace("\n", "\r\n")
    target.write_bytes(b"\xef\xbb\xbf" + source.encode())
    target.chmod(0o751)
    assert run(capsys, "--fix", "--no-cache", "crlf.py")[0] == 1
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"import jax.numpy as jnp\r\n" in data
    assert stat.S_IMODE(target.stat().st_mode) == 0o751


def test_pep263_encoding_is_kept(cwd: Path, capsys: Capsys) -> None:
    source = "# -*- coding: latin-1 -*-\n" + HAZARD.replace(
        "import jax\n", "import jax\nNAME = 'été'\n"
    )
    target = cwd / "latin.py"
    target.write_bytes(source.encode("latin-1"))
    assert run(capsys, "--fix", "--no-cache", "latin.py")[0] == 0
    data = target.read_bytes()
    assert "NAME = 'été'".encode("latin-1") in data
    assert data.decode("latin-1") == source.replace("    return TABLE[i] * 2.0\n", FIXED_LINE)


def test_symlink_is_written_through(cwd: Path, capsys: Capsys) -> None:
    real = cwd / "real.py"
    real.write_text(HAZARD)
    (cwd / "link.py").symlink_to(real)
    assert run(capsys, "--fix", "--no-cache", "link.py")[0] == 0
    assert (cwd / "link.py").is_symlink()
    assert FIXED_LINE in real.read_text()


def test_file_changed_since_read_is_skipped(cwd: Path) -> None:
    target = cwd / "table.py"
    target.write_text(HAZARD)
    info = read_source_info(target)
    target.write_text(HAZARD + "# edited meanwhile\n")
    with pytest.raises(WriteError, match="changed on disk"):
        write_fixed(target, info, "x = 1\n")
    assert target.read_text().endswith("# edited meanwhile\n")
    assert [p.name for p in cwd.iterdir()] == ["table.py"]  # no temporary file left


def test_fix_that_cannot_be_encoded_is_skipped(cwd: Path) -> None:
    target = cwd / "ascii.py"
    target.write_bytes(b"# -*- coding: ascii -*-\nx = 1\n")
    info = read_source_info(target)
    with pytest.raises(WriteError, match="not representable in ascii"):
        write_fixed(target, info, "# -*- coding: ascii -*-\nx = 'é'\n")
    assert target.read_bytes() == b"# -*- coding: ascii -*-\nx = 1\n"


def test_write_is_atomic_replace(cwd: Path) -> None:
    target = cwd / "m.py"
    target.write_text("x = 1\n")
    inode = target.stat().st_ino
    write_fixed(target, read_source_info(target), "x = 2\n")
    assert target.read_text() == "x = 2\n"
    assert target.stat().st_ino != inode  # a new file renamed over the old one
    assert [p.name for p in cwd.iterdir()] == ["m.py"]


def test_diff_applies_with_git_apply_and_equals_fix(cwd: Path, capsys: Capsys) -> None:
    """The diff is a real patch (CRLF lines and a last line without a line break included)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("needs git")
    sources = {
        "m.py": NEEDS_IMPORT,
        "crlf.py": HAZARD.replace("\n", "\r\n"),
        "nonl.py": HAZARD.rstrip("\n"),
    }
    for name, text in sources.items():
        (cwd / name).write_bytes(text.encode())
    code, patch, _ = run(capsys, "--diff", "--no-cache", *sources)
    assert code == 1 and "\\ No newline at end of file\n" in patch
    (cwd / "fix.patch").write_bytes(patch.encode())
    subprocess.run([git, "apply", "-p0", "fix.patch"], cwd=cwd, check=True, capture_output=True)
    by_patch = {name: (cwd / name).read_bytes() for name in sources}
    for name, text in sources.items():
        (cwd / name).write_bytes(text.encode())
    assert run(capsys, "--fix", "--no-cache", *sources)[0] == 1
    assert by_patch == {name: (cwd / name).read_bytes() for name in sources}
    assert by_patch["crlf.py"].count(b"\r\n") == HAZARD.count("\n")


def test_new_imports_join_their_section(cwd: Path, capsys: Capsys) -> None:
    """A standard-library import goes after the file's standard-library imports, a JAX one after
    the file's imports of the same package: each stays in its section (isort, ruff)."""
    source = (
        '"""Doc."""\n\nimport os\n\nimport numpy as np\nfrom jax import jit, random\n\n'
        "import local_helpers\n\n\n@jit\ndef f(key, n):\n"
        "    return random.split(key, n), np.sign(n)\n"
    )
    (cwd / "m.py").write_text(source)
    code, _, _ = run(capsys, "--fix", "--unsafe-fixes", "--no-cache", "m.py")
    assert code == 0
    lines = (cwd / "m.py").read_text().splitlines()
    assert lines[:10] == [
        '"""Doc."""',
        "",
        "import os",
        "from functools import partial",
        "",
        "import numpy as np",
        "from jax import jit, random",
        "import jax.numpy as jnp",
        "",
        "import local_helpers",
    ]
    assert lines[-3:] == [
        '@partial(jit, static_argnames=("n",))',
        "def f(key, n):",
        "    return random.split(key, n), jnp.sign(n)",
    ]

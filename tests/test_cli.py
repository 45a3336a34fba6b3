"""The ``jaxlint`` command end to end, on real files under tmp_path (in-process and as a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jaxlint
import jaxlint.cli
from jaxlint.cli import main

REPO = Path(__file__).resolve().parents[1]
BROKEN = "def step(x:\n    return x\n"
Capsys = pytest.CaptureFixture[str]
CLEAN = "import jax\n\n\n@jax.jit\ndef step(x):\n    return x + 1\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small tree: one file that does not parse, two clean ones; the tmp dir is the cwd."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "broken.py").write_text(BROKEN)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    (tmp_path / "top.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_syntax_error_is_a_finding_and_the_run_goes_on(project: Path, capsys: Capsys) -> None:
    (project / "also_broken.py").write_text("x = (\n")
    code, out, err = run(capsys, "check")
    assert code == 1 and err == ""
    headers = [line for line in out.splitlines() if ": JX000 " in line]
    assert [h.split(":")[0] for h in headers] == ["also_broken.py", "pkg/broken.py"]
    assert out.rstrip().endswith("Found 2 findings (0 fixable with --fix).")


def test_newer_grammar_is_no_syntax_error_with_or_without_jax(
    project: Path, capsys: Capsys
) -> None:
    # PEP 695 syntax: LibCST parses it whatever the running Python, and a module that uses JAX
    # is analysed from that tree, so one that does not use JAX must not be reported broken.
    newer = "type Pair = tuple[int, int]\n\nclass Box[T]:\n    item: T\n"
    (project / "aliases.py").write_text(newer)
    (project / "jaxy.py").write_text("import jax\n" + newer)
    assert run(capsys, "aliases.py", "jaxy.py") == (0, "All checks passed!\n", "")


def test_bare_paths_mean_check(project: Path, capsys: Capsys) -> None:
    assert run(capsys, "pkg") == run(capsys, "check", "pkg")


def test_clean_tree_passes(project: Path, capsys: Capsys) -> None:
    assert run(capsys, "top.py", "pkg/clean.py") == (0, "All checks passed!\n", "")


def test_missing_path_is_a_one_line_error(project: Path, capsys: Capsys) -> None:
    code, out, err = run(capsys, "nope.py", "top.py")
    assert code == 2
    assert err == "jaxlint: error: nope.py: no such file or directory\n"
    assert "1 file could not be checked" in out


def test_undecodable_file_is_a_one_line_error_and_others_are_checked(
    project: Path, capsys: Capsys
) -> None:
    (project / "latin1.py").write_bytes(b"name = '\xe9t\xe9'\n")
    code, out, err = run(capsys, "--quiet", ".")
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("jaxlint: error: latin1.py: ")
    assert out.startswith("pkg/broken.py:")


def test_noqa_does_not_hide_a_syntax_error(project: Path, capsys: Capsys) -> None:
    (project / "pkg" / "broken.py").write_text("x = (  # noqa\n")
    code, out, _ = run(capsys, "-q", "pkg/broken.py", "--ignore", "JX0")
    assert code == 1 and out.startswith("pkg/broken.py:1:")


def test_exit_zero(project: Path, capsys: Capsys) -> None:
    code, out, _ = run(capsys, "--exit-zero", "pkg")
    assert code == 0 and "JX000" in out


def test_quiet_prints_header_lines_only(project: Path, capsys: Capsys) -> None:
    code, out, _ = run(capsys, "-q")
    assert code == 1
    assert out.splitlines() == [
        line for line in out.splitlines() if line.startswith("pkg/broken.py:")
    ]
    assert len(out.splitlines()) == 1


def test_statistics(project: Path, capsys: Capsys) -> None:
    assert run(capsys, "--statistics") == (1, "1\tJX000\t[ ] syntax-error\n", "")
    code, out, _ = run(capsys, "--statistics", "--format", "json")
    assert code == 1
    assert json.loads(out) == [
        {"code": "JX000", "name": "syntax-error", "count": 1, "fixable": False}
    ]


def test_json_output(project: Path, capsys: Capsys) -> None:
    code, out, err = run(capsys, "--format", "json", "-j", "2")
    assert code == 1 and err == ""
    (item,) = json.loads(out)
    assert set(item) == {
        "code",
        "name",
        "jax_error",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "trace",
        "fix",
    }
    assert (item["code"], item["name"], item["path"]) == ("JX000", "syntax-error", "pkg/broken.py")
    assert isinstance(item["line"], int) and item["trace"] == [] and item["fix"] is None


@pytest.mark.parametrize("fmt", ["sarif", "github", "markdown"])
def test_other_formats(project: Path, capsys: Capsys, fmt: str) -> None:
    code, out, _ = run(capsys, "--format", fmt)
    assert code == 1 and "pkg/broken.py" in out
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"][0]["ruleId"] == "JX000"


def test_paths_outside_the_cwd_are_shown_as_given(
    project: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "elsewhere").mkdir()
    monkeypatch.chdir(project / "elsewhere")
    code, out, _ = run(capsys, "-q", "../pkg", str(project / "pkg" / "broken.py"))
    assert code == 1 and out.startswith("../pkg/broken.py:1:") and len(out.splitlines()) == 1


def test_config_discovery_exclude(
    project: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pyproject.toml").write_text('[tool.jaxlint]\nexclude = ["broken.py"]\n')
    assert run(capsys, "-q") == (0, "", "")
    # Found by walking up from the path, also when run from a subdirectory, and for named files.
    monkeypatch.chdir(project / "pkg")
    assert run(capsys, "-q", "broken.py") == (0, "", "")


def test_config_select_and_per_file_ignores_are_validated(project: Path, capsys: Capsys) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.jaxlint]\nselect = ["JX1"]\n[tool.jaxlint.per-file-ignores]\n"pkg/*" = ["JX2"]\n'
    )
    # JX000 is reported whatever the selection: the file was not analysed at all.
    code, out, _ = run(capsys, "-q")
    assert code == 1 and out.startswith("pkg/broken.py:")


def test_config_option(project: Path, capsys: Capsys) -> None:
    (project / "ci.toml").write_text('exclude = ["pkg"]\n')
    (project / "pyproject.toml").write_text('[tool.jaxlint]\nexclude = ["top.py"]\n')
    assert run(capsys, "--config", "ci.toml") == (0, "All checks passed!\n", "")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            '[tool.jaxlint]\nselcet = ["JX1"]\n',
            "pyproject.toml: [tool.jaxlint] unknown key 'selcet'",
        ),
        (
            "[tool.jaxlint]\nselect = 'JX1'\n",
            "pyproject.toml: [tool.jaxlint] select must be a list",
        ),
        ('[tool.jaxlint]\nignore = ["JX999"]\n', "unknown rule selector 'JX999'"),
        ("[tool.jaxlint\n", "pyproject.toml: invalid TOML:"),
    ],
)
def test_bad_config_is_a_one_line_error(
    project: Path, capsys: Capsys, config: str, message: str
) -> None:
    (project / "pyproject.toml").write_text(config)
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("jaxlint: error: ") and message in err


def test_missing_config_file(project: Path, capsys: Capsys) -> None:
    code, _, err = run(capsys, "--config", "missing.toml")
    assert (code, err) == (2, "jaxlint: error: missing.toml: config file not found\n")


@pytest.mark.parametrize(
    "argv",
    [["--select", "XY1"], ["--ignore", "jx1"], ["--format", "xml"], ["--jobs", "-1"], ["--bogus"]],
)
def test_usage_errors_exit_2_with_usage(project: Path, capsys: Capsys, argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("usage: jaxlint") and "error:" in err


def test_no_cache_is_accepted(project: Path, capsys: Capsys) -> None:
    assert run(capsys, "--no-cache", "top.py")[0] == 0


def test_no_python_files(project: Path, capsys: Capsys) -> None:
    (project / "empty").mkdir()
    code, out, err = run(capsys, "empty")
    assert code == 0 and out == "All checks passed!\n" and "no Python files found" in err


def test_version(capsys: Capsys) -> None:
    assert run(capsys, "--version") == (0, f"jaxlint {jaxlint.__version__}\n", "")


def test_rules_table(capsys: Capsys) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    for code_name in ("JX000", "JX101", "traced-host-index", "JX601", "traced-static-arg"):
        assert code_name in out
    code, out, _ = run(capsys, "rules", "--format", "json")
    rows = json.loads(out)
    assert rows[1] == {
        "code": "JX101",
        "name": "traced-host-index",
        "jax_error": jaxlint.rules.RULES["JX101"].jax_error,
        "fix": jaxlint.rules.RULES["JX101"].fix,
        "summary": jaxlint.rules.RULES["JX101"].summary,
    }


def test_rule_page(capsys: Capsys) -> None:
    rule = jaxlint.rules.RULES["JX101"]
    code, out, _ = run(capsys, "rule", "JX101")
    assert code == 0
    assert "JX101 traced-host-index" in out and rule.summary in out
    assert "Fix safety" in out and "jaxlint rule JX101 --examples" in out
    full = run(capsys, "rule", "JX101", "--examples")[1]
    assert "Examples" in full and len(full.splitlines()) > 2 * len(out.splitlines())
    assert run(capsys, "rule", "jx101")[1] == out


def test_unknown_rule(capsys: Capsys) -> None:
    assert run(capsys, "rule", "JX999") == (
        2,
        "",
        "jaxlint: error: unknown rule 'JX999' (see: jaxlint rules)\n",
    )
    assert run(capsys, "rule")[0] == 2


def test_internal_errors_are_one_line(
    project: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine exploded\nwith details")

    monkeypatch.setattr(jaxlint.cli, "lint_cached_many", explode)
    assert run(capsys, "top.py") == (
        2,
        "",
        "jaxlint: internal error: RuntimeError: engine exploded with details\n",
    )


# --- as a real process --------------------------------------------------------------------------


def jaxlint_process(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "jaxlint", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_process_exit_codes_and_no_traceback(project: Path) -> None:
    (project / "bad.py").write_bytes(b"\xff\xfe not text\n")
    results = {
        "findings": jaxlint_process(project, "pkg"),
        "clean": jaxlint_process(project, "check", "top.py"),
        "missing": jaxlint_process(project, "missing_dir"),
        "undecodable": jaxlint_process(project, "bad.py"),
        "usage": jaxlint_process(project, "--format", "nope"),
    }
    assert {k: r.returncode for k, r in results.items()} == {
        "findings": 1,
        "clean": 0,
        "missing": 2,
        "undecodable": 2,
        "usage": 2,
    }
    for result in results.values():
        assert "Traceback" not in result.stdout + result.stderr
    assert results["missing"].stderr == "jaxlint: error: missing_dir: no such file or directory\n"
    assert results["undecodable"].stderr.count("\n") == 1
    assert "bad.py" in results["undecodable"].stderr

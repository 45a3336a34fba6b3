"""Rule selection, per-file ignores and ``# noqa``, on real Finding objects and real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaxlint.config import ConfigResolver
from jaxlint.findings import Finding
from jaxlint.selection import (
    Noqa,
    SelectorError,
    noqa_comments,
    parse_noqa,
    per_file_ignored,
    select_findings,
    split_codes,
    validate_selectors,
)
from jaxlint.settings import Settings


def finding(
    code: str = "JX101", path: str = "m.py", line: int = 1, end_line: int | None = None
) -> Finding:
    return Finding(
        code=code,
        name="traced-host-index" if code == "JX101" else "some-rule",
        jax_error="TracerArrayConversionError",
        message="message",
        path=path,
        line=line,
        column=1,
        end_line=line if end_line is None else end_line,
        end_column=2,
    )


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("# noqa", Noqa(None)),
        ("#noqa", Noqa(None)),
        ("# NOQA", Noqa(None)),
        ("# NoQa  ", Noqa(None)),
        ("# noqa: JX101", Noqa(("JX101",))),
        ("# noqa:JX101", Noqa(("JX101",))),
        ("# noqa : JX101", Noqa(("JX101",))),
        ("# noqa: JX101, JX2", Noqa(("JX101", "JX2"))),
        ("# noqa: JX101,JX2", Noqa(("JX101", "JX2"))),
        ("# noqa: JX101 JX2", Noqa(("JX101", "JX2"))),
        ("# noqa: JX101 the table is a jnp array here", Noqa(("JX101",))),
        ("# type: ignore[index]  # noqa: JX1", Noqa(("JX1",))),
        # As in ruff: codes are upper case; a directive without a valid code suppresses nothing.
        ("# noqa: jx101", None),
        ("# noqa:", None),
        ("# noqa-ish", None),
        ("# noqanything", None),
        ("# a plain comment", None),
    ],
)
def test_parse_noqa(comment: str, expected: Noqa | None) -> None:
    assert parse_noqa(comment) == expected


def test_noqa_suppresses_by_prefix() -> None:
    assert Noqa(None).suppresses("JX101")
    assert Noqa(("JX1",)).suppresses("JX101")
    assert Noqa(("JX101",)).suppresses("JX101")
    assert not Noqa(("JX102",)).suppresses("JX101")
    assert not Noqa(("JX2",)).suppresses("JX101")


def test_noqa_comments_only_counts_real_comments() -> None:
    text = (
        "a = '# noqa'\n"  # 1: inside a string
        "b = 1  # noqa: JX101\n"  # 2
        's = """\n'  # 3
        "# noqa\n"  # 4: inside a multi-line string
        '"""\n'  # 5
        "c = 2  # NOQA\n"  # 6
    )
    assert noqa_comments(text) == {2: Noqa(("JX101",)), 6: Noqa(None)}


def test_noqa_comments_line_numbers_follow_python() -> None:
    # A form feed and U+2028 do not end a line for Python; \r\n and \r do.
    text = "a = 1\r\nb = 2 \x0c # noqa\rc = '\u2028'  # noqa: JX2\n"
    assert noqa_comments(text) == {2: Noqa(None), 3: Noqa(("JX2",))}


def test_noqa_comments_on_a_file_that_does_not_tokenize() -> None:
    assert noqa_comments("x = (\n  1  # noqa: JX101\n") == {2: Noqa(("JX101",))}


def test_select_findings_noqa_on_reported_line() -> None:
    source = "\n".join(
        [
            "a = t[0]  # noqa",
            "b = t[0]  # noqa: JX101",
            "c = t[0]  # noqa: JX1",
            "d = t[0]  # noqa: JX102",
            "e = t[0]",
            "f = t[0]  # noqa: jx101",
        ]
    )
    found = [finding(line=n) for n in range(1, 7)]
    kept = select_findings(found, Settings(), {"m.py": source}, Path.cwd())
    assert [f.line for f in kept] == [4, 5, 6]


def test_multi_line_finding_uses_its_first_line() -> None:
    source = "x = foo(  # noqa: JX301\n    t,\n)\ny = foo(\n    t,\n)  # noqa: JX301\n"
    found = [finding("JX301", line=1, end_line=3), finding("JX301", line=4, end_line=6)]
    kept = select_findings(found, Settings(), {"m.py": source}, Path.cwd())
    assert [f.line for f in kept] == [4]


def test_syntax_error_is_never_suppressed() -> None:
    source = "def f(:  # noqa\n"
    found = [finding("JX000", line=1)]
    settings = Settings(select=("JX1",), ignore=("JX0",), per_file_ignores={"*.py": ("JX",)})
    assert codes(select_findings(found, settings, {"m.py": source}, Path.cwd())) == ["JX000"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), ["JX101", "JX102", "JX201", "JX301"]),
        (Settings(select=("JX1",)), ["JX101", "JX102"]),
        (Settings(select=("JX1",), ignore=("JX102",)), ["JX101"]),
        (Settings(select=("JX101",), ignore=("JX1",)), ["JX101"]),  # more specific wins
        (Settings(select=("JX1",), ignore=("JX1",)), []),  # ignore wins a tie
        (Settings(select=("JX1",), extend_select=("JX3",)), ["JX101", "JX102", "JX301"]),
        (Settings(ignore=("JX",)), []),
    ],
)
def test_rule_selection(settings: Settings, expected: list[str]) -> None:
    found = [finding(c, line=n) for n, c in enumerate(["JX101", "JX102", "JX201", "JX301"], 1)]
    assert codes(select_findings(found, settings, {"m.py": "\n" * 4}, Path.cwd())) == expected


def test_per_file_ignores_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        per_file_ignores={
            "tests/*": ("JX1",),  # like ruff, "*" also crosses directories
            "__init__.py": ("JX2",),  # a bare file name matches in any directory
            "!src/**": ("JX3",),  # "!" applies to files that do NOT match
        }
    )
    root = tmp_path
    assert per_file_ignored("JX101", "tests/deep/test_a.py", settings, root)
    assert not per_file_ignored("JX201", "tests/deep/test_a.py", settings, root)
    assert per_file_ignored("JX201", "pkg/sub/__init__.py", settings, root)
    assert not per_file_ignored("JX101", "pkg/tests.py", settings, root)
    assert per_file_ignored("JX301", "scripts/run.py", settings, root)
    assert not per_file_ignored("JX301", "src/pkg/env.py", settings, root)
    # Patterns are relative to the configuration's root, not to the current directory.
    assert per_file_ignored("JX101", str(tmp_path / "tests" / "x.py"), settings, root)
    assert not per_file_ignored("JX101", "tests/x.py", settings, tmp_path / "other")


def test_per_file_ignores_from_discovered_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.jaxlint]\nselect = ["JX1", "JX2"]\n\n'
        '[tool.jaxlint.per-file-ignores]\n"legacy/*.py" = ["JX101"]\n'
    )
    (tmp_path / "legacy").mkdir()
    monkeypatch.chdir(tmp_path / "legacy")
    config = ConfigResolver(Path.cwd()).for_directory(Path.cwd())
    assert config.root == tmp_path
    found = [
        finding("JX101", path="old.py", line=1),
        finding("JX102", path="old.py", line=2),
        finding("JX301", path="old.py", line=3),
    ]
    kept = select_findings(found, config.settings, {"old.py": "a\nb\nc\n"}, config.root)
    assert codes(kept) == ["JX102"]


def test_split_and_validate_selectors() -> None:
    assert split_codes(" JX1, JX201,,") == ("JX1", "JX201")
    assert validate_selectors(["JX", "JX1", "JX101", "JX000"], "select") == (
        "JX",
        "JX1",
        "JX101",
        "JX000",
    )
    with pytest.raises(SelectorError, match=r"^select: unknown rule selector 'JX9'$"):
        validate_selectors(["JX9"], "select")
    with pytest.raises(SelectorError, match="did you mean 'JX101'"):
        validate_selectors(["jx101"], "--select")
    with pytest.raises(SelectorError):
        validate_selectors([""], "ignore")

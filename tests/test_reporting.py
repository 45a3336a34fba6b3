"""Output formats, on real Finding objects: exact text, JSON fields, statistics, SARIF, GitHub, Markdown."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from jaxlint.findings import Edit, Finding, Fix
from jaxlint.reporting.github import render_github
from jaxlint.reporting.json import render_json
from jaxlint.reporting.markdown import render_markdown
from jaxlint.reporting.sarif import render_sarif
from jaxlint.reporting.statistics import (
    render_statistics_json,
    render_statistics_text,
    statistics,
)
from jaxlint.reporting.text import code_frame, make_console, summary, write_text
from jaxlint.rules import RULES
from jaxlint.selection import split_lines

SPEC_FIELDS = {
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

SOURCE = (
    "import jax\n"
    "\n"
    "\n"
    "@jax.jit\n"
    "def step(params, data):\n"
    "    idx = params.n_envs\n"
    "    return data.rth_indices[idx]\n"
)
TRACE = (
    "step() is traced: decorated with @jax.jit at env.py:4",
    "params is argument 1 of step()",
    "params.n_envs is a leaf of params",
)


def host_index(path: str = "env.py", line: int = 7, fix: Fix | None = None) -> Finding:
    return Finding(
        code="JX101",
        name="traced-host-index",
        jax_error="TracerIntegerConversionError",
        message="list `data.rth_indices` indexed with traced `idx`",
        path=path,
        line=line,
        column=12,
        end_line=line,
        end_column=33,
        trace=TRACE,
        fix=fix,
    )


SAFE_FIX = Fix(
    "safe", "Use `jnp.asarray(...)[...]`", (Edit(7, 12, 7, 28, "jnp.asarray(data.rth_indices)"),)
)
UNSAFE_FIX = Fix("unsafe", "Add `size=`", ())


def render_text(findings: list[Finding], sources: dict[str, str], **kwargs: object) -> str:
    out = io.StringIO()
    write_text(make_console(out), findings, sources, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_text_full_output() -> None:
    text = render_text([host_index(fix=SAFE_FIX)], {"env.py": SOURCE})
    assert text == (
        "env.py:7:12: JX101 list `data.rth_indices` indexed with traced `idx`\n"
        "  |\n"
        "7 |     return data.rth_indices[idx]\n"
        "  |            ^^^^^^^^^^^^^^^^^^^^^ JX101\n"
        "  |\n"
        "  = raises: TracerIntegerConversionError (when traced)\n"
        "  = why traced:\n"
        "      1. step() is traced: decorated with @jax.jit at env.py:4\n"
        "      2. params is argument 1 of step()\n"
        "      3. params.n_envs is a leaf of params\n"
        "  = fix (safe): Use `jnp.asarray(...)[...]`\n"
        "\n"
        "Found 1 finding (1 fixable with --fix).\n"
    )


def test_text_has_no_colour_off_a_terminal_and_colour_on_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    finding = host_index()
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert "\x1b[" not in render_text([finding], {"env.py": SOURCE})
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats the stream as a terminal
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in render_text([finding], {"env.py": SOURCE})


def test_text_quiet_prints_headers_only() -> None:
    findings = [host_index(), host_index(line=6)]
    assert render_text(findings, {"env.py": SOURCE}, quiet=True) == (
        "env.py:7:12: JX101 list `data.rth_indices` indexed with traced `idx`\n"
        "env.py:6:12: JX101 list `data.rth_indices` indexed with traced `idx`\n"
    )


def test_text_keeps_markup_like_messages_and_long_lines_intact() -> None:
    long_line = "x = " + " + ".join(["value"] * 40)
    finding = Finding(
        "JX301", "traced-branch", None, "[bold]not markup[/bold] :smile:", "m.py", 1, 5, 1, 10
    )
    text = render_text([finding], {"m.py": long_line})
    assert "[bold]not markup[/bold] :smile:" in text
    assert f"1 | {long_line}\n" in text  # never re-wrapped at the console width


def frame(finding: Finding, source: str) -> list[str]:
    return [t.plain for t in code_frame(finding, split_lines(source))]


def test_code_frame_aligns_carets_after_tabs_and_wide_characters() -> None:
    source = "\tname = '日本'[t]\n"
    finding = Finding("JX101", "n", None, "m", "m.py", 1, 13, 1, 16)  # the "[t]"
    lines = frame(finding, source)
    assert lines[1] == "1 |     name = '日本'[t]"
    assert lines[2] == "  | " + " " * 17 + "^^^ JX101"  # tab: 4 columns, each CJK letter: 2


def test_code_frame_multi_line_span_and_elision() -> None:
    source = "y = f(\n    a,\n    b)\n"
    lines = frame(Finding("JX301", "n", None, "m", "m.py", 1, 5, 3, 7), source)
    assert lines == [
        "  |",
        "1 | y = f(",
        "  |     ^^",
        "2 |     a,",
        "  |     ^^",
        "3 |     b)",
        "  |     ^^ JX301",
        "  |",
    ]
    long = "f(\n" + "    a,\n" * 20 + ")\n"
    lines = frame(Finding("JX301", "n", None, "m", "m.py", 1, 1, 22, 2), long)
    assert "   ..." in lines and lines[-3] == "22 | )"


def test_code_frame_survives_odd_positions() -> None:
    assert frame(Finding("JX000", "n", None, "m", "m.py", 9, 1, 9, 1), "x\n") == []
    # Zero-width span (a syntax error at the end of a line) still gets one caret.
    lines = frame(Finding("JX000", "n", None, "m", "m.py", 1, 8, 1, 8), "def f(:\n")
    assert lines[2] == "  |        ^ JX000"


def test_summary_lines() -> None:
    assert summary([]) == ["All checks passed!"]
    findings = [host_index(fix=SAFE_FIX), host_index(fix=UNSAFE_FIX), host_index()]
    assert summary(findings) == [
        "Found 3 findings (1 fixable with --fix).",
        "1 more finding fixable with --fix --unsafe-fixes.",
    ]
    assert summary([], unreadable=2)[-1] == "2 files could not be checked (see the errors above)."


def test_json_has_exactly_the_spec_fields_in_order() -> None:
    findings = [host_index("b.py", 3), host_index("a.py", 9, fix=SAFE_FIX), host_index("a.py", 2)]
    data = json.loads(render_json(findings))
    assert [(d["path"], d["line"]) for d in data] == [("a.py", 2), ("a.py", 9), ("b.py", 3)]
    assert all(set(d) == SPEC_FIELDS for d in data)
    assert data[0]["trace"] == list(TRACE) and data[0]["fix"] is None
    assert data[1]["fix"] == {
        "applicability": "safe",
        "message": "Use `jnp.asarray(...)[...]`",
        "edits": [
            {
                "line": 7,
                "column": 12,
                "end_line": 7,
                "end_column": 28,
                "content": "jnp.asarray(data.rth_indices)",
            }
        ],
    }
    assert json.loads(render_json([])) == []


def test_statistics() -> None:
    syntax = Finding("JX000", "syntax-error", None, "m", "m.py", 1, 1, 1, 1)
    findings = [host_index(), host_index(fix=SAFE_FIX), syntax] + [
        Finding("JX301", "traced-branch", None, "m", "m.py", n, 1, n, 2) for n in range(10)
    ]
    rows = statistics(findings)
    assert render_statistics_text(rows) == (
        "10\tJX301\t[ ] traced-branch\n"
        " 2\tJX101\t[*] traced-host-index\n"
        " 1\tJX000\t[ ] syntax-error\n"
    )
    assert json.loads(render_statistics_json(rows))[1] == {
        "code": "JX101",
        "name": "traced-host-index",
        "count": 2,
        "fixable": True,
    }
    assert render_statistics_text([]) == ""


def test_sarif_structure(tmp_path: Path) -> None:
    outside = str(tmp_path / "other dir" / "x.py")
    findings = [host_index(fix=SAFE_FIX), host_index(outside, 1)]
    log = json.loads(render_sarif(findings, tmp_path))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert run["columnKind"] == "unicodeCodePoints"  # our columns count characters
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    second, first = run["results"]  # ordered by path: the absolute one first
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"] == "JX101"
    assert first["level"] == "error"
    assert "1. step() is traced" in first["message"]["text"]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "env.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 7, "startColumn": 12, "endLine": 7, "endColumn": 33}
    replacement = first["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"] == {"text": "jnp.asarray(data.rth_indices)"}
    uri = second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file://") and "other%20dir" in uri
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]


def test_github_annotations_escape_their_fields() -> None:
    finding = Finding(
        "JX301", "traced-branch", None, "50% of a\nb", "a,b:c.py", 2, 3, 2, 9, ("x", "y")
    )
    assert render_github([finding]) == (
        "::error title=jaxlint (JX301),file=a%2Cb%3Ac.py,line=2,col=3,endLine=2,endColumn=9::"
        "a,b:c.py:2:3: JX301 50%25 of a%0Ab%0AWhy traced: x -> y\n"
    )


def test_markdown_table() -> None:
    finding = Finding("JX301", "traced-branch", None, "a | b", "m.py", 2, 3, 2, 9, ("x", "y"))
    fixed = Finding(
        "JX201",
        "traced-conversion",
        None,
        "c",
        "m.py",
        4,
        1,
        4,
        5,
        ("z",),
        fix=Fix("unsafe", "keep it | an array", (Edit(4, 1, 4, 5, "x"),)),
    )
    assert render_markdown([fixed, finding]).splitlines() == [
        "### jaxlint: 2 findings",
        "",
        "Fixes: 0 safe (`--fix`), 1 unsafe (`--fix --unsafe-fixes`), 1 by hand.",
        "",
        "| Location | Rule | Message | Why traced | Fix |",
        "|---|---|---|---|---|",
        "| `m.py:2:3` | JX301 `traced-branch` | a \\| b | x → y | none: rewrite by hand (see the message) |",
        "| `m.py:4:1` | JX201 `traced-conversion` | c | z "
        "| **unsafe** (`--unsafe-fixes`): keep it \\| an array |",
    ]
    assert render_markdown([]) == "### jaxlint: all checks passed\n"

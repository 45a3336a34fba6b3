"""The default, human format: a ``path:line:col: CODE message`` header per finding, then a code frame
with the span underlined and the chain that makes the value traced (a finding without its "why" is
hard to trust). Colour comes from rich, which only emits it to a terminal (and honours ``NO_COLOR``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from jaxlint.findings import Finding
from jaxlint.reporting import fix_counts, plural
from jaxlint.selection import split_lines

TAB_SIZE = 4
MAX_FRAME_LINES = 6

_PATH = "bold"
_CODE = "bold red"
_GUTTER = "bold blue"
_CARET = "bold red"
_NOTE = "bold cyan"


def make_console(file: IO[str] | None = None) -> Console:
    """A console that never re-wraps or re-interprets our text (messages may contain ``[x]``, ``:x:``)."""
    # rich's own NO_COLOR handling drops colours but keeps bold and underline; https://no-color.org
    # asks for plain text, so a set NO_COLOR (or a file or pipe: rich's default) gets no styles.
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        file=file,
        soft_wrap=True,
        markup=False,
        emoji=False,
        highlight=False,
        color_system=None if plain else "auto",
    )


def header(finding: Finding) -> Text:
    text = Text()
    text.append(finding.path, _PATH)
    if "cell" in finding.extra:
        text.append(f":cell {finding.extra['cell']}")
    text.append(f":{finding.line}:{finding.column}: ")
    text.append(finding.code, _CODE)
    text.append(f" {finding.message}")
    return text


def _width(text: str) -> int:
    return cell_len(text.expandtabs(TAB_SIZE))


def frame_lines(finding: Finding, lines: list[str]) -> list[str]:
    """The lines a finding's line numbers count: a notebook finding's are its cell's."""
    offset = finding.extra.get("cell_offset", 0)
    return lines[offset:] if offset else lines


def code_frame(finding: Finding, lines: Sequence[str]) -> list[Text]:
    """The finding's source lines with carets under its span (character columns, end exclusive)."""
    if not 1 <= finding.line <= len(lines):
        return []
    last = min(max(finding.end_line, finding.line), len(lines))
    numbers = list(range(finding.line, last + 1))
    elided = len(numbers) > MAX_FRAME_LINES
    if elided:
        numbers = [*numbers[: MAX_FRAME_LINES - 1], last]
    gutter = len(str(last))
    blank = Text(" " * gutter + " |", _GUTTER)
    out = [blank]
    for index, number in enumerate(numbers):
        if elided and index == len(numbers) - 1:
            out.append(Text(" " * gutter + " ...", _GUTTER))
        source = lines[number - 1]
        row = Text(f"{number:>{gutter}} | ", _GUTTER)
        row.append(source.expandtabs(TAB_SIZE))
        out.append(row)
        start = finding.column if number == finding.line else len(source) - len(source.lstrip()) + 1
        end = finding.end_column if number == finding.end_line else len(source) + 1
        start = min(max(start, 1), len(source) + 1)
        offset = _width(source[: start - 1])
        carets = max(_width(source[: max(end, start) - 1]) - offset, 1)
        marks = Text(" " * gutter + " | ", _GUTTER)
        marks.append(" " * offset + "^" * carets, _CARET)
        if number == last:
            marks.append(f" {finding.code}", _CARET)
        out.append(marks)
    out.append(blank)
    return out


def notes(finding: Finding) -> list[Text]:
    """What JAX would raise, why the value is traced (outermost first), and the fix on offer."""
    out: list[Text] = []
    indent = " " * 2
    if finding.jax_error:
        line = Text(indent)
        line.append("= raises: ", _NOTE)
        line.append(f"{finding.jax_error} (when traced)")
        out.append(line)
    if finding.trace:
        out.append(Text(indent).append("= why traced:", _NOTE))
        width = len(str(len(finding.trace)))
        for number, step in enumerate(finding.trace, start=1):
            out.append(Text(f"{indent}    {number:>{width}}. {step}"))
    if finding.fix is not None:
        line = Text(indent)
        line.append(f"= fix ({finding.fix.applicability}): ", _NOTE)
        line.append(finding.fix.message)
        out.append(line)
    return out


def summary(
    findings: Sequence[Finding], unreadable: int = 0, counts: tuple[int, int] | None = None
) -> list[str]:
    """ruff's summary; ``counts``: (safe, unsafe) as planned by a fix run (else read off ``fix``)."""
    if not findings and not unreadable:
        return ["All checks passed!"]
    safe, unsafe = counts if counts is not None else fix_counts(findings)
    lines = [f"Found {plural(len(findings), 'finding')} ({safe} fixable with --fix)."]
    if unsafe:
        lines.append(f"{plural(unsafe, 'more finding')} fixable with --fix --unsafe-fixes.")
    if unreadable:
        lines.append(f"{plural(unreadable, 'file')} could not be checked (see the errors above).")
    return lines


def write_text(
    console: Console,
    findings: Sequence[Finding],
    sources: Mapping[str, str],
    *,
    quiet: bool = False,
    unreadable: int = 0,
    counts: tuple[int, int] | None = None,
) -> None:
    """Print findings in order; ``quiet`` prints the header lines only, and no summary."""
    split: dict[str, list[str]] = {}
    for finding in findings:
        console.print(header(finding))
        if quiet:
            continue
        if finding.path not in split:
            split[finding.path] = split_lines(sources.get(finding.path, ""))
        lines = frame_lines(finding, split[finding.path])
        for line in (*code_frame(finding, lines), *notes(finding)):
            console.print(line)
        console.print()
    if not quiet:
        for line in summary(findings, unreadable, counts):
            console.print(line)

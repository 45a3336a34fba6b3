"""Which raw findings a user sees: rule selection, per-file ignores and ``# noqa`` comments.

The engine reports every rule; this module applies the user's choices afterwards, so the analysis does
not depend on them. ``JX000`` (the file does not parse) is always reported: hiding it would turn a
file that was never analysed into a silent pass (ruff reports syntax errors the same way).
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jaxlint.discovery import GlobSet
from jaxlint.findings import Finding
from jaxlint.rules import RULES
from jaxlint.settings import Settings

SYNTAX_ERROR = "JX000"

_CODE = re.compile(r"[A-Z]+[0-9]*")
# The directive is matched case-insensitively anywhere in a comment, after other comment text too.
_NOQA = re.compile(r"#\s*noqa(?![\w-])(?P<colon>\s*:)?(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A line where a `JX` code may follow a noqa directive (a comment is one line): a text without
# one names no unknown JX code, and is not tokenized.
_JX_AFTER_NOQA = re.compile(r"(?i:noqa)[^\r\n]*JX")


class SelectorError(ValueError):
    """An unknown rule code or prefix; the message is one line."""


def split_codes(value: str) -> tuple[str, ...]:
    """``"JX1, JX201"`` -> ``("JX1", "JX201")`` (the command line's comma-separated form)."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def validate_selectors(selectors: Iterable[str], where: str) -> tuple[str, ...]:
    """Reject selectors that match no rule, so that a typo cannot silently disable checking."""
    selectors = tuple(selectors)
    for selector in selectors:
        if not selector or not any(code.startswith(selector) for code in RULES):
            hint = f" (did you mean '{selector.upper()}'?)" if selector.upper() != selector else ""
            raise SelectorError(f"{where}: unknown rule selector '{selector}'{hint}")
    return selectors


@dataclass(frozen=True)
class Noqa:
    """A ``# noqa`` comment: ``codes`` is None for a bare ``# noqa`` (every code on the line)."""

    codes: tuple[str, ...] | None

    def suppresses(self, code: str) -> bool:
        return self.codes is None or any(code.startswith(c) for c in self.codes)


def parse_noqa(comment: str) -> Noqa | None:
    """Parse a comment the way ruff does.

    ``noqa`` is case-insensitive; codes are upper-case (a prefix such as ``JX2`` is allowed), separated
    by commas or spaces, and may be followed by an explanation. ``# noqa:`` followed by no valid code
    suppresses nothing, rather than everything.
    """
    match = _NOQA.search(comment)
    if match is None:
        return None
    if match.group("colon") is None:
        return Noqa(None)
    codes: list[str] = []
    for token in re.split(r"[,\s]+", match.group("rest").strip()):
        if not _CODE.fullmatch(token):
            break
        codes.append(token)
    return Noqa(tuple(codes)) if codes else None


def split_lines(text: str) -> list[str]:
    """Lines as Python numbers them (form feeds and Unicode separators do not end a line)."""
    return _LINE_BREAK.split(text)


def noqa_comments(text: str) -> dict[int, Noqa]:
    """``# noqa`` comments by 1-based line; only real comments count, not text inside strings."""
    found: dict[int, Noqa] = {}
    if "noqa" not in text.lower():
        return found  # no tokenizing (tens of ms for a 2,000-line module, on every edit)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if token.type == tokenize.COMMENT and (noqa := parse_noqa(token.string)):
                found[token.start[0]] = noqa
    except (tokenize.TokenError, SyntaxError):
        # A file that does not tokenize only has JX000, which noqa cannot hide; scan lines anyway.
        found = {}
        for number, line in enumerate(split_lines(text), start=1):
            if "#" in line and (noqa := parse_noqa(line[line.index("#") :])):
                found[number] = noqa
    return found


def unknown_noqa_codes(text: str) -> list[tuple[int, str]]:
    """``(line, code)`` for each ``JX`` code in a ``# noqa:`` comment that names no rule: a typo
    there silently suppresses nothing. Other tools' codes (``F401``) are theirs to check."""
    if not _JX_AFTER_NOQA.search(text):
        return []
    return [
        (line, code)
        for line, noqa in sorted(noqa_comments(text).items())
        for code in noqa.codes or ()
        if code.startswith("JX") and not any(rule.startswith(code) for rule in RULES)
    ]


@functools.lru_cache(maxsize=256)
def _per_file_matchers(
    items: tuple[tuple[str, tuple[str, ...]], ...], root: Path
) -> tuple[tuple[GlobSet, bool, tuple[str, ...]], ...]:
    # A leading "!" applies the codes to files that do NOT match (as in ruff).
    return tuple(
        (GlobSet((pattern.removeprefix("!"),), root), pattern.startswith("!"), codes)
        for pattern, codes in items
    )


def per_file_ignored(code: str, path: str, settings: Settings, root: Path) -> bool:
    """Whether ``per-file-ignores`` (globs relative to ``root``) switch ``code`` off in ``path``."""
    matchers = _per_file_matchers(tuple(settings.per_file_ignores.items()), root)
    return any(
        matcher.matches(path) != negated and any(code.startswith(c) for c in codes)
        for matcher, negated, codes in matchers
    )


def select_findings(
    findings: Iterable[Finding],
    settings: Settings,
    sources: Mapping[str, str],
    root: Path,
) -> list[Finding]:
    """The findings left after selection, per-file ignores and ``# noqa`` on the reported line.

    ``finding.path`` must name the file relative to the current directory or absolutely (as the CLI's
    display paths do); ``sources`` maps those paths to their text.
    """
    kept: list[Finding] = []
    comments: dict[str, dict[int, Noqa]] = {}
    for finding in findings:
        if finding.code != SYNTAX_ERROR:
            if not settings.is_enabled(finding.code):
                continue
            if per_file_ignored(finding.code, finding.path, settings, root):
                continue
            if finding.path not in comments:
                comments[finding.path] = noqa_comments(sources.get(finding.path, ""))
            noqa = comments[finding.path].get(finding.line)
            if noqa is not None and noqa.suppresses(finding.code):
                continue
        kept.append(finding)
    return kept

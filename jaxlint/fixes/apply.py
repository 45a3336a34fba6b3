"""Apply fixes to source text: one round (``apply_fixes``) and the loop to a fixed point (``fix_texts``).

One round takes the fixes of one file in source order and keeps each whose edits touch no edit kept
before (ruff's rule: a skipped fix is not lost, the next round re-lints the new text and offers it
again). Import insertions (whole lines inserted at a line start) that several fixes share are added
once. The edits are applied from the end, so earlier positions stay valid; a fix whose result would
not parse is left out and reported, so ``--fix`` never writes code that Python cannot read.

``fix_texts`` repeats lint-and-fix over a set of files until no fix applies (a fix can expose another:
the finding it removes may have hidden one behind it), for at most ``MAX_ROUNDS`` rounds. The whole
set is re-linted each round because the analysis follows calls across files.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from jaxlint.findings import Edit, Finding, Fix

MAX_ROUNDS = 10
SYNTAX_ERROR = "JX000"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_IMPORT_LINE = re.compile(r"[ \t]*(?:import|from)[ \t]")


# ---------------------------------------------------------------------------------------- one round
@dataclass(frozen=True, slots=True)
class _Span:
    """An edit resolved to character offsets into the text."""

    start: int
    end: int
    content: str
    # A whole-line insertion at a line start (how fixes add imports): may share its position.
    line_insert: bool


@dataclass
class RoundResult:
    """What one round did to one text: the new text, and which fixes went in or were refused."""

    text: str
    applied: list[int] = field(default_factory=list)  # indices into the fixes given
    # (index, reason): fixes refused for good in this text (not the ones deferred by an overlap).
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Indices of fixes left for the next round because an earlier fix touched the same text.
    deferred: list[int] = field(default_factory=list)


class _Lines:
    """1-based (line, column) in characters -> offset, with lines broken as Python breaks them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        # Where each line's content ends (before its line break).
        self.ends = [m.start() for m in _LINE_BREAK.finditer(text)] + [len(text)]

    def offset(self, line: int, column: int) -> int | None:
        if line < 1 or column < 1 or line > len(self.starts):
            return None
        offset = self.starts[line - 1] + column - 1
        return offset if offset <= self.ends[line - 1] else None

    def at_line_start(self, offset: int) -> bool:
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.starts[index] == offset


def _newlines(content: str, newline: str) -> str:
    """The edit's line breaks written as the file writes them (a CRLF file stays CRLF)."""
    if newline == "\n" and "\r" not in content:
        return content
    return _LINE_BREAK.sub(lambda _: newline, content)


def _resolve(fix: Fix, lines: _Lines, newline: str) -> list[_Span] | str:
    """The fix's edits as sorted, non-overlapping spans, or the reason it cannot be applied."""
    spans: list[_Span] = []
    text = lines.text
    for edit in fix.edits:
        start = lines.offset(edit.line, edit.column)
        end = lines.offset(edit.end_line, edit.end_column)
        content = _newlines(edit.content, newline)
        if (
            start is None
            and end is None
            and edit.line == edit.end_line == len(lines.starts) + 1
            and edit.column == edit.end_column == 1
            and content.endswith(newline)
        ):
            # An insertion on the line after the last one, in a file without a final line break.
            start = end = len(text)
            content = newline + content
        if start is None or end is None or end < start:
            return f"edit {_where(edit)} is outside the file"
        line_insert = (
            start == end
            and lines.at_line_start(start)
            and content.endswith(newline)
            and start <= len(text)
        )
        spans.append(_Span(start, end, content, line_insert))
    spans.sort(key=lambda s: (s.start, s.end))
    if any(_conflict(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :]):
        return "its own edits overlap"
    return spans


def _where(edit: Edit) -> str:
    return f"{edit.line}:{edit.column}-{edit.end_line}:{edit.end_column}"


def _conflict(a: _Span, b: _Span) -> bool:
    """Whether two edits cannot both be applied with one obvious result."""
    if a.start < b.end and b.start < a.end:  # the ranges share a character
        return True
    if a.start == a.end and b.start == b.end:  # two insertions at one point
        return a.start == b.start and not (a.line_insert and b.line_insert)
    insert, other = (a, b) if a.start == a.end else (b, a)
    if insert.start != insert.end:
        return False  # two adjacent replacements
    if other.start < insert.start < other.end:
        return True
    # An insertion touching a replacement: fine for a whole line (it goes before/after the line).
    return insert.start in (other.start, other.end) and not insert.line_insert


def _no_op(spans: Sequence[_Span], text: str) -> bool:
    return all(text[s.start : s.end] == s.content for s in spans)


def _splice(text: str, spans: Iterable[_Span]) -> str:
    """Apply non-conflicting spans; insertions at a point go before a replacement starting there."""
    ordered = sorted(
        enumerate(spans), key=lambda item: (item[1].start, item[1].start != item[1].end, item[0])
    )
    out: list[str] = []
    position = 0
    for _, span in ordered:
        out.append(text[position : span.start])
        out.append(span.content)
        position = span.end
    out.append(text[position:])
    return "".join(out)


def parses(text: str, path: str = "<fix>") -> bool:
    """Whether Python accepts the text as a module (the running interpreter's grammar)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _dedupe_inserts(spans: list[_Span], chosen: Sequence[_Span]) -> list[_Span]:
    """Drop the lines of whole-line insertions that a kept fix already inserts at the same point."""
    out: list[_Span] = []
    for span in spans:
        if not span.line_insert:
            out.append(span)
            continue
        present = {
            line
            for c in chosen
            if c.line_insert and c.start == span.start
            for line in c.content.splitlines(keepends=True)
        }
        kept = [line for line in span.content.splitlines(keepends=True) if line not in present]
        if kept:
            out.append(_Span(span.start, span.end, "".join(kept), True))
    return out


def apply_fixes(
    text: str, fixes: Sequence[Fix], *, newline: str = "\n", path: str = "<fix>"
) -> RoundResult:
    """Apply as many of ``fixes`` as do not touch each other, in order, to ``text``.

    ``text`` must parse; the result always does (fixes that would break it are rejected).
    """
    lines = _Lines(text)
    result = RoundResult(text)
    chosen: list[_Span] = []
    taken: list[tuple[int, list[_Span]]] = []
    for index, fix in enumerate(fixes):
        spans = _resolve(fix, lines, newline)
        if isinstance(spans, str):
            result.rejected.append((index, spans))
            continue
        if _no_op(spans, text):
            continue
        spans = _dedupe_inserts(spans, chosen)
        if any(_conflict(s, c) for s in spans for c in chosen):
            result.deferred.append(index)
            continue
        chosen.extend(spans)
        taken.append((index, spans))
    if not taken:
        return result
    new = _splice(text, chosen)
    if not parses(new, path):
        # Find the culprits: keep each fix, in order, only while the text still parses.
        chosen, kept = [], []
        for index, spans in taken:
            candidate = _splice(text, [*chosen, *spans])
            if parses(candidate, path):
                chosen.extend(spans)
                kept.append((index, spans))
            else:
                result.rejected.append((index, "the fixed code would not parse"))
        taken = kept
        new = _splice(text, chosen)
    result.text = new
    result.applied = [index for index, _ in taken]
    return result


def fix_order(finding: Finding) -> tuple[int, int, int, int, str]:
    """Fixes are tried in the order of their first non-insertion edit (then the finding)."""
    fix = finding.fix
    assert fix is not None
    edits = [e for e in fix.edits if (e.line, e.column) != (e.end_line, e.end_column)] or list(
        fix.edits
    )
    first = min(((e.line, e.column) for e in edits), default=(finding.line, finding.column))
    return (*first, finding.line, finding.column, finding.code)


# ---------------------------------------------------------------------------------- to a fixed point
@dataclass(frozen=True)
class Rejection:
    finding: Finding
    reason: str

    def describe(self) -> str:
        f = self.finding
        return f"{f.where}: {f.code} fix not applied: {self.reason}"


@dataclass
class FixRun:
    """The result of fixing a set of texts; ``texts`` are the final texts of every file given."""

    texts: dict[str, str]
    # The selected findings of the final texts (what is left).
    remaining: list[Finding]
    # The selected findings of the texts given (before any fix).
    initial: list[Finding] = field(default_factory=list)
    # Findings whose fix went in, by path, over all rounds.
    fixed: dict[str, list[Finding]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    rounds: int = 0
    # Paths whose fixes did not settle within MAX_ROUNDS (or came back to an earlier text).
    unsettled: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return [p for p, fixes in self.fixed.items() if fixes]

    @property
    def fixed_count(self) -> int:
        return sum(len(v) for v in self.fixed.values())

    @property
    def resolved(self) -> list[Finding]:
        """The findings of the texts given that the run made go away (``resolved``)."""
        return resolved(self.initial, self.remaining)


def resolved(initial: Sequence[Finding], remaining: Sequence[Finding]) -> list[Finding]:
    """The ``initial`` findings that are not among ``remaining``: what a fix run really fixed.

    Counting applied fixes is not the same: one fix can remove several findings (a shared
    ``static_argnames`` edit), a fix can remove a finding that has none of its own, and a fix can be
    applied in a later round to a finding that only appeared then. Per file and rule, the count that
    went away is the honest figure; which ones went away is matched by message (a finding whose text
    another fix rewrote no longer matches, so the count caps the list).
    """
    left: dict[tuple[str, str], list[str]] = {}
    for f in remaining:
        left.setdefault((f.path, f.code), []).append(f.message)
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in initial:
        groups.setdefault((f.path, f.code), []).append(f)
    out: list[Finding] = []
    for key, found in groups.items():
        messages = list(left.get(key, []))
        gone = len(found) - len(messages)
        if gone <= 0:
            continue
        unmatched = []
        for f in found:
            if f.message in messages:
                messages.remove(f.message)
            else:
                unmatched.append(f)
        out += (unmatched + [f for f in found if f not in unmatched])[:gone]
    return sorted(out, key=lambda f: f.sort_key)


def fixable(finding: Finding, unsafe: bool) -> bool:
    fix = finding.fix
    return (
        fix is not None
        and bool(fix.edits)
        and (fix.applicability == "safe" or (unsafe and fix.applicability == "unsafe"))
    )


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def fix_texts(
    texts: Mapping[str, str],
    lint: Callable[[dict[str, str]], list[Finding]],
    *,
    unsafe: bool = False,
    newlines: Mapping[str, str] | None = None,
    max_rounds: int = MAX_ROUNDS,
    initial: Sequence[Finding] | None = None,
) -> FixRun:
    """Lint, apply fixes, re-lint, until no fix applies; ``lint`` returns the selected findings.

    A file with a syntax error (``JX000``) is never touched. ``newlines`` gives each file's line
    ending (default ``"\\n"``), used for the line breaks that fixes insert. ``initial``: the
    findings of ``texts`` when the caller has them already (saves the first lint).
    """
    current = dict(texts)
    newlines = newlines or {}
    run = FixRun(texts=current, remaining=[])
    reported: set[tuple[str, str, str, str]] = set()
    seen: dict[str, set[bytes]] = {path: {_digest(text)} for path, text in current.items()}
    frozen: set[str] = set()  # files whose fixes went round in a cycle
    findings = list(initial) if initial is not None else lint(current)
    run.initial = list(findings)
    while run.rounds < max_rounds:
        by_path: dict[str, list[Finding]] = {}
        broken: set[str] = set()
        for finding in findings:
            if finding.code == SYNTAX_ERROR:
                broken.add(finding.path)
            elif fixable(finding, unsafe) and finding.path in current:
                by_path.setdefault(finding.path, []).append(finding)
        changed = False
        before = dict(current)
        fixed_before = {p: len(v) for p, v in run.fixed.items()}
        for path, candidates in sorted(by_path.items()):
            if path in broken or path in frozen or not parses(current[path], path):
                continue
            candidates.sort(key=fix_order)
            fixes = [f.fix for f in candidates if f.fix is not None]
            outcome = apply_fixes(current[path], fixes, newline=newlines.get(path, "\n"), path=path)
            for index, reason in outcome.rejected:
                rejection = Rejection(candidates[index], reason)
                key = (path, candidates[index].code, candidates[index].message, reason)
                if key not in reported:
                    reported.add(key)
                    run.rejected.append(rejection)
            if outcome.text == current[path]:
                continue
            digest = _digest(outcome.text)
            if digest in seen[path]:
                # Fixes that undo each other: stop here rather than go round.
                frozen.add(path)
                run.unsettled.append(path)
                continue
            seen[path].add(digest)
            current[path] = outcome.text
            run.fixed.setdefault(path, []).extend(candidates[i] for i in outcome.applied)
            changed = True
        if not changed:
            break
        run.rounds += 1
        after = lint(current)
        if _introduced(findings, after):
            # Some fix of the round leaves a new finding: redo the round one fix at a time,
            # keeping only the fixes that leave none (each checked by linting the project).
            current.clear()
            current.update(before)
            for p, n in fixed_before.items():
                del run.fixed[p][n:]
            for p in [p for p in run.fixed if p not in fixed_before]:
                del run.fixed[p]
            after = _one_by_one(
                current, findings, by_path, lint, run, newlines, skip=broken | frozen
            )
        findings = after
    else:
        # Out of rounds: the files where one more round would still change the text did not settle.
        for path in sorted({f.path for f in findings if fixable(f, unsafe)} - frozen):
            fixes = sorted(
                (f for f in findings if f.path == path and fixable(f, unsafe)), key=fix_order
            )
            outcome = apply_fixes(
                current[path],
                [f.fix for f in fixes if f.fix is not None],
                newline=newlines.get(path, "\n"),
                path=path,
            )
            if outcome.text != current[path]:
                run.unsettled.append(path)
    run.remaining = findings
    return run


def _introduced(old: Sequence[Finding], new: Sequence[Finding]) -> list[tuple[str, str]]:
    """(path, code) pairs with more findings in ``new`` than in ``old``: what fixes created."""
    before = Counter((f.path, f.code) for f in old)
    after = Counter((f.path, f.code) for f in new)
    return sorted((after - before).keys())


def _one_by_one(
    current: dict[str, str],
    findings: list[Finding],
    by_path: dict[str, list[Finding]],
    lint: Callable[[dict[str, str]], list[Finding]],
    run: FixRun,
    newlines: Mapping[str, str],
    skip: set[str],
) -> list[Finding]:
    """Apply the round's fixes one at a time, each re-checked: a fix after which the project has a
    finding it did not have (another rule's, or a second one on the same value) is refused.
    Returns the findings of the texts left in ``current``."""
    for path, candidates in sorted(by_path.items()):
        base = current[path]
        if path in skip or not parses(base, path):
            continue
        accepted: list[Fix] = []  # applied together to the round's text: positions stay valid
        for candidate in sorted(candidates, key=fix_order):
            if candidate.fix is None:
                continue
            outcome = apply_fixes(
                base, [*accepted, candidate.fix], newline=newlines.get(path, "\n"), path=path
            )
            if outcome.text == current[path] or len(outcome.applied) != len(accepted) + 1:
                continue  # a no-op, or it overlaps a fix taken before: the next round has it
            trial = {**current, path: outcome.text}
            found = lint(trial)
            new = _introduced(findings, found)
            if new:
                codes = ", ".join(sorted({code for _, code in new}))
                run.rejected.append(
                    Rejection(candidate, f"the fixed code would have a new finding ({codes})")
                )
                continue
            current[path] = outcome.text
            accepted.append(candidate.fix)
            findings = found
            run.fixed.setdefault(path, []).append(candidate)
    return findings


__all__ = [
    "MAX_ROUNDS",
    "FixRun",
    "Rejection",
    "RoundResult",
    "apply_fixes",
    "fix_order",
    "fix_texts",
    "fixable",
    "parses",
    "resolved",
]

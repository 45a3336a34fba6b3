"""Parse an edited module again by re-parsing only the top-level statements the edit touched.

``jaxlint server`` re-parses the module being edited on every change; a 2,000-line module costs
about as much to parse as a fifth of the whole warm analysis. An edit usually changes one
function, so the statements before and after it are taken from the old tree (the same objects)
and only the text between them is parsed, as a module of its own.

This gives the tree that ``libcst.parse_module`` gives for the whole new text, because the
boundaries are chosen where nothing before them can depend on what follows and nothing after them
on what precedes:

- each boundary is the start of an old statement whose text begins with blank lines and column-0
  comments, then a column-0 line of code that cannot continue the statement before it (not
  ``else``/``elif``/``except``/``finally``); the text up to the end of that line (for the first
  boundary) or from the boundary on (for the second) is the same in both texts, so the tokens
  and the parser's state there are the same: the old statements before the first boundary are
  what the new text parses into, and so are the old statements after the second, provided the
  text between parses on its own (it then ends with every bracket and string closed) and ends
  with a line break;
- lines that a module parsed alone puts in its header (before its first statement) or footer
  (after its last) are the leading lines of the statement they precede in the whole text;
- the indentation and line break used where a block does not give its own are detected from
  the first indented block and the first line break: the old tree's where these lie before the
  first boundary, else (only simple statements before it) the middle's own first block, which
  must then agree with the old tree's (checked).

Anything else (an edit in the first statement, text that does not parse, no clean boundary) is
left to a full parse. ``tests/test_server.py`` compares the two on thousands of random edits.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

import libcst as cst

# Blank lines and column-0 comments, then a column-0 line of code that starts a statement of its
# own (``\r`` alone as a line break is left to full parses).
_CLEAN_START = re.compile(
    r"(?:(?:#[^\r\n]*)?(?:\r\n|\n))*(?!(?:else|elif|except|finally)\b)[^\s#\\][^\r\n]*(?:\r\n|\n)"
)
# Boundaries tried on each side before giving up (a full parse).
_TRIES = 8


def statement_offsets(tree: cst.Module, text: str) -> list[int] | None:
    """Where each top-level statement's text (with its leading lines) starts in ``text``, and
    where the footer starts; None where the module's code cannot be split so (no trailing line
    break) or does not add up to ``text``."""
    if not tree.has_trailing_newline:
        return None
    pos = len(_lines_code(tree, tree.header))
    out = [pos]
    for stmt in tree.body:
        pos += len(tree.code_for_node(stmt))
        out.append(pos)
    if pos + len(_lines_code(tree, tree.footer)) != len(text):
        return None
    return out


def reparse(
    old: str, tree: cst.Module, offsets: list[int], new: str
) -> tuple[cst.Module, list[int]] | None:
    """The tree of ``new`` (an edit of ``old``, whose tree and ``statement_offsets`` are given)
    and its statement offsets, parsing only what lies between reusable statements; None where
    a full parse is needed."""
    body = tree.body
    n = len(body)
    if n < 2 or len(offsets) != n + 1:
        return None
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    # The first boundary: statement k, whose first line of code is in the common prefix.
    k = min(bisect_right(offsets, prefix) - 1, n - 1)
    for _ in range(_TRIES):
        if k < 1:
            return None
        m = _CLEAN_START.match(old, offsets[k])
        if m is not None and m.end() <= prefix:
            break
        k -= 1
    else:
        return None
    # The default indentation is detected at the first indented block: before the boundary (the
    # old tree's), or (no compound statement before it) the middle's own, which must agree.
    indent_known = any(_has_block(s) for s in body[:k])
    if not indent_known and not all(isinstance(s, cst.SimpleStatementLine) for s in body[:k]):
        return None
    # The second boundary: statement j, all of whose text (and all after it) is common.
    j = max(bisect_left(offsets, len(old) - suffix), k + 1)
    for _ in range(_TRIES):
        if j >= n or _CLEAN_START.match(old, offsets[j]) is not None:
            break
        j += 1
    else:
        j = n
    delta = len(new) - len(old)
    start = offsets[k]
    end = offsets[j] + delta if j < n else len(new)
    if end <= start or (j < n and new[end - 1] != "\n"):
        return None
    config = (
        cst.PartialParserConfig(
            default_indent=tree.default_indent, default_newline=tree.default_newline
        )
        if indent_known
        else cst.PartialParserConfig(default_newline=tree.default_newline)
    )
    try:
        middle = cst.parse_module(new[start:end], config=config)
    except Exception:
        return None
    if not middle.body:
        return None
    if not indent_known and (
        not any(_has_block(s) for s in middle.body) or middle.default_indent != tree.default_indent
    ):
        return None
    fresh = list(middle.body)
    if middle.header:
        fresh[0] = fresh[0].with_changes(leading_lines=(*middle.header, *fresh[0].leading_lines))
    after = list(body[j:])
    if j < n:
        if middle.footer:
            after[0] = after[0].with_changes(
                leading_lines=(*middle.footer, *after[0].leading_lines)
            )
        result = tree.with_changes(body=(*body[:k], *fresh, *after))
    else:
        result = tree.with_changes(
            body=(*body[:k], *fresh),
            footer=middle.footer,
            has_trailing_newline=middle.has_trailing_newline,
        )
        if not result.has_trailing_newline:
            return None  # no offsets to keep for it; parse it whole next time
    codes = [result.code_for_node(stmt) for stmt in fresh]
    if not new.startswith("".join(codes), start):
        return None  # (LibCST prints what it parses; a check that costs little)
    out = offsets[: k + 1]
    pos = start
    for code in codes:
        pos += len(code)
        out.append(pos)
    out.extend(o + delta for o in offsets[j + 1 :])
    return result, out


def _has_block(stmt: cst.CSTNode) -> bool:
    return isinstance(getattr(stmt, "body", None), cst.IndentedBlock)


def _lines_code(tree: cst.Module, lines: object) -> str:
    if not lines:
        return ""
    return cst.Module(
        body=[],
        header=list(lines),
        default_newline=tree.default_newline,  # type: ignore[arg-type]
    ).code


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (slices compare in C: a binary search is fast)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    lo, hi = 0, max(limit, 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


__all__ = ["reparse", "statement_offsets"]

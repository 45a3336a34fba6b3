"""Jupyter notebooks (``.ipynb``) as a source kind: their code cells are linted as one module.

The analysis sees one Python text per notebook: each code cell, in order, after a marker line
``# %% [jaxlint cell N]`` (N: the cell's 1-based position among all cells, as VS Code and Jupyter
number them). The markers are comments, so the text means what the cells mean when run top to
bottom, and they survive fixes, so positions and fixed cells are found again from any later text.

IPython syntax is not Python: a line magic (``%time f()``), a shell escape (``!pip install``), an
assignment from one (``files = !ls``) or a help request (``obj?``) is replaced by ``pass`` (or ``name = None``) at the same
indentation, with a numbered comment to put it back, keeping every line number; a cell magic cell
(``%%bash``) is left out whole (only its marker line remains).

``--fix`` writes back only the cells whose code changed, through nbformat, so outputs, metadata and
the other cells are kept; the notebook's own JSON indentation is detected and reused, and a file
that would not round-trip byte for byte through nbformat (or plain JSON) is left alone.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxlint.findings import Finding

NOTEBOOK_SUFFIX = ".ipynb"

_MARKER = re.compile(r"# %% \[jaxlint cell (\d+)\]\Z")
_PLACEHOLDER = re.compile(r"#\s*jaxlint-magic-(\d+)\s*\Z")
_MAGIC = re.compile(r"(?P<indent>[ \t]*)(?P<target>[A-Za-z_][\w.]*\s*=\s*)?[%!]")
# IPython's help: `obj?`, `obj??`, `?obj`, `np.*load*?`
_HELP = re.compile(r"(?P<indent>[ \t]*)(\?{1,2}[A-Za-z_*][\w.*]*|[A-Za-z_*][\w.*]*\?{1,2})\s*\Z")


class NotebookError(Exception):
    """A notebook that cannot be read or written back; the message is one line."""


def is_notebook(path: object) -> bool:
    return str(path).endswith(NOTEBOOK_SUFFIX)


@dataclass
class NotebookSource:
    """A notebook as read: the JSON, the Python text the analysis sees, and what restores it."""

    raw: bytes
    node: Any  # the nbformat NotebookNode
    text: str
    # placeholder number -> the IPython line it stands for
    magics: dict[int, str] = field(default_factory=dict)
    # cell number -> the text the analysis saw for it (to tell which cells a fix changed)
    cells: dict[int, str] = field(default_factory=dict)


def _bracket_delta(line: str) -> int:
    """Brackets opened minus closed on a line, outside one-line strings and comments (a rough
    count: enough to tell a continuation line from a new statement)."""
    delta, quote = 0, ""
    for i, char in enumerate(line):
        if quote:
            if char == quote and line[i - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            break
        elif char in "([{":
            delta += 1
        elif char in ")]}":
            delta -= 1
    return delta


def _mask(source: str, magics: dict[int, str]) -> str:
    """The cell's code with IPython-only lines replaced by numbered Python placeholders."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return ""  # a cell magic: the whole cell is another language
    out: list[str] = []
    depth, continued = 0, False
    for line in lines:
        # IPython only reads a magic at the start of a logical line: `% b` continuing a bracket or
        # a backslash is Python's modulo.
        match = None if depth > 0 or continued else _MAGIC.match(line) or _HELP.match(line)
        if match is None:
            depth = max(depth + _bracket_delta(line), 0)
            continued = line.endswith("\\")
            out.append(line)
            continue
        number = len(magics) + 1
        magics[number] = line
        target = match.groupdict().get("target")
        stand_in = f"{target}None" if target else "pass"
        out.append(f"{match['indent']}{stand_in}  # jaxlint-magic-{number}")
    return "\n".join(out)


def _language(node: Any) -> str | None:
    """The kernel's language as the notebook records it (None: not recorded, taken as Python)."""
    metadata = node.get("metadata", {})
    language = metadata.get("kernelspec", {}).get("language") or metadata.get(
        "language_info", {}
    ).get("name")
    return str(language).lower() if language else None


def parse_notebook(raw: bytes) -> NotebookSource:
    """Read a notebook (nbformat 4); raises NotebookError with the reason."""
    import nbformat

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex()
        raise NotebookError(
            f"invalid UTF-8 (byte 0x{byte} at offset {exc.start}: {exc.reason})"
        ) from None
    try:
        with warnings.catch_warnings():
            # nbformat warns (on stderr) about notebooks it would normalise; the file is the user's.
            warnings.simplefilter("ignore")
            node = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except Exception as exc:  # nbformat raises JSON, validation and reader errors alike
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise NotebookError(f"not a valid notebook: {reason}") from None
    if node.get("nbformat") != 4:
        raise NotebookError(f"notebook format {node.get('nbformat')} is not supported (only 4)")
    source = NotebookSource(raw, node, "")
    if _language(node) not in (None, "python"):
        return source  # an R or Julia notebook: no Python to check
    parts: list[str] = []
    for index, cell in enumerate(node.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        code = _mask(cell.get("source", ""), source.magics)
        source.cells[index] = code
        parts.append(f"# %% [jaxlint cell {index}]\n")
        if code:
            parts.append(code if code.endswith("\n") else code + "\n")
    source.text = "".join(parts)
    return source


def cell_markers(text: str) -> list[tuple[int, int]]:
    """``(line of the marker, cell number)`` for each cell marker in ``text``, in order."""
    return [
        (number, int(match.group(1)))
        for number, line in enumerate(text.split("\n"), start=1)
        if (match := _MARKER.match(line))
    ]


def _norm(code: str) -> str:
    """A cell's code as it reads back from the joined text (one trailing newline dropped)."""
    return code[:-1] if code.endswith("\n") else code


def split_cells(text: str) -> dict[int, str]:
    """Cell number -> its code, from a (possibly fixed) joined text; text above the first marker
    (an import a fix put at the top) belongs to the first cell."""
    out: dict[int, list[str]] = {}
    head: list[str] = []
    current = head
    for line in text.split("\n"):
        match = _MARKER.match(line)
        if match:
            current = head if not out else []
            out[int(match.group(1))] = current
        else:
            current.append(line)
    return {n: _norm("\n".join(lines)) for n, lines in out.items()}


def _unmask(code: str, magics: dict[int, str]) -> str:
    lines = []
    for line in code.split("\n"):
        match = _PLACEHOLDER.search(line)
        lines.append(magics.get(int(match.group(1)), line) if match else line)
    return "\n".join(lines)


def _restore(source: NotebookSource, number: int, code: str) -> str:
    """A fixed cell's code as the cell's source: IPython lines back, its final newline kept."""
    code = _unmask(code, source.magics)
    return code + "\n" if source.cells[number].endswith("\n") else code


def _indent(raw: bytes) -> int:
    """The JSON indentation the notebook was saved with (Jupyter writes 1)."""
    match = re.search(rb"\{\r?\n( +)\"", raw)
    return len(match.group(1)) if match else 1


def _dump_nbformat(node: Any, indent: int, raw: bytes) -> str:
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = nbformat.writes(node, version=nbformat.NO_CONVERT, indent=indent)
    return text + "\n" if raw.endswith(b"\n") and not text.endswith("\n") else text


def _dump_json(data: Any, indent: int, raw: bytes) -> str:
    text = json.dumps(data, indent=indent, ensure_ascii=not re.search(rb"[\x80-\xff]", raw))
    return text + "\n" if raw.endswith(b"\n") else text


def render_notebook(source: NotebookSource, text: str) -> bytes:
    """The notebook file with the cells of ``text`` (the fixed joined code) put back.

    Only cells whose code changed are replaced. The writer is whichever of nbformat (Jupyter's own
    format: sorted keys) or order-keeping JSON reproduces the original bytes exactly; when neither
    does, writing would reformat the whole file, so it raises NotebookError instead.
    """
    import copy

    fixed = split_cells(text)
    if set(fixed) != set(source.cells):
        raise NotebookError("the fixes moved a cell boundary")
    changed = {n: code for n, code in fixed.items() if code != _norm(source.cells[n])}
    indent = _indent(source.raw)
    original = source.raw.decode("utf-8")
    if _dump_nbformat(source.node, indent, source.raw) == original:
        node = copy.deepcopy(source.node)
        for number, code in changed.items():
            node.cells[number - 1].source = _restore(source, number, code)
        return _dump_nbformat(node, indent, source.raw).encode("utf-8")
    data = json.loads(original)
    if _dump_json(data, indent, source.raw) != original:
        raise NotebookError("its JSON layout does not round-trip byte for byte")
    for number, code in changed.items():
        cell = data["cells"][number - 1]
        new = _restore(source, number, code)
        cell["source"] = new.splitlines(keepends=True) if isinstance(cell["source"], list) else new
    return _dump_json(data, indent, source.raw).encode("utf-8")


def locate(finding: Finding, text: str) -> Finding:
    """The finding with cell-relative lines (``extra``: ``cell``, ``cell_offset``: the marker's
    line, which added to a cell line gives the line in the joined text)."""
    import dataclasses

    markers = cell_markers(text)

    def cell_of(line: int) -> tuple[int, int] | None:
        before = [m for m in markers if m[0] < line]
        return before[-1] if before else None

    where = cell_of(finding.line)
    if where is None:
        return finding
    offset, cell = where

    def relabel(match: re.Match[str]) -> str:
        # "decorated at nb.ipynb:7" in a trace: the cell and the line within it.
        at = cell_of(int(match.group(1)))
        return (
            f"{match.group(0)}"
            if at is None
            else f"{finding.path}:cell {at[1]}:" + str(int(match.group(1)) - at[0])
        )

    pattern = re.compile(re.escape(finding.path) + r":(\d+)(?![\d:])")
    return dataclasses.replace(
        finding,
        line=finding.line - offset,
        end_line=max(finding.end_line - offset, 1),
        trace=tuple(pattern.sub(relabel, step) for step in finding.trace),
        extra={**finding.extra, "cell": cell, "cell_offset": offset},
    )


def position(text: str, line: int) -> str:
    """``cell N:L`` for a line of a notebook's joined text (``line`` itself above every cell)."""
    before = [m for m in cell_markers(text) if m[0] < line]
    return f"cell {before[-1][1]}:{line - before[-1][0]}" if before else str(line)


def locate_all(findings: Sequence[Finding], sources: Mapping[str, str]) -> list[Finding]:
    """``locate`` for the findings in notebooks (``sources``: display path -> joined text)."""
    return [
        locate(f, sources[f.path]) if is_notebook(f.path) and f.path in sources else f
        for f in findings
    ]


__all__ = [
    "NOTEBOOK_SUFFIX",
    "NotebookError",
    "NotebookSource",
    "cell_markers",
    "is_notebook",
    "locate",
    "locate_all",
    "parse_notebook",
    "position",
    "render_notebook",
    "split_cells",
]

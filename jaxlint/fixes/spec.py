"""How a rule describes a fix: replace nodes with new source, and add the imports it needs.

Rules work on nodes because positions are resolved once, after the analysis, for the modules that
report (see ``analysis.positions``); the project turns a ``NodeFix`` into the SPEC's ``Fix`` edits.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import libcst as cst

from jaxlint.findings import Applicability


@dataclass(frozen=True)
class NodeFix:
    applicability: Applicability
    message: str
    # (node, new source text) pairs; the text replaces the node's whole span.
    replacements: tuple[tuple[cst.CSTNode, str], ...]
    # Import statements the new text needs, e.g. "import jax.numpy as jnp"; added once at the top.
    imports: tuple[str, ...] = ()


# The conventional local name and import statement for each module a fix may need.
CONVENTIONAL: dict[str, tuple[str, str]] = {
    "jax": ("jax", "import jax"),
    "jax.numpy": ("jnp", "import jax.numpy as jnp"),
    "jax.lax": ("lax", "from jax import lax"),
    "jax.random": ("jax.random", "import jax"),
    "jax.tree_util": ("jax.tree_util", "import jax"),
}


def header_end(module: cst.Module) -> list[cst.BaseSmallStatement]:
    """The statements of the module's header (docstring, __future__ and leading imports), in
    order: new imports go on the line after one of them, so they join the file's import block."""
    out: list[cst.BaseSmallStatement] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        if not all(
            isinstance(s, cst.Import | cst.ImportFrom)
            or (
                isinstance(s, cst.Expr)
                and isinstance(s.value, cst.SimpleString | cst.ConcatenatedString)
            )
            for s in stmt.body
        ):
            break
        out.append(stmt.body[-1])
    return out


def import_anchor(header: list[cst.BaseSmallStatement], line: str) -> cst.BaseSmallStatement | None:
    """The header statement after which the import ``line`` goes, in the style of isort/ruff:
    a standard-library import after the file's last standard-library import (or before its first
    other import), any other after the last import of the same package, else after the last
    import. None: the first line of the file."""
    top = _top_module(line)
    stdlib = top in sys.stdlib_module_names
    last_prefix: cst.BaseSmallStatement | None = None  # docstring and __future__ imports
    last_stdlib = last_same = None
    for s in header:
        name = _imported_top(s)
        if name is None or name == "__future__":
            last_prefix = s
            continue
        if name in sys.stdlib_module_names:
            last_stdlib = s
        if name == top:
            last_same = s
    if stdlib:
        return last_stdlib or last_same or last_prefix
    return last_same or (header[-1] if header else None)


def _top_module(line: str) -> str:
    words = line.split()
    return words[1].split(".")[0] if len(words) > 1 else ""


def _imported_top(stmt: cst.BaseSmallStatement) -> str | None:
    if isinstance(stmt, cst.Import):
        return cst.Module([]).code_for_node(stmt.names[0].name).split(".")[0]
    if isinstance(stmt, cst.ImportFrom):
        if stmt.relative or stmt.module is None:
            return "."
        return cst.Module([]).code_for_node(stmt.module).split(".")[0]
    return None

"""How a rule describes a fix: replace nodes with new source, and add the imports it needs.

Rules work on nodes because positions are resolved once, after the analysis, for the modules that
report (see ``analysis.positions``); the project turns a ``NodeFix`` into the SPEC's ``Fix`` edits.
"""

from __future__ import annotations

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


def header_end(module: cst.Module) -> cst.BaseSmallStatement | None:
    """The last statement of the module's header (docstring, __future__ and leading imports).

    New imports go on the line after it, so they join the file's own import block.
    """
    last: cst.BaseSmallStatement | None = None
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
        last = stmt.body[-1]
    return last

"""Source positions of LibCST nodes, computed only for the nodes that are reported.

LibCST's ``PositionProvider`` costs about three parses per module; one code-generation pass that
records only the wanted nodes costs a fraction of one parse, runs only for modules that report,
and stops at the last wanted node.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import libcst as cst
from libcst._nodes.internal import CodegenState

Span = tuple[int, int, int, int]  # line, column, end_line, end_column (1-based, end exclusive)


class _Done(Exception):
    """Every wanted node has its span: the rest of the module need not be generated."""


class _PositionState(CodegenState):
    def __init__(self, targets: set[int], module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.line = 1
        self.col = 0
        self.targets = targets
        self.starts: dict[int, tuple[int, int]] = {}
        self.spans: dict[int, Span] = {}

    def _advance(self, value: str) -> None:
        n = value.count("\n")
        if n:
            self.line += n
            self.col = len(value) - value.rfind("\n") - 1
        else:
            self.col += len(value)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def add_indent_tokens(self) -> None:
        for tok in self.indent_tokens:
            self.add_token(tok)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self.starts[id(node)] = (self.line, self.col)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets and key in self.starts:
            line, col = self.starts[key]
            self.spans[key] = (line, col + 1, self.line, self.col + 1)
            if len(self.spans) == len(self.targets):
                raise _Done


def _syntactic_target(node: cst.CSTNode) -> cst.CSTNode:
    """Statements report at their first token, not at the blank lines and comments before them."""
    if isinstance(node, cst.SimpleStatementLine) and node.body:
        return node.body[0]
    return node


def resolve_spans(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Spans of ``nodes`` (by ``id``); parentheses around an expression are part of its span."""
    wanted = {id(_syntactic_target(n)): id(n) for n in nodes}
    state = _PositionState(set(wanted), module)
    with contextlib.suppress(_Done):
        module._codegen(state)
    return {wanted[k]: v for k, v in state.spans.items()}

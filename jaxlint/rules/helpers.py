"""Shared predicates for rule hooks: what counts as a traced array, how a subscript splits."""

from __future__ import annotations

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.context import RuleContext
from jaxlint.analysis.values import Kind, Value

ARRAYISH = (Kind.DEVICE, Kind.UNKNOWN)


def transform_word(ctx: RuleContext) -> str:
    return "under jit" if ctx.staged else "under vmap"


def is_arraylike_traced(v: Value) -> bool:
    return v.traced and (v.kind is Kind.DEVICE or v.boolean)


def index_values(node: cst.Subscript) -> tuple[list[cst.BaseExpression], list[cst.BaseExpression]]:
    """(index expressions, slice bound expressions) of a subscript."""
    idx: list[cst.BaseExpression] = []
    bounds: list[cst.BaseExpression] = []
    for el in node.slice:
        s = el.slice
        if isinstance(s, cst.Index):
            idx.append(s.value)
        elif isinstance(s, cst.Slice):
            bounds.extend(x for x in (s.lower, s.upper, s.step) if x is not None)
    return idx, bounds

"""Shared predicates for rule hooks: what counts as a traced array, how a subscript splits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import Kind, Value

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext


def transform_word(ctx: RuleContext) -> str:
    return "under jit" if ctx.staged else "under vmap"


def is_arraylike_traced(v: Value) -> bool:
    """Traced and known to be an array (not a pytree that may hold static metadata)."""
    return v.traced and (v.kind is Kind.DEVICE or v.boolean)


def holds_traced_array(v: Value) -> bool:
    """A traced array, or a tuple/list literal with one among its elements (a shape, a row)."""
    if is_arraylike_traced(v):
        return True
    return v.elts is not None and any(holds_traced_array(e) for e in v.elts)


def holds_tracers(v: Value) -> bool:
    """A value that is (or contains) tracers whatever its Python type: a traced array, or an
    argument of a transform of unknown type (all its leaves are traced). Where Python needs a
    number (a shape, a count, ``int()``, an index), either raises; only truth tests differ."""
    if is_arraylike_traced(v) or (v.traced and v.kind is Kind.TREE):
        return True
    return v.elts is not None and any(holds_tracers(e) for e in v.elts)


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

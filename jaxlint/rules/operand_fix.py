"""Fixes for a count that reaches traced code as an operand of ``lax.cond``, ``lax.scan`` or
``lax.fori_loop``: no rewrite of the function that uses it can make it static, but the call can.

- ``lax.cond(p, f, g, *operands)``: the branches close over the operands instead, so a Python
  number stays one (``lambda ops=(x, n): f(*ops)``, ``lambda: g(x, n)``). The operands are read
  once where the call was, as before; JAX sees the same arrays, now closed over.
- ``lax.scan(body, init, (xs, jnp.full((k,), n)))``: every row of that part is ``n``, so the body
  reads ``n`` itself where it read its row.
- ``lax.fori_loop(lo, hi, body, init)`` with known bounds: unrolled into a Python loop
  (``functools.reduce`` over ``range(lo, hi)``), where the index is a Python int. Unsafe: the
  program grows with the trip count, and the carry may change type between iterations.

Each is offered only where the trace chain shows the count is that operand (or the loop index),
passed along unchanged or combined with Python numbers, and the analysis saw a Python number
where the call ran (every time it ran).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.syntax import descendants
from jaxlint.analysis.values import Value, python_type
from jaxlint.fixes.spec import NodeFix
from jaxlint.rules.fixing import (
    _repeated_value,
    _traced_leaves,
    code,
    guarded,
    qual_of,
    static_argnames_fix,
    static_field_fix,
    step_text,
)

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext

_PARAM = re.compile(r"`(\w+)` is argument (\d+) of .+\(\)")
_PASSED = re.compile(r"passed as `(\w+)` \(argument (\d+)\) to .+\(\) at \{at\}")
# an unrolled loop is one copy of the body per iteration: beyond this, advice only
MAX_UNROLL = 64
_QUALS = ("jax.lax.cond", "jax.lax.scan", "jax.lax.fori_loop")


@dataclass
class _Source:
    """Where a traced name's value comes from at a control-flow call."""

    site: cst.Call
    qual: str
    index: int  # which parameter of the body function (0-based)
    path: list[int] = field(default_factory=list)  # element indices into that operand
    derived: bool = False  # combined with Python numbers on the way
    # the expression of the first call in the body that selects the operand's part
    selection: cst.BaseExpression | None = None


def static_source_fix(
    ctx: RuleContext, expr: cst.BaseExpression, *, plain: bool = False, fields: bool = False
) -> NodeFix | None:
    """A count (a size, a key, a slice bound) made static where it comes from: a parameter of a
    jit in this file (``static_argnames``; ``plain`` as in :func:`static_argnames_fix`), a
    repeated count that vmap or pmap maps, a field of a flax struct of this file (``fields``),
    or a control-flow operand (:func:`operand_fix`)."""
    return (
        static_argnames_fix(ctx, expr, plain=plain)
        or (static_field_fix(ctx, expr) if fields else None)
        or operand_fix(ctx, expr)
    )


@guarded
def operand_fix(ctx: RuleContext, expr: cst.BaseExpression) -> NodeFix | None:
    parts = _traced_leaves(ctx, expr)
    if not parts:
        return None
    sources = [_source(ctx, p) for p in parts]
    if any(s is None for s in sources):
        return None
    found = [s for s in sources if s is not None]
    site = found[0].site
    if any(s.site is not site or s.qual != found[0].qual for s in found):
        return None
    names = ctx.project.site_names[id(site)][1]
    if found[0].qual == "jax.lax.fori_loop":
        if any(s.index != 0 or s.path for s in found):
            return None
        return _unroll(ctx, site, names)
    if found[0].qual == "jax.lax.cond":
        return _close_over(ctx, site, names, found)
    return _scan_row(ctx, site, names, found)


def _source(ctx: RuleContext, part: cst.BaseExpression) -> _Source | None:
    """Read the trace chain of ``part``: the control-flow call that traces it, the body's
    parameter, then calls that pass it on unchanged, an element of it, or it combined with
    Python numbers (only inside the call itself, where the analysis saw those numbers)."""
    if not isinstance(part, cst.Name):
        return None
    reason = ctx.value(part).reason or ()
    if len(reason) < 2 or reason[0][1] is None or reason[0][1][0] is not ctx.frame.module:
        return None
    site = reason[0][1][1]
    seen = ctx.project.site_names.get(id(site))
    if not isinstance(site, cst.Call) or seen is None or seen[0] is not site:
        return None
    qual = qual_of(ctx, site.func)
    first = _PARAM.fullmatch(step_text(reason[1][0]))
    if qual not in _QUALS or first is None:
        return None
    src = _Source(site, qual, int(first.group(2)) - 1)
    current = first.group(1)
    inside = {id(n) for n in descendants(site)}
    for text, at in reason[2:]:
        hop = _PASSED.fullmatch(step_text(text))
        if hop is None or at is None or not isinstance(at[1], cst.Call):
            return None
        passed = _argument(at[1], int(hop.group(2)) - 1, hop.group(1))
        if passed is None:
            return None
        arg, star_offset = passed
        if star_offset is not None:  # `f(*ops)`: an element of ops
            if not (isinstance(arg, cst.Name) and arg.value == current) or src.derived:
                return None
            src.path.append(star_offset)
            src.selection = src.selection or at[1]
        else:
            picked = _pick(arg, current, seen[1], id(at[1]) in inside)
            if picked is None:
                return None
            index, derived, selection = picked
            if index is not None:
                if src.derived:
                    return None
                src.path.append(index)
            if index is not None or derived:
                src.selection = src.selection or selection
            src.derived |= derived
        current = hop.group(1)
    return src if current == part.value else None


def _argument(
    call: cst.Call, position: int, name: str
) -> tuple[cst.BaseExpression, int | None] | None:
    """The expression a call passes as its ``position``-th parameter ``name``, and for an
    argument in a ``*star`` expansion the element's index within it."""
    before = 0
    for a in call.args:
        if a.keyword is not None:
            if a.keyword.value == name:
                return a.value, None
            continue
        if a.star == "*":
            if position >= before:
                return a.value, position - before
            return None
        if a.star:
            return None
        if before == position:
            return a.value, None
        before += 1
    return None


def _pick(
    arg: cst.BaseExpression, current: str, names: dict[str, Value], inside: bool
) -> tuple[int | None, bool, cst.BaseExpression] | None:
    """How ``arg`` holds ``current``: (element index or None, combined with Python numbers,
    the node that reads ``current``); None where it is anything else."""
    if isinstance(arg, cst.Name) and arg.value == current:
        return None, False, arg
    if (
        isinstance(arg, cst.Subscript)
        and isinstance(arg.value, cst.Name)
        and arg.value.value == current
        and len(arg.slice) == 1
        and isinstance(arg.slice[0].slice, cst.Index)
        and isinstance(arg.slice[0].slice.value, cst.Integer)
    ):
        return int(arg.slice[0].slice.value.value), False, arg
    if not inside or not isinstance(arg, cst.BinaryOperation | cst.UnaryOperation):
        return None
    # `I0 + k`: exactly one read of the operand, the rest Python numbers seen at the call
    reads: list[tuple[int | None, cst.BaseExpression]] = []
    stack: list[cst.BaseExpression] = [arg]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.BinaryOperation):
            stack += [n.left, n.right]
        elif isinstance(n, cst.UnaryOperation):
            stack.append(n.expression)
        elif isinstance(n, cst.Integer) or (
            isinstance(n, cst.Name) and n.value != current and _python_number(names.get(n.value))
        ):
            continue
        else:
            got = _pick(n, current, names, False)
            if got is None:
                return None
            reads.append((got[0], got[2]))
    if len(reads) != 1:
        return None
    return reads[0][0], True, reads[0][1]


def _python_number(v: Value | None) -> bool:
    return v is not None and (python_type(v) in (int, float) or type(v.const) is bool)


def _known_int(node: cst.BaseExpression, names: dict[str, Value]) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _known_int(node.expression, names)
        return -inner if inner is not None else None
    if isinstance(node, cst.Name):
        v = names.get(node.value)
        if v is not None and not v.traced and type(v.const) is int:
            return v.const
    return None


def _positional(site: cst.Call, count: int) -> list[cst.BaseExpression] | None:
    if len(site.args) != count or any(a.keyword is not None or a.star for a in site.args):
        return None
    return [a.value for a in site.args]


def _unroll(ctx: RuleContext, site: cst.Call, names: dict[str, Value]) -> NodeFix | None:
    args = _positional(site, 4)
    if args is None:
        return None
    lo, hi, body, init = args
    a, b = _known_int(lo, names), _known_int(hi, names)
    if a is None or b is None or b - a > MAX_UNROLL:
        return None
    functools_name, imports = ctx.alias("functools")
    if isinstance(body, cst.Lambda) and _simple_params(body, 2):
        k, c = (p.name.value for p in body.params.params)
        step = f"lambda {c}, {k}: {code(body.body)}"
    elif isinstance(body, cst.Name | cst.Attribute):
        step = f"lambda carry, index: {code(body)}(index, carry)"
    else:
        return None
    text = f"{functools_name}.reduce({step}, range({code(lo)}, {code(hi)}), {code(init)})"
    message = (
        "unroll the `fori_loop` into a Python loop over `range` (the index is then a Python int): "
        "the program holds one copy of the body per iteration"
    )
    return NodeFix("unsafe", message, ((site, text),), imports)


def _simple_params(fn: cst.Lambda, count: int) -> bool:
    p = fn.params
    return (
        len(p.params) == count
        and not p.posonly_params
        and not p.kwonly_params
        and isinstance(p.star_arg, cst.MaybeSentinel)
        and p.star_kwarg is None
        and all(q.default is None for q in p.params)
    )


def _pure(node: cst.BaseExpression) -> bool:
    """Read twice or later, the same value: names, literals, attributes, tuples of those."""
    if isinstance(node, cst.Name | cst.Integer | cst.Float | cst.SimpleString):
        return True
    if isinstance(node, cst.Attribute):
        return _pure(node.value)
    if isinstance(node, cst.Tuple | cst.List):
        return all(isinstance(e, cst.Element) and _pure(e.value) for e in node.elements)
    return False


def _selected(node: cst.BaseExpression, path: list[int]) -> cst.BaseExpression | None:
    for i in path:
        if not isinstance(node, cst.Tuple | cst.List) or not 0 <= i < len(node.elements):
            return None
        node = node.elements[i].value
    return node


def _python_value(node: cst.BaseExpression | None, names: dict[str, Value]) -> bool:
    if isinstance(node, cst.Integer | cst.Float):
        return True
    return isinstance(node, cst.Name) and _python_number(names.get(node.value))


def _close_over(
    ctx: RuleContext, site: cst.Call, names: dict[str, Value], found: list[_Source]
) -> NodeFix | None:
    if len(site.args) < 4 or any(a.keyword is not None or a.star for a in site.args):
        return None
    pred, tf, ff, *operands = (a.value for a in site.args)
    ops = list(operands)
    if not all(_pure(o) for o in ops):
        return None
    for s in found:
        # the branch's parameter `s.index` is operand `s.index`; the count is an element of it
        if s.index >= len(ops) or not _python_value(_selected(ops[s.index], s.path), names):
            return None
    branches = [_closed_branch(b, ops) for b in (tf, ff)]
    if any(b is None for b in branches):
        return None
    text = f"{code(site.func)}({code(pred)}, {branches[0]}, {branches[1]})"
    message = (
        "close the branches over the operands instead of passing them: a Python number stays "
        "one inside `cond` (JAX sees the same arrays, as constants of the branches)"
    )
    return NodeFix("safe", message, ((site, text),))


def _closed_branch(branch: cst.BaseExpression, ops: list[cst.BaseExpression]) -> str | None:
    if isinstance(branch, cst.Lambda) and _simple_params(branch, len(ops)):
        params = ", ".join(
            f"{p.name.value}={code(o)}" for p, o in zip(branch.params.params, ops, strict=True)
        )
        return f"lambda {params}: {code(branch.body)}"
    if isinstance(branch, cst.Name | cst.Attribute):
        return f"lambda: {code(branch)}({', '.join(code(o) for o in ops)})"
    return None


def _scan_row(
    ctx: RuleContext, site: cst.Call, names: dict[str, Value], found: list[_Source]
) -> NodeFix | None:
    if not site.args or any(a.star for a in site.args):
        return None
    xs = site.args[2].value if len(site.args) > 2 and site.args[2].keyword is None else None
    for a in site.args:
        if a.keyword is not None and a.keyword.value == "xs":
            xs = a.value
    body = site.args[0].value
    if xs is None or not isinstance(body, cst.Lambda) or not _simple_params(body, 2):
        return None
    inside = {id(n) for n in descendants(body.body)}
    params = {p.name.value for p in body.params.params}
    edits: list[tuple[cst.CSTNode, str]] = []
    for s in found:
        part = _selected(xs, s.path)
        value = _repeated_value(ctx, part) if part is not None else None
        if (
            s.index != 1
            or value is None
            or s.selection is None
            or id(s.selection) not in inside
            or not _python_value(value, names)
            or (isinstance(value, cst.Name) and value.value in params)
        ):
            return None
        edits.append((s.selection, code(value)))
    message = (
        "read the repeated value itself where the body read its row of `xs`: every row is that "
        "value, and a Python number stays one inside `scan`"
    )
    return NodeFix("safe", message, tuple(edits))

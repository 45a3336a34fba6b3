"""What rule fixes share: where a node sits, which expressions may be evaluated eagerly, how to
spell an expression in a new place.

Rule hooks see one node at a time; a fix often needs more (the call around a subscript, the block
around an ``if``, the statement that follows it, the indentation of a line). ``tree_of`` gives a
parent map and the indentation of every statement of a module, once per module and only for
modules where a fix asks for it (mapped lazily, a top-level statement at a time).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import libcst as cst

from jaxlint.analysis.model import own_returns
from jaxlint.analysis.values import Kind, Value
from jaxlint.fixes.spec import NodeFix

if TYPE_CHECKING:
    from jaxlint.analysis.context import RuleContext
    from jaxlint.analysis.frames import Frame

_EMPTY = cst.Module([])
_DEBUG = bool(os.environ.get("JAXLINT_DEBUG"))
P = ParamSpec("P")
R = TypeVar("R")


class NoFix(Exception):
    """Raised by a fix builder that finds an operand it cannot prove the rewrite right for."""


def guarded(fn: Callable[P, R | None]) -> Callable[P, R | None]:
    """A fix builder that fails yields no fix, never a lost finding (JAXLINT_DEBUG=1 raises)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return fn(*args, **kwargs)
        except NoFix:
            return None
        except Exception:
            if _DEBUG:
                raise
            return None

    return wrapper


def code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def directly_traced(ctx: RuleContext) -> bool:
    """The current function is one that a transform traces (or a body that a traced function
    hands to lax.scan, lax.cond, ...), not a helper called from traced code."""
    steps = ctx.frame.in_trace or ()
    for text, _ in steps:
        t = step_text(text)
        if t == "..." or "is called from traced code" in t:
            return False
    return True


def step_text(text: object) -> str:
    """The text of a trace step without rendering node sources (``values.Text`` is lazy)."""
    return text if isinstance(text, str) else str(getattr(text, "fmt", text))


def verdict(ctx: RuleContext, safe: bool) -> Literal["safe", "unsafe"]:
    """A fix that returns the same values is safe only where every run of the code is traced. A
    helper called from traced code may also be called from Python with NumPy float64 data or
    Python numbers, and would then return float32 JAX arrays: there the fix is unsafe."""
    return "safe" if safe and directly_traced(ctx) else "unsafe"


# ---------------------------------------------------------------------------------------- places
_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` as a set, read from the node's fields: LibCST's property runs a visitor
    per node, which made this parent map cost more than parsing the module."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, tuple | list):
            out.extend(v for v in value if isinstance(v, cst.CSTNode))
    return out


class _Mapped(dict[int, Any]):
    """A ``Tree`` table that maps more of the module when asked about a node it lacks."""

    def __init__(self, tree: Tree) -> None:
        super().__init__()
        self.tree = tree

    def __missing__(self, key: int) -> Any:
        if self.tree.map_until(key, self):
            return self[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (
            isinstance(key, int) and self.tree.map_until(key, self)
        )

    def get(self, key: int, default: Any = None) -> Any:
        return dict.get(self, key, default) if key in self else default


class Tree:
    """Parents of every node of a module, and the indentation of every statement.

    Mapped one top-level statement at a time, when a lookup needs it (the statement of the
    function being evaluated first, ``prefer``): a fix asks about one function, and mapping a
    whole 2,000-line module cost about half its parse on every edit of it (``jaxlint server``).
    The tables read the same as if the whole module had been mapped at once.
    """

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.parent: dict[int, cst.CSTNode] = _Mapped(self)
        self.indent: dict[int, str] = _Mapped(self)
        self._unmapped: list[cst.CSTNode] = []
        for child in _children(module):
            dict.__setitem__(self.parent, id(child), module)
            self._unmapped.append(child)
        self._unmapped.reverse()  # popped from the end: in source order

    def map_until(self, key: int, table: dict[int, Any]) -> bool:
        """Map top-level statements until ``key`` is in ``table``; whether it is."""
        while not dict.__contains__(table, key):
            if not self._unmapped:
                return False
            self._map(self._unmapped.pop())
        return True

    def prefer(self, nodes: Iterable[cst.CSTNode]) -> None:
        """Map first the top-level statement that is, or is a class that holds, one of ``nodes``."""
        wanted = {id(n) for n in nodes}
        for i, stmt in enumerate(self._unmapped):
            inner = getattr(stmt.body, "body", ()) if isinstance(stmt, cst.ClassDef) else ()
            if id(stmt) in wanted or any(id(s) in wanted for s in inner):
                self._map(self._unmapped.pop(i))
                return

    def _map(self, top: cst.CSTNode) -> None:
        default = self.module.default_indent
        parent, indents = self.parent, self.indent
        stack: list[tuple[cst.CSTNode, str]] = [(top, "")]
        while stack:
            node, indent = stack.pop()
            if isinstance(node, cst.BaseStatement | cst.BaseSmallStatement | cst.Else):
                dict.__setitem__(indents, id(node), indent)
            inner = indent
            if isinstance(node, cst.IndentedBlock):
                inner = indent + (node.indent if node.indent is not None else default)
            for child in _children(node):
                dict.__setitem__(parent, id(child), node)
                stack.append((child, inner))

    def up(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return None if node is self.module else self.parent.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        p = self.up(node)
        while p is not None:
            yield p
            p = self.up(p)

    def statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The small statement (or compound statement) that holds ``node``."""
        for p in (node, *self.ancestors(node)):
            if isinstance(p, cst.BaseSmallStatement | cst.BaseCompoundStatement):
                return p
        return None

    def block_inner_indent(self, block: cst.BaseSuite, indent: str) -> str:
        if isinstance(block, cst.IndentedBlock):
            return indent + (
                block.indent if block.indent is not None else self.module.default_indent
            )
        return indent + self.module.default_indent


def tree_of(ctx: RuleContext) -> Tree:
    module = ctx.frame.module.tree
    cache: dict[int, Tree] = ctx.project.__dict__.setdefault("_fix_trees", {})
    tree = cache.get(id(module))
    if tree is None or tree.module is not module:
        tree = cache[id(module)] = Tree(module)
    frame: Frame | None = ctx.frame
    functions: list[cst.CSTNode] = []
    while frame is not None:
        if frame.fn is not None:
            functions.append(frame.fn.node)
        frame = frame.parent
    tree.prefer(functions)
    return tree


# ---------------------------------------------------------------------------------------- spelling
_ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
)


def bare(node: cst.BaseExpression) -> str:
    """Source of an expression for an argument position: its own outer parentheses dropped where
    they are not needed (a tuple keeps them; so does anything with a comment inside)."""
    text = code(node)
    lpar = getattr(node, "lpar", ())
    if not lpar or "#" in text or isinstance(node, cst.Tuple | cst.GeneratorExp | cst.Yield):
        return text
    return code(node.with_changes(lpar=[], rpar=[]))


def atom(node: cst.BaseExpression) -> str:
    """Source of an expression where an attribute or call follows (``(a + b).astype``)."""
    text = code(node)
    if getattr(node, "lpar", ()) or isinstance(node, _ATOMS):
        return text
    return f"({text})"


def operand(text: str, node: cst.BaseExpression | None = None) -> str:
    """Parenthesise source text used as an operand of a binary operator, unless it is atomic."""
    if node is not None and (getattr(node, "lpar", ()) or isinstance(node, _ATOMS)):
        return text
    if node is not None and isinstance(node, cst.Integer | cst.Float):
        return text
    return f"({text})"


def comments_in(node: cst.CSTNode, skip: Iterable[cst.CSTNode] = ()) -> list[str]:
    """Comments inside ``node`` in source order, except inside the nodes of ``skip``."""
    skipped = {id(s) for s in skip}
    out: list[str] = []

    def walk(n: cst.CSTNode) -> None:
        if id(n) in skipped:
            return
        if isinstance(n, cst.Comment):
            out.append(n.value)
            return
        for c in n.children:
            walk(c)

    walk(node)
    return out


def leading_lines(stmt: cst.CSTNode, indent: str) -> str:
    """The blank and comment lines before a statement, as they are written in the source."""
    out = []
    for line in getattr(stmt, "leading_lines", ()):
        text = (indent if line.indent else "") + line.whitespace.value
        if line.comment is not None:
            text += line.comment.value
        out.append(text + "\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------- meaning
def qual_of(ctx: RuleContext, expr: cst.BaseExpression) -> str | None:
    """Qualified name of a dotted external callee, evaluated or not (``jnp.exp`` -> jax.numpy.exp)."""
    v = ctx.frame.values.get(id(expr))
    if v is not None:
        return v.ref if v.kind is Kind.EXT else None
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    base = ctx.frame.lookup(expr.value)
    if base is None:
        return f"builtins.{expr.value}" if not parts else None
    if base.kind is not Kind.EXT:
        return None
    return ".".join([base.ref, *reversed(parts)])


def value_of(ctx: RuleContext, expr: cst.BaseExpression) -> Value | None:
    """The analysis value of an expression: evaluated, or a name looked up (None if unknown)."""
    v = ctx.frame.values.get(id(expr))
    if v is not None:
        return v
    if isinstance(expr, cst.Name):
        return ctx.frame.lookup(expr.value)
    return None


_JAX_PURE = ("jax.numpy.", "jax.lax.", "jax.nn.", "jax.scipy.special.")
_IMPURE_QUALS = ("jax.debug.", "jax.experimental.io_callback", "jax.pure_callback")
_ARRAY_METHODS = frozenset(
    {"sum", "mean", "prod", "astype", "clip", "round", "cumsum", "any", "all", "conj", "squeeze"}
)
_RAISING_OPS = (cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)


def array_valued(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """A JAX array (traced or not): arithmetic on it never raises (no ZeroDivisionError)."""
    v = value_of(ctx, expr)
    if v is not None and (v.traced or v.kind is Kind.DEVICE):
        return True
    if isinstance(expr, cst.Attribute | cst.Subscript):
        return array_valued(ctx, expr.value)
    if isinstance(expr, cst.BinaryOperation):
        return array_valued(ctx, expr.left) or array_valued(ctx, expr.right)
    if isinstance(expr, cst.UnaryOperation):
        return array_valued(ctx, expr.expression)
    if isinstance(expr, cst.Call):
        q = qual_of(ctx, expr.func)
        if q is not None and q.startswith(_JAX_PURE):
            return True
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _ARRAY_METHODS:
            return array_valued(ctx, expr.func.value)
    return False


def pure(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """Evaluating the expression has no side effect and cannot raise where the original ran it
    only conditionally: names, attributes, literals, arithmetic (division only on arrays),
    comparisons, calls of ``jnp``/``lax``/``jax.nn`` functions and array methods on pure operands,
    and array subscripts with computed indices."""
    if isinstance(expr, cst.Name | cst.Integer | cst.Float | cst.Imaginary | cst.SimpleString):
        return True
    if isinstance(expr, cst.Attribute):
        return pure(ctx, expr.value)
    if isinstance(expr, cst.UnaryOperation):
        return pure(ctx, expr.expression)
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.MatrixMultiply):
            return False
        if isinstance(expr.operator, _RAISING_OPS) and not (
            array_valued(ctx, expr.left) or array_valued(ctx, expr.right)
        ):
            return False
        return pure(ctx, expr.left) and pure(ctx, expr.right)
    if isinstance(expr, cst.Comparison):
        return pure(ctx, expr.left) and all(pure(ctx, c.comparator) for c in expr.comparisons)
    if isinstance(expr, cst.BooleanOperation):
        return pure(ctx, expr.left) and pure(ctx, expr.right)
    if isinstance(expr, cst.Tuple | cst.List):
        return all(
            not isinstance(e, cst.StarredElement) and pure(ctx, e.value) for e in expr.elements
        )
    if isinstance(expr, cst.Call):
        if any(a.star for a in expr.args) or not all(pure(ctx, a.value) for a in expr.args):
            return False
        q = qual_of(ctx, expr.func)
        if q is not None:
            return q.startswith(_JAX_PURE) and not q.startswith(_IMPURE_QUALS)
        func = expr.func
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in _ARRAY_METHODS
            and array_valued(ctx, func.value)
            and pure(ctx, func.value)
        )
    if isinstance(expr, cst.Subscript):
        if not (array_valued(ctx, expr.value) and pure(ctx, expr.value)):
            return False
        for el in expr.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                if isinstance(s.value, cst.Integer) or not pure(ctx, s.value):
                    return False
            else:
                return False
        return True
    return False


_PYTREE_KINDS = (Kind.TUPLE, Kind.LIST, Kind.DICT, Kind.OBJECT)


def numeric(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """Known to be a number, an array or a pytree of arrays: what ``jnp.where`` and
    ``jnp.logical_*`` can take. None, strings, functions and values of unknown type are not."""
    if isinstance(expr, cst.Integer | cst.Float):
        return True
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return True
    v = value_of(ctx, expr)
    if v is not None:
        if v.kind in (Kind.DEVICE, Kind.HOST, Kind.SCALAR, Kind.TREE) or v.boolean:
            return True
        if v.kind is Kind.OBJECT:
            return v.ref is not None and v.ref.is_pytree
        if v.kind in (Kind.TUPLE, Kind.LIST):
            return v.elts is not None and all(e.kind not in _NOT_NUMERIC for e in v.elts)
        if v.kind in _NOT_NUMERIC:
            return False
    return array_valued(ctx, expr)


_NOT_NUMERIC = (Kind.NONE, Kind.STR, Kind.FUNC, Kind.CLASS, Kind.EXT, Kind.TRANSFORMED)


def maybe_pytree(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """Whether the value may be a container of arrays (jnp.where would stack it): tuple, list and
    dict literals, names or calls that the analysis sees as containers or objects, and calls of
    functions other than JAX's array functions."""
    if isinstance(expr, cst.Tuple | cst.List | cst.Dict | cst.ListComp | cst.DictComp):
        return True
    v = value_of(ctx, expr)
    if v is not None and v.kind in _PYTREE_KINDS:
        return True
    if v is not None and v.kind in (Kind.DEVICE, Kind.HOST, Kind.SCALAR):
        return False  # the analysis followed the call: it returns an array or a number
    if isinstance(expr, cst.Call):
        q = qual_of(ctx, expr.func)
        if q is not None and q.startswith(_JAX_PURE):
            return False
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _ARRAY_METHODS:
            return False
        return not _returns_arithmetic(ctx, func)
    if isinstance(expr, cst.IfExp):
        return maybe_pytree(ctx, expr.body) or maybe_pytree(ctx, expr.orelse)
    return False


def _returns_arithmetic(ctx: RuleContext, func: cst.BaseExpression) -> bool:
    """A function of the project (looked up by name) whose every ``return`` is arithmetic or a
    comparison: it returns an array or a number, never a container."""
    if not isinstance(func, cst.Name):
        return False
    v = ctx.frame.lookup(func.value)
    if v is None or v.kind is not Kind.FUNC or not isinstance(v.ref.fn.node, cst.FunctionDef):
        return False
    returns = own_returns(v.ref.fn.node)
    return bool(returns) and all(
        isinstance(r.value, cst.BinaryOperation | cst.UnaryOperation | cst.Comparison)
        for r in returns
    )


# Callees whose arguments must be static Python values (shapes, sizes, counts, Python control).
SHAPE_CALLEES = frozenset(
    {
        "range",
        "len",
        "int",
        "float",
        "bool",
        "complex",
        "index",
        "zeros",
        "ones",
        "empty",
        "full",
        "eye",
        "identity",
        "arange",
        "linspace",
        "logspace",
        "geomspace",
        "reshape",
        "repeat",
        "tile",
        "broadcast_to",
        "resize",
        "split",
        "array_split",
        "tri",
        "tril",
        "triu",
        "normal",
        "uniform",
        "randint",
        "bernoulli",
        "categorical",
        "choice",
        "permutation",
        "nonzero",
        "argwhere",
        "unique",
        "dynamic_slice",
        "dynamic_slice_in_dim",
        "fori_loop",
        "scan",
    }
)


def _callee_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def array_context(ctx: RuleContext, tree: Tree, node: cst.CSTNode) -> bool:
    """Whether an array may stand where ``node`` stands: no enclosing index, slice, Python control
    flow test, boolean operator, f-string, or argument of anything but a JAX function or an array
    method (a shape, a Python helper), up to its statement."""
    child: cst.CSTNode = node
    for p in tree.ancestors(node):
        if isinstance(p, cst.SubscriptElement | cst.Slice | cst.FormattedStringExpression):
            return False
        if isinstance(p, cst.BooleanOperation):
            return False
        if isinstance(p, cst.UnaryOperation) and isinstance(p.operator, cst.Not):
            return False
        if isinstance(p, cst.Comparison) and len(p.comparisons) > 1:
            return False
        if isinstance(p, cst.If | cst.While | cst.IfExp | cst.Assert) and child is p.test:
            return False
        if isinstance(p, cst.For | cst.CompFor) and child is p.iter:
            return False
        if isinstance(p, cst.Call) and child is not p.func:
            name = _callee_name(p.func)
            if name is None or name in SHAPE_CALLEES or name in ("min", "max"):
                return False
            q = qual_of(ctx, p.func)
            if q is None:
                func = p.func
                if not (isinstance(func, cst.Attribute) and array_valued(ctx, func.value)):
                    return False
            elif not q.startswith("jax."):
                return False
        if isinstance(p, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            return True
        child = p
    return True


def uses_in_array_context(
    ctx: RuleContext, tree: Tree, scope: cst.CSTNode, names: set[str]
) -> bool:
    """Every read of ``names`` inside ``scope`` stands where an array may stand."""
    stack: list[cst.CSTNode] = [scope]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name) and n.value in names:
            parent = tree.up(n)
            if isinstance(parent, cst.AssignTarget | cst.Param) or (
                isinstance(parent, cst.Attribute) and parent.attr is n
            ):
                continue
            if isinstance(parent, cst.Arg) and parent.keyword is n:
                continue
            if not array_context(ctx, tree, n):
                return False
            # a copy to another name carries the value out of sight
            stmt = tree.statement(n)
            if isinstance(stmt, cst.Assign) and n is stmt.value:
                return False
        stack.extend(n.children)
    return True


# ---------------------------------------------------------------------------------------- static
@guarded
def static_argnames_fix(
    ctx: RuleContext, expr: cst.BaseExpression, *, plain: bool = False
) -> NodeFix | None:
    """A size that is a parameter of a function jitted in this file: add the parameter to the
    jit's `static_argnames` (on the decorator or the `jax.jit(f, ...)` call). The value may be read
    in the jitted function, in a function it encloses (a closure), or in a helper that received it
    unchanged (passed as a bare name at each call). ``plain``: only where the jitted callable is
    a function named in this file (a decorator, or ``jax.jit(f, ...)``), whose parameters
    ``static_argnames`` can name (not ``model.init``, whose arguments go through ``*args``)."""
    parts = _traced_leaves(ctx, expr)
    if parts is None:
        return None
    names: list[str] = []
    site = None
    objects = False  # a field of a parameter (`cfg.n_envs`): the whole parameter becomes static
    for part in parts:
        while isinstance(part, cst.Attribute):
            part, objects = part.value, True
        if not isinstance(part, cst.Name):
            return None
        if objects and ctx.value(part).kind in (Kind.DICT, Kind.LIST, Kind.DEVICE, Kind.HOST):
            return None  # unhashable as a static argument, or an array (no fields)
        source = _jit_parameter(ctx, part)
        if source is None:
            return None
        anchor, name = source
        if site is not None and anchor is not site:
            return None
        site = anchor
        if name not in names:
            names.append(name)
    if site is None:
        return None
    if (
        isinstance(site, cst.Call)
        and qual_of(ctx, site.func) in ("jax.vmap", "jax.pmap")
        and not objects
    ):
        return _unbatch(ctx, site, names, [_arg_position(ctx, p) for p in parts])
    if (plain or objects) and isinstance(site, cst.Call):
        q = qual_of(ctx, site.func)
        if q == "jax.jit" and not (site.args and isinstance(site.args[0].value, cst.Name)):
            return None
    return _add_static(ctx, site, names, objects)


def _arg_position(ctx: RuleContext, part: cst.BaseExpression) -> tuple[str, int] | None:
    """(function, 0-based position) of the transform argument a traced name comes from, read
    from its trace chain ("`n` is argument 3 of f()")."""
    reason = ctx.value(part).reason or ()
    found = _ARG_STEP.fullmatch(step_text(reason[1][0])) if len(reason) > 1 else None
    return (found.group(3), int(found.group(2)) - 1) if found else None


def _unbatch(
    ctx: RuleContext,
    site: cst.Call,
    names: list[str],
    positions: list[tuple[str, int] | None],
) -> NodeFix | None:
    """A count that `jax.vmap(f, in_axes=(..., 0))(..., jnp.full((b,), n))` maps as an array of
    one repeated value (`jnp.full`, or `jnp.stack`/`jnp.array` of the same name or literal, or
    `jnp.asarray(n)[None]`): pass the value itself, unmapped (`in_axes` None). Each batch element
    saw that value, so every output is the same, and a Python int stays one inside vmap. pmap
    traces an unmapped argument too: it is also named in `static_broadcasted_argnums`."""
    call = tree_of(ctx).up(site)
    if not (isinstance(call, cst.Call) and call.func is site) or not site.args:
        return None
    pmap = qual_of(ctx, site.func) == "jax.pmap"
    if pmap and any(
        a.keyword is not None and a.keyword.value.startswith("static_") for a in site.args
    ):
        return None
    axes = [a for a in site.args[1:] if a.keyword is None or a.keyword.value == "in_axes"]
    if len(axes) != 1 or not isinstance(axes[0].value, cst.Tuple | cst.List):
        return None
    elements = axes[0].value.elements
    args = call.args
    if any(a.keyword is not None or a.star for a in args) or len(elements) != len(args):
        return None
    edits: list[tuple[cst.CSTNode, str]] = []
    done: set[int] = set()
    for position in positions:
        # the mapped function named at the site (not a partial or a bound method: positions shift)
        if position is None or code(site.args[0].value) != position[0]:
            return None
        k = position[1]
        if k >= len(args):
            return None
        if k in done:
            continue
        done.add(k)
        axis, arg = elements[k].value, args[k].value
        value = _repeated_value(ctx, arg)
        if value is None or not (isinstance(axis, cst.Integer) and axis.value == "0"):
            return None
        edits += [(axis, "None"), (arg, code(value))]
    message = (
        f"map {', '.join(f'`{n}`' for n in names)} with `in_axes` None and pass the repeated "
        "value itself: every batch element saw that value"
    )
    if pmap:
        # after the mapped function (pmap's other arguments are keywords; in_axes is edited)
        if any(a.keyword is None for a in site.args[1:]):
            return None
        static = ", ".join(str(k) for k in sorted(done)) + ("," if len(done) == 1 else "")
        fun = site.args[0].value
        edits.append((fun, f"{code(fun)}, static_broadcasted_argnums=({static})"))
        message += " (`static_broadcasted_argnums`: each new value recompiles)"
    return NodeFix("safe", message, tuple(edits))


def _repeated_value(ctx: RuleContext, arg: cst.BaseExpression) -> cst.BaseExpression | None:
    """``c`` where ``arg`` builds a 1-d array of copies of one Python value ``c``:
    ``jnp.full((b,), c)``, ``jnp.stack([c, c])``, ``jnp.array([c, c])``; c a name or a literal."""
    if (
        isinstance(arg, cst.Subscript)
        and len(arg.slice) == 1
        and isinstance(arg.slice[0].slice, cst.Index)
        and code(arg.slice[0].slice.value) == "None"
        and isinstance(arg.value, cst.Call)
        and qual_of(ctx, arg.value.func) in ("jax.numpy.asarray", "jax.numpy.array")
        and len(arg.value.args) == 1
        and arg.value.args[0].keyword is None
        and not arg.value.args[0].star
        and _plain_value(arg.value.args[0].value)
    ):
        return arg.value.args[0].value  # `jnp.asarray(c)[None]`: a batch of one c
    if not isinstance(arg, cst.Call) or any(a.keyword is not None or a.star for a in arg.args):
        return None
    q = qual_of(ctx, arg.func)
    if q == "jax.numpy.full" and len(arg.args) == 2:
        shape, value = arg.args[0].value, arg.args[1].value
        one_dim = isinstance(shape, cst.Integer) or (
            isinstance(shape, cst.Tuple | cst.List) and len(shape.elements) == 1
        )
        return value if one_dim and _plain_value(value) else None
    if q in ("jax.numpy.stack", "jax.numpy.array", "jax.numpy.asarray") and len(arg.args) == 1:
        items = arg.args[0].value
        if not isinstance(items, cst.List | cst.Tuple) or not items.elements:
            return None
        first = items.elements[0].value
        if not _plain_value(first) or any(
            not isinstance(e, cst.Element) or code(e.value) != code(first) for e in items.elements
        ):
            return None
        return first
    return None


def _plain_value(node: cst.BaseExpression) -> bool:
    """A name or a number literal: the same value each time it is read."""
    return isinstance(node, cst.Name | cst.Integer | cst.Float) or (
        isinstance(node, cst.UnaryOperation) and isinstance(node.expression, cst.Integer)
    )


def _traced_leaves(
    ctx: RuleContext, expr: cst.BaseExpression
) -> list[cst.Name | cst.Attribute] | None:
    """The traced names and attributes that make ``expr`` traced, through tuples and arithmetic
    (``(n, 4)``, ``steps * cfg.n``); None when something else is traced (a call, an index)."""
    if not ctx.value(expr).traced:
        return []
    if isinstance(expr, cst.Name | cst.Attribute):
        return [expr]
    if isinstance(expr, cst.Tuple | cst.List):
        children = [e.value for e in expr.elements]
    elif isinstance(expr, cst.BinaryOperation):
        children = [expr.left, expr.right]
    elif isinstance(expr, cst.UnaryOperation):
        children = [expr.expression]
    else:
        return None
    out: list[cst.Name | cst.Attribute] = []
    for child in children:
        leaves = _traced_leaves(ctx, child)
        if leaves is None:
            return None
        out.extend(leaves)
    return out


@guarded
def static_field_fix(ctx: RuleContext, expr: cst.BaseExpression) -> NodeFix | None:
    """A size read from a field of a flax struct dataclass defined in this file: declare the field
    static (``flax.struct.field(pytree_node=False)``), so that it is part of the tree structure."""
    parts = _traced_leaves(ctx, expr)
    if not parts:
        return None
    struct, imports = ctx.alias("flax.struct")
    edits: dict[int, tuple[cst.CSTNode, str]] = {}
    names: list[str] = []
    for part in parts:
        if not isinstance(part, cst.Attribute):
            return None
        owner = ctx.value(part.value)
        info = owner.ref if owner.kind is Kind.OBJECT else None
        name = part.attr.value
        if info is None or info.module is not ctx.frame.module or name in info.static_fields:
            return None
        if not _flax_struct(ctx, info.node):
            return None
        decl = _field_declaration(info.node, name)
        if decl is None:
            return None
        if decl.value is None:
            text = f"{struct}.field(pytree_node=False)"
        elif isinstance(decl.value, cst.Call):
            return None  # already a field(...) call: the author chose its options
        else:
            text = f"{struct}.field(pytree_node=False, default={code(decl.value)})"
        ann = code(decl.annotation.annotation)
        edits[id(decl)] = (decl, f"{name}: {ann} = {text}")
        names.append(name)
    return NodeFix(
        "unsafe",
        f"declare {', '.join(f'`{n}`' for n in names)} static (`pytree_node=False`): it must be a "
        "hashable Python value, each new value recompiles, and tree functions no longer see it "
        "as a leaf",
        tuple(edits.values()),
        imports,
    )


def _flax_struct(ctx: RuleContext, node: cst.ClassDef) -> bool:
    quals = {qual_of(ctx, d.decorator) for d in node.decorators}
    quals |= {qual_of(ctx, b.value) for b in node.bases}
    return bool(quals & {"flax.struct.dataclass", "flax.struct.PyTreeNode"})


def _field_declaration(node: cst.ClassDef, name: str) -> cst.AnnAssign | None:
    for stmt in node.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (
                    isinstance(small, cst.AnnAssign)
                    and isinstance(small.target, cst.Name)
                    and small.target.value == name
                ):
                    return small
    return None


# "`n` is argument 3 of f()": the name, its 1-based position, the function
_ARG_STEP = re.compile(r"`(\w+)` is argument (\d+) of (\w+)\(\)")
_PASSED_STEP = re.compile(r"passed as `(\w+)` \(argument \d+\) to \w+\(\) at \{at\}")


def _jit_parameter(ctx: RuleContext, name: cst.Name) -> tuple[cst.CSTNode, str] | None:
    """The transform site (in this module) and parameter whose value ``name`` holds unchanged,
    read from its trace chain: the site, "`n` is argument k of f()", then only "passed as" steps
    whose call passes the previous name bare."""
    reason = ctx.value(name).reason or ()
    if len(reason) < 2:
        return None
    anchor = reason[0][1]
    if anchor is None or anchor[0] is not ctx.frame.module:
        return None
    first = _ARG_STEP.fullmatch(step_text(reason[1][0]))
    if first is None:
        return None
    current = first.group(1)
    for text, at in reason[2:]:
        passed = _PASSED_STEP.fullmatch(step_text(text))
        if passed is None or at is None or not isinstance(at[1], cst.Call):
            return None
        if not any(
            isinstance(a.value, cst.Name)
            and a.value.value == current
            and not a.star
            and (a.keyword is None or a.keyword.value == passed.group(1))
            for a in at[1].args
        ):
            return None
        current = passed.group(1)
    if current != name.value:
        return None
    return anchor[1], first.group(1)


def _add_static(
    ctx: RuleContext, site: cst.CSTNode, names: list[str], objects: bool = False
) -> NodeFix | None:
    def spelled(items: list[str]) -> str:
        return "(" + ", ".join(f'"{n}"' for n in items) + ("," if len(items) == 1 else "") + ")"

    message = (
        f"make {', '.join(f'`{n}`' for n in names)} static (`static_argnames`): callers must "
        "pass hashable Python values, and each new value recompiles"
    )
    if objects:
        message += (
            "; every field of it becomes static: it must be hashable (a frozen dataclass, a "
            "NamedTuple of Python values; not a dict) and hold no arrays"
        )
    if isinstance(site, cst.Name | cst.Attribute):  # @jax.jit
        if qual_of(ctx, site) != "jax.jit":
            return None
        partial, imports = _partial(ctx)
        text = f"{partial}({code(site)}, static_argnames={spelled(names)})"
        return NodeFix("unsafe", message, ((site, text),), imports)
    if not isinstance(site, cst.Call) or not site.args:
        return None
    q = qual_of(ctx, site.func)
    if q in ("functools.partial", "builtins.partial"):  # @partial(jax.jit, ...)
        first = site.args[0]
        if first.keyword is not None or qual_of(ctx, first.value) != "jax.jit":
            return None
    elif q != "jax.jit":  # jax.jit(f, ...)
        return None
    for a in site.args:
        if a.keyword is not None and a.keyword.value == "static_argnames":
            old = _strings(a.value)
            if old is None:
                return None
            return NodeFix("unsafe", message, ((a.value, spelled([*old, *names])),))
    last = site.args[-1].value
    return NodeFix("unsafe", message, ((last, f"{code(last)}, static_argnames={spelled(names)}"),))


def _strings(node: cst.BaseExpression) -> list[str] | None:
    """The names of a `static_argnames` literal: a string, or a tuple/list of strings."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return [value] if isinstance(value, str) else None
    if isinstance(node, cst.Tuple | cst.List):
        out = []
        for e in node.elements:
            if not isinstance(e.value, cst.SimpleString):
                return None
            value = e.value.evaluated_value
            if not isinstance(value, str):
                return None
            out.append(value)
        return out
    return None


def _partial(ctx: RuleContext) -> tuple[str, tuple[str, ...]]:
    name, imports = ctx.alias("functools.partial")
    if imports == ("import functools.partial",):  # no such module: import the function
        module_frame = ctx.frame.module.frame
        taken = module_frame is not None and "partial" in module_frame.env
        return (
            ("functools.partial", ("import functools",))
            if taken
            else (
                "partial",
                ("from functools import partial",),
            )
        )
    return name, imports

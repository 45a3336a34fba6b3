"""Reading LibCST nodes: dotted names, literals, suites; no evaluation, no project knowledge."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import libcst as cst

from jaxlint.analysis.model import own_returns


def code(node: cst.CSTNode) -> str:
    """The source text of a node."""
    return cst.Module([]).code_for_node(node)


def dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def suite_body(suite: Any) -> Sequence[cst.CSTNode]:
    """Statements of a suite; a one-line suite (``if x: y = 1``) is its own statement."""
    if isinstance(suite, cst.SimpleStatementSuite):
        return (suite,)
    return suite.body


def param_annotation(p: cst.Param) -> cst.BaseExpression | None:
    return p.annotation.annotation if p.annotation is not None else None


def self_attribute(node: cst.CSTNode) -> bool:
    """``self.<name>``."""
    return (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
    )


def is_main_guard(test: cst.BaseExpression) -> bool:
    return (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and test.left.value == "__name__"
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Equal)
    )


def bool_literals(node: cst.CSTNode) -> bool:
    """A (nested) list or tuple literal of True/False."""
    if isinstance(node, cst.Name):
        return node.value in ("True", "False")
    if isinstance(node, cst.List | cst.Tuple):
        return bool(node.elements) and all(bool_literals(e.value) for e in node.elements)
    return False


def literal_int(node: cst.CSTNode) -> int | None:
    if isinstance(node, cst.Integer):
        return integer_value(node)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        v = literal_int(node.expression)
        return -v if v is not None else None
    return None


def integer_value(node: cst.Integer) -> int:
    """The value of an integer literal, without `evaluated_value`'s compile of it."""
    try:
        return int(node.value, 0)  # 10, 0x1f, 1_000; "0" and "00" too
    except ValueError:
        return int(node.evaluated_value)


def literal_str(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString):
        if not node.prefix and "\\" not in node.value:
            # no escapes: the text between the quotes (`evaluated_value` compiles the literal,
            # and every string literal of a project is evaluated)
            return node.raw_value
        v = node.evaluated_value
        return v if isinstance(v, str) else None
    return None


def int_literals(node: cst.CSTNode) -> list[int]:
    v = literal_int(node)
    if v is not None:
        return [v]
    if isinstance(node, cst.Tuple | cst.List):
        return [i for e in node.elements if (i := literal_int(e.value)) is not None]
    return []


def str_literals(node: cst.CSTNode) -> list[str]:
    v = literal_str(node)
    if v is not None:
        return [v]
    if isinstance(node, cst.Tuple | cst.List):
        return [s for e in node.elements if (s := literal_str(e.value)) is not None]
    return []


def pattern_names(pattern: cst.CSTNode) -> list[str]:
    out: list[str] = []

    def visit(n: cst.CSTNode) -> None:
        if (isinstance(n, cst.MatchAs) and n.name is not None) or (
            isinstance(n, cst.MatchStar) and n.name is not None
        ):
            out.append(n.name.value)
        for c in n.children:
            visit(c)

    visit(pattern)
    return out


def aux_fields(flatten: cst.FunctionDef) -> set[str]:
    """Fields of the flattened object that a ``def`` flatten function returns only in the
    auxiliary data (``return children, (x.meta, ...)``): static, not leaves."""
    params = flatten.params.params
    if not params:
        return set()
    obj = params[0].name.value
    aux: set[str] = set()
    children: set[str] = set()
    for r in own_returns(flatten):
        if isinstance(r.value, cst.Tuple) and len(r.value.elements) == 2:
            aux |= fields_of(obj, r.value.elements[1].value)
            children |= fields_of(obj, r.value.elements[0].value)
    return aux - children


def fields_of(obj: str, node: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == obj:
            out.add(n.attr.value)
        stack.extend(n.children)
    return out


def short_name(qual: str) -> str:
    for long, short in (
        ("jax.numpy.", "jnp."),
        ("jax.lax.", "lax."),
        ("flax.linen.", "nn."),
        ("flax.nnx.", "nnx."),
        ("equinox.", "eqx."),
    ):
        if qual.startswith(long):
            return short + qual[len(long) :]
    return qual


def none_test_of_name(node: cst.CSTNode | None) -> bool:
    """``x is None`` or ``x is not None`` of a plain name."""
    return (
        isinstance(node, cst.Comparison)
        and len(node.comparisons) == 1
        and isinstance(node.left, cst.Name)
        and isinstance(node.comparisons[0].operator, cst.Is | cst.IsNot)
        and isinstance(node.comparisons[0].comparator, cst.Name)
        and node.comparisons[0].comparator.value == "None"
    )


def tested_subject(test: cst.BaseExpression) -> cst.BaseExpression:
    """What a test a name holds is about: the first argument of ``isinstance(x, T)``, the
    left side of ``x is None``."""
    if isinstance(test, cst.Call):
        return test.args[0].value
    return test.left if isinstance(test, cst.Comparison) else test


def descendants(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node and every node below it."""
    out: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(n.children)
    return out


def root_names(node: cst.CSTNode) -> set[str]:
    """The names an expression reads (not attribute names or keywords)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.add(n.value)
        elif isinstance(n, cst.Attribute | cst.Arg):
            stack.append(n.value)
        else:
            stack.extend(n.children)
    return out


def atomic_tests(test: cst.BaseExpression, positive: bool) -> list[tuple[cst.BaseExpression, bool]]:
    """The tests that hold (with their truth) where ``test`` is ``positive``: both sides of a
    true ``and`` or a false ``or``, through ``not``."""
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, positive = test.expression, not positive
    if isinstance(test, cst.BooleanOperation):
        if positive != isinstance(test.operator, cst.And):
            return []
        return atomic_tests(test.left, positive) + atomic_tests(test.right, positive)
    return [(test, positive)]


def _names_in(node: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.add(n.value)
        stack.extend(n.children)
    return out


# The fields through which the module, compound statements, their clauses and blocks hold
# statements, in source order: If/For/While `body` then `orelse`; Try `body`, `handlers`,
# `orelse`, `finalbody`; Match `cases`.
_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")


def _nested_statements(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements, clauses and blocks a statement-holding node holds, in source order.

    Defs and assignments are only ever statements: walking these finds them all, without
    visiting every node (LibCST's ``children`` rebuilds each node it is asked about)."""
    out: list[cst.CSTNode] = []
    for name in _BLOCK_FIELDS:
        part = getattr(node, name, None)
        if isinstance(part, cst.CSTNode):
            out.append(part)
        elif part:
            out.extend(part)
    return out


SETATTR = ("object.__setattr__", "setattr")


def self_setattr(small: cst.CSTNode) -> tuple[str | None, cst.BaseExpression] | None:
    """``object.__setattr__(self, "x", v)`` (``setattr``) as a statement, how a frozen
    dataclass's ``__post_init__`` sets a field: ("x", v); (None, v) for a computed name."""
    if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
        return None
    call = small.value
    if (
        dotted(call.func) not in SETATTR
        or len(call.args) != 3
        or any(a.keyword is not None or a.star for a in call.args)
    ):
        return None
    owner, name, value = (a.value for a in call.args)
    if not (isinstance(owner, cst.Name) and owner.value == "self"):
        return None
    text = literal_str(name)
    return (text if text is not None and text.isidentifier() else None), value


def _assignments(fn: cst.FunctionDef) -> list[tuple[cst.BaseAssignTargetExpression, cst.CSTNode]]:
    """``target = value`` pairs of ``fn``'s own body, in source order (nested functions aside);
    ``object.__setattr__(self, "x", v)`` is ``self.x = v``."""
    out: list[tuple[cst.BaseAssignTargetExpression, cst.CSTNode]] = []
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in n.body:
                if isinstance(small, cst.Assign):
                    out.extend((t.target, small.value) for t in small.targets)
                elif isinstance(small, cst.AnnAssign | cst.AugAssign) and small.value is not None:
                    out.append((small.target, small.value))
                elif (set_ := self_setattr(small)) is not None and set_[0] is not None:
                    out.append((cst.Attribute(cst.Name("self"), cst.Name(set_[0])), set_[1]))
        elif not isinstance(n, cst.FunctionDef | cst.ClassDef | cst.BaseExpression):
            stack.extend(reversed(_nested_statements(n)))
    return out


def assigned_keys(fn: cst.FunctionDef, name: str) -> set[str]:
    """The literal keys ``fn``'s own body stores in the mapping ``name`` (``name["key"] = v``)."""
    out: set[str] = set()
    for target, _ in _assignments(fn):
        if (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Name)
            and target.value.value == name
            and len(target.slice) == 1
            and isinstance(target.slice[0].slice, cst.Index)
            and (key := literal_str(target.slice[0].slice.value)) is not None
        ):
            out.add(key)
    return out


def assigned_self_attrs(fn: cst.FunctionDef) -> set[str] | None:
    """The attributes of ``self`` that ``fn``'s own body may set; None where it sets one by a
    computed name (``setattr(self, name, v)``)."""
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            if any((set_ := self_setattr(small)) and set_[0] is None for small in n.body):
                return None
        elif not isinstance(n, cst.FunctionDef | cst.ClassDef | cst.BaseExpression):
            stack.extend(_nested_statements(n))
    return {t.attr.value for t, _ in _assignments(fn) if self_attribute(t)}  # type: ignore[attr-defined]


def set_once_in_init(init: cst.FunctionDef, methods: Iterable[cst.CSTNode]) -> set[str]:
    """Attributes ``__init__`` sets once, in a statement of its own body (not under an ``if`` or
    a loop), that no other method assigns: what the constructor left there is what they hold."""
    assigned = _assignments(init)
    counts = Counter(t.attr.value for t, _ in assigned if self_attribute(t))  # type: ignore[attr-defined]
    top: set[str] = set()
    for stmt in init.body.body if isinstance(init.body, cst.IndentedBlock) else ():
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = (
                    [t.target for t in small.targets]
                    if isinstance(small, cst.Assign)
                    else [small.target]
                    if isinstance(small, cst.AnnAssign)
                    else []
                )
                top |= {t.attr.value for t in targets if self_attribute(t)}  # type: ignore[attr-defined]
                if (set_ := self_setattr(small)) is not None and set_[0] is not None:
                    top.add(set_[0])
    elsewhere = {
        t.attr.value  # type: ignore[attr-defined]
        for m in methods
        if isinstance(m, cst.FunctionDef) and m is not init
        for t, _ in _assignments(m)
        if self_attribute(t)
    }
    return {name for name in top if counts[name] == 1} - elsewhere


def fields_from_params(init: cst.FunctionDef) -> dict[str, str]:
    """``self.<field> = <param>`` in an ``__init__``, the field's only assignment there, of a
    parameter it never rebinds: which field holds which argument as given."""
    params = {p.name.value for p in init.params.params[1:]} | {
        p.name.value for p in init.params.kwonly_params
    }
    assigned = _assignments(init)
    rebound = {t.value for t, _ in assigned if isinstance(t, cst.Name)}
    fields = Counter(t.attr.value for t, _ in assigned if self_attribute(t))  # type: ignore[attr-defined]
    return {
        t.attr.value: v.value  # type: ignore[attr-defined]
        for t, v in assigned
        if self_attribute(t)
        and fields[t.attr.value] == 1  # type: ignore[attr-defined]
        and isinstance(v, cst.Name)
        and v.value in params - rebound
    }


def _self_fields(obj: str, node: cst.CSTNode) -> set[str] | None:
    """Attributes ``obj.X`` an expression reads; None where it uses ``obj`` otherwise (passes it
    on, calls a method of it, reads ``__dict__``): then what it holds is not known."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and obj in _names_in(n.func)
        ):
            return None
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == obj:
            if n.attr.value.startswith("__"):
                return None
            out.add(n.attr.value)
            continue
        if isinstance(n, cst.Name) and n.value == obj:
            return None
        stack.extend(n.children)
    return out


def lambda_leaves(flatten: cst.Lambda) -> set[str] | None:
    """The attributes a flatten ``lambda x: (children, aux)`` returns as children (keyed or
    not); None where the children use the object otherwise."""
    params = flatten.params.params
    body = flatten.body
    if not params or not (isinstance(body, cst.Tuple) and len(body.elements) == 2):
        return None
    return _self_fields(params[0].name.value, body.elements[0].value)


def flatten_method_leaves(
    flatten: cst.FunctionDef, unflatten: cst.FunctionDef | None
) -> set[str] | None:
    """Attributes of an object that a ``tree_flatten`` *method* returns as children (``return
    children, aux``), with what ``tree_unflatten`` assigns from the children: the pytree's
    leaves. Every other attribute is aux data, or set by the constructor that ``tree_unflatten``
    calls, or a Python value it assigns (``_initialized = True``): static under jit. None where
    the children are not written out as attributes of ``self``."""
    params = flatten.params.params
    if not params:
        return None
    obj = params[0].name.value
    local: dict[str, list[cst.CSTNode]] = {}
    for target, value in _assignments(flatten):
        if isinstance(target, cst.Name):
            local.setdefault(target.value, []).append(value)
        else:
            for n in _names_in(target):
                local.setdefault(n, []).append(value)
    leaves: set[str] = set()
    returns = own_returns(flatten)
    if not returns:
        return None
    for r in returns:
        if not (isinstance(r.value, cst.Tuple) and len(r.value.elements) == 2):
            return None
        todo: list[cst.CSTNode] = [r.value.elements[0].value]
        seen: set[str] = set()
        while todo:
            expr = todo.pop()
            fields = _self_fields(obj, expr)
            if fields is None:
                return None
            leaves |= fields
            for name in _names_in(expr) - seen:
                seen.add(name)
                todo.extend(local.get(name, ()))
    if unflatten is not None:
        uparams = unflatten.params.params
        if len(uparams) >= 3:
            tainted = {uparams[2].name.value}
            for target, value in _assignments(unflatten):
                if not (_names_in(value) & tainted):
                    continue
                if isinstance(target, cst.Attribute):
                    leaves.add(target.attr.value)
                else:
                    tainted |= _names_in(target)
    return leaves


# Context managers and decorators of tests that expect the code they run to raise.
_RAISES = ("raises", "assertRaises", "assertRaisesRegex", "assert_raises", "assertRaisesRegexp")


def expects_error(fn: cst.FunctionDef) -> bool:
    """A test that expects an exception (``with pytest.raises(...)``, ``self.assertRaises``,
    ``@pytest.mark.xfail``): what it runs is the failure it tests, or never reached after it."""
    for d in fn.decorators:
        expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        if (dotted(expr) or "").endswith("mark.xfail"):
            return True
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.With):
            for item in n.items:
                call = item.item
                if isinstance(call, cst.Call):
                    name = dotted(call.func) or ""
                    if name.rsplit(".", 1)[-1] in _RAISES:
                        return True
        stack.extend(n.children)
    return False


def error_expecting_tests(module: cst.Module) -> list[cst.FunctionDef]:
    """The functions of a module that are tests expecting an exception (methods included)."""
    out: list[cst.FunctionDef] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.FunctionDef) and n.name.value.startswith("test") and expects_error(n):
            out.append(n)
        elif not isinstance(n, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            stack.extend(_nested_statements(n))
    return out


def rank_test(node: cst.BaseExpression) -> tuple[str, bool] | None:
    """``x.ndim == 0``, ``np.ndim(x) > 0``, ``len(x.shape) == 0``, ``x.shape == ()``: (the name
    ``x``, whether the test holding means x is 0-d). None for any other expression."""
    if not (isinstance(node, cst.Comparison) and len(node.comparisons) == 1):
        return None
    op = node.comparisons[0].operator
    right = node.comparisons[0].comparator
    left = node.left
    name = None
    if isinstance(left, cst.Attribute) and left.attr.value == "ndim":
        name = left.value
    elif isinstance(left, cst.Call) and len(left.args) == 1:
        func = dotted(left.func) or ""
        arg = left.args[0].value
        if func.rsplit(".", 1)[-1] == "ndim":
            name = arg
        elif func == "len" and isinstance(arg, cst.Attribute) and arg.attr.value == "shape":
            name = arg.value
    elif isinstance(left, cst.Attribute) and left.attr.value == "shape":
        if (
            isinstance(right, cst.Tuple)
            and not right.elements
            and isinstance(op, cst.Equal | cst.NotEqual)
        ):
            return (
                (left.value.value, isinstance(op, cst.Equal))
                if isinstance(left.value, cst.Name)
                else None
            )
        return None
    if not isinstance(name, cst.Name):
        return None
    if isinstance(right, cst.Integer) and right.value == "0":
        if isinstance(op, cst.Equal):
            return name.value, True
        if isinstance(op, cst.NotEqual | cst.GreaterThan):
            return name.value, False
    if (
        isinstance(right, cst.Integer)
        and right.value == "1"
        and isinstance(op, cst.GreaterThanEqual)
    ):
        return name.value, False
    return None


def fills_cache(guard: cst.CSTNode, rest: Sequence[cst.CSTNode]) -> bool:
    """``if key in cache: return ...`` followed by statements that store ``cache[key]``: the
    rest of the block runs on a miss only (a memo filled before any trace is found in it)."""
    if not (
        isinstance(guard, cst.If)
        and guard.orelse is None
        and isinstance(guard.test, cst.Comparison)
        and len(guard.test.comparisons) == 1
        and isinstance(guard.test.comparisons[0].operator, cst.In)
    ):
        return False
    last = suite_body(guard.body)[-1]
    if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return)):
        return False
    key, cache = code(guard.test.left), code(guard.test.comparisons[0].comparator)
    todo: list[cst.CSTNode] = list(rest)
    while todo:
        node = todo.pop()
        if isinstance(node, cst.AssignTarget | cst.AnnAssign) and isinstance(
            node.target, cst.Subscript
        ):
            sub = node.target
            if (
                code(sub.value) == cache
                and len(sub.slice) == 1
                and isinstance(sub.slice[0].slice, cst.Index)
                and code(sub.slice[0].slice.value) == key
            ):
                return True
        if not isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            todo.extend(node.children)
    return False


def where_fields(node: cst.BaseExpression) -> tuple[str, ...] | None:
    """The fields an ``eqx.tree_at`` selector names: ``lambda b: b.centers`` or
    ``lambda m: (m.a, m.b)``; None for any other selector."""
    if not isinstance(node, cst.Lambda) or len(node.params.params) != 1:
        return None
    arg = node.params.params[0].name.value
    body = node.body
    parts = [e.value for e in body.elements] if isinstance(body, cst.Tuple) else [body]
    out: list[str] = []
    for p in parts:
        if not (isinstance(p, cst.Attribute) and isinstance(p.value, cst.Name)):
            return None
        if p.value.value != arg:
            return None
        out.append(p.attr.value)
    return tuple(out) if len(set(out)) == len(out) else None

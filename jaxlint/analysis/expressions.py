"""Expressions: the value of each node, and which are traced arrays vs Python values."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.frames import NARROWED, anchor
from jaxlint.analysis.knowledge import LINEN_ENTRIES, canonical
from jaxlint.analysis.libraries import read_eagerly
from jaxlint.analysis.model import ClassInfo, FuncRef, ModuleInfo, TransformedRef
from jaxlint.analysis.syntax import (
    integer_value,
    literal_int,
    literal_str,
    rank_test,
    self_attribute,
)
from jaxlint.analysis.values import (
    ARRAY_METHODS,
    INT,
    NOT_NONE_KINDS,
    PYTHON_KINDS,
    SCALAR,
    SHAPE,
    STATIC,
    UNSET,
    Kind,
    Reason,
    StagedReason,
    Text,
    Value,
    annotation_kind,
    constant,
    extend,
    first_reason,
    is_int,
    join,
    python_constant,
    static_pairs,
    truth,
)

if TYPE_CHECKING:
    pass


# Annotations of pytree fields that are arrays under jit (Python numbers are traced too).
ARRAY_LEAF_KINDS = (Kind.DEVICE, Kind.HOST, Kind.SCALAR)
# Traced kinds that hold arrays: arithmetic on them gives arrays.
ARRAYISH = (Kind.DEVICE, Kind.TREE, Kind.HOST)
CONTAINERS = (Kind.DICT, Kind.LIST, Kind.TUPLE)


# Kinds of values that are never None: Python's own objects; and, inside traced code, where an
# argument's kind comes from what the caller passed, the kinds of values (an untraced run binds
# parameters from their annotations, and `n: int = None` is common).
NEVER_NONE = frozenset({Kind.FUNC, Kind.CLASS, Kind.TRANSFORMED, Kind.PMODULE})


# Binary operators and the name of their method (``__pow__``, reflected ``__rpow__``).
OPERATOR_METHODS: dict[type, str] = {
    cst.Add: "add",
    cst.Subtract: "sub",
    cst.Multiply: "mul",
    cst.Divide: "truediv",
    cst.FloorDivide: "floordiv",
    cst.Modulo: "mod",
    cst.Power: "pow",
    cst.MatrixMultiply: "matmul",
    cst.BitAnd: "and",
    cst.BitOr: "or",
    cst.BitXor: "xor",
    cst.LeftShift: "lshift",
    cst.RightShift: "rshift",
}


class Expressions:
    """Mixin of :class:`Interpreter`."""

    # ------------------------------------------------------------------ expressions

    def ev(self, node: cst.BaseExpression | None) -> Value:
        if node is None:
            return STATIC
        v = self._ev(node)
        f = self.frame
        if f.traced:
            f.values[id(node)] = v
            project = self.project
            # what ``dispatch`` runs for the type's name, looked up inline: this runs for every
            # expression under a trace, and most types have no hook
            hooks = project.node_hooks.get(type(node))
            if hooks is None:
                hooks = project.hooks_of(type(node))
            for hook in hooks:
                hook(project.ctx, node)
        return v

    def none_test(self, node: cst.Comparison, vals: list[Value]) -> Value:
        """``x is None`` / ``x is not None`` where the analysis knows whether ``x`` is None: a
        Python bool, so ``if`` on it takes one path (``S=num_samples`` passed to ``S=None``)."""
        if len(node.comparisons) != 1:
            return SCALAR
        c = node.comparisons[0]
        if isinstance(c.operator, cst.In | cst.NotIn):
            a = literal_str(node.left) or vals[0].const
            b = literal_str(c.comparator) or vals[1].const
            if isinstance(a, str) and isinstance(b, str):
                # `"jax" in np.__name__`: which backend a module was written for
                return constant((a in b) == isinstance(c.operator, cst.In))
            a, b = python_constant(vals[0]), python_constant(vals[1])
            if type(a) in (bool, int, str) and isinstance(b, tuple):
                # `MODE in (0, -1)` of a known constant: the branch it picks
                return constant((a in b) == isinstance(c.operator, cst.In))
            return SCALAR
        if not isinstance(c.operator, cst.Is | cst.IsNot):
            return SCALAR
        if isinstance(c.comparator, cst.Name) and c.comparator.value == "None":
            v = vals[0]
        elif isinstance(node.left, cst.Name) and node.left.value == "None":
            v = vals[1]
        else:
            same = identical(vals[0], vals[1])
            if same is None:
                return SCALAR
            return constant(same == isinstance(c.operator, cst.Is))
        if v.notnone:
            return constant(not isinstance(c.operator, cst.Is))
        if v.traced:
            # a join keeps the traced side's kind: a traced value may still be None
            return SCALAR
        if v.kind is Kind.NONE:
            is_none = True
        elif (
            v.kind in NEVER_NONE
            or (v.const is not UNSET and v.const is not None)
            or (v.kind in NOT_NONE_KINDS and self.frame.traced)
        ):
            is_none = False
        else:
            return SCALAR
        return constant(is_none == isinstance(c.operator, cst.Is))

    def _ev(self, node: cst.CSTNode) -> Value:
        f = self.frame
        t = type(node)
        if t is cst.Name:
            name = node.value  # type: ignore[attr-defined]
            v = f.lookup(name)
            if v is None:
                if name in ("True", "False"):
                    return constant(name == "True")
                if name == "None":
                    return constant(None)
                return Value(kind=Kind.EXT, ref=f"builtins.{name}")
            if v.kind is Kind.LAZY and (f.traced or read_eagerly(*v.ref)):
                v = self.resolve(v)
            if name in self.project.static_names and v.traced:
                return Value(kind=v.kind, ref=v.ref, elts=v.elts)
            return v
        if t is cst.Attribute:
            base = self.ev(node.value)  # type: ignore[attr-defined]
            name = node.attr.value  # type: ignore[attr-defined]
            if self_attribute(node):
                if narrowed := f.lookup(NARROWED + name):
                    return narrowed
                if (local := f.lookup(f"self.{name}")) is not None and not base.traced:
                    return local
            return self.attr(base, name, node)
        if t is cst.Call:
            return self.call(node)  # type: ignore[arg-type]
        if t is cst.Subscript:
            item = self.subscript(node)  # type: ignore[arg-type]
            container = f.values.get(id(node.value))  # type: ignore[attr-defined]
            if container is not None and container.kind in (Kind.LIST, Kind.TUPLE, Kind.DICT):
                # an item of a Python list (jimgw's `self.frequency_masks[i]`): Python looks it
                # up, JAX stages nothing
                return item
            return self.staged(item, node)
        if t is cst.BinaryOperation:
            a, b = self.ev(node.left), self.ev(node.right)  # type: ignore[attr-defined]
            if (
                isinstance(node.operator, cst.BitOr)  # type: ignore[attr-defined]
                and not self.frame.traced
                and a.kind in (Kind.UNKNOWN, Kind.EXT, Kind.TUPLE)
                and (quals := self.type_quals(node))  # type: ignore[attr-defined]
            ):
                # a union of classes (`Scalar = np.generic | bool | int`): what isinstance and
                # annotations read, as a tuple of them
                return Value(
                    kind=Kind.TUPLE, elts=tuple(Value(kind=Kind.EXT, ref=q) for q in sorted(quals))
                )
            overloaded = self.operator_method(node, a, b)  # type: ignore[arg-type]
            if overloaded is not None:
                return overloaded
            division = isinstance(node.operator, cst.Divide)  # type: ignore[attr-defined]
            return self.staged(self.arith(a, b, division), node)
        if t is cst.UnaryOperation:
            v = self.ev(node.expression)  # type: ignore[attr-defined]
            if isinstance(node.operator, cst.Not):  # type: ignore[attr-defined]
                known = truth(v)
                if known is not None:
                    return constant(not known)
                if v.traced and v.kind is not Kind.DEVICE and not v.boolean:
                    return Value(v.reason, Kind.UNKNOWN)
                return Value(v.reason, Kind.DEVICE if v.traced else Kind.SCALAR, boolean=True)
            if (
                isinstance(node.operator, cst.Minus)  # type: ignore[attr-defined]
                and not v.traced
                and type(v.const) in (int, float)
            ):
                return dataclasses.replace(v, const=-v.const)  # `-1`: still the number
            return self.staged(
                Value(v.reason, v.kind, v.boolean and isinstance(node.operator, cst.BitInvert)),  # type: ignore[attr-defined]
                node,
            )
        if t is cst.BooleanOperation:
            a = self.ev(node.left)  # type: ignore[attr-defined]
            known = truth(a)
            if known is not None and known == isinstance(node.operator, cst.Or):  # type: ignore[attr-defined]
                return a  # short-circuit: Python never evaluates the right operand
            saved = f.env
            f.env = dict(saved)
            # the right operand runs only where the left one let it through
            conj = isinstance(node.operator, cst.And)  # type: ignore[attr-defined]
            eager = self.denies_tracer(node.left, positive=conj)  # type: ignore[attr-defined]
            self.narrow(node.left, positive=conj)  # type: ignore[attr-defined]
            with self.unsure(eager):
                b = self.ev(node.right)  # type: ignore[attr-defined]
            f.env = saved
            if known is not None:
                return b
            if not a.traced and truth(b) is (not conj):
                # `flag and False` is falsy whatever `flag` is (`or True` truthy): the branch
                # it decides is known (a host route gated by a Tracer test held in a name)
                return constant(not conj)
            out = join(a, b, paths=False)
            for x, y in ((a, b), (b, a)):
                if x.kind in CONTAINERS and y.kind in (Kind.TREE, Kind.UNKNOWN):
                    # `aux or {}`: the container or the other value, then a container too (an
                    # array there raises at the test)
                    return Value(out.reason, x.kind)
            return out
        if t is cst.Comparison:
            left = self.ev(node.left)  # type: ignore[attr-defined]
            vals = [left]
            python_only = False
            for c in node.comparisons:  # type: ignore[attr-defined]
                vals.append(self.ev(c.comparator))
                # identity and membership tests, and comparisons with str/None literals, give bools
                python_only |= isinstance(c.operator, cst.Is | cst.IsNot | cst.In | cst.NotIn)
                python_only |= isinstance(c.comparator, cst.SimpleString | cst.FormattedString)
                python_only |= isinstance(c.comparator, cst.Name) and c.comparator.value == "None"
            python_only |= isinstance(node.left, cst.SimpleString)  # type: ignore[attr-defined]
            if (folded := folded_comparison(node, vals)) is not None:  # type: ignore[arg-type]
                # `backend == "cpu"` of a default `backend="jax"`: the branch is decided
                return folded
            # a pytree key object (`keypath[-1] == GetAttrKey("x")`): only Python equality works
            python_only |= any(
                isinstance(e, cst.Call) and self._lookup_qual(e.func) in K.TREE_KEYS
                for e in (node.left, *(c.comparator for c in node.comparisons))  # type: ignore[attr-defined]
            )
            if python_only:
                return self.none_test(node, vals)  # type: ignore[arg-type]
            r = first_reason(*vals)
            if r is None:
                if any(v.kind is Kind.DEVICE for v in vals):
                    return self.staged(Value(kind=Kind.DEVICE, boolean=True), node)
                rank = rank_test(node)  # type: ignore[arg-type]
                if rank is not None:
                    # remembered, so that `if is_scalar:` narrows like the test itself
                    return Value(kind=Kind.SCALAR, boolean=True, ref=("rank", *rank))
                return Value(kind=Kind.SCALAR, boolean=True)
            ordering = any(
                not isinstance(c.operator, cst.Equal | cst.NotEqual)
                for c in node.comparisons  # type: ignore[attr-defined]
            )
            if any(v.traced and v.kind is Kind.DEVICE for v in vals):
                return Value(r, Kind.DEVICE, boolean=True)
            if ordering:
                # `<` on a pytree argument (all tracers) is an array comparison; on values not
                # known to be arrays (numbers read from records built in the trace), not known
                arrays = any(v.traced and (v.kind in ARRAYISH or v.boolean) for v in vals)
                return Value(r, Kind.DEVICE if arrays else Kind.UNKNOWN, boolean=arrays)
            if any(v.traced and v.kind is Kind.TREE for v in vals) and any(
                v.kind is Kind.SCALAR and not v.traced for v in vals
            ):
                # a pytree argument compared with a number: only an array makes that meaningful
                return Value(r, Kind.DEVICE, boolean=True)
            # == between pytrees of unknown structure is Python equality, not an array.
            return Value(r, Kind.UNKNOWN)
        if t is cst.IfExp:
            known = truth(self.ev(node.test))  # type: ignore[attr-defined]
            if known is None:
                known = self.assumed_truth(node.test)  # type: ignore[attr-defined]
            saved = f.env
            out: Value | None = None
            if known is not False:
                f.env = dict(saved)
                self.narrow(node.test)  # type: ignore[attr-defined]
                with self.holding(node.test, True):  # type: ignore[attr-defined]
                    out = self.ev(node.body)  # type: ignore[attr-defined]
            if known is not True:
                f.env = dict(saved)
                self.narrow(node.test, positive=False)  # type: ignore[attr-defined]
                with self.holding(node.test, False):  # type: ignore[attr-defined]
                    other = self.ev(node.orelse)  # type: ignore[attr-defined]
                if (
                    out is not None
                    and out.ref is not other.ref
                    and {out.kind, other.kind} <= {Kind.FUNC, Kind.TRANSFORMED}
                    and not out.traced
                    and not other.traced
                ):
                    # `kernel = f if state is None else jitted_f`: a call of it runs each one
                    # where its condition holds
                    f.env = saved
                    return Value(kind=Kind.UNKNOWN, ref=("alts", node.test, out, other))  # type: ignore[attr-defined]
                out = other if out is None else join(out, other)
            f.env = saved
            return out  # type: ignore[return-value]
        if t is cst.Integer:
            # the number itself: `SCHEME_KK = 1` and `mode == SCHEME_KK` decide branches
            return Value(kind=Kind.SCALAR, pytype=int, const=integer_value(node))  # type: ignore[attr-defined]
        if t in (cst.Float, cst.Imaginary):
            return SCALAR
        if t in (cst.SimpleString, cst.ConcatenatedString):
            if t is cst.ConcatenatedString:
                self.ev(node.left)  # type: ignore[attr-defined]
                self.ev(node.right)  # type: ignore[attr-defined]
                return Value(kind=Kind.STR)
            text = literal_str(node)
            return Value(kind=Kind.STR) if text is None else constant(text)
        if t is cst.FormattedString:
            for part in node.parts:  # type: ignore[attr-defined]
                if isinstance(part, cst.FormattedStringExpression):
                    self.ev(part.expression)
                    if part.format_spec:
                        for sp in part.format_spec:
                            if isinstance(sp, cst.FormattedStringExpression):
                                self.ev(sp.expression)
                    self.hook("FormattedStringExpression", part)
            return Value(kind=Kind.STR)
        if t in (cst.Tuple, cst.List, cst.Set):
            elts: list[Value] | None = []
            # the value every element has, for `(*x.shape, n)` whose length is not known
            items: list[Value | None] = []
            vals: list[Value] = []
            for e in node.elements:  # type: ignore[attr-defined]
                ev_ = self.ev(e.value)
                vals.append(ev_)
                if not isinstance(e, cst.StarredElement):
                    items.append(ev_)
                    if elts is not None:
                        elts.append(ev_)
                elif ev_.elts is not None and ev_.kind in (Kind.TUPLE, Kind.LIST):
                    items.extend(ev_.elts)
                    if elts is not None:
                        elts.extend(ev_.elts)
                else:
                    items.append(ev_.elem if ev_.kind in (Kind.TUPLE, Kind.LIST) else None)
                    elts = None
            if elts is None:
                elem = None
                if items and all(i is not None for i in items):
                    elem = items[0]
                    for i in items[1:]:
                        elem = join(elem, i)  # type: ignore[arg-type]
                kind = Kind.TUPLE if t is cst.Tuple else Kind.LIST
                return Value(first_reason(*vals), kind, elem=elem)
            kind = Kind.TUPLE if t is cst.Tuple else Kind.LIST
            return Value(first_reason(*elts), kind, elts=tuple(elts))
        if t is cst.Dict:
            pairs = []
            for e in node.elements:  # type: ignore[attr-defined]
                if isinstance(e, cst.DictElement):
                    k = e.key
                    kv = self.ev(k)
                    vv = self.ev(e.value)
                    key = literal_str(k)
                    pairs.append((key, vv))
                    _ = kv
                else:
                    vv = self.ev(e.value)
                    pairs.append((None, vv))
            return Value(first_reason(*(p[1] for p in pairs)), Kind.DICT, pairs=tuple(pairs))
        if t in (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp):
            return self.comprehension(node)
        if t is cst.Lambda:
            fn = self.function_info(node, None, (f.fn.qualname + ".<locals>.") if f.fn else "")  # type: ignore[arg-type]
            return Value(kind=Kind.FUNC, ref=FuncRef(fn, f))
        if t is cst.NamedExpr:
            v = self.ev(node.value)  # type: ignore[attr-defined]
            self.bind(node.target, v)  # type: ignore[attr-defined]
            return v
        if t is cst.StarredElement:
            return self.ev(node.value)  # type: ignore[attr-defined]
        if t is cst.Await:
            return self.ev(node.expression)  # type: ignore[attr-defined]
        if t in (cst.Yield,):
            val = node.value  # type: ignore[attr-defined]
            if isinstance(val, cst.From):
                self.ev(val.item)
            elif val is not None:
                self.ev(val)
            return STATIC
        if t is cst.Ellipsis:
            return STATIC
        return STATIC

    def comprehension(self, node: Any) -> Value:
        f = self.frame
        saved = f.env
        f.env = dict(saved)
        try:
            fors = node.for_in
            while fors is not None:
                it = self.ev(fors.iter)
                self.bind(fors.target, self.element(it, fors.iter))
                for cond in fors.ifs:
                    self.ev(cond.test)
                    self.hook("CompIf", cond)  # type: ignore[attr-defined]
                fors = fors.inner_for_in
            if isinstance(node, cst.DictComp):
                self.ev(node.key)
                elt = self.ev(node.value)
                # `elem`: what its values are (its leaves, where they are no containers)
                return Value(elt.reason, Kind.DICT, elem=elt)
            elt = self.ev(node.elt)
            kind = Kind.LIST if isinstance(node, cst.ListComp) else Kind.UNKNOWN
            simple = node.for_in.inner_for_in is None and not node.for_in.ifs
            # a traced iterable holds at least one array, so one unfiltered loop over it yields
            nonempty = it.traced and simple
            elts = None
            if simple and it.elts is not None and 0 < len(it.elts) <= 16:
                # over a literal (`for v in (active, controlled, valid)`): element by element, so
                # `any(isinstance(v, Tracer) for v in ...)` is known where one of them is
                elts = []
                for item in it.elts:
                    self.bind(node.for_in.target, item)
                    elts.append(self.ev(node.elt))
                elts, nonempty = tuple(elts), True
            return Value(elt.reason, kind, elem=elt, elts=elts, nonempty=nonempty)
        finally:
            f.env = saved

    def leaf_of(self, tree: Value) -> Value:
        """A leaf of a pytree: arrays where the tree is traced, else a static Python value."""
        if not tree.traced:
            return STATIC
        aux = {k for k, _ in static_pairs(tree) or ()} if tree.kind is Kind.OBJECT else set()
        parts = list(tree.elts or ()) + [v for k, v in tree.pairs or () if k not in aux]
        parts += [tree.elem] if tree.elem is not None else []
        if parts:
            leaves = [self.leaf_of(p) for p in parts if isinstance(p, Value)]
            return next((v for v in leaves if v.kind is Kind.DEVICE), Value(tree.reason))
        if tree.kind is Kind.UNKNOWN:
            # a tree computed in the trace by code the analysis does not follow (a tree_map of
            # an unknown callback): its leaves may be Python values (equinox's filter masks)
            return Value(tree.reason, Kind.UNKNOWN, filtered=tree.filtered)
        return Value(tree.reason, Kind.DEVICE)

    def element(self, v: Value, node: cst.CSTNode | None) -> Value:
        """The value of one element when iterating or unpacking ``v``."""
        if v.kind is Kind.DICT:
            return Value(kind=Kind.STR)  # its keys
        if v.elem is not None:
            return v.elem
        items = v.elts
        if (
            v.kind is Kind.OBJECT
            and v.pairs
            and isinstance(v.ref, ClassInfo)
            and any("typing.NamedTuple" in c.base_quals for c in v.ref.mro())
        ):
            # a NamedTuple iterates its fields (vmex's `any(isinstance(v, Tracer) for v in stats)`)
            items = tuple(e for _, e in v.pairs)
        if items is not None:
            out: Value | None = None
            for e in items:
                if isinstance(e, Value):
                    out = e if out is None else join(out, e)
            return out if out is not None else STATIC
        if v.kind is Kind.HOST:
            return Value(kind=Kind.HOST)
        if v.traced:
            # rows of an array; of a pytree of unknown type, keys (a dict's) or items (a list's):
            # tracers or Python values
            return Value(v.reason, Kind.DEVICE if v.kind is Kind.DEVICE else Kind.UNKNOWN)
        if v.kind is Kind.DEVICE and node is not None:
            return self.staged(v, node)  # each row of a JAX constant is indexed out: staged
        return STATIC

    def staged(self, v: Value, node: cst.CSTNode) -> Value:
        """Under jit (and scan/cond/loop bodies), an operation on a concrete JAX array (a module
        constant, a closure) is staged out like any JAX call: its result is a tracer."""
        f = self.frame
        if v.traced or v.kind is not Kind.DEVICE or not (f.traced and f.staged):
            return v
        return Value(self.staging(node), Kind.DEVICE, v.boolean)

    def staging(self, node: cst.CSTNode) -> Reason:
        """Why a JAX operation on concrete values is a tracer: jit stages it out."""
        f = self.frame
        step = (Text("`{0}` is computed by JAX under the trace at {at}", node), anchor(f, node))
        return StagedReason(extend(f.in_trace, step))  # type: ignore[arg-type]

    def operator_method(self, node: cst.BinaryOperation, a: Value, b: Value) -> Value | None:
        """``a ** 2`` of an object of a project class with ``__pow__`` (or ``2 * a`` with
        ``__rmul__``): what that method returns (quantax's LogArray arithmetic)."""
        name = OPERATOR_METHODS.get(type(node.operator))
        if name is None:
            return None
        for obj, other, other_node, method in (
            (a, b, node.right, f"__{name}__"),
            (b, a, node.left, f"__r{name}__"),
        ):
            if obj.kind is Kind.OBJECT and obj.ref is not None:
                m = obj.ref.lookup_method(method)
                if m is not None:
                    arg = [(other, cst.Arg(value=other_node))]
                    return self.call_function(FuncRef(m, None, (obj,)), arg, node)  # type: ignore[attr-defined]
        return None

    def arith(self, a: Value, b: Value, true_division: bool = False) -> Value:
        r = a.reason or b.reason
        if r is not None:
            if a.kind in (Kind.TUPLE, Kind.LIST) and a.kind == b.kind:
                return Value(r, a.kind)
            if Kind.DICT in (a.kind, b.kind):
                return Value(r, Kind.DICT)  # `aux | other`: a merged mapping
            for x, y in ((a, b), (b, a)):
                if (
                    x.kind in (Kind.TUPLE, Kind.LIST)
                    and not y.traced
                    and y.kind not in (Kind.DEVICE, Kind.HOST)
                ):
                    # a container with a Python value (`set(z) - other`, `[x] * 3`): a container
                    return Value(r, x.kind)
            seqs = [v for v in (a, b) if v.kind in (Kind.TUPLE, Kind.LIST)]
            if seqs and not any(v.kind is Kind.DEVICE or v.boolean for v in (a, b)):
                # `tuple(...) + params`: a concatenation (an array would broadcast the tuple;
                # nothing says that the other operand is one)
                return Value(r, seqs[0].kind)
            if not any(v.traced and (v.kind in ARRAYISH or v.boolean) for v in (a, b)):
                # arithmetic of values not known to be arrays (numbers read from records built
                # in the trace, a value an equinox filter transform may have kept static, an
                # object's operator): not known to be an array
                return Value(r, Kind.UNKNOWN)
            return Value(r, Kind.DEVICE, a.boolean and b.boolean)
        if Kind.DEVICE in (a.kind, b.kind):
            # a JAX array with a NumPy one is a JAX array (JAX's __array_priority__ wins)
            return Value(kind=Kind.DEVICE, boolean=a.boolean and b.boolean)
        if Kind.HOST in (a.kind, b.kind):
            return Value(kind=Kind.HOST, boolean=a.boolean and b.boolean)
        if (
            a.kind == b.kind
            and a.kind in (Kind.TUPLE, Kind.LIST)
            and a.elts is not None
            and b.elts is not None
        ):
            return Value(kind=a.kind, elts=a.elts + b.elts)
        for seq, n in ((a, b), (b, a)):
            if seq.kind in (Kind.LIST, Kind.TUPLE) and seq.elts and n.kind is Kind.SCALAR:
                # `[None] * n`: a sequence of unknown length whose elements are known
                elem = seq.elts[0]
                for e in seq.elts[1:]:
                    elem = join(elem, e)
                return Value(kind=seq.kind, elem=elem)
        if is_int(a) and is_int(b) and not true_division:
            return INT  # shape arithmetic: `(n + b - 1) // b`
        if a.kind == b.kind and a.kind in (Kind.SCALAR, Kind.STR, Kind.LIST, Kind.TUPLE):
            return Value(kind=a.kind)
        return STATIC

    def subscript(self, node: cst.Subscript) -> Value:
        base = self.ev(node.value)
        idx: list[Value] = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                idx.append(self.ev(s.value))
            elif isinstance(s, cst.Slice):
                idx.extend(self.ev(x) for x in (s.lower, s.upper, s.step) if x is not None)
        r = first_reason(base, *idx)
        if (
            base.kind is Kind.OBJECT
            and base.ref is not None
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and any(i.traced for i in idx)
            and (getitem := base.ref.lookup_method("__getitem__")) is not None
        ):
            # `dist[mask]` of a project class: its `__getitem__` runs on the traced index
            # (distrax#291 indexes NumPy's `np.indices` with it)
            arg = cst.Arg(value=node.slice[0].slice.value)
            return self.call_function(  # type: ignore[attr-defined]
                FuncRef(getitem, None, (base,)), [(idx[0], arg)], node
            )
        if base.kind is Kind.EXT and base.ref in ("jax.numpy.r_", "jax.numpy.c_"):
            return Value(r, Kind.DEVICE)  # an array concatenated from the items
        if base.kind is Kind.EXT or base.kind is Kind.CLASS:
            return Value(kind=Kind.EXT, ref=base.ref) if base.kind is Kind.EXT else base
        if (
            len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and not idx[0].traced
        ):
            key = node.slice[0].slice.value
            if base.elts is not None and base.kind in (Kind.TUPLE, Kind.LIST):
                i = literal_int(key)
                if i is not None and -len(base.elts) <= i < len(base.elts):
                    e = base.elts[i]
                    if isinstance(e, Value):
                        return e
            if base.kind is Kind.DICT and base.pairs is not None:
                k = literal_str(key)
                for kk, vv in base.pairs:
                    if kk is not None and kk == k:
                        return vv
            if (
                isinstance(node.value, cst.Attribute)
                and node.value.attr.value == "at"
                and not base.traced
            ):
                return base
            if base.kind is Kind.HOST and not base.traced:
                return Value(kind=Kind.HOST)
        if r is not None:
            containers = (Kind.DICT, Kind.TUPLE, Kind.LIST)
            maybe_static = self.frame.filtered and base.kind is Kind.UNKNOWN
            if not any(i.traced for i in idx):
                if base.kind in (Kind.TUPLE, Kind.LIST) and base.elem is not None:
                    return base.elem
                if base.kind in containers or maybe_static:
                    return Value(r, Kind.UNKNOWN)
                if base.kind is Kind.TREE:
                    return Value(r, Kind.TREE)  # a sub-tree or a leaf: all tracers
                if base.kind is not Kind.DEVICE and not base.boolean:
                    # an item of a value not known to be an array (a record built in the trace,
                    # an object): not known to be an array either
                    return Value(r, Kind.UNKNOWN)
            elif base.kind not in ARRAYISH and not any(
                i.kind in ARRAYISH or i.boolean for i in idx
            ):
                # a Python sequence indexed by a traced value not known to be an array (one an
                # equinox filter transform may have kept static): nothing says it gives an array
                sliced = any(isinstance(el.slice, cst.Slice) for el in node.slice)
                keep = sliced and base.kind in (Kind.TUPLE, Kind.LIST)
                return Value(r, base.kind if keep else Kind.UNKNOWN)
            return Value(r, Kind.DEVICE, boolean=base.boolean)
        if base.kind is Kind.HOST:
            return Value(kind=Kind.HOST)
        if base.kind is Kind.DEVICE:
            return Value(kind=Kind.DEVICE)
        if (
            base.kind in (Kind.TUPLE, Kind.LIST)
            and base.elem is not None
            and all(isinstance(el.slice, cst.Index) for el in node.slice)
        ):
            return base.elem  # `x.shape[0]`: an int
        return STATIC

    # ------------------------------------------------------------------ attributes

    @staticmethod
    def class_constant(info: ClassInfo, name: str) -> bool:
        """Whether ``name`` is a Python constant set in a class body, without annotation (so not
        a dataclass field), and no method of the classes assigns it on an instance."""
        value = info.lookup_attr(name)
        if value is None or value.traced:
            return False
        if value.const is UNSET and value.kind not in (Kind.SCALAR, Kind.STR, Kind.NONE):
            return False
        return all(name not in c.fields and name not in c.assigned_kinds for c in info.mro())

    @staticmethod
    def own_method(base: Value, name: str) -> bool:
        """Whether a project class defines the method (jaxnasium's ``self.__check_env__(env)``
        is code to follow, not a dunder attribute such as ``__name__``)."""
        if base.kind not in (Kind.OBJECT, Kind.CLASS) or base.ref is None:
            return False
        return base.ref.lookup_method(name) is not None

    def attr(self, base: Value, name: str, node: cst.CSTNode) -> Value:
        kind = base.kind
        if kind is Kind.LAZY:
            if not self.frame.traced and not read_eagerly(*base.ref):
                modname, path = base.ref
                return Value(kind=Kind.LAZY, ref=(modname, f"{path}.{name}" if path else name))
            base = self.resolve(base)
            kind = base.kind
        if kind is Kind.UNKNOWN and base.pairs:
            # an object of a class not known, some of whose fields were replaced here
            # (`dataclasses.replace(surface, b_cos=...)`): those are known
            for k, v in base.pairs:
                if k == name:
                    return v
        if kind is Kind.EXT:
            if name == "__name__" and ("." not in base.ref or base.ref == "jax.numpy"):
                return constant(base.ref)  # an imported module's name (`np.__name__`)
            if name == "__module__" and base.ref == K.TRACER_CLASS:
                return constant(K.TRACER_MODULE)  # `type(x).__module__` of an array under a trace
            qual = canonical(f"{base.ref}.{name}")
            return Value(kind=Kind.EXT, ref=qual)
        if kind is Kind.PMODULE:
            mframe = self.load_module(base.ref)
            v = mframe.env.get(name)
            if v is None:
                sub = self.project.find_module(f"{base.ref.name}.{name}")
                if sub is not None:
                    return Value(kind=Kind.PMODULE, ref=sub)
                return STATIC
            if v.kind is Kind.LAZY and self.frame.traced:
                return self.resolve(v)
            return v
        if (
            name in K.STATIC_ATTRS
            or (name.startswith("__") and name.endswith("__") and not self.own_method(base, name))
            or name == "_fields"
        ):
            if name == "shape":
                return SHAPE
            return INT if name in ("ndim", "size") else SCALAR
        if name in self.project.static_names:
            return STATIC
        if kind is Kind.CLASS:
            info: ClassInfo = base.ref
            m = info.lookup_method(name)
            if m is not None:
                return Value(kind=Kind.FUNC, ref=FuncRef(m, None))
            return info.lookup_attr(name) or STATIC
        if kind is Kind.OBJECT and base.ref is not None:
            info = base.ref
            for field_name, field_value in base.pairs or ():
                declared = annotation_kind(info.field_annotations.get(name, ""))
                if field_name == name and not (
                    field_value.kind is Kind.HOST and declared is Kind.DEVICE
                ):
                    # an instance built here: the value it was given (a NumPy array given to a
                    # field declared `jax.Array` is converted by its loader, so not trusted)
                    return field_value
            m = info.lookup_method(name)
            if m is not None and m.is_property:
                if m.is_cached and not base.traced and self.frame.traced:
                    # an object from outside the trace may hold the value already (jumanji's
                    # Environment reads its cached specs in __init__): not computed here
                    return Value(kind=Kind.UNKNOWN)
                return self.call_function(FuncRef(m, None, (base,)), [], node)
            if m is not None:
                # `super().method`: bound to the object itself (see `call_builtin`)
                me = base.elem if base.elem is not None and base.elem.kind is Kind.OBJECT else base
                bound = () if m.is_static else (me,)
                attr_v = info.lookup_attr(name)
                if attr_v is not None and attr_v.kind is Kind.TRANSFORMED:
                    # a decorated method read from an instance: the instance is its first argument
                    t: TransformedRef = attr_v.ref
                    target = FuncRef(
                        t.target.fn, t.target.closure, bound + t.target.bound, t.target.bound_kw
                    )
                    return Value(kind=Kind.TRANSFORMED, ref=dataclasses.replace(t, target=target))
                return Value(kind=Kind.FUNC, ref=FuncRef(m, None, bound))
            if (info.is_linen and name in LINEN_ENTRIES) or (
                name in ("replace", "_replace") and name not in info.fields
            ):
                # a method the class's decorator or base generates: the call knows what it does
                return Value(kind=Kind.UNKNOWN, ref=("attr", base, name))
            if info.is_static_field(name) or info.is_linen:
                return self.project.static_attr_value(info, name)
            if not any(name in c.fields for c in info.mro()) and self.project.is_static_field_name(
                name
            ):
                # declared static by a subclass (the object may be one): as for an unknown class
                return Value(ref=("attr", base, name), notnone=self.project.declared_not_none(name))
            if base.traced and info.is_pytree and self.class_constant(info, name):
                # a class attribute no instance sets (`SCHEME_KK2000 = 1`): not a field, so no
                # leaf of the pytree, whatever the instance holds
                return info.lookup_attr(name)  # type: ignore[return-value]
            if base.traced and info.is_pytree:
                leaves = self.project.method_leaves(info)
                if leaves is not None and name not in leaves:
                    # aux data of a `tree_flatten` method, or set from it: static under jit
                    return self.project.static_attr_value(info, name)
                ann = info.field_annotations.get(name, "")
                if (
                    leaves is None
                    and info.flattened_opaquely()
                    and annotation_kind(ann) is not Kind.DEVICE
                ):
                    # flattened by code the analysis cannot read (a policy's flatteners that
                    # keep named attributes as aux data): a leaf only where declared an array
                    return self.leaf(base, name, node, Kind.UNKNOWN)
                # equinox filter_* (any pytree) and nnx split non-array attributes off as static
                filtered = self.frame.filtered or base.filtered
                if filtered and (
                    annotation_kind(ann) in (Kind.SCALAR, Kind.STR)
                    or "Callable" in ann
                    or info.assigned_kinds.get(name) in PYTHON_KINDS
                    # nnx: Variables and sub-modules come from calls; the rest is static
                    or (
                        info.is_nnx
                        and name in info.assigned_kinds
                        and name not in info.call_assigned
                    )
                ):
                    return STATIC
                # a leaf is an array where its annotation says so (under jit, Python numbers too);
                # `Optional[...]`, `dict`, `Any` may be None or a container
                declared = annotation_kind(ann)
                arrays = (Kind.DEVICE, Kind.HOST) if filtered else ARRAY_LEAF_KINDS
                leafy = declared in arrays or (not ann and not filtered)
                leaf = self.leaf(base, name, node, Kind.DEVICE if leafy else Kind.UNKNOWN)
                nested = self.annotation_class(ann, info.module)
                if nested is not None and not filtered and int_class(nested):
                    # an IntEnum field (equinox#177's `unit: Unit`): an int, so a leaf that jit
                    # traces like any number
                    return self.leaf(base, name, node, Kind.DEVICE)
                if nested is not None:
                    return Value(leaf.reason, Kind.OBJECT, ref=nested, filtered=filtered)
                kind = declared
                if kind in (Kind.LIST, Kind.TUPLE):
                    return Value(leaf.reason, kind, elem=Value(leaf.reason, Kind.UNKNOWN))
                if filtered and leaf.kind is not Kind.DEVICE:
                    # a part of a filtered tree (`_env: Any`, a wrapped gymnasium env) is one
                    return dataclasses.replace(leaf, filtered=True)
                return leaf
            return self.project.static_attr_value(info, name)
        if name == "at":
            return Value(base.reason, base.kind, base.boolean, ref=("attr", base, name))
        if name in K.HOST_ATTRS and not base.traced:
            return Value(kind=Kind.HOST, ref=("attr", base, name))
        if base.traced:
            if name in ("T", "real", "imag", "mT"):
                return Value(base.reason, Kind.DEVICE, ref=("attr", base, name))
            if name in ARRAY_METHODS:
                return Value(base.reason, kind, ref=("attr", base, name))
            if self.project.is_static_field_name(name):
                return Value(ref=("attr", base, name), notnone=self.project.declared_not_none(name))
            if name not in self.project.leaf_field_names and name in self.project.properties:
                # a property of the project's pytree classes, read from a pytree of unknown
                # class: what the property computes, on whichever of them it is
                result: Value | None = None
                for m in self.project.properties[name]:
                    obj = Value(base.reason, Kind.OBJECT, ref=m.cls, filtered=base.filtered)
                    r = self.call_function(FuncRef(m, None, (obj,)), [], node)
                    result = r if result is None else join(result, r)
                return result  # type: ignore[return-value]
            # A leaf only where a pytree class of the project declares such a field; otherwise
            # the value may be any object inside the pytree (not necessarily an array).
            # Under equinox's filter transforms a non-array leaf stays a Python value.
            # An unknown class may declare a field static (libraries do): not surely traced.
            filtered = self.frame.filtered or base.filtered
            leafy = self.project.is_leaf_field_name(name) and not filtered
            leaf_kind = Kind.DEVICE if leafy else Kind.UNKNOWN
            if (
                not self.frame.filtered
                and base.kind in (Kind.TREE, Kind.DEVICE)
                and self.project.is_subtree_field_name(name)
            ):
                # declared a sub-tree (a state object, an Optional cache): its leaves are
                # tracers, its truth is Python's
                leaf_kind = Kind.TREE
            return self.leaf(base, name, node, leaf_kind)
        fk = self.project.field_kind(name)
        if fk is not None:
            return Value(kind=fk, ref=("attr", base, name))
        notnone = self.project.declared_not_none(name)
        return Value(kind=Kind.UNKNOWN, ref=("attr", base, name), notnone=notnone)

    def leaf(self, base: Value, name: str, node: cst.CSTNode, kind: Kind) -> Value:
        assert base.reason is not None
        if isinstance(node, cst.Attribute):
            text = Text("`{0}` is a leaf of `{1}`", node, node.value)
        else:
            text = Text("`{0}` is a leaf of a traced pytree", node)
        reason = extend(base.reason, (text, None))
        # a mask only where this class is known to be given one (names are not types)
        if base.kind is Kind.OBJECT and base.ref is not None:
            boolean = base.ref.is_boolean(name)
        else:
            boolean = self.project.boolean_names.get(name, False)
        # a part of an object whose Python leaves stayed Python values: so do its own
        filtered = base.filtered and kind is not Kind.DEVICE
        return Value(reason, kind, boolean, ref=("attr", base, name), filtered=filtered)

    def annotation_class(self, ann: str, module: ModuleInfo) -> ClassInfo | None:
        a = ann.strip().strip("'\"")
        if a.startswith(("Optional[", "typing.Optional[")) and a.endswith("]"):
            a = a[a.index("[") + 1 : -1]
        # `C | None`: an attribute access on None raises anyway, so read it as C
        options = [o.strip() for o in a.split("|") if o.strip() != "None"]
        if len(options) == 1:
            a = options[0]
        head = a.split("[")[0].strip().strip("'\"")
        if not head or module.frame is None:
            return None
        parts = head.split(".")
        v = module.frame.env.get(parts[0])
        for part in parts[1:]:
            if v is not None:
                v = self.resolve(v)
            if v is None or v.kind is not Kind.PMODULE:
                return None
            v = self.load_module(v.ref).env.get(part)
        if v is not None:
            v = self.resolve(v)
        return v.ref if v is not None and v.kind is Kind.CLASS else None


def int_class(info: ClassInfo) -> bool:
    """A project class that is a Python int (``class Unit(enum.IntEnum)``, an ``IntFlag``)."""
    return any(
        q in ("enum.IntEnum", "enum.IntFlag", "builtins.int", "int")
        for c in info.mro()
        for q in c.base_quals
    )


def identical(a: Value, b: Value) -> bool | None:
    """``a is b`` where the analysis knows it: the same object bound to both names (an enum member,
    a module constant: `layout is dense` after `layout = dense`), or two different constants."""
    if a.traced or b.traced:
        return None
    if a is b and a is not STATIC and a.kind not in (Kind.UNKNOWN, Kind.SCALAR, Kind.TUPLE):
        return True  # (numbers and tuples are shared descriptions, not one object)
    if a.const is not UNSET and b.const is not UNSET and type(a.const) is type(b.const):
        return False if a.const != b.const else None
    if a.kind is b.kind is Kind.EXT and {a.ref, b.ref} <= K.ARRAY_NAMESPACES:
        # `xp is np` with `xp` bound to `jnp` (jno's backend test): two modules, known apart
        return a.ref == b.ref
    return None


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
}


def folded_comparison(node: cst.Comparison, vals: list[Value]) -> Value | None:
    """A comparison of known Python strings, numbers, bools or None: its result."""
    consts = [v.const for v in vals]
    if any(
        v.traced or type(c) not in (str, int, float, bool, type(None))
        for v, c in zip(vals, consts, strict=True)
    ):
        return None
    result = True
    for c, a, b in zip(node.comparisons, consts, consts[1:], strict=False):
        op = _COMPARE.get(type(c.operator))
        if op is None:
            return None
        try:
            result = result and op(a, b)
        except TypeError:  # `"a" < 1`: Python raises at run time
            return None
    return constant(bool(result))

"""Abstract values: what the analysis knows about a Python value at a point in traced code."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import libcst as cst

# One link of a "why is this traced" chain: text (with ``{at}`` for a source location) and the node
# that location is taken from, with the module it belongs to.
Step = tuple[str, Any]
Reason = tuple[Step, ...]

MAX_CHAIN = 8


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class Kind(Enum):
    UNKNOWN = "unknown"
    HOST = "numpy array"
    LIST = "list"
    TUPLE = "tuple"
    DICT = "dict"
    DEVICE = "JAX array"
    # An argument of a transform (or a part of one) whose type is unknown: an array or a pytree
    # whose leaves are all tracers. Its truth is Python's (containers), but as a shape, a count or
    # an index it always holds tracers.
    TREE = "pytree of tracers"
    SCALAR = "number"
    STR = "str"
    NONE = "None"
    EXT = "external name"
    PMODULE = "module"
    FUNC = "function"
    CLASS = "class"
    OBJECT = "object"
    TRANSFORMED = "transformed function"
    PARTIAL = "partial transform"
    # A name imported from a project module that this process has not parsed (``-j``): resolved
    # (parsed and loaded) only where traced code, a transform, a decorator or a base class uses it.
    LAZY = "lazy import"


# Immutable by convention, not ``frozen=True``: a frozen dataclass sets each field in
# ``__init__`` through ``object.__setattr__``, which made building values (millions per check) a
# tenth of the analysis; ``unsafe_hash`` keeps the hash a frozen one has. Nothing assigns a field.
@dataclass(unsafe_hash=True, slots=True)
class Value:
    reason: Reason | None = None
    kind: Kind = Kind.UNKNOWN
    boolean: bool = False
    # EXT: qualified name; FUNC: FuncRef; CLASS/OBJECT: ClassInfo; PMODULE: ModuleInfo;
    # TRANSFORMED: TransformedRef; PARTIAL: (qualified name, keywords); other kinds may carry
    # ("attr", owner, name) to remember that the value was read as an attribute (method calls).
    ref: Any = None
    # Elements of tuple/list literals (for static indexing and unpacking).
    elts: tuple[Value, ...] | None = None
    # The element of an iterable (range, zip, comprehension) when elements are not listed.
    elem: Value | None = None
    # (key, value) pairs of dict literals; key None for ``**spread`` or non-literal keys.
    pairs: tuple[tuple[str | None, Value], ...] | None = None
    # The Python value itself where the analysis knows it (True/False/None/int/str literals,
    # ``isinstance`` results): short-circuits and ``if`` on it take one path, as Python does.
    const: Any = UNSET
    # An object whose non-array leaves stayed Python values (it crossed an equinox filter
    # transform or came back from ``eqx.combine``): its int/str/callable fields are static.
    filtered: bool = False
    # Known not to be None (the `else` of `x is None`), whatever else is known of it.
    notnone: bool = False
    # The Python number type where known: int (a shape entry, a length, int arithmetic of those)
    # or float (`float(x)` of a Python value); `isinstance` decides on it.
    pytype: type | None = None
    # An iterable known to have an element (a comprehension over a traced tree's leaves): any()
    # of elements known true is True (`if any(isinstance(l, Tracer) for l in leaves): return`).
    nonempty: bool = False

    @property
    def traced(self) -> bool:
        return self.reason is not None

    def with_reason(self, reason: Reason | None) -> Value:
        # every field but the reason, by position (``dataclasses.replace`` costs several times
        # more, on a hot path); tests/test_analysis.py checks that it keeps every field
        return Value(
            reason,
            self.kind,
            self.boolean,
            self.ref,
            self.elts,
            self.elem,
            self.pairs,
            self.const,
            self.filtered,
            self.notnone,
            self.pytype,
            self.nonempty,
        )


STATIC = Value()


def constant(c: Any) -> Value:
    """A Python value whose value is known (a literal, a flag passed at a call site)."""
    if c is None:
        return Value(kind=Kind.NONE, const=None)
    if isinstance(c, str):
        return Value(kind=Kind.STR, const=c)
    return Value(kind=Kind.SCALAR, boolean=isinstance(c, bool), const=c)


TRUE = constant(True)
FALSE = constant(False)
NONE = constant(None)


def truth(v: Value) -> bool | None:
    """Python truthiness of a value the analysis knows, else None."""
    if v.traced or v.const is UNSET:
        return None
    try:
        return bool(v.const)
    except Exception:
        return None


_NEEDS_REF = frozenset(
    {Kind.EXT, Kind.PMODULE, Kind.FUNC, Kind.CLASS, Kind.TRANSFORMED, Kind.PARTIAL, Kind.LAZY}
)
SCALAR = Value(kind=Kind.SCALAR)
INT = Value(kind=Kind.SCALAR, pytype=int)
FLOAT = Value(kind=Kind.SCALAR, pytype=float)
SHAPE = Value(kind=Kind.TUPLE, elem=INT)


def python_type(v: Value) -> type | None:
    """The Python number type of an untraced value, where known (a bool is no int here)."""
    if v.traced:
        return None
    if type(v.const) in (int, float):
        return type(v.const)
    return v.pytype


def python_constant(v: Value) -> Any:
    """The Python value of a known constant or a tuple or list of them; UNSET when not known."""
    if v.traced:
        return UNSET
    if v.kind in (Kind.TUPLE, Kind.LIST) and v.elts is not None:
        parts = tuple(python_constant(e) for e in v.elts)
        return UNSET if any(p is UNSET for p in parts) else parts
    return v.const


def is_int(v: Value) -> bool:
    return python_type(v) is int


class StagedReason(tuple):  # type: ignore[type-arg]
    """The chain of a value that is a tracer only because JAX staged a computation on concrete
    values under the trace (`jnp.astype(n, int)` of a Python int in a jitted body): no traced
    input reaches it. Kept by `extend`, so values computed from it are known as such too."""

    __slots__ = ()


def extend(reason: Reason, *steps: Step) -> Reason:
    out = reason + steps
    if len(out) > MAX_CHAIN:
        out = (*out[:2], ("...", None), *out[-(MAX_CHAIN - 3) :])
    return StagedReason(out) if isinstance(reason, StagedReason) else out


def first_reason(*values: Value) -> Reason | None:
    """The chain of the first traced value, preferring one with a traced input over a staged
    constant: the result of both is not "traced only by staging"."""
    staged = None
    for v in values:
        if v.reason is not None:
            if not isinstance(v.reason, StagedReason):
                return v.reason
            staged = staged or v.reason
    return staged


def join(a: Value, b: Value, *, paths: bool = True) -> Value:
    """The value that may be either ``a`` or ``b`` (after branches or loop iterations).
    ``paths=False``: both are evaluated (the operands of ``or``), not one path or the other."""
    if a is b:
        return a
    if (
        a.kind is b.kind
        and a.kind in (Kind.TUPLE, Kind.LIST)
        and a.elts is not None
        and b.elts is not None
        and len(a.elts) == len(b.elts)
    ):
        # two literals of the same length (rows of a table iterated in a loop): element-wise,
        # so a static column stays static beside a traced one
        elts = tuple(join(x, y) for x, y in zip(a.elts, b.elts, strict=True))
        return Value(first_reason(*elts), a.kind, elts=elts)
    if (
        a.kind is b.kind
        and a.kind in (Kind.DICT, Kind.OBJECT)
        and a.ref is b.ref
        and a.pairs is not None
        and b.pairs is not None
        and all(isinstance(k, str) for k, _ in (*a.pairs, *b.pairs))
        and not aux_only(a)
        and not aux_only(b)
    ):
        # a mapping (or a built object) with entries set on one path only (`if c: d.update(k=x)`):
        # key by key, so a traced entry does not taint the others
        left, right = dict(a.pairs), dict(b.pairs)
        pairs = tuple(
            (k, join(left[k], right[k]) if k in left and k in right else left.get(k, right.get(k)))
            for k in {**left, **right}
        )
        # an object is traced as a whole only where one side is (`eqx.tree_at`, `replace` keep
        # the object's own reason and trace only the fields they set); a mapping holds its items
        reason = (
            a.reason or b.reason
            if a.kind is Kind.OBJECT
            else first_reason(*(v for _, v in pairs)) or a.reason or b.reason
        )
        return Value(reason, a.kind, ref=a.ref, pairs=pairs, filtered=a.filtered and b.filtered)
    if a.traced != b.traced:
        # Only the traced side can raise at trace time; the other is a plain Python value.
        t, other = (a, b) if a.traced else (b, a)
        if a.kind is b.kind is Kind.OBJECT and a.ref is not b.ref:
            # objects of two classes (evorl's `Box(...)` or `Discrete(...)`): neither class is
            # known, their nearest common base is
            ref = common_class(a.ref, b.ref) if a.ref is not None and b.ref is not None else None
            kind = Kind.OBJECT if ref is not None else Kind.UNKNOWN
            return Value(t.reason, kind, ref=ref, filtered=t.filtered)
        if paths and isinstance(t.reason, StagedReason):
            # a path that stages constants beside one that keeps a Python value (`typ(x) if
            # isinstance(x, int) else jnp.astype(x, typ)`): which one runs depends on the
            # concrete value, which is not known here
            return other
        return Value(
            t.reason, t.kind, t.boolean, t.ref, t.elts, t.elem, t.pairs, filtered=t.filtered
        )
    same = a.const is b.const or (
        a.const is not UNSET and type(a.const) is type(b.const) and a.const == b.const
    )
    kind = a.kind if a.kind == b.kind else Kind.UNKNOWN
    if {a.kind, b.kind} == {Kind.TREE, Kind.DEVICE}:
        kind = Kind.TREE
    ref = a.ref if a.ref is b.ref else None
    if ref is None and kind is Kind.OBJECT and a.ref is not None and b.ref is not None:
        # objects of two classes: an object of their nearest common base class
        ref = common_class(a.ref, b.ref)
    if ref is None and kind in _NEEDS_REF:
        kind = Kind.UNKNOWN
    elts = a.elts if a.elts is b.elts else None
    if elts is None and a.elts is not None and b.elts is not None and len(a.elts) == len(b.elts):
        # tuples of the same length: position by position (`for w, ndim in ((W, 2), (b, 1))`)
        elts = tuple(join(x, y) for x, y in zip(a.elts, b.elts, strict=True))
    elem = a.elem if a.elem is b.elem else None
    pairs = a.pairs if a.pairs is b.pairs else None
    const = a.const if same else UNSET
    return Value(
        a.reason or b.reason,
        kind,
        a.boolean and b.boolean,
        ref,
        elts,
        elem,
        pairs,
        const,
        filtered=a.filtered and b.filtered,
        notnone=not_none(a) and not_none(b),
        pytype=a.pytype if a.pytype is b.pytype else None,
    )


def not_none(v: Value) -> bool:
    """Known not to be None: so marked, or an untraced value whose kind is exact (a memo's hit
    tested `is not None`, joined with the object built on a miss)."""
    return (
        v.notnone
        or (not v.traced and v.kind in NOT_NONE_KINDS)
        or (v.const is not UNSET and v.const is not None)
    )


def static_pairs(v: Value) -> tuple[tuple[str | None, Value], ...] | None:
    """The static fields (``struct.field(pytree_node=False)``) an object was built with: aux
    data, the same Python values in every tree of its structure (a TrainState's ``apply_fn``
    under the trace, or after a ``tree.map``)."""
    info = v.ref
    kept = tuple(
        (k, e)
        for k, e in v.pairs or ()
        if isinstance(k, str) and info is not None and info.is_static_field(k)
    )
    return kept or None


def aux_only(v: Value) -> bool:
    """A traced object whose entries are its static fields only (what ``deep_trace`` keeps):
    its other fields are leaves the entries do not list, so no key-by-key join with a built one."""
    return (
        v.kind is Kind.OBJECT
        and v.traced
        and bool(v.pairs)
        and len(static_pairs(v) or ()) == len(v.pairs or ())
    )


def _class_order(c: Any) -> list[Any]:
    out: list[Any] = []
    todo = [c]
    while todo:
        x = todo.pop(0)
        if any(x is y for y in out):
            continue
        out.append(x)
        todo.extend(b.ref for b in getattr(x, "bases", ()) if b.kind is Kind.CLASS)
    return out


def common_class(a: Any, b: Any) -> Any:
    """The nearest class both ``a`` and ``b`` (project classes) derive from, or None."""
    order_a = _class_order(a)
    for x in _class_order(b):
        if any(x is y for y in order_a):
            return x
    return None


class Text:
    """Step text whose `{0}`, `{1}`... are the sources of nodes, rendered only if reported:
    generating source for every traced assignment would cost more than the analysis itself."""

    __slots__ = ("fmt", "nodes")

    def __init__(self, fmt: str, *nodes: cst.CSTNode) -> None:
        self.fmt = fmt
        self.nodes = nodes

    def __str__(self) -> str:
        out = self.fmt
        for i, n in enumerate(self.nodes):
            out = out.replace(f"{{{i}}}", source_of(n, 40))
        return out


def source_of(node: cst.CSTNode, limit: int = 60) -> str:
    """Short source text of a node for messages."""
    text = cst.Module([]).code_for_node(node).strip()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Kinds of plain Python values: never leaves under filtered transforms.
PYTHON_KINDS = frozenset({Kind.SCALAR, Kind.STR, Kind.NONE, Kind.FUNC, Kind.TRANSFORMED, Kind.EXT})


ARRAY_METHODS = frozenset(
    [
        "astype",
        "reshape",
        "sum",
        "mean",
        "max",
        "min",
        "std",
        "var",
        "any",
        "all",
        "argmax",
        "argmin",
        "clip",
        "round",
        "transpose",
        "squeeze",
        "flatten",
        "ravel",
        "cumsum",
        "cumprod",
        "dot",
        "item",
        "tolist",
        "at",
        "set",
        "add",
        "multiply",
        "get",
        "T",
        "prod",
        "repeat",
        "take",
    ]
)


# Every public attribute of `jax.Array` (jax 0.10.2, `dir(jax.Array)`): a method outside it says that
# the value is not a JAX array after all (an object with its own operators, `alpha * qobj`).
JAX_ARRAY_API = frozenset(
    [
        "T",
        "addressable_data",
        "addressable_shards",
        "all",
        "any",
        "argmax",
        "argmin",
        "argpartition",
        "argsort",
        "astype",
        "at",
        "byteswap",
        "choose",
        "clip",
        "committed",
        "compress",
        "conj",
        "conjugate",
        "copy",
        "copy_to_host_async",
        "cumprod",
        "cumsum",
        "device",
        "diagonal",
        "dot",
        "dtype",
        "flat",
        "flatten",
        "global_shards",
        "imag",
        "is_fully_addressable",
        "is_fully_replicated",
        "item",
        "itemsize",
        "mT",
        "max",
        "mean",
        "min",
        "nbytes",
        "ndim",
        "nonzero",
        "prod",
        "ptp",
        "ravel",
        "real",
        "repeat",
        "reshape",
        "round",
        "searchsorted",
        "shape",
        "sharding",
        "size",
        "sort",
        "squeeze",
        "std",
        "sum",
        "swapaxes",
        "take",
        "to_device",
        "trace",
        "transpose",
        "var",
        "view",
    ]
)


def annotation_kind(ann: str) -> Kind | None:
    a = ann.replace(" ", "")
    if "|None" in a or "None|" in a:
        return None  # may be None: not known to be an array, a number or a container
    if a.startswith(("np.ndarray", "numpy.ndarray", "npt.NDArray", "np.typing", "NDArray")):
        return Kind.HOST
    if a.startswith(
        (
            "jnp.ndarray",
            "jax.Array",
            "chex.Array",
            "jaxtyping",
            "Array",
            "jnp.array",
            "jax.numpy.ndarray",
            "Float[",
            "Int[",
            "Bool[",
        )
    ):
        return Kind.DEVICE
    if a in ("int", "float", "bool", "complex"):
        return Kind.SCALAR
    if a == "str":
        return Kind.STR
    if a.startswith(("list", "List", "typing.List", "Sequence")):
        return Kind.LIST
    if a.startswith(("tuple", "Tuple")):
        return Kind.TUPLE
    return None


# The kinds of values that are never None, where the kind is exact: under a trace (what the
# caller passed), an untraced call-site value, not-None joins (see not_none).
NOT_NONE_KINDS = frozenset(
    {Kind.SCALAR, Kind.STR, Kind.HOST, Kind.DEVICE, Kind.LIST, Kind.TUPLE, Kind.DICT, Kind.OBJECT}
)


def deep_trace(v: Value, reason: Reason, soft: bool = False) -> Value:
    """The value as seen inside a transform: every array leaf of it becomes a tracer. ``soft``:
    under equinox's filter transforms, where a leaf that is not an array stays a Python value."""
    out = _deep_trace(v, reason, soft)
    # None stays None under a transform; the rest is not (an untraced value's kind is exact: a
    # join with None would have no kind)
    if not_none(v) and not out.notnone:
        out = replace(out, notnone=True)
    return out


def _deep_trace(v: Value, reason: Reason, soft: bool = False) -> Value:
    if v.kind in (
        Kind.STR,
        Kind.NONE,
        Kind.FUNC,
        Kind.CLASS,
        Kind.EXT,
        Kind.PMODULE,
        Kind.TRANSFORMED,
    ):
        return v
    if v.kind in (Kind.TUPLE, Kind.LIST):
        elts = tuple(deep_trace(e, reason, soft) for e in v.elts) if v.elts is not None else None
        if elts is not None and not any(e.traced for e in elts):
            return Value(kind=v.kind, elts=elts)  # no leaf to trace (`()`, strings)
        part = None if elts is not None else tree_part(reason, soft)
        return Value(reason, v.kind, elts=elts, elem=part)
    if v.kind is Kind.DICT:
        pairs = (
            tuple((k, deep_trace(e, reason, soft)) for k, e in v.pairs)
            if v.pairs is not None
            else None
        )
        return Value(reason, Kind.DICT, pairs=pairs)
    if v.kind is Kind.OBJECT:
        return Value(reason, Kind.OBJECT, ref=v.ref, pairs=static_pairs(v), filtered=soft)
    if soft and v.kind is Kind.SCALAR:
        return v  # a Python number stays one under equinox's filter transforms
    if v.kind in (Kind.DEVICE, Kind.HOST, Kind.SCALAR):
        # arrays and Python numbers become tracers (an array given to a transform is no None)
        return Value(reason, Kind.DEVICE, v.boolean, notnone=True)
    # a value of unknown type may be a container or an object that holds tracers (its truth, its
    # attributes and its items are Python's): traced, but not known to be an array
    return tree_part(reason, soft)


def tree_part(reason: Reason, soft: bool) -> Value:
    """A part of a transform's argument whose type is unknown: all tracers under jit; under
    equinox's filter transforms whatever is not an array in it stays a Python value."""
    return Value(reason, Kind.UNKNOWN, filtered=True) if soft else Value(reason, Kind.TREE)

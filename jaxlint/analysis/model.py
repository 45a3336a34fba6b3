"""The project model: modules, functions and classes as the analysis sees them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from jaxlint.analysis.values import Kind, Value

if TYPE_CHECKING:
    from jaxlint.analysis.interpreter import Frame


@dataclass(eq=False)
class ModuleInfo:
    path: str
    name: str
    package: str
    tree: cst.Module
    frame: Frame | None = None
    loading: bool = False
    # An installed library read for what it tells about the project: never reported on.
    library: bool = False


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "pos", "vararg", "kwonly", "varkw"
    annotation: cst.BaseExpression | None
    default: cst.BaseExpression | None


def own_returns(fn: cst.FunctionDef) -> list[cst.Return]:
    """The ``return`` statements of ``fn`` itself, not of functions or classes nested in it."""
    out: list[cst.Return] = []
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Return):
            out.append(n)
        elif not isinstance(n, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            stack.extend(n.children)
    return out


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef | cst.Lambda
    module: ModuleInfo
    name: str
    qualname: str
    params: tuple[Param, ...]
    cls: ClassInfo | None = None
    is_static: bool = False  # staticmethod
    is_classmethod: bool = False
    # read as an attribute (``@property``, ``functools.cached_property``): the call's result
    is_property: bool = False
    # ``functools.cached_property``: computed at the first read only, maybe before any trace
    is_cached: bool = False

    @property
    def positional(self) -> list[Param]:
        return [p for p in self.params if p.kind == "pos"]

    @property
    def body(self) -> Any:
        return self.node.body


# Methods that build an object (``setup``: a linen module's): run first in the untraced pass, as
# what they assign to self decides what the other methods read.
INITIALISERS = frozenset({"__init__", "__post_init__", "setup", "__new__"})


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    module: ModuleInfo
    name: str
    bases: tuple[Value, ...] = ()
    base_quals: frozenset[str] = frozenset()
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    attrs: dict[str, Value] = field(default_factory=dict)  # class-level assignments
    fields: list[str] = field(default_factory=list)  # annotated fields, in order
    field_kinds: dict[str, Kind] = field(default_factory=dict)
    field_annotations: dict[str, str] = field(default_factory=dict)
    static_fields: set[str] = field(default_factory=set)
    # Kinds of what methods assign to self.<name> (None when they disagree).
    assigned_kinds: dict[str, Kind | None] = field(default_factory=dict)
    # Attributes assigned the result of a call (nnx Variables and sub-modules are).
    call_assigned: set[str] = field(default_factory=set)
    # Fields given boolean arrays (masks) by a constructor call or an assignment.
    boolean_fields: set[str] = field(default_factory=set)
    other_arrays: set[str] = field(default_factory=set)
    is_linen: bool = False
    # Registered with JAX as a pytree (flax struct, NamedTuple, chex/registered dataclass, equinox
    # Module): its non-static fields are leaves. Other objects cannot hold tracers across a jit.
    is_pytree: bool = False
    # The attributes a registered flatten function returns as children (None: not known).
    flatten_leaves: set[str] | None = None
    # Registered with a flatten function the analysis cannot read (one a factory built): which
    # attributes are children is not known.
    opaque_flatten: bool = False
    is_nnx: bool = False
    is_eqx: bool = False

    def mro(self) -> Iterator[ClassInfo]:
        """This class, then its project base classes, breadth first, each once."""
        seen: set[int] = set()
        todo: list[ClassInfo] = [self]
        while todo:
            c = todo.pop(0)
            if id(c) in seen:
                continue
            seen.add(id(c))
            yield c
            todo.extend(b.ref for b in c.bases if b.kind is Kind.CLASS)

    def flattened_opaquely(self) -> bool:
        """Flattened by a function (or a ``tree_flatten`` method) whose children are not known."""
        for c in self.mro():
            if c.flatten_leaves is not None:
                return False
            if c.opaque_flatten or "tree_flatten" in c.methods:
                return True
        return False

    def lookup_method(self, name: str) -> FunctionInfo | None:
        return next((c.methods[name] for c in self.mro() if name in c.methods), None)

    def is_boolean(self, name: str) -> bool:
        if name in self.other_arrays:
            return False
        return name in self.boolean_fields or any(
            b.kind is Kind.CLASS and b.ref.is_boolean(name) for b in self.bases
        )

    def lookup_attr(self, name: str) -> Value | None:
        if name in self.attrs:
            return self.attrs[name]
        for b in self.bases:
            if b.kind is Kind.CLASS and (v := b.ref.lookup_attr(name)) is not None:
                return v
        return None

    def is_static_field(self, name: str) -> bool:
        if name in self.static_fields:
            return True
        return any(b.kind is Kind.CLASS and b.ref.is_static_field(name) for b in self.bases)


@dataclass(frozen=True, eq=False)
class FuncRef:
    fn: FunctionInfo
    closure: Frame | None
    # Bound arguments: self for bound methods, leading positional args and keywords of partial().
    bound: tuple[Value, ...] = ()
    bound_kw: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True, eq=False)
class TransformedRef:
    target: FuncRef
    qual: str
    staged: bool
    static: frozenset[str]
    unbatched: frozenset[str]  # vmap in_axes=None
    filtered: bool  # equinox filter_* / nnx: non-array leaves are static
    site: Any  # (ModuleInfo, node, how) of the transform application
    # grad-like without an abstracting transform: only these parameters are (JVP) traced.
    differentiated: frozenset[str] | None = None
    # a linen entry point (``jax.jit(model.init)``): the first argument (rngs or variables) and
    # the linen options are the entry's, the rest go to the method
    linen_entry: bool = False
    # `partial(jitted, ...)`'s arguments: passed to the transformed function at each call
    partial_args: tuple[tuple[Any, Any], ...] = ()
    # a reverse-mode derivative (grad, value_and_grad, jacrev) is taken in this transform's trace
    # (``jax.grad(f)``, ``jax.jit(jax.grad(f))``): JAX transposes what f runs
    reverse: bool = False

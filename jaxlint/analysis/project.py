"""The whole-project analysis: modules by import name, what is known across them, and findings."""

from __future__ import annotations

import ast
import contextlib
import gc
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.interpreter import Interpreter
from jaxlint.analysis.libraries import LibraryIndex, running_interpreter_paths
from jaxlint.analysis.model import ClassInfo, FunctionInfo, ModuleInfo
from jaxlint.analysis.positions import resolve_spans
from jaxlint.analysis.syntax import (
    error_expecting_tests,
    fields_of,
    flatten_method_leaves,
    root_names,
)
from jaxlint.analysis.values import Kind, Reason, Value, annotation_kind, join
from jaxlint.discovery import package_parts
from jaxlint.findings import Edit, Finding, Fix
from jaxlint.fixes.spec import NodeFix, header_end, import_anchor
from jaxlint.rules.base import Rule
from jaxlint.settings import Settings

# A module that mentions none of these needs no syntax tree unless traced code calls into it.
_JAX_MARKERS = re.compile(r"\b(jax|flax|equinox|eqx|jnp|lax|nnx)\b")
# Lines that are empty or a comment from column 0 (LibCST puts them in the module's footer when
# they end it, even after an indented block); the last may lack its line break.
_COMMENT = r"(?:#[^\r\n\x00\ud800-\udfff]*)?"
_TRAILING_LINES = re.compile(rf"{_COMMENT}(?:(?:\r\n|\r|\n){_COMMENT})*")


# Annotation heads of sub-trees (which may be None or a container), not arrays.
SUBTREE_HEADS = frozenset({"Optional", "Union", "dict", "Dict", "Mapping", "Any", "PyTree"})


@dataclass
class _Pending:
    rule: Rule
    module: ModuleInfo
    node: cst.CSTNode
    message: str
    reason: Reason
    jax_error: str | None
    fix: NodeFix | None
    staged: bool


class Project:
    def __init__(self, settings: Settings) -> None:
        from jaxlint.analysis.context import RuleContext, build_hooks

        self.settings = settings
        self.static_names = frozenset(settings.static_names)
        self.extra_transforms = frozenset(settings.extend_transforms)
        self.by_name: dict[str, ModuleInfo] = {}
        self.texts: dict[str, str] = {}
        # Only some modules are this process's to analyse (-j): imports of the others stay lazy.
        self.lazy = False
        self.attr_kinds: dict[str, Kind | None] = {}
        self.static_field_names: set[str] = set()
        self.leaf_field_names: set[str] = set()
        # Annotations of the non-static fields of pytree classes, by field name; names of the
        # project's pytree classes (a field declared as one is a sub-tree, not an array).
        self.field_annotation_texts: dict[str, set[str]] = {}
        # annotations naming a library's class (not an array): a field so declared is a sub-tree
        self.object_annotations: set[str] = set()
        # properties of pytree classes, by name: read from a pytree whose class is not known
        self.properties: dict[str, list[FunctionInfo]] = {}
        self.pytree_class_names: set[str] = set()
        # Every class field's annotation by field name ("None" where its default is None).
        self.field_declarations: dict[str, set[str]] = {}
        # Subclasses by id of their base ClassInfo (method calls dispatch to overrides).
        self.children: dict[int, list[ClassInfo]] = {}
        # Attribute names given boolean arrays (True) or other arrays too (False).
        self.boolean_names: dict[str, bool] = {}
        self._method_leaves: dict[int, set[str] | None] = {}
        self.pending: dict[tuple[int, str], _Pending] = {}
        # What the names a control-flow call reads (its operands, its loop bounds, the closure
        # of its lambdas) held where it ran, joined over every run, by id of the call: fixes
        # that move an operand into a closure read whether it is a Python number there.
        self.site_names: dict[int, tuple[cst.Call, dict[str, Value], frozenset[str]]] = {}
        # The tests of module-level names that held at every evaluation of a transform site,
        # by id of the site: the trace it starts runs under them (see Statements.holding).
        self.site_conditions: dict[int, tuple[cst.CSTNode, dict[str, bool]]] = {}
        paths = settings.library_paths
        self.libraries = LibraryIndex(running_interpreter_paths() if paths is None else paths)
        self.interp = Interpreter(self)
        self.ctx = RuleContext(self)
        self.hooks: dict[str, list[Callable[..., None]]] = build_hooks()
        # The hooks of each node type evaluated under a trace (most have none), by type rather
        # than by name: looked up for every expression, so without building the event's name.
        self.node_hooks: dict[type, tuple[Callable[..., None], ...]] = {}

    # ------------------------------------------------------------------ modules
    def add_module(self, path: str, tree: cst.Module | None, text: str) -> ModuleInfo:
        name, package = module_name(path)
        info = ModuleInfo(path, name, package, tree)  # type: ignore[arg-type]
        self.texts[path] = text
        self.by_name.setdefault(name, info)
        return info

    def deferred(self, name: str) -> bool:
        """A module that is not parsed yet and may stay so: a project module (only with
        ``lazy``), or an installed library's, read only where the project reaches into it."""
        mod = self.by_name.get(name)
        if mod is None:
            return self.libraries.find(name) is not None
        return mod.tree is None and (self.lazy or mod.library)

    def find_module(self, name: str) -> ModuleInfo | None:
        mod = self.by_name.get(name)
        if mod is None and (path := self.libraries.find(name)) is not None:
            mod = self.add_library(name, path)
        if mod is None or mod.tree is not None:
            return mod
        try:
            mod.tree = cst.parse_module(self.texts[mod.path])
        except Exception:
            return None
        return mod

    def add_library(self, name: str, path: Path) -> ModuleInfo | None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        info = ModuleInfo(str(path), name, package, None, library=True)  # type: ignore[arg-type]
        self.texts[info.path] = text
        self.by_name[name] = info
        return info

    # ------------------------------------------------------------------ knowledge across modules
    def is_transform(self, qual: str) -> bool:
        return (
            qual in K.TRANSFORMS
            or qual in self.extra_transforms
            or qual.rsplit(".", 1)[-1] in self.extra_transforms
        )

    def transform_spec(self, qual: str) -> K.TransformSpec:
        return K.TRANSFORMS.get(qual) or K.TRANSFORMS["jax.jit"]

    def record_class(self, info: ClassInfo) -> None:
        for b in info.bases:
            if b.kind is Kind.CLASS and info not in self.children.setdefault(id(b.ref), []):
                self.children[id(b.ref)].append(info)
        for name, kind in info.field_kinds.items():
            self._record_kind(name, kind)
        static = set(info.static_fields)
        leaves = self.method_leaves(info) if info.is_pytree else None
        if leaves is not None:
            # the aux data of a `tree_flatten` method (GridArray's `offset`): static, by name too
            static |= set(info.fields) - leaves
        self.static_field_names |= static
        for name in info.fields:
            declared = self.field_declarations.setdefault(name, set())
            declared.add(info.field_annotations.get(name, ""))
            default = info.attrs.get(name)
            if default is not None and default.kind is Kind.NONE:
                declared.add("None")
        if info.is_pytree and not info.is_linen:
            self.leaf_field_names |= set(info.fields) - static
            for name in set(info.fields) - static:
                ann = info.field_annotations.get(name, "")
                self.field_annotation_texts.setdefault(name, set()).add(ann)
        if info.is_pytree:
            self.pytree_class_names.add(info.name)
            for m in info.methods.values():
                if m.is_property:
                    self.properties.setdefault(m.name, []).append(m)

    def subclasses(self, info: ClassInfo) -> list[ClassInfo]:
        """Every project class below ``info`` (transitively), in definition order."""
        out: list[ClassInfo] = []
        todo = [info]
        while todo:
            c = todo.pop()
            for sub in self.children.get(id(c), ()):
                if sub not in out:
                    out.append(sub)
                    todo.append(sub)
        return out

    def record_attr(self, cls: ClassInfo | None, name: str, v: Value) -> None:
        if v.traced:
            return
        if cls is not None:
            seen = cls.assigned_kinds.get(name, v.kind)
            cls.assigned_kinds[name] = v.kind if seen is v.kind else None
        self._record_kind(name, v.kind)
        if cls is not None and v.kind in (Kind.DEVICE, Kind.HOST):
            (cls.boolean_fields if v.boolean else cls.other_arrays).add(name)
        if v.kind in (Kind.DEVICE, Kind.HOST):
            # a name is a mask only while no class gives an array of another dtype to it
            self.boolean_names[name] = v.boolean and self.boolean_names.get(name, True)
        if cls is not None and v.kind in (Kind.FUNC, Kind.TRANSFORMED, Kind.HOST, Kind.OBJECT):
            # self.step = jax.jit(self._step) in __init__: later self.step(...) calls it
            old = cls.attrs.get(name)
            if old is None or not same_callable(old, v):
                # a second evaluation of the same `__init__` (a constructor call, the function
                # itself) makes the same function again: no join of two unknowns
                cls.attrs[name] = v if old is None else join(old, v)
        if (
            cls is not None
            and name not in cls.field_kinds
            and v.kind in (Kind.HOST, Kind.LIST, Kind.TUPLE)
        ):
            cls.field_kinds[name] = v.kind

    def record_constructor(self, info: ClassInfo, args: list[tuple[Value, cst.Arg]]) -> None:
        positional = [v for v, a in args if a.keyword is None and a.star == ""]
        for name, v in zip(info.fields, positional, strict=False):
            self.record_attr(info, name, v)
        for v, a in args:
            if a.keyword is not None:
                self.record_attr(info, a.keyword.value, v)

    def record_site_conditions(self, site: cst.CSTNode, held: list[tuple[str, bool]]) -> None:
        seen = self.site_conditions.get(id(site))
        now = dict(held)
        if seen is None or seen[0] is not site:
            self.site_conditions[id(site)] = (site, now)
        else:
            # several evaluations: only what held at each
            self.site_conditions[id(site)] = (
                site,
                {k: v for k, v in seen[1].items() if now.get(k) is v},
            )

    def record_site_names(self, node: cst.Call, lookup: Callable[[str], Value | None]) -> None:
        seen = self.site_names.get(id(node))
        if seen is None or seen[0] is not node:
            seen = self.site_names[id(node)] = (node, {}, frozenset(root_names(node)))
        names = seen[1]
        for name in seen[2]:
            v = lookup(name)
            if v is not None:
                names[name] = join(names[name], v) if name in names else v

    def record_masks(self, info: ClassInfo, args: list[tuple[Value, cst.Arg]]) -> None:
        """Which fields a constructor call in traced code gives boolean arrays (and which other
        arrays): a stacked ``Transition(..., done)`` keeps ``traj.done`` a mask."""
        positional = [v for v, a in args if a.keyword is None and a.star == ""]
        named = [(a.keyword.value, v) for v, a in args if a.keyword is not None]
        for name, v in [*zip(info.fields, positional, strict=False), *named]:
            if v.kind is Kind.DEVICE:
                (info.boolean_fields if v.boolean else info.other_arrays).add(name)

    def _record_kind(self, name: str, kind: Kind) -> None:
        if kind in (Kind.UNKNOWN, Kind.NONE, Kind.FUNC, Kind.CLASS, Kind.EXT, Kind.TRANSFORMED):
            return
        if name in self.attr_kinds and self.attr_kinds[name] is not kind:
            self.attr_kinds[name] = None
        else:
            self.attr_kinds[name] = kind

    def hashed_by_identity(self, v: Value) -> bool:
        """An instance of a plain class of the project (no decorator, no ``__eq__``/``__hash__``,
        no pytree): a static argument JAX hashes by identity, whatever tracers it holds
        (hj_reachability's progress-bar wrapper)."""
        if v.kind is not Kind.OBJECT or v.ref is None:
            return False
        c: ClassInfo = v.ref
        return not (
            c.bases
            or c.is_pytree
            or c.node.decorators
            or "__eq__" in c.methods
            or "__hash__" in c.methods
        )

    def open_ancestry(self, info: ClassInfo) -> bool:
        """Some base class of ``info`` names a class of the project (or of a library read) that
        was not found, or is not known at all: what the class defines is not all in view."""
        for c in info.mro():
            for b in c.bases:
                if b.kind is Kind.UNKNOWN:
                    return True
                if b.kind is Kind.EXT and b.ref.rpartition(".")[0] in self.by_name:
                    return True
        return False

    def field_kind(self, name: str) -> Kind | None:
        k = self.attr_kinds.get(name)
        return k if k is Kind.HOST else None

    def declared_not_none(self, name: str) -> bool:
        """Every class of the project with a field of this name declares a type that excludes
        None (``max_occupancy: int``): read from an object of unknown class, it is no None."""
        anns = self.field_declarations.get(name)
        return bool(anns) and all(
            annotation_kind(a) is not None and not MAYBE_NONE.search(a) for a in anns
        )

    def is_leaf_field_name(self, name: str) -> bool:
        return (
            name in self.leaf_field_names
            and name not in self.static_field_names
            and not self.is_subtree_field_name(name)
        )

    def is_subtree_field_name(self, name: str) -> bool:
        """Every pytree class of the project that has such a field declares it as a sub-tree:
        another pytree class, an Optional, a container (its truth is Python's, not an array's)."""
        anns = self.field_annotation_texts.get(name)
        return bool(anns) and name not in self.static_field_names and all(map(self._subtree, anns))

    def _subtree(self, ann: str) -> bool:
        a = ann.replace(" ", "").strip("'\"")
        if not a or annotation_kind(a) in (Kind.DEVICE, Kind.HOST, Kind.SCALAR, Kind.STR):
            return False
        head = a.split("[", 1)[0]
        return (
            annotation_kind(a) in (Kind.LIST, Kind.TUPLE)
            or "None" in a
            or head.rsplit(".", 1)[-1] in SUBTREE_HEADS
            or head.rsplit(".", 1)[-1] in self.pytree_class_names
            or a in self.object_annotations
        )

    def is_static_field_name(self, name: str) -> bool:
        return name in self.static_field_names and name not in self.leaf_field_names

    def method_leaves(self, info: ClassInfo) -> set[str] | None:
        """The leaves of a pytree class that flattens itself with a ``tree_flatten`` method
        (``@register_pytree_node_class``) or that was registered with a flatten function: the
        attributes its children are read from, through
        properties (``self.U`` returning ``self._U``); None if it has no such method."""
        key = id(info)
        if key in self._method_leaves:
            return self._method_leaves[key]
        self._method_leaves[key] = None
        flatten = info.lookup_method("tree_flatten")
        unflatten = info.lookup_method("tree_unflatten")
        leaves = None
        if flatten is not None and isinstance(flatten.node, cst.FunctionDef):
            un = unflatten.node if unflatten is not None else None
            leaves = flatten_method_leaves(
                flatten.node, un if isinstance(un, cst.FunctionDef) else None
            )
        if leaves is None:
            leaves = registered_leaves(info)
        if leaves is not None:
            leaves = set(leaves)
            todo = list(leaves)
            while todo:
                m = info.lookup_method(todo.pop())
                if m is None or not isinstance(m.node, cst.FunctionDef) or not m.params:
                    continue
                more = fields_of(m.params[0].name, m.node.body) - leaves
                leaves |= more
                todo.extend(more)
        self._method_leaves[key] = leaves
        return leaves

    def static_attr_value(self, info: ClassInfo, name: str) -> Value:
        v = info.lookup_attr(name)
        if (
            v is not None
            and v.kind is Kind.HOST
            and annotation_kind(info.field_annotations.get(name, "")) is Kind.DEVICE
        ):
            # a NumPy array given to a field declared `jax.Array` (a test, a loader) is not
            # evidence that the object used here holds one
            return Value(kind=Kind.DEVICE)
        if v is not None and not v.traced:
            return v
        if name not in info.field_kinds and self.open_ancestry(info):
            # a base class the analysis could not read may define it (galax's lazily loaded
            # `gc.AbstractPhaseSpacePosition` and its `w()` method): not a guess by name
            return Value()
        kind = info.field_kinds.get(name) or self.field_kind(name)
        return Value(kind=kind) if kind is not None else Value()

    # ------------------------------------------------------------------ rules
    def dispatch(self, event: str, node: cst.CSTNode, *args: Any) -> None:
        for hook in self.hooks.get(event, ()):
            hook(self.ctx, node, *args)

    def hooks_of(self, t: type) -> tuple[Callable[..., None], ...]:
        """The hooks of the node type ``t`` (its event is the type's name)."""
        hooks = self.node_hooks.get(t)
        if hooks is None:
            hooks = self.node_hooks[t] = tuple(self.hooks.get(t.__name__, ()))
        return hooks

    def report(
        self,
        rule: Rule,
        module: ModuleInfo,
        node: cst.CSTNode,
        message: str,
        reason: Reason,
        jax_error: str | None = None,
        fix: NodeFix | None = None,
        staged: bool = False,
    ) -> None:
        """Keep one finding per node and rule: the first seen, unless a jit-like context (where
        the error class is the one JAX raises under jit) comes after a vmap-only one."""
        key = (id(node), rule.code)
        old = self.pending.get(key)
        if old is None or (staged and not old.staged):
            self.pending[key] = _Pending(
                rule, module, node, message, reason, jax_error or rule.jax_error, fix, staged
            )

    # ------------------------------------------------------------------ running
    def run(self, modules: Iterable[ModuleInfo]) -> None:
        interp = self.interp
        for mod in modules:
            interp.load_module(mod)
        interp.run_untraced()
        interp.run_main_blocks()
        interp.run_sites()
        # Sites found while tracing can add untraced work (nested defs); run both to a fixed point.
        while interp.pending_untraced or interp.sites or interp.later_sites:
            interp.run_untraced()
            interp.run_sites()

    def findings(self) -> list[Finding]:
        wanted: dict[int, tuple[ModuleInfo, list[cst.CSTNode]]] = {}

        def want(mod: ModuleInfo, node: cst.CSTNode) -> None:
            wanted.setdefault(id(mod), (mod, []))[1].append(node)

        headers: dict[int, list[cst.BaseSmallStatement]] = {}
        self.pending = {k: p for k, p in self.pending.items() if not p.module.library}
        for p in self.pending.values():
            want(p.module, p.node)
            for _, anchor in p.reason:
                if anchor is not None:
                    want(anchor[0], anchor[1])
            if p.fix is not None:
                for node, _ in p.fix.replacements:
                    want(p.module, node)
                if p.fix.imports and id(p.module) not in headers:
                    headers[id(p.module)] = head = header_end(p.module.tree)
                    for stmt in head:
                        want(p.module, stmt)
        expecting: dict[int, list[cst.FunctionDef]] = {}
        for p in self.pending.values():
            if id(p.module) not in expecting:
                expecting[id(p.module)] = tests = error_expecting_tests(p.module.tree)
                for t in tests:
                    want(p.module, t)
        spans: dict[int, tuple[int, int, int, int]] = {}
        for mod, nodes in wanted.values():
            spans.update(resolve_spans(mod.tree, nodes))
        out: list[Finding] = []
        for p in self.pending.values():
            span = spans.get(id(p.node))
            if span is None:
                continue
            if any(spans[id(t)][0] <= span[0] <= spans[id(t)][2] for t in expecting[id(p.module)]):
                continue  # in a test that expects an exception: the failure it tests
            trace = tuple(_render(text, anchor, spans) for text, anchor in p.reason)
            # Where each step of the chain is (None: nowhere in particular), for editors.
            where = [_location(anchor, spans) for _, anchor in p.reason]
            extra = {"trace_locations": where} if any(where) else {}
            fix = _resolve_fix(p.fix, spans, headers.get(id(p.module), [])) if p.fix else None
            out.append(
                Finding(
                    p.rule.code,
                    p.rule.name,
                    p.jax_error,
                    p.message,
                    p.module.path,
                    *span,
                    trace=trace,
                    fix=fix,
                    extra=extra,
                )
            )
        return out


def _location(anchor: Any, spans: dict[int, tuple[int, int, int, int]]) -> list[Any] | None:
    """``[path, line, column, end_line, end_column]`` of a trace step's anchor, where it has one."""
    if anchor is None or id(anchor[1]) not in spans:
        return None
    return [anchor[0].path, *spans[id(anchor[1])]]


def _resolve_fix(
    fix: NodeFix,
    spans: dict[int, tuple[int, int, int, int]],
    header: list[cst.BaseSmallStatement],
) -> Fix | None:
    edits: list[Edit] = []
    lines: dict[int, str] = {}
    for imp in fix.imports:
        anchor = import_anchor(header, imp)
        line = spans[id(anchor)][2] + 1 if anchor is not None and id(anchor) in spans else 1
        lines[line] = lines.get(line, "") + f"{imp}\n"
    edits.extend(Edit(line, 1, line, 1, text) for line, text in sorted(lines.items()))
    for node, text in fix.replacements:
        span = spans.get(id(node))
        if span is None:
            return None
        edits.append(Edit(*span, text))
    return Fix(fix.applicability, fix.message, tuple(edits))


def _render(text: Any, anchor: Any, spans: dict[int, tuple[int, int, int, int]]) -> str:
    text = str(text)
    if anchor is None:
        return text
    mod, node = anchor
    span = spans.get(id(node))
    where = f"{mod.path}:{span[0]}" if span else mod.path
    return text.replace("{at}", where)


def module_name(path: str) -> tuple[str, str]:
    """Dotted module name of a file and its package, from the ``__init__.py`` files above it
    (walked on the absolute path, so the result does not depend on the current directory).

    A notebook is never imported: its name (``optax-ipynb``) is no identifier, so it cannot
    shadow the library or module that ``import optax`` means."""
    if path.endswith(".ipynb"):
        return f"{Path(path).stem}-ipynb", ""
    p = Path(path)
    with contextlib.suppress(OSError):
        p = p.resolve()
    parts = [*package_parts(p.parent), p.stem] if p.stem != "__init__" else package_parts(p.parent)
    name = ".".join(parts) or p.stem
    package = ".".join(parts[:-1]) if p.stem != "__init__" else name
    return name, package


def _syntax_error(path: str, text: str) -> Finding | None:
    from jaxlint.rules.jx000_syntax_error import RULE as JX000

    try:
        ast.parse(text, filename=path)
    except SyntaxError as exc:
        if _newer_grammar(text):
            return None
        line = exc.lineno or 1
        col = exc.offset or 1
        return Finding(
            JX000.code, JX000.name, None, f"SyntaxError: {exc.msg}", path, line, col, line, col + 1
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return Finding(JX000.code, JX000.name, None, f"cannot parse: {exc}", path, 1, 1, 1, 1)
    return None


def _newer_grammar(text: str) -> bool:
    """Whether the text is Python of a newer grammar than the running interpreter's
    (``type X = ...``, ``class C[T]:`` on Python 3.11): LibCST parses it, and a module that uses
    JAX is analysed from that tree anyway, so one that does not must not be called broken."""
    if sys.version_info >= (3, 12):
        return False
    try:
        tree = cst.parse_module(text)
    except Exception:  # ParserSyntaxError, or a LibCST limitation
        return False
    newer = (cst.TypeAlias, cst.TypeParameters)
    stack: list[cst.CSTNode] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, newer):
            return True
        stack.extend(node.children)
    return False


class TreeCache:
    """Parsed modules by path, reused while a module's text is unchanged (``jaxlint server``).

    LibCST trees are immutable and an analysis keeps its facts in its own ``Project`` (keyed by
    node identity), so one tree can serve any number of analyses: after an edit only the edited
    module is parsed again.
    """

    def __init__(self) -> None:
        self._trees: dict[str, tuple[str, cst.Module]] = {}
        # What rules derive from a whole tree (the fixes' parent maps), by id of the tree.
        self.derived: dict[int, Any] = {}
        # Where each top-level statement of a tree starts (``reparse``), by id of the tree.
        self._offsets: dict[int, list[int] | None] = {}

    def parse(self, path: str, text: str) -> cst.Module:
        """The tree of ``text``: the cached one, or the cached tree of the module's previous
        text with only the statements that the edit touched parsed again (``reparse``), or a
        full parse."""
        from jaxlint.analysis.reparse import reparse, statement_offsets

        hit = self._trees.get(path)
        if hit is not None and hit[0] == text:
            return hit[1]
        done = None
        if hit is not None:
            old, tree = hit
            if id(tree) not in self._offsets:
                self._offsets[id(tree)] = statement_offsets(tree, old)
            offsets = self._offsets[id(tree)]
            if offsets is not None:
                done = reparse(old, tree, offsets, text)
        if done is None:
            new = cst.parse_module(text)
        else:
            new, offsets = done
            self._offsets[id(new)] = offsets
        if hit is not None:
            self._offsets.pop(id(hit[1]), None)
        self._trees[path] = (text, new)
        return new

    def same_program(self, path: str, old: str, new: str) -> bool:
        """Whether ``new`` is ``old``, whose tree is cached, but for the comment and blank lines
        at its end: they parse into ``Module.footer``, which the analysis never reads and which
        comes after every position it reports, so the analysis of ``new`` is that of ``old``.

        Narrow on purpose, so that nothing else can differ: column-0 comments only, after a line
        break and past the second line (no statement's line break or coding cookie changes), and
        only where ``old`` has a JAX marker outside its footer (it is parsed either way).
        """
        hit = self._trees.get(path)
        if hit is None or hit[0] != old or not hit[1].body:
            return False
        tree = hit[1]
        footer = (
            cst.Module(
                body=[],
                header=list(tree.footer),
                default_newline=tree.default_newline,
                has_trailing_newline=tree.has_trailing_newline,
            ).code
            if tree.footer
            else ""  # (an empty module's code is one line break)
        )
        if not old.endswith(footer):
            return False
        program = old[: len(old) - len(footer)]
        return (
            program.endswith("\n")
            and program.count("\n") >= 2
            and new.startswith(program)
            and _JAX_MARKERS.search(program) is not None
            and _TRAILING_LINES.fullmatch(new, len(program)) is not None
        )

    def keep_only(self, paths: Iterable[str]) -> None:
        """Forget the trees of modules no longer in the project."""
        keep = set(paths)
        self._trees = {p: t for p, t in self._trees.items() if p in keep}
        live = {id(tree) for _, tree in self._trees.values()}
        self.derived = {k: v for k, v in self.derived.items() if k in live}
        self._offsets = {k: v for k, v in self._offsets.items() if k in live}


def analyse_sources(
    texts: dict[str, str], settings: Settings, trees: TreeCache | None = None
) -> list[Finding]:
    """Analyse modules together; returns raw findings (no selection, no suppression)."""
    return analyse_group(texts, settings, texts.keys(), trees)


def analyse_group(
    texts: dict[str, str],
    settings: Settings,
    roots: Iterable[str],
    trees: TreeCache | None = None,
) -> list[Finding]:
    """Analyse the modules ``roots``; the other texts are there to be imported (parsed lazily).

    The cyclic garbage collector is paused meanwhile: syntax trees are millions of acyclic
    objects that it would rescan again and again (measured: a third of a check's time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyse_group(texts, settings, roots, trees)
    finally:
        if enabled:
            gc.enable()


def _analyse_group(
    texts: dict[str, str], settings: Settings, roots: Iterable[str], trees: TreeCache | None
) -> list[Finding]:
    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    project = Project(settings)
    if trees is not None:
        project.__dict__["_fix_trees"] = trees.derived  # see rules.fixing.tree_of
    out: list[Finding] = []
    parsed: list[ModuleInfo] = []
    markers = _JAX_MARKERS
    extra = "|".join(re.escape(n.rsplit(".", 1)[-1]) for n in settings.extend_transforms)
    if extra:
        markers = re.compile(rf"{markers.pattern}|\b({extra})\b")
    root_set = set(roots)
    project.lazy = len(root_set) < len(texts)
    for path, text in texts.items():
        if path not in root_set:
            project.add_module(path, None, text)
        elif not markers.search(text):
            err = _syntax_error(path, text)
            if err is not None:
                out.append(err)
            else:
                project.add_module(path, None, text)
        else:
            try:
                tree = trees.parse(path, text) if trees is not None else cst.parse_module(text)
            except Exception:  # ParserSyntaxError, or a LibCST limitation on valid code
                err = _syntax_error(path, text)
                if err is not None:
                    out.append(err)
                continue
            parsed.append(project.add_module(path, tree, text))
    project.run(parsed)
    out.extend(project.findings())
    return out


MAYBE_NONE = re.compile(r"\bNone\b|Optional|\bAny\b|\bobject\b")


def registered_leaves(info: ClassInfo) -> set[str] | None:
    """The children of the nearest class in the MRO registered with a flatten function."""
    return next((c.flatten_leaves for c in info.mro() if c.flatten_leaves is not None), None)


def same_callable(a: Value, b: Value) -> bool:
    """Two values of one function, or one transform application of one function (its site)."""
    if a.kind is not b.kind:
        return False
    if a.kind is Kind.FUNC:
        return a.ref.fn is b.ref.fn and not a.ref.bound_kw and not b.ref.bound_kw
    if a.kind is Kind.TRANSFORMED:
        ta, tb = a.ref, b.ref
        return (
            ta.target.fn is tb.target.fn
            and ta.site is not None
            and tb.site is not None
            and ta.site[1] is tb.site[1]
            and not ta.partial_args
            and not tb.partial_args
        )
    return False

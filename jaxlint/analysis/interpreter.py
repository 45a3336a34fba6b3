"""Abstract interpretation of function bodies: which values are traced, and how they got so.

Every function is evaluated once untraced (to find transform sites, closures and where host arrays
come from); functions that a transform traces, and everything they call with traced arguments, are
then evaluated again under the trace, memoised on the traced-ness of their arguments (a call-string
free, context-sensitive summary). Rule hooks run on every node evaluated under a trace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.model import (
    ClassInfo,
    FuncRef,
    FunctionInfo,
    ModuleInfo,
    Param,
    TransformedRef,
    own_returns,
)
from jaxlint.analysis.values import (
    SCALAR,
    STATIC,
    Kind,
    Reason,
    Text,
    Value,
    extend,
    first_reason,
    join,
)

if TYPE_CHECKING:
    from jaxlint.analysis.project import Project

MAX_DEPTH = 40
DEBUG = bool(os.environ.get("JAXLINT_DEBUG"))
MAX_SIGNATURES = 12


class Frame:
    """One evaluation of a function body (or a module or class body)."""

    def __init__(
        self,
        module: ModuleInfo,
        fn: FunctionInfo | None,
        parent: Frame | None,
        in_trace: Reason | None = None,
        staged: bool = False,
        filtered: bool = False,
        cls: ClassInfo | None = None,
        weak: bool = False,
    ) -> None:
        self.module = module
        self.fn = fn
        self.parent = parent
        self.env: dict[str, Value] = {}
        self.in_trace = in_trace
        self.staged = staged
        self.filtered = filtered
        self.cls = cls
        # Traced only by grad-like transforms (JVP tracers): bool conversions work here.
        self.weak = weak
        self.returns: Value | None = None
        self.values: dict[int, Value] = {}

    @property
    def traced(self) -> bool:
        return self.in_trace is not None

    def lookup(self, name: str) -> Value | None:
        f: Frame | None = self
        while f is not None:
            if name in f.env:
                return f.env[name]
            f = f.parent
        if self.module.frame is not None and name in self.module.frame.env:
            return self.module.frame.env[name]
        return None


def _anchor(frame: Frame, node: cst.CSTNode) -> tuple[ModuleInfo, cst.CSTNode]:
    return (frame.module, node)


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _canonical(qual: str) -> str:
    for old, new in K.ALIASES.items():
        if qual == old or qual.startswith(old + "."):
            return new + qual[len(old) :]
    if qual.startswith("jax.numpy.random."):
        return qual
    return qual


class Interpreter:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.memo: dict[tuple[Any, ...], Value] = {}
        self.signatures: dict[int, int] = {}
        self.active: set[tuple[Any, ...]] = set()
        self.depth = 0
        self.untraced_done: set[tuple[int, int]] = set()
        self.pending_untraced: list[FuncRef] = []
        self.sites: list[tuple[TransformedRef, Reason | None, bool, bool]] = []
        self.later_sites: list[tuple[TransformedRef, Reason | None, bool, bool]] = []
        self.main_blocks: list[tuple[Frame, cst.If]] = []
        self.functions: dict[int, FunctionInfo] = {}
        self.classes: dict[int, ClassInfo] = {}
        self.frame: Frame = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ frames and hooks
    @contextlib.contextmanager
    def in_frame(self, frame: Frame) -> Iterator[Frame]:
        saved = self.frame
        self.frame = frame
        try:
            yield frame
        finally:
            self.frame = saved

    def hook(self, event: str, node: cst.CSTNode, *args: Any) -> None:
        if self.frame.traced:
            self.project.dispatch(event, node, *args)

    # ------------------------------------------------------------------ modules and classes
    def load_module(self, module: ModuleInfo) -> Frame:
        if module.frame is not None:
            return module.frame
        frame = Frame(module, None, None)
        module.frame = frame
        module.loading = True
        with self.in_frame(frame):
            try:
                self.exec_block(module.tree.body)
            except Exception:
                if DEBUG:
                    raise
        module.loading = False
        return frame

    def function_info(
        self, node: cst.FunctionDef | cst.Lambda, cls: ClassInfo | None, qualprefix: str
    ) -> FunctionInfo:
        info = self.functions.get(id(node))
        if info is not None:
            return info
        params: list[Param] = []
        p = node.params
        for prm in (*p.posonly_params, *p.params):
            params.append(Param(prm.name.value, "pos", _ann(prm), prm.default))
        if isinstance(p.star_arg, cst.Param):
            params.append(Param(p.star_arg.name.value, "vararg", _ann(p.star_arg), None))
        for prm in p.kwonly_params:
            params.append(Param(prm.name.value, "kwonly", _ann(prm), prm.default))
        if p.star_kwarg is not None:
            params.append(Param(p.star_kwarg.name.value, "varkw", _ann(p.star_kwarg), None))
        name = node.name.value if isinstance(node, cst.FunctionDef) else "<lambda>"
        is_static = is_cm = False
        if isinstance(node, cst.FunctionDef):
            for d in node.decorators:
                dn = _dotted(d.decorator)
                is_static |= dn == "staticmethod"
                is_cm |= dn == "classmethod"
        info = FunctionInfo(
            node,
            self.frame.module,
            name,
            f"{qualprefix}{name}",
            tuple(params),
            cls,
            is_static,
            is_cm,
        )
        self.functions[id(node)] = info
        return info

    def class_def(self, node: cst.ClassDef) -> Value:
        frame = self.frame
        bases = tuple(self.resolve(self.ev(a.value)) for a in node.bases if a.keyword is None)
        quals = frozenset(b.ref for b in bases if b.kind is Kind.EXT)
        info = ClassInfo(node, frame.module, node.name.value, bases, quals)
        for b in bases:
            if b.kind is Kind.CLASS:
                info.base_quals |= b.ref.base_quals
                info.is_linen |= b.ref.is_linen
                info.is_nnx |= b.ref.is_nnx
                info.is_eqx |= b.ref.is_eqx
        info.is_linen |= "flax.linen.Module" in info.base_quals
        info.is_nnx |= bool(info.base_quals & {"flax.nnx.Module", "flax.nnx.Object"})
        info.is_eqx |= "equinox.Module" in info.base_quals
        self.classes[id(node)] = info
        cframe = Frame(frame.module, None, frame, cls=info)
        with self.in_frame(cframe):
            for stmt in _body(node.body):
                self.class_stmt(info, stmt)
        for b in bases:
            if b.kind is Kind.CLASS:
                info.is_pytree |= b.ref.is_pytree
        info.is_pytree |= bool(info.base_quals & K.PYTREE_BASES)
        for d in node.decorators:
            self.ev(d.decorator)
            expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            qual = self._lookup_qual(expr)
            info.is_pytree |= qual in K.PYTREE_DECORATORS
            if qual == "jax.tree_util.register_static":
                info.static_fields.update(info.fields)
        self.project.record_class(info)
        return Value(kind=Kind.CLASS, ref=info)

    def class_stmt(self, info: ClassInfo, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in stmt.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    fname = small.target.value
                    info.fields.append(fname)
                    ann = cst.Module([]).code_for_node(small.annotation.annotation)
                    info.field_annotations[fname] = ann
                    kind = _annotation_kind(ann)
                    if kind is not None:
                        info.field_kinds[fname] = kind
                    if small.value is not None:
                        if _is_static_field(self, small.value):
                            info.static_fields.add(fname)
                        else:
                            v = self.ev(small.value)
                            info.attrs[fname] = v
                    if "ClassVar" in ann or "StaticField" in ann:
                        info.static_fields.add(fname)
                elif isinstance(small, cst.Assign):
                    v = self.ev(small.value)
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            info.attrs[t.target.value] = v
                else:
                    self.exec_small(small)
        elif isinstance(stmt, cst.FunctionDef):
            fn = self.function_info(stmt, info, f"{info.name}.")
            info.methods[fn.name] = fn
            value = Value(kind=Kind.FUNC, ref=FuncRef(fn, self.frame.parent))
            value = self.decorate(stmt, value)
            info.attrs[fn.name] = value
            self.pending_untraced.append(FuncRef(fn, self.frame.parent))
            if info.is_linen and (
                fn.name == "__call__" or _has_decorator(self, stmt, "flax.linen.compact")
            ):
                self.add_site(
                    FuncRef(fn, self.frame.parent),
                    "flax.linen.Module",
                    staged=True,
                    static=frozenset(),
                    unbatched=frozenset(),
                    site=stmt.name,
                    how=f"a method of flax Module {info.name}, traced by init/apply",
                )
        elif isinstance(stmt, cst.ClassDef):
            info.attrs[stmt.name.value] = self.class_def(stmt)
        else:
            self.exec_stmt(stmt)

    # ------------------------------------------------------------------ statements
    def exec_block(self, body: Sequence[cst.CSTNode]) -> None:
        for stmt in body:
            self.exec_stmt(stmt)

    def exec_stmt(self, stmt: cst.CSTNode) -> None:
        f = self.frame
        if isinstance(stmt, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in stmt.body:
                self.exec_small(small)
        elif (
            isinstance(stmt, cst.If)
            and f.fn is None
            and f.cls is None
            and _is_main_guard(stmt.test)
        ):
            # `if __name__ == "__main__":` runs after every import and class is known
            self.main_blocks.append((f, stmt))
        elif isinstance(stmt, cst.If):
            self.ev(stmt.test)
            self.hook("If", stmt)
            self.branches(stmt.body, stmt.orelse, stmt.test)
        elif isinstance(stmt, cst.For):
            it = self.ev(stmt.iter)
            elem = self.element(it, stmt.iter)
            before = dict(f.env)
            for _ in range(2):
                self.bind(stmt.target, elem)
                self.exec_block(_body(stmt.body))
            self.merge_into(before)
            if stmt.orelse is not None:
                self.exec_block(_body(stmt.orelse.body))
        elif isinstance(stmt, cst.While):
            before = dict(f.env)
            for _ in range(2):
                self.ev(stmt.test)
                self.hook("While", stmt)
                self.exec_block(_body(stmt.body))
            self.merge_into(before)
            if stmt.orelse is not None:
                self.exec_block(_body(stmt.orelse.body))
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                v = self.ev(item.item)
                if item.asname is not None:
                    self.bind(item.asname.name, v)
            self.exec_block(_body(stmt.body))
        elif isinstance(stmt, cst.Try | cst.TryStar):
            self.exec_block(_body(stmt.body))
            for h in stmt.handlers:
                if h.name is not None:
                    self.bind(h.name.name, STATIC)
                self.exec_block(_body(h.body))
            if stmt.orelse is not None:
                self.exec_block(_body(stmt.orelse.body))
            if stmt.finalbody is not None:
                self.exec_block(_body(stmt.finalbody.body))
        elif isinstance(stmt, cst.FunctionDef):
            prefix = f.fn.qualname + ".<locals>." if f.fn else ""
            fn = self.function_info(stmt, None, prefix)
            ref = FuncRef(fn, f if f.fn is not None else None)
            f.env[fn.name] = self.decorate(stmt, Value(kind=Kind.FUNC, ref=ref))
            if not f.traced:
                self.pending_untraced.append(ref)
        elif isinstance(stmt, cst.ClassDef):
            f.env[stmt.name.value] = self.class_def(stmt)
        elif isinstance(stmt, cst.Match):
            subject = self.ev(stmt.subject)
            before = dict(f.env)
            for case in stmt.cases:
                self.bind_pattern(case.pattern, subject)
                if case.guard is not None:
                    self.ev(case.guard)
                self.exec_block(_body(case.body))
            self.merge_into(before)

    def narrow(self, test: cst.BaseExpression) -> None:
        """Inside ``if isinstance(x, int)`` (or float/bool/str), x is a Python value: static."""
        if (
            isinstance(test, cst.Call)
            and _dotted(test.func) == "isinstance"
            and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name)
        ):
            types = test.args[1].value
            names = [e.value for e in types.elements] if isinstance(types, cst.Tuple) else [types]
            if all(_dotted(n) in ("int", "float", "bool", "str", "complex") for n in names):
                self.frame.env[test.args[0].value.value] = SCALAR

    def branches(
        self,
        body: cst.BaseSuite,
        orelse: cst.If | cst.Else | None,
        test: cst.BaseExpression | None = None,
    ) -> None:
        f = self.frame
        before = dict(f.env)
        if test is not None:
            self.narrow(test)
        self.exec_block(_body(body))
        after_body = f.env
        f.env = dict(before)
        if isinstance(orelse, cst.If):
            self.exec_stmt(orelse)
        elif isinstance(orelse, cst.Else):
            self.exec_block(_body(orelse.body))
        after_else = f.env
        merged = dict(after_else)
        for k, v in after_body.items():
            merged[k] = join(v, after_else[k]) if k in after_else else v
        f.env = merged

    def merge_into(self, before: dict[str, Value]) -> None:
        env = self.frame.env
        for k, v in before.items():
            if k in env:
                env[k] = join(env[k], v)
            else:
                env[k] = v

    def exec_small(self, s: cst.BaseSmallStatement) -> None:
        f = self.frame
        if isinstance(s, cst.Expr):
            self.ev(s.value)
        elif isinstance(s, cst.Assign):
            v = self.ev(s.value)
            if v.traced and f.traced and not isinstance(s.value, cst.Name):
                step = (
                    Text("`{0}` is computed from it at {at}", s.targets[0].target),
                    _anchor(f, s.value),
                )
                v = v.with_reason(extend(v.reason, step))  # type: ignore[arg-type]
            for t in s.targets:
                self.bind(t.target, v, s.value)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.bind(s.target, self.ev(s.value), s.value)
        elif isinstance(s, cst.AugAssign):
            v = self.ev(s.value)
            cur = self.ev(s.target)
            self.bind(s.target, self.staged(self.arith(cur, v), s), s.value)
        elif isinstance(s, cst.Return):
            v = self.ev(s.value) if s.value is not None else Value(kind=Kind.NONE)
            f.returns = v if f.returns is None else join(f.returns, v)
        elif isinstance(s, cst.Assert):
            self.ev(s.test)
            if s.msg is not None:
                self.ev(s.msg)
            self.hook("Assert", s)
        elif isinstance(s, cst.Import):
            for alias in s.names:
                full = _dotted(alias.name) or ""
                if alias.asname is not None:
                    self.bind(alias.asname.name, self.import_value(full))
                else:
                    top = full.split(".")[0]
                    f.env[top] = self.import_value(top)
        elif isinstance(s, cst.ImportFrom):
            self.import_from(s)
        elif isinstance(s, cst.Raise):
            if s.exc is not None:
                self.ev(s.exc)
        elif isinstance(s, cst.Del):
            pass

    # ------------------------------------------------------------------ imports
    def import_value(self, name: str) -> Value:
        if self.project.deferred(name):
            return Value(kind=Kind.LAZY, ref=(name, ""))
        mod = self.project.find_module(name)
        if mod is not None:
            return Value(kind=Kind.PMODULE, ref=mod)
        return Value(kind=Kind.EXT, ref=_canonical(name))

    def import_from(self, s: cst.ImportFrom) -> None:
        f = self.frame
        level = len(s.relative)
        base = _dotted(s.module) if s.module is not None else ""
        if level:
            pkg = f.module.package.split(".") if f.module.package else []
            if level > 1:
                pkg = pkg[: len(pkg) - (level - 1)]
            base = ".".join([*pkg, base] if base else pkg)
        if isinstance(s.names, cst.ImportStar):
            mod = self.project.find_module(base or "")
            if mod is not None:
                mframe = self.load_module(mod)
                f.env.update({k: v for k, v in mframe.env.items() if not k.startswith("_")})
            return
        lazy = bool(base) and self.project.deferred(base)
        mod = self.project.find_module(base) if base and not lazy else None
        for alias in s.names:
            name = _dotted(alias.name) or ""
            local = alias.asname.name.value if alias.asname is not None else name  # type: ignore[union-attr]
            v: Value | None = None
            if lazy or (base and self.project.deferred(f"{base}.{name}")):
                v = Value(kind=Kind.LAZY, ref=(base, name))
            elif mod is not None:
                sub = self.project.find_module(f"{base}.{name}")
                if sub is not None:
                    v = Value(kind=Kind.PMODULE, ref=sub)
                else:
                    mframe = self.load_module(mod)
                    v = mframe.env.get(name)
                    if v is None and mod.loading:
                        v = Value(kind=Kind.EXT, ref=f"{base}.{name}")
            else:
                sub = self.project.find_module(f"{base}.{name}") if base else None
                if sub is not None:
                    v = Value(kind=Kind.PMODULE, ref=sub)
            if v is None:
                v = Value(kind=Kind.EXT, ref=_canonical(f"{base}.{name}" if base else name))
            f.env[local] = v

    def resolve(self, v: Value, depth: int = 0) -> Value:
        """The value behind a lazy import: parse and load its module now.

        A name may be re-exported through lazy imports (``flax.linen`` binds ``Module`` lazily
        from ``flax.linen.module``), so the chain is followed to the value itself, as an eager
        load would bind it.
        """
        if v.kind is not Kind.LAZY:
            return v
        if depth > 50:  # a cycle of re-exports
            return STATIC
        modname, path = v.ref
        parts = path.split(".") if path else []
        for k in range(len(parts), -1, -1):
            candidate = ".".join([modname, *parts[:k]])
            mod = self.project.find_module(candidate)
            if mod is None:
                continue
            out = Value(kind=Kind.PMODULE, ref=mod)
            for part in parts[k:]:
                if out.kind is not Kind.PMODULE:
                    return STATIC
                out = self.resolve(self.load_module(out.ref).env.get(part, STATIC), depth + 1)
            return self.resolve(out, depth + 1)
        return STATIC

    # ------------------------------------------------------------------ binding
    def bind(self, target: cst.CSTNode, v: Value, value_node: cst.CSTNode | None = None) -> None:
        f = self.frame
        if isinstance(target, cst.Name):
            f.env[target.value] = v
        elif isinstance(target, cst.Tuple | cst.List):
            elems = [e.value for e in target.elements]
            starred = [isinstance(e, cst.StarredElement) for e in target.elements]
            if (
                v.elts is not None
                and v.kind in (Kind.TUPLE, Kind.LIST)
                and not any(starred)
                and len(v.elts) == len(elems)
            ):
                for t, ev_ in zip(elems, v.elts, strict=True):
                    self.bind(t, ev_)
                return
            part = self.element(v, value_node)
            for t, st in zip(elems, starred, strict=True):
                self.bind(t, Value(part.reason, Kind.LIST) if st else part)
        elif isinstance(target, cst.Attribute):
            self.ev(target.value)
            owner = target.value
            if isinstance(owner, cst.Name) and owner.value == "self":
                me = f.lookup("self")
                cls = me.ref if me is not None and me.kind is Kind.OBJECT else None
                self.project.record_attr(cls, target.attr.value, v)
                if cls is not None and isinstance(value_node, cst.Call):
                    cls.call_assigned.add(target.attr.value)
                f.env[f"self.{target.attr.value}"] = v
        elif isinstance(target, cst.Subscript):
            self.ev(target)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, Value(v.reason, Kind.LIST))

    def bind_pattern(self, pattern: cst.CSTNode, subject: Value) -> None:
        if isinstance(pattern, cst.MatchAs) and pattern.name is not None:
            self.frame.env[pattern.name.value] = subject
        elif isinstance(
            pattern, cst.MatchSequence | cst.MatchMapping | cst.MatchClass | cst.MatchOr
        ):
            for child in _walk_names(pattern):
                self.frame.env[child] = Value(subject.reason)

    # ------------------------------------------------------------------ expressions
    def ev(self, node: cst.BaseExpression | None) -> Value:
        if node is None:
            return STATIC
        v = self._ev(node)
        f = self.frame
        if f.traced:
            f.values[id(node)] = v
            self.project.dispatch(type(node).__name__, node)
        return v

    def _ev(self, node: cst.CSTNode) -> Value:
        f = self.frame
        t = type(node)
        if t is cst.Name:
            name = node.value  # type: ignore[attr-defined]
            v = f.lookup(name)
            if v is None:
                if name in ("True", "False"):
                    return Value(kind=Kind.SCALAR)
                if name == "None":
                    return Value(kind=Kind.NONE)
                return Value(kind=Kind.EXT, ref=f"builtins.{name}")
            if v.kind is Kind.LAZY and f.traced:
                v = self.resolve(v)
            if name in self.project.static_names and v.traced:
                return Value(kind=v.kind, ref=v.ref, elts=v.elts)
            return v
        if t is cst.Attribute:
            base = self.ev(node.value)  # type: ignore[attr-defined]
            if (
                isinstance(node.value, cst.Name)  # type: ignore[attr-defined]
                and node.value.value == "self"  # type: ignore[attr-defined]
                and (local := f.lookup(f"self.{node.attr.value}")) is not None  # type: ignore[attr-defined]
                and not base.traced
            ):
                return local
            return self.attr(base, node.attr.value, node)  # type: ignore[attr-defined]
        if t is cst.Call:
            return self.call(node)  # type: ignore[arg-type]
        if t is cst.Subscript:
            return self.staged(self.subscript(node), node)  # type: ignore[arg-type]
        if t is cst.BinaryOperation:
            return self.staged(self.arith(self.ev(node.left), self.ev(node.right)), node)  # type: ignore[attr-defined]
        if t is cst.UnaryOperation:
            v = self.ev(node.expression)  # type: ignore[attr-defined]
            if isinstance(node.operator, cst.Not):  # type: ignore[attr-defined]
                if v.traced and v.kind is not Kind.DEVICE and not v.boolean:
                    return Value(v.reason, Kind.UNKNOWN)
                return Value(v.reason, Kind.DEVICE if v.traced else Kind.SCALAR, boolean=True)
            return self.staged(
                Value(v.reason, v.kind, v.boolean and isinstance(node.operator, cst.BitInvert)),  # type: ignore[attr-defined]
                node,
            )
        if t is cst.BooleanOperation:
            a = self.ev(node.left)  # type: ignore[attr-defined]
            b = self.ev(node.right)  # type: ignore[attr-defined]
            return join(a, b)
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
            if python_only:
                return SCALAR
            r = first_reason(*vals)
            if r is None:
                if any(v.kind is Kind.DEVICE for v in vals):
                    return self.staged(Value(kind=Kind.DEVICE, boolean=True), node)
                return Value(kind=Kind.SCALAR, boolean=True)
            ordering = any(
                not isinstance(c.operator, cst.Equal | cst.NotEqual)
                for c in node.comparisons  # type: ignore[attr-defined]
            )
            if ordering or any(v.traced and v.kind is Kind.DEVICE for v in vals):
                return Value(r, Kind.DEVICE, boolean=True)
            # == between pytrees of unknown structure is Python equality, not an array.
            return Value(r, Kind.UNKNOWN)
        if t is cst.IfExp:
            self.ev(node.test)  # type: ignore[attr-defined]
            saved = f.env
            f.env = dict(saved)
            self.narrow(node.test)  # type: ignore[attr-defined]
            body = self.ev(node.body)  # type: ignore[attr-defined]
            f.env = saved
            return join(body, self.ev(node.orelse))  # type: ignore[attr-defined]
        if t in (cst.Integer, cst.Float, cst.Imaginary):
            return SCALAR
        if t in (cst.SimpleString, cst.ConcatenatedString):
            if t is cst.ConcatenatedString:
                self.ev(node.left)  # type: ignore[attr-defined]
                self.ev(node.right)  # type: ignore[attr-defined]
            return Value(kind=Kind.STR)
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
            elts = []
            for e in node.elements:  # type: ignore[attr-defined]
                ev_ = self.ev(e.value)
                if isinstance(e, cst.StarredElement):
                    if ev_.elts is not None and ev_.kind in (Kind.TUPLE, Kind.LIST):
                        elts.extend(ev_.elts)
                        continue
                    elts = None  # type: ignore[assignment]
                    break
                elts.append(ev_)
            if elts is None:
                vals = [self.frame.values.get(id(e.value), STATIC) for e in node.elements]  # type: ignore[attr-defined]
                return Value(first_reason(*vals), Kind.TUPLE if t is cst.Tuple else Kind.LIST)
            kind = Kind.TUPLE if t is cst.Tuple else Kind.LIST
            return Value(first_reason(*elts), kind, elts=tuple(elts))
        if t is cst.Dict:
            pairs = []
            for e in node.elements:  # type: ignore[attr-defined]
                if isinstance(e, cst.DictElement):
                    k = e.key
                    kv = self.ev(k)
                    vv = self.ev(e.value)
                    key = _literal_str(k)
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
                fors = fors.inner_for_in
            if isinstance(node, cst.DictComp):
                self.ev(node.key)
                elt = self.ev(node.value)
                return Value(elt.reason, Kind.DICT)
            elt = self.ev(node.elt)
            kind = Kind.LIST if isinstance(node, cst.ListComp) else Kind.UNKNOWN
            return Value(elt.reason, kind, elem=elt)
        finally:
            f.env = saved

    def leaf_of(self, tree: Value) -> Value:
        """A leaf of a pytree: arrays where the tree is traced, else a static Python value."""
        if not tree.traced:
            return STATIC
        return Value(tree.reason, Kind.DEVICE)

    def element(self, v: Value, node: cst.CSTNode | None) -> Value:
        """The value of one element when iterating or unpacking ``v``."""
        if v.elem is not None:
            return v.elem
        if v.kind is Kind.DICT:
            return Value(kind=Kind.STR)
        if v.elts is not None:
            out: Value | None = None
            for e in v.elts:
                if isinstance(e, Value):
                    out = e if out is None else join(out, e)
            return out if out is not None else STATIC
        if v.kind is Kind.HOST:
            return Value(kind=Kind.HOST)
        if v.traced:
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
        step = (Text("`{0}` is computed by JAX under the trace at {at}", node), _anchor(f, node))
        return Value(extend(f.in_trace, step), Kind.DEVICE, v.boolean)  # type: ignore[arg-type]

    def arith(self, a: Value, b: Value) -> Value:
        r = a.reason or b.reason
        if r is not None:
            if a.kind in (Kind.TUPLE, Kind.LIST) and a.kind == b.kind:
                return Value(r, a.kind)
            return Value(r, Kind.DEVICE, a.boolean and b.boolean)
        if Kind.HOST in (a.kind, b.kind):
            return Value(kind=Kind.HOST, boolean=a.boolean and b.boolean)
        if Kind.DEVICE in (a.kind, b.kind):
            return Value(kind=Kind.DEVICE, boolean=a.boolean and b.boolean)
        if (
            a.kind == b.kind
            and a.kind in (Kind.TUPLE, Kind.LIST)
            and a.elts is not None
            and b.elts is not None
        ):
            return Value(kind=a.kind, elts=a.elts + b.elts)
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
        if base.kind is Kind.EXT or base.kind is Kind.CLASS:
            return Value(kind=Kind.EXT, ref=base.ref) if base.kind is Kind.EXT else base
        if (
            len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and not idx[0].traced
        ):
            key = node.slice[0].slice.value
            if base.elts is not None and base.kind in (Kind.TUPLE, Kind.LIST):
                i = _literal_int(key)
                if i is not None and -len(base.elts) <= i < len(base.elts):
                    e = base.elts[i]
                    if isinstance(e, Value):
                        return e
            if base.kind is Kind.DICT and base.pairs is not None:
                k = _literal_str(key)
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
            if base.kind in (Kind.DICT, Kind.TUPLE, Kind.LIST) and not any(i.traced for i in idx):
                return Value(r, Kind.UNKNOWN)
            return Value(r, Kind.DEVICE, boolean=base.boolean)
        if base.kind is Kind.HOST:
            return Value(kind=Kind.HOST)
        if base.kind is Kind.DEVICE:
            return Value(kind=Kind.DEVICE)
        return STATIC

    # ------------------------------------------------------------------ attributes
    def attr(self, base: Value, name: str, node: cst.CSTNode) -> Value:
        kind = base.kind
        if kind is Kind.LAZY:
            if not self.frame.traced:
                modname, path = base.ref
                return Value(kind=Kind.LAZY, ref=(modname, f"{path}.{name}" if path else name))
            base = self.resolve(base)
            kind = base.kind
        if kind is Kind.EXT:
            qual = _canonical(f"{base.ref}.{name}")
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
            or (name.startswith("__") and name.endswith("__"))
            or name == "_fields"
        ):
            if name == "shape":
                return Value(kind=Kind.TUPLE)
            return SCALAR
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
            m = info.lookup_method(name)
            if m is not None:
                bound = () if m.is_static else (base,)
                attr_v = info.lookup_attr(name)
                if attr_v is not None and attr_v.kind is Kind.TRANSFORMED:
                    # a decorated method read from an instance: the instance is its first argument
                    t: TransformedRef = attr_v.ref
                    target = FuncRef(
                        t.target.fn, t.target.closure, bound + t.target.bound, t.target.bound_kw
                    )
                    return Value(kind=Kind.TRANSFORMED, ref=dataclasses.replace(t, target=target))
                return Value(kind=Kind.FUNC, ref=FuncRef(m, None, bound))
            if info.is_linen and name in _LINEN_ENTRIES:
                return Value(kind=Kind.UNKNOWN, ref=("attr", base, name))
            if info.is_static_field(name) or info.is_linen:
                return self.project.static_attr_value(info, name)
            if base.traced and info.is_pytree:
                ann = info.field_annotations.get(name, "")
                # equinox filter_* and nnx split non-array attributes off as static
                if (
                    (info.is_eqx or info.is_nnx)
                    and self.frame.filtered
                    and (
                        _annotation_kind(ann) in (Kind.SCALAR, Kind.STR)
                        or "Callable" in ann
                        or info.assigned_kinds.get(name) in _PYTHON_KINDS
                        # nnx: Variables and sub-modules come from calls; the rest is static
                        or (
                            info.is_nnx
                            and name in info.assigned_kinds
                            and name not in info.call_assigned
                        )
                    )
                ):
                    return STATIC
                leaf = self.leaf(base, name, node, Kind.DEVICE)
                nested = self.annotation_class(ann, info.module)
                if nested is not None:
                    return Value(leaf.reason, Kind.OBJECT, ref=nested)
                kind = _annotation_kind(ann)
                if kind in (Kind.LIST, Kind.TUPLE):
                    return Value(leaf.reason, kind, elem=Value(leaf.reason, Kind.UNKNOWN))
                return leaf
            return self.project.static_attr_value(info, name)
        if name == "at":
            return Value(base.reason, base.kind, base.boolean, ref=("attr", base, name))
        if name in K.HOST_ATTRS and not base.traced:
            return Value(kind=Kind.HOST, ref=("attr", base, name))
        if base.traced:
            if name in ("T", "real", "imag", "mT"):
                return Value(base.reason, Kind.DEVICE, ref=("attr", base, name))
            if name in _ARRAY_METHODS:
                return Value(base.reason, kind, ref=("attr", base, name))
            if self.project.is_static_field_name(name):
                return Value(ref=("attr", base, name))
            # A leaf only where a pytree class of the project declares such a field; otherwise
            # the value may be any object inside the pytree (not necessarily an array).
            leaf_kind = Kind.DEVICE if self.project.is_leaf_field_name(name) else Kind.UNKNOWN
            return self.leaf(base, name, node, leaf_kind)
        fk = self.project.field_kind(name)
        if fk is not None:
            return Value(kind=fk, ref=("attr", base, name))
        return Value(kind=Kind.UNKNOWN, ref=("attr", base, name))

    def leaf(self, base: Value, name: str, node: cst.CSTNode, kind: Kind) -> Value:
        assert base.reason is not None
        if isinstance(node, cst.Attribute):
            text = Text("`{0}` is a leaf of `{1}`", node, node.value)
        else:
            text = Text("`{0}` is a leaf of a traced pytree", node)
        reason = extend(base.reason, (text, None))
        boolean = name in self.project.boolean_fields
        return Value(reason, kind, boolean, ref=("attr", base, name))

    def annotation_class(self, ann: str, module: ModuleInfo) -> ClassInfo | None:
        head = ann.split("[")[0].strip().strip("'\"")
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

    # ------------------------------------------------------------------ calls
    def call(self, node: cst.Call) -> Value:
        fv = self.ev(node.func)
        args: list[tuple[Value, cst.Arg]] = []
        for a in node.args:
            args.append((self.ev(a.value), a))
        result = self.call_value(fv, args, node)
        return result

    def call_value(self, fv: Value, args: list[tuple[Value, cst.Arg]], node: cst.Call) -> Value:
        f = self.frame
        if any(v.kind is Kind.LAZY for v, _ in args) and (f.traced or fv.kind is Kind.EXT):
            # functions handed to transforms or called from traced code must be analysed
            args = [(self.resolve(v), a) for v, a in args]
        kind = fv.kind
        if kind is Kind.EXT:
            return self.call_external(fv.ref, args, node)
        if kind is Kind.FUNC:
            if self.project.is_transform(fv.ref.fn.name) and args and args[0][0].kind is Kind.FUNC:
                return self.apply_transform(fv.ref.fn.name, args[0][0], args[1:], node)
            result = self.call_function(fv.ref, args, node)
            if f.traced:
                # self.method(...) may run any override in a subclass (gymnax-style envs)
                for override in self.overrides(fv.ref):
                    result = join(result, self.call_function(override, args, node))
            return result
        if kind is Kind.TRANSFORMED:
            return self.call_transformed(fv.ref, args, node)
        if kind is Kind.PARTIAL:
            qual, kws = fv.ref
            return self.call_external(qual, [*args, *kws], node)
        if kind is Kind.CLASS:
            info: ClassInfo = fv.ref
            if f.traced is False:
                self.project.record_constructor(info, args)
            init = info.lookup_method("__init__")
            if init is not None and (f.traced or any(v.traced for v, _ in args)):
                self.call_function(
                    FuncRef(init, None, (Value(kind=Kind.OBJECT, ref=info),)), args, node
                )
            r = first_reason(*(v for v, _ in args))
            return Value(r, Kind.OBJECT, ref=info)
        if kind is Kind.OBJECT and fv.ref is not None:
            m = fv.ref.lookup_method("__call__")
            if m is not None:
                return self.call_function(FuncRef(m, None, (fv,)), args, node)
        r = first_reason(*(v for v, _ in args))
        ref = fv.ref
        if isinstance(ref, tuple) and len(ref) == 3 and ref[0] == "attr":
            owner: Value = ref[1]
            name: str = ref[2]
            if name in _LINEN_ENTRIES and owner.kind is Kind.OBJECT and owner.ref is not None:
                return self.linen_entry(owner, name, args, node)
            r = owner.reason or r
            if name in K.HOST_METHODS and not owner.traced:
                return Value(kind=Kind.HOST)
            if name in ("item", "tolist", "__index__", "__int__", "__float__", "__bool__"):
                return (
                    SCALAR
                    if owner.kind is not Kind.HOST or name == "item"
                    else Value(kind=Kind.LIST)
                )
            if name in ("copy", "astype", "view", "flatten", "ravel", "squeeze"):
                if r is None:
                    return Value(
                        kind=owner.kind if owner.kind in (Kind.HOST, Kind.DEVICE) else Kind.UNKNOWN
                    )
                return Value(r, Kind.DEVICE, owner.boolean and name != "astype")
            if name in ("pop", "copy") and owner.kind in (Kind.LIST, Kind.TUPLE):
                return self.element(owner, None) if name == "pop" else owner
            if name in ("get", "pop", "setdefault") and owner.kind is Kind.DICT:
                return Value(r, Kind.UNKNOWN)
            if name in ("keys", "values", "items") and (owner.kind is Kind.DICT or owner.traced):
                # a mapping (arrays have no .items()): its keys are static, even in a pytree
                key = Value(kind=Kind.STR)
                value = Value(r, Kind.UNKNOWN) if r is not None else STATIC
                elem = {"keys": key, "values": value}.get(name) or Value(
                    r, Kind.TUPLE, elts=(key, value)
                )
                return Value(r if name != "keys" else None, Kind.LIST, elem=elem)
            if r is not None:
                boolean = name in ("any", "all") or (owner.boolean and name in ("reshape", "T"))
                arrayish = owner.kind is Kind.DEVICE or (owner.traced and name in _ARRAY_METHODS)
                return Value(r, Kind.DEVICE if arrayish else Kind.UNKNOWN, boolean)
            if owner.kind is Kind.HOST:
                return Value(kind=Kind.HOST)
            if owner.kind is Kind.DEVICE:
                if f.traced and f.staged:
                    return Value(f.in_trace, Kind.DEVICE)
                return Value(kind=Kind.DEVICE)
            return STATIC
        if r is not None:
            return Value(r, Kind.UNKNOWN)
        return STATIC

    def linen_entry(
        self, owner: Value, name: str, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value:
        """``model.apply(variables, *args, method=...)`` / ``model.init(rngs, *args)``: run the
        method (``__call__`` by default, a function or its name with ``method=``) on the rest of
        the arguments, so that what the caller traces reaches it."""
        info: ClassInfo = owner.ref
        method = info.lookup_method("__call__")
        rest: list[tuple[Value, cst.Arg]] = []
        skipped_first = False
        for v, a in args:
            if a.keyword is None and a.star == "" and not skipped_first:
                skipped_first = True  # the variables (apply) or the rngs (init)
            elif a.keyword is not None and a.keyword.value == "method":
                if v.kind is Kind.FUNC:
                    method = v.ref.fn
                elif isinstance(a.value, cst.SimpleString) and isinstance(
                    a.value.evaluated_value, str
                ):
                    method = info.lookup_method(a.value.evaluated_value)
                else:
                    method = None
            elif a.keyword is None or a.keyword.value not in _LINEN_OPTIONS:
                rest.append((v, a))
        r = first_reason(*(v for v, _ in args))
        if method is None or method.cls is None:
            return Value(r, Kind.UNKNOWN)
        result = self.call_function(FuncRef(method, None, (owner,)), rest, node)
        return result if name == "apply" and r is not None else Value(r, Kind.UNKNOWN)

    def call_transformed(
        self, t: TransformedRef, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value:
        fn = t.target.fn
        caller = self.frame
        if caller.traced and t.static:
            bound = self.bind_args(fn, t.target.bound, t.target.bound_kw, args)
            for i, p in enumerate(fn.params):
                got = bound.get(p.name)
                if got is not None and got[0].traced and (p.name in t.static or str(i) in t.static):
                    self.hook("static_arg", got[1] or node, p, got[0], t)
        result = self.call_function(t.target, args, node, transformed=t)
        if caller.traced:
            return result
        # Called from Python: the result is a concrete array (or a container of them).
        if result.kind in (Kind.TUPLE, Kind.LIST, Kind.DICT):
            return Value(kind=result.kind)
        return Value(
            kind=Kind.DEVICE if result.kind in (Kind.DEVICE, Kind.UNKNOWN) else result.kind,
            ref=result.ref,
        )

    def overrides(self, ref: FuncRef) -> list[FuncRef]:
        """The same method in the project's subclasses of the receiver's class."""
        fn = ref.fn
        if fn.cls is None or not ref.bound or ref.bound[0].kind is not Kind.OBJECT:
            return []
        receiver = ref.bound[0]
        out = []
        for sub in self.project.subclasses(receiver.ref):
            m = sub.methods.get(fn.name)
            if m is not None and m is not fn:
                me = Value(receiver.reason, Kind.OBJECT, ref=sub)
                out.append(FuncRef(m, None, (me, *ref.bound[1:]), ref.bound_kw))
        return out

    def bind_args(
        self,
        fn: FunctionInfo,
        bound: tuple[Value, ...],
        bound_kw: tuple[tuple[str, Value], ...],
        args: list[tuple[Value, cst.Arg]],
    ) -> dict[str, tuple[Value, cst.CSTNode | None]]:
        out: dict[str, tuple[Value, cst.CSTNode | None]] = {}
        positional = fn.positional
        vararg = next((p for p in fn.params if p.kind == "vararg"), None)
        varkw = next((p for p in fn.params if p.kind == "varkw"), None)
        pos_vals: list[tuple[Value, cst.CSTNode | None]] = [(v, None) for v in bound]
        for v, a in args:
            if a.keyword is None and a.star == "":
                pos_vals.append((v, a.value))
            elif a.star == "*":
                el = self.element(v, a.value)
                # unknown count: spread over the remaining positional parameters
                for _ in range(max(0, len(positional) - len(pos_vals))):
                    pos_vals.append((el, a.value))
        for i, (v, n) in enumerate(pos_vals):
            if i < len(positional):
                out[positional[i].name] = (v, n)
            elif vararg is not None:
                prev = out.get(vararg.name)
                out[vararg.name] = (
                    Value(first_reason(v, prev[0]) if prev else v.reason, Kind.TUPLE),
                    n,
                )
        names = {p.name for p in fn.params}
        for k, v in bound_kw:
            out[k] = (v, None)
        for v, a in args:
            if a.keyword is not None:
                k = a.keyword.value
                if k in names:
                    out[k] = (v, a.value)
                elif varkw is not None:
                    prev = out.get(varkw.name)
                    out[varkw.name] = (
                        Value(first_reason(v, prev[0]) if prev else v.reason, Kind.DICT),
                        a.value,
                    )
            elif a.star == "**":
                for p in fn.params:
                    if p.name not in out and p.kind in ("pos", "kwonly"):
                        out[p.name] = (Value(v.reason), a.value)
        return out

    def call_function(
        self,
        ref: FuncRef,
        args: list[tuple[Value, cst.Arg]],
        node: cst.Call,
        transformed: TransformedRef | None = None,
    ) -> Value:
        fn = ref.fn
        caller = self.frame
        bound = self.bind_args(fn, ref.bound, ref.bound_kw, args)
        env: dict[str, Value] = {}
        at = _anchor(caller, node)
        for i, p in enumerate(fn.params):
            got = bound.get(p.name)
            if got is None:
                v = self.param_default(fn, p)
            else:
                v = got[0]
                if v.traced and got[1] is not None:
                    v = v.with_reason(
                        extend(
                            v.reason,
                            (
                                f"passed as `{p.name}` (argument {i + 1}) to {fn.name}() at {{at}}",
                                at,
                            ),
                        )  # type: ignore[arg-type]
                    )
            if transformed is not None and got is not None and got[1] is not None:
                v = self.transformed_param(transformed, fn, i, p, v)
            if v.ref is None and p.annotation is not None and v.kind in (Kind.UNKNOWN, Kind.DEVICE):
                v = self.annotated(p, v)
            env[p.name] = v
        if transformed is not None:
            reason: Reason | None = self.site_reason(transformed)
            staged = transformed.staged or caller.staged
            filtered = transformed.filtered
            weak = transformed.differentiated is not None and (caller.weak or not caller.traced)
        else:
            reason = caller.in_trace
            if reason is not None:
                reason = extend(reason, (f"{fn.name}() is called from traced code at {{at}}", at))
            staged = caller.staged
            filtered = caller.filtered
            weak = caller.weak
        return self.evaluate(fn, ref.closure, env, reason, staged, filtered, weak)

    def param_default(self, fn: FunctionInfo, p: Param) -> Value:
        if p.kind == "vararg":
            return Value(kind=Kind.TUPLE)
        if p.kind == "varkw":
            return Value(kind=Kind.DICT)
        v = STATIC
        if fn.cls is not None and not fn.is_static and fn.params and p is fn.params[0]:
            v = Value(kind=Kind.CLASS if fn.is_classmethod else Kind.OBJECT, ref=fn.cls)
        elif p.annotation is not None:
            v = self.annotated(p, v)
        return v

    def annotated(self, p: Param, v: Value) -> Value:
        ann = p.annotation
        if ann is None:
            return v
        target = ann.value if isinstance(ann, cst.Subscript) else ann
        if isinstance(target, cst.Name | cst.Attribute):
            with contextlib.suppress(Exception):
                a = self._lookup_quiet(target)
                if a is not None and a.kind is Kind.CLASS:
                    return Value(v.reason, Kind.OBJECT, ref=a.ref)
        if not v.traced:
            # `n: int` on a value nobody traced: a Python scalar (static), not an array.
            kind = (
                _annotation_kind(_dotted(target) or "")
                if isinstance(target, cst.Name | cst.Attribute)
                else None
            )
            if kind in (Kind.SCALAR, Kind.STR):
                return Value(kind=kind)
        return v

    def _lookup_qual(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a dotted external name (decorators, field calls), no evaluation."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        v = self.frame.lookup(head)
        if v is None or v.kind is not Kind.EXT:
            return None
        return _canonical(f"{v.ref}.{rest}" if rest else v.ref)

    def _lookup_quiet(self, node: cst.BaseExpression) -> Value | None:
        """The value a dotted name (an annotation) refers to, without evaluating it (no hooks)."""
        v: Value | None = None
        if isinstance(node, cst.Name):
            v = self.frame.lookup(node.value)
        elif isinstance(node, cst.Attribute):
            base = self._lookup_quiet(node.value)
            if base is not None and base.kind is Kind.PMODULE:
                v = self.load_module(base.ref).env.get(node.attr.value)
        # an annotation names the class of a value: one process would have loaded it
        return self.resolve(v) if v is not None else None

    def transformed_param(
        self, t: TransformedRef, fn: FunctionInfo, i: int, p: Param, v: Value
    ) -> Value:
        if t.differentiated is not None and p.name not in t.differentiated and not v.traced:
            return v
        if p.name in t.static or str(i) in t.static:
            return Value(kind=v.kind, ref=v.ref, elts=v.elts)
        if v.traced or p.name in t.unbatched or str(i) in t.unbatched:
            return v
        if (fn.cls is not None and not fn.is_static and i == 0 and t.target.bound) or v.kind in (
            Kind.FUNC,
            Kind.CLASS,
            Kind.EXT,
            Kind.TRANSFORMED,
            Kind.PMODULE,
        ):
            return v
        if t.filtered and v.kind in (Kind.SCALAR, Kind.STR, Kind.NONE):
            return v
        reason = extend(
            self.site_reason(t), (f"`{p.name}` is argument {i + 1} of {fn.name}()", None)
        )
        return deep_trace(v, reason)

    def site_reason(self, t: TransformedRef) -> Reason:
        """Why the transformed function runs traced: the enclosing trace, if any, then the site."""
        step = (f"{t.target.fn.name}() is traced: {t.site[2]} at {{at}}", (t.site[0], t.site[1]))
        outer = self.frame.in_trace if self.frame is not None else None
        return extend(outer, step) if outer else (step,)

    def evaluate(
        self,
        fn: FunctionInfo,
        closure: Frame | None,
        env: dict[str, Value],
        in_trace: Reason | None,
        staged: bool,
        filtered: bool,
        weak: bool = False,
    ) -> Value:
        sig = tuple(
            (k, v.traced, v.kind, id(v.ref) if v.kind in (Kind.OBJECT, Kind.FUNC) else 0)
            for k, v in env.items()
        )
        key = (id(fn.node), id(closure), sig, in_trace is not None, staged, filtered, weak)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        if key in self.active or self.depth > MAX_DEPTH:
            r = first_reason(*env.values())
            return Value(r, Kind.DEVICE if r else Kind.UNKNOWN)
        count = self.signatures.get(id(fn.node), 0)
        if count > MAX_SIGNATURES and in_trace is None:
            r = first_reason(*env.values())
            return Value(r, Kind.DEVICE if r else Kind.UNKNOWN)
        self.signatures[id(fn.node)] = count + 1
        self.active.add(key)
        self.depth += 1
        frame = Frame(fn.module, fn, closure, in_trace, staged, filtered, weak=weak)
        frame.env.update(env)
        try:
            with self.in_frame(frame):
                if isinstance(fn.node, cst.Lambda):
                    frame.returns = self.ev(fn.node.body)
                else:
                    self.exec_block(_body(fn.node.body))
        except RecursionError:
            frame.returns = Value(first_reason(*env.values()))
        except Exception:
            # An analysis bug must cost one function's precision, never the run.
            if DEBUG:
                raise
            frame.returns = Value(first_reason(*env.values()))
        finally:
            self.depth -= 1
            self.active.discard(key)
        result = frame.returns if frame.returns is not None else Value(kind=Kind.NONE)
        self.memo[key] = result
        return result

    # ------------------------------------------------------------------ transforms
    def decorate(self, node: cst.FunctionDef, value: Value) -> Value:
        for d in reversed(node.decorators):
            dv = self.ev(d.decorator)
            if value.kind not in (Kind.FUNC, Kind.TRANSFORMED):
                continue
            qual, kws = self.transform_of(dv)
            if qual is None:
                continue
            value = self.apply_transform(qual, value, kws, d.decorator, decorated=True)
        return value

    def transform_of(self, dv: Value) -> tuple[str | None, list[tuple[Value, cst.Arg]]]:
        dv = self.resolve(dv)
        if dv.kind is Kind.FUNC and self.project.is_transform(dv.ref.fn.name):
            return dv.ref.fn.name, []
        if dv.kind is Kind.EXT and self.project.is_transform(dv.ref):
            return dv.ref, []
        if dv.kind is Kind.PARTIAL and self.project.is_transform(dv.ref[0]):
            return dv.ref[0], list(dv.ref[1])
        return None, []

    def apply_transform(
        self,
        qual: str,
        fv: Value,
        kws: list[tuple[Value, cst.Arg]],
        site: cst.CSTNode,
        decorated: bool = False,
    ) -> Value:
        spec = self.project.transform_spec(qual)
        if fv.kind is Kind.TRANSFORMED:
            inner: TransformedRef = fv.ref
            if spec.wrapper:
                return fv
            ref = inner.target
            static = inner.static
            unbatched = inner.unbatched
        elif fv.kind is Kind.FUNC:
            ref = fv.ref
            static = frozenset()
            unbatched = frozenset()
        else:
            return fv
        if spec.wrapper:
            return Value(kind=Kind.FUNC, ref=ref)
        differentiated: frozenset[str] | None = None
        if spec.differentiates:
            if fv.kind is Kind.TRANSFORMED and fv.ref.differentiated is None:
                return fv  # grad of a jitted function: the jit decides
            differentiated = self.argnums_params(ref, kws)
        static = static | self.static_params(ref.fn, kws)
        if spec.has_in_axes and not spec.staged:
            # vmap leaves in_axes=None arguments concrete; pmap stages them like jit
            unbatched = unbatched | self.unbatched_params(ref.fn, kws, ref.bound)
        how = f"decorated with @{_short(qual)}" if decorated else f"passed to {_short(qual)}"
        t = TransformedRef(
            ref,
            qual,
            spec.staged,
            static,
            unbatched,
            qual.startswith(("equinox.filter", "flax.nnx.")),
            (self.frame.module, site, how),
            differentiated,
        )
        site = (t, self.frame.in_trace, self.frame.staged, self.frame.weak)
        if self.frame.fn is not None and not self.frame.traced:
            # Inside a function body evaluated untraced: the function may itself be traced, and
            # then the same site, met under that trace, explains more. Run these last.
            self.later_sites.append(site)
        else:
            self.sites.append(site)
        return Value(kind=Kind.TRANSFORMED, ref=t)

    def add_site(
        self,
        ref: FuncRef,
        qual: str,
        staged: bool,
        static: frozenset[str],
        unbatched: frozenset[str],
        site: cst.CSTNode,
        how: str,
    ) -> None:
        t = TransformedRef(
            ref, qual, staged, static, unbatched, False, (self.frame.module, site, how)
        )
        self.sites.append((t, None, False, False))

    def argnums_params(self, ref: FuncRef, kws: list[tuple[Value, cst.Arg]]) -> frozenset[str]:
        """Parameters a grad-like transform differentiates (``argnums``, default the first)."""
        positional = ref.fn.positional[len(ref.bound) :]
        nums = [0]
        for _, a in kws:
            if a.keyword is not None and a.keyword.value == "argnums":
                nums = _int_literals(a.value)
        return frozenset(
            positional[i].name for i in nums if -len(positional) <= i < len(positional)
        )

    def static_params(self, fn: FunctionInfo, kws: list[tuple[Value, cst.Arg]]) -> frozenset[str]:
        out: set[str] = set()
        positional = fn.positional
        for _, a in kws:
            if a.keyword is None:
                continue
            k = a.keyword.value
            if k in ("static_argnums", "static_broadcasted_argnums"):
                for i in _int_literals(a.value):
                    if -len(positional) <= i < len(positional):
                        out.add(positional[i].name)
                    out.add(str(i))
            elif k == "static_argnames":
                out.update(_str_literals(a.value))
        return frozenset(out)

    def unbatched_params(
        self, fn: FunctionInfo, kws: list[tuple[Value, cst.Arg]], bound: tuple[Value, ...]
    ) -> frozenset[str]:
        out: set[str] = set()
        positional = fn.positional[len(bound) :]
        for _, a in kws:
            if a.keyword is None or a.keyword.value != "in_axes":
                continue
            v = a.value
            if isinstance(v, cst.Name) and v.value == "None":
                return frozenset(p.name for p in positional)
            if isinstance(v, cst.Tuple | cst.List):
                for i, el in enumerate(v.elements):
                    if (
                        isinstance(el.value, cst.Name)
                        and el.value.value == "None"
                        and i < len(positional)
                    ):
                        out.add(positional[i].name)
        return frozenset(out)

    def run_sites(self) -> None:
        while self.sites or self.later_sites:
            queue = self.sites or self.later_sites
            t, outer, outer_staged, outer_weak = queue.pop(0)
            self.trace_site(t, outer, outer_staged, outer_weak)

    def trace_site(
        self, t: TransformedRef, outer: Reason | None, outer_staged: bool, outer_weak: bool
    ) -> None:
        fn = t.target.fn
        saved = self.frame
        frame = Frame(fn.module, None, None, outer, outer_staged)
        with self.in_frame(frame):
            env: dict[str, Value] = {}
            bound = self.bind_args(fn, t.target.bound, t.target.bound_kw, [])
            for i, p in enumerate(fn.params):
                got = bound.get(p.name)
                v = got[0] if got is not None else self.param_default(fn, p)
                if got is None and p.default is not None:
                    # Unpassed defaults are filled in by Python inside the trace: static.
                    pass
                elif got is not None and got[1] is None:
                    # bound by partial() or as the instance of a bound method: not an argument
                    # the transform receives, so traced only if it already was
                    pass
                elif got is None and p.kind in ("vararg", "varkw"):
                    r = extend(
                        self.site_reason(t), (f"`*{p.name}` are arguments of {fn.name}()", None)
                    )
                    v = Value(r, v.kind, elem=Value(r, Kind.UNKNOWN))
                else:
                    v = self.transformed_param(t, fn, i, p, v)
                if v.ref is None and p.annotation is not None and v.kind in (Kind.UNKNOWN,):
                    v = self.annotated(p, v)
                env[p.name] = v
            reason = self.site_reason(t)
            weak = t.differentiated is not None and (outer is None or outer_weak)
            self.evaluate(
                fn, t.target.closure, env, reason, t.staged or outer_staged, t.filtered, weak
            )
        self.frame = saved

    def run_untraced(self) -> None:
        # Initialisers first: what they assign to self decides what the other methods read.
        self.pending_untraced.sort(key=lambda r: r.fn.name not in _INITIALISERS)
        while self.pending_untraced:
            ref = self.pending_untraced.pop(0)
            key = (id(ref.fn.node), id(ref.closure))
            if key in self.untraced_done:
                continue
            self.untraced_done.add(key)
            fn = ref.fn
            env = {p.name: self.param_default(fn, p) for p in fn.params}
            frame = Frame(fn.module, None, None)
            with self.in_frame(frame):
                self.evaluate(fn, ref.closure, env, None, False, False)

    def run_main_blocks(self) -> None:
        while self.main_blocks:
            frame, stmt = self.main_blocks.pop(0)
            with self.in_frame(frame):
                self.exec_block(_body(stmt.body))

    # ------------------------------------------------------------------ external calls
    def call_external(self, qual: str, args: list[tuple[Value, cst.Arg]], node: cst.Call) -> Value:
        f = self.frame
        project = self.project
        if qual in ("functools.partial", "builtins.partial") and args:
            target, _ = args[0]
            rest = args[1:]
            if target.kind is Kind.EXT and project.is_transform(target.ref):
                if (
                    rest
                    and rest[0][1].keyword is None
                    and rest[0][0].kind in (Kind.FUNC, Kind.TRANSFORMED)
                ):
                    return self.apply_transform(target.ref, rest[0][0], rest[1:], node)
                return Value(kind=Kind.PARTIAL, ref=(target.ref, tuple(rest)))
            if target.kind is Kind.FUNC:
                ref: FuncRef = target.ref
                pos = tuple(v for v, a in rest if a.keyword is None and a.star == "")
                kw = tuple((a.keyword.value, v) for v, a in rest if a.keyword is not None)
                return Value(
                    kind=Kind.FUNC,
                    ref=FuncRef(ref.fn, ref.closure, ref.bound + pos, ref.bound_kw + kw),
                )
            if target.kind is Kind.TRANSFORMED:
                return target
            return STATIC
        if project.is_transform(qual):
            spec = project.transform_spec(qual)
            fn_vals = self.function_args(spec, args)
            if not fn_vals:
                if spec.has_static or spec.has_in_axes or spec.wrapper:
                    return Value(kind=Kind.PARTIAL, ref=(qual, tuple(args)))
                return STATIC
            result: Value = STATIC
            for fv in fn_vals:
                kws = [(v, a) for v, a in args if a.keyword is not None]
                result = self.apply_transform(qual, fv, kws, node)
            if (
                len(fn_vals) == 1
                and spec.fn_args == (0,)
                and spec.list_arg is None
                and not qual.startswith("jax.lax.")
            ):
                return result
            # Control-flow primitives run their functions now: their results are traced values.
            r = first_reason(*(v for v, _ in args))
            if f.traced:
                r = r or f.in_trace
            return Value(r, Kind.DEVICE if r else Kind.UNKNOWN)
        if qual in K.HOST_CALLBACKS:
            r = f.in_trace if f.traced else None
            return Value(r, Kind.DEVICE if r else Kind.UNKNOWN)
        reason = first_reason(*(v for v, _ in args))
        if qual.startswith("numpy."):
            if qual in ("numpy.shape", "numpy.ndim", "numpy.size"):
                return Value(kind=Kind.TUPLE) if qual == "numpy.shape" else SCALAR
            if reason is not None:
                return Value(reason, Kind.DEVICE)
            if qual.rsplit(".", 1)[-1] in K.NUMPY_NON_CONVERTING:
                return STATIC
            return Value(kind=Kind.HOST)
        if qual.startswith("math."):
            return Value(reason, Kind.DEVICE) if reason else SCALAR
        if qual.startswith("builtins."):
            return self.call_builtin(qual[9:], args, node, reason)
        if qual in ("jax.device_get",):
            return Value(kind=Kind.HOST)
        if qual == "jax.tree_util.register_static" and args and args[0][0].kind is Kind.CLASS:
            args[0][0].ref.static_fields.update(args[0][0].ref.fields)
            self.project.record_class(args[0][0].ref)
            return args[0][0]
        if qual in K.PYTREE_REGISTRATIONS and args and args[0][0].kind is Kind.CLASS:
            info = args[0][0].ref
            info.is_pytree = True
            self.registered_static_fields(info, qual, args)
            self.project.record_class(info)
            return args[0][0]
        if qual in K.TREE_STATIC or qual in K.JNP_STATIC:
            return STATIC
        if qual in K.TREE_LEAVES:
            leaf = Value(reason, Kind.DEVICE) if reason else STATIC
            if qual.endswith("flatten"):
                return Value(reason, Kind.TUPLE, elts=(Value(reason, Kind.LIST, elem=leaf), STATIC))
            return Value(reason, Kind.LIST, elem=leaf)
        if qual.startswith(
            (
                "jax.tree_util.tree_map",
                "jax.tree.map",
                "jax.tree_map",
                "jax.tree_util.tree_map_with_path",
            )
        ):
            fvs = [v for v, _ in args[:1] if v.kind is Kind.FUNC]
            trees = [(v, a) for v, a in args[1:] if a.keyword is None]
            for fv in fvs:
                # the callback gets one leaf of each tree: traced only where that tree is
                leaves = [(self.leaf_of(v), a) for v, a in trees]
                if qual.endswith("with_path"):
                    leaves = [(STATIC, trees[0][1]), *leaves] if trees else leaves
                self.call_function(fv.ref, leaves, node)
            r = first_reason(*(v for v, _ in trees))
            return Value(r, Kind.UNKNOWN)
        is_jax = qual.startswith(K.JAX_ARRAY_MODULES) or qual.startswith("jax.")
        # a function argument passed to an unknown higher-order function: called with the other args
        for v, _a in args:
            if v.kind is Kind.FUNC and (f.traced or reason is not None):
                others = [(ov, oa) for ov, oa in args if ov is not v and oa.keyword is None]
                self.call_function(v.ref, others, node)
        if is_jax:
            if (
                reason is None
                and f.traced
                and f.staged
                and qual.startswith(K.JAX_ARRAY_MODULES[:6])
            ):
                reason = extend(
                    f.in_trace,  # type: ignore[arg-type]
                    (
                        Text("`{0}` is computed by JAX under the trace at {at}", node),
                        _anchor(f, node),
                    ),
                )
            boolean = qual in K.BOOLEAN_RESULTS or (
                qual in ("jax.numpy.any", "jax.numpy.all") and reason is not None
            )
            if qual in ("jax.numpy.asarray", "jax.numpy.array") and args:
                boolean = args[0][0].boolean or _bool_literals(args[0][1].value)
            elif qual in ("jax.numpy.where", "jax.lax.select") and len(args) == 3:
                boolean = args[1][0].boolean and args[2][0].boolean
            kind = (
                Kind.DEVICE if qual.startswith(K.JAX_ARRAY_MODULES[:6]) or reason else Kind.UNKNOWN
            )
            if qual.endswith((".shape", ".ndim")):
                return STATIC
            return Value(reason, kind, boolean, ref=("call", qual))
        if reason is not None:
            return Value(reason, Kind.UNKNOWN)
        return STATIC

    def registered_static_fields(
        self, info: ClassInfo, qual: str, args: list[tuple[Value, cst.Arg]]
    ) -> None:
        """Fields a registration keeps out of the leaves: ``meta_fields=`` of register_dataclass,
        or what the flatten function returns as auxiliary data instead of children."""
        for _, a in args:
            if a.keyword is not None and a.keyword.value == "meta_fields":
                info.static_fields.update(_str_literals(a.value))
        registers_flatten = qual.endswith(("register_pytree_node", "register_pytree_with_keys"))
        if len(args) > 1 and registers_flatten and args[1][0].kind is Kind.FUNC:
            node = args[1][0].ref.fn.node
            if isinstance(node, cst.FunctionDef):
                info.static_fields.update(_aux_fields(node) & set(info.fields))
                return
        flatten = args[1][1].value if len(args) > 1 and registers_flatten else None
        if isinstance(flatten, cst.Lambda):
            body = flatten.body
            if isinstance(body, cst.Tuple) and body.elements:
                children = body.elements[0].value
                if isinstance(children, cst.Tuple | cst.List):
                    leaves = {
                        e.value.attr.value
                        for e in children.elements
                        if isinstance(e.value, cst.Attribute)
                    }
                    info.static_fields.update(set(info.fields) - leaves)

    def function_args(
        self, spec: K.TransformSpec, args: list[tuple[Value, cst.Arg]]
    ) -> list[Value]:
        out: list[Value] = []
        positional = [v for v, a in args if a.keyword is None and a.star == ""]
        for i in spec.fn_args:
            if i < len(positional) and positional[i].kind in (
                Kind.FUNC,
                Kind.TRANSFORMED,
                Kind.CLASS,
            ):
                out.append(positional[i])
        if spec.list_arg is not None and spec.list_arg < len(positional):
            lv = positional[spec.list_arg]
            if lv.elts is not None:
                out.extend(
                    e
                    for e in lv.elts
                    if isinstance(e, Value) and e.kind in (Kind.FUNC, Kind.TRANSFORMED)
                )
        for v, a in args:
            if a.keyword is not None and a.keyword.value in spec.fn_kwargs:
                if v.kind in (Kind.FUNC, Kind.TRANSFORMED):
                    out.append(v)
                elif v.elts is not None:
                    out.extend(e for e in v.elts if isinstance(e, Value) and e.kind is Kind.FUNC)
        return [v for v in out if v.kind is not Kind.CLASS]

    def call_builtin(
        self, name: str, args: list[tuple[Value, cst.Arg]], node: cst.Call, reason: Reason | None
    ) -> Value:
        vals = [v for v, _ in args]
        if name in (
            "int",
            "float",
            "bool",
            "complex",
            "len",
            "isinstance",
            "str",
            "repr",
            "hash",
            "callable",
            "hasattr",
            "id",
            "type",
            "print",
            "format",
        ):
            if name == "str" or name == "repr" or name == "format":
                return Value(kind=Kind.STR)
            return Value(
                kind=Kind.SCALAR, boolean=name in ("bool", "isinstance", "callable", "hasattr")
            )
        if name == "range":
            return Value(kind=Kind.LIST, elem=SCALAR)
        if name == "enumerate" and vals:
            return Value(
                vals[0].reason,
                Kind.LIST,
                elem=Value(kind=Kind.TUPLE, elts=(SCALAR, self.element(vals[0], None))),
            )
        if name == "zip":
            return Value(
                reason,
                Kind.LIST,
                elem=Value(reason, Kind.TUPLE, elts=tuple(self.element(v, None) for v in vals)),
            )
        if name in ("list", "tuple", "sorted", "reversed", "set", "frozenset"):
            if not vals:
                return Value(kind=Kind.LIST)
            v = vals[0]
            kind = Kind.TUPLE if name == "tuple" else Kind.LIST
            if v.kind is Kind.HOST and name in ("list", "tuple"):
                return Value(kind=kind, elem=Value(kind=Kind.HOST))
            return Value(v.reason, kind, elts=v.elts if v.kind in (Kind.LIST, Kind.TUPLE) else None)
        if name == "getattr" and len(args) >= 2:
            attr_name = _literal_str(args[1][1].value)
            if attr_name is not None:
                return self.attr(vals[0], attr_name, args[1][1].value)
            return Value(vals[0].reason)
        if name in ("min", "max", "sum", "abs", "round", "pow", "divmod"):
            if reason is not None:
                return Value(reason, Kind.DEVICE)
            if vals and vals[0].kind is Kind.HOST:
                return Value(kind=Kind.HOST)
            return SCALAR
        if name in ("map", "filter"):
            if vals and vals[0].kind is Kind.FUNC:
                others = [(self.element(v, None), a) for v, a in args[1:]]
                res = self.call_function(vals[0].ref, others, node)
                return Value(res.reason, Kind.LIST, elem=res)
            return Value(reason, Kind.LIST)
        if name in ("any", "all"):
            return Value(reason, Kind.DEVICE if reason else Kind.SCALAR, boolean=True)
        if name in ("dict",):
            return Value(reason, Kind.DICT)
        if name in ("next", "iter"):
            return self.element(vals[0], None) if vals and name == "next" else Value(reason)
        if name == "super":
            cls = self.frame.fn.cls if self.frame.fn is not None else None
            if cls is not None:
                for b in cls.bases:
                    if b.kind is Kind.CLASS:
                        return Value(kind=Kind.OBJECT, ref=b.ref)
            return STATIC
        if reason is not None:
            return Value(reason, Kind.UNKNOWN)
        return STATIC


# Kinds of plain Python values: never leaves under filtered transforms.
_PYTHON_KINDS = frozenset({Kind.SCALAR, Kind.STR, Kind.NONE, Kind.FUNC, Kind.TRANSFORMED, Kind.EXT})

_ARRAY_METHODS = frozenset(
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


def _short(qual: str) -> str:
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


def _ann(p: cst.Param) -> cst.BaseExpression | None:
    return p.annotation.annotation if p.annotation is not None else None


def _body(suite: Any) -> Sequence[cst.CSTNode]:
    """Statements of a suite; a one-line suite (``if x: y = 1``) is its own statement."""
    if isinstance(suite, cst.SimpleStatementSuite):
        return (suite,)
    return suite.body


_INITIALISERS = frozenset({"__init__", "__post_init__", "setup", "__new__"})


def _is_main_guard(test: cst.BaseExpression) -> bool:
    return (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and test.left.value == "__name__"
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Equal)
    )


def _bool_literals(node: cst.CSTNode) -> bool:
    """A (nested) list or tuple literal of True/False."""
    if isinstance(node, cst.Name):
        return node.value in ("True", "False")
    if isinstance(node, cst.List | cst.Tuple):
        return bool(node.elements) and all(_bool_literals(e.value) for e in node.elements)
    return False


def _literal_int(node: cst.CSTNode) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        v = _literal_int(node.expression)
        return -v if v is not None else None
    return None


def _literal_str(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString):
        v = node.evaluated_value
        return v if isinstance(v, str) else None
    return None


def _int_literals(node: cst.CSTNode) -> list[int]:
    v = _literal_int(node)
    if v is not None:
        return [v]
    if isinstance(node, cst.Tuple | cst.List):
        return [i for e in node.elements if (i := _literal_int(e.value)) is not None]
    return []


def _str_literals(node: cst.CSTNode) -> list[str]:
    v = _literal_str(node)
    if v is not None:
        return [v]
    if isinstance(node, cst.Tuple | cst.List):
        return [s for e in node.elements if (s := _literal_str(e.value)) is not None]
    return []


def _walk_names(pattern: cst.CSTNode) -> list[str]:
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


def _annotation_kind(ann: str) -> Kind | None:
    a = ann.replace(" ", "")
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


def _is_static_field(interp: Interpreter, value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    qual = interp._lookup_qual(value.func)
    if qual not in K.STATIC_FIELD_CALLS:
        return False
    if qual.endswith("static_field"):
        return True
    for a in value.args:
        if a.keyword is None:
            continue
        k = a.keyword.value
        text = cst.Module([]).code_for_node(a.value).replace(" ", "")
        if k == "pytree_node" and text == "False":
            return True
        if k == "static" and text == "True":
            return True
        if k == "metadata" and ("static" in text and "True" in text):
            return True
    return False


def _has_decorator(interp: Interpreter, node: cst.FunctionDef, qual: str) -> bool:
    return any(interp._lookup_qual(d.decorator) == qual for d in node.decorators)


# Entry points of a flax linen Module that run one of its methods, and their own options.
_LINEN_ENTRIES = frozenset({"apply", "init", "init_with_output"})
_LINEN_OPTIONS = frozenset({"mutable", "rngs", "capture_intermediates", "method"})


def _aux_fields(flatten: cst.FunctionDef) -> set[str]:
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
            aux |= _fields_of(obj, r.value.elements[1].value)
            children |= _fields_of(obj, r.value.elements[0].value)
    return aux - children


def _fields_of(obj: str, node: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == obj:
            out.add(n.attr.value)
        stack.extend(n.children)
    return out


def deep_trace(v: Value, reason: Reason) -> Value:
    """The value as seen inside a transform: every array leaf of it becomes a tracer."""
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
        elts = tuple(deep_trace(e, reason) for e in v.elts) if v.elts is not None else None
        return Value(
            reason, v.kind, elts=elts, elem=Value(reason, Kind.UNKNOWN) if elts is None else None
        )
    if v.kind is Kind.DICT:
        pairs = (
            tuple((k, deep_trace(e, reason)) for k, e in v.pairs) if v.pairs is not None else None
        )
        return Value(reason, Kind.DICT, pairs=pairs)
    if v.kind is Kind.OBJECT:
        return Value(reason, Kind.OBJECT, ref=v.ref)
    # arrays, Python numbers and parameters of unknown type: traced arrays
    return Value(reason, Kind.DEVICE)

"""Transforms: which functions JAX traces, with which parameters static, and running them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.frames import Frame
from jaxlint.analysis.model import INITIALISERS, FuncRef, FunctionInfo, Param, TransformedRef
from jaxlint.analysis.syntax import code, int_literals, short_name, str_literals, suite_body
from jaxlint.analysis.values import (
    Kind,
    Reason,
    Value,
    annotation_kind,
    deep_trace,
    extend,
    tree_part,
)

if TYPE_CHECKING:
    pass


# In a transform's static names: which parameters are static is not known.
ANY_STATIC = "*"
# Annotations of values JAX refuses as transform arguments: dtypes, strings, callables.
NOT_JAX_TYPES = re.compile(r"\A(\w+\.)*(DTypeLike|dtype|DType|str|Callable)\b(\s*\|\s*None)?\Z")


class Transforms:
    """Mixin of :class:`Interpreter`."""

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
            # `jit(vmap(f, in_axes=(None, 0)))`: jit traces the unbatched arguments too
            unbatched = inner.unbatched if not spec.staged else frozenset()
        elif fv.kind is Kind.FUNC:
            ref = fv.ref
            static = frozenset()
            unbatched = frozenset()
        elif (entry := self.linen_entry_ref(fv)) is not None:
            ref = entry
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
        static = static | self.static_params(ref.fn, kws, ref.bound)
        if spec.has_in_axes and not spec.staged:
            # vmap leaves in_axes=None arguments concrete; pmap stages them like jit
            unbatched = unbatched | self.unbatched_params(ref.fn, kws, ref.bound)
        how = (
            f"decorated with @{short_name(qual)}" if decorated else f"passed to {short_name(qual)}"
        )
        t = TransformedRef(
            ref,
            qual,
            spec.staged,
            static,
            unbatched,
            qual.startswith(("equinox.filter", "flax.nnx.")),
            (self.frame.module, site, how),
            differentiated,
            fv.kind is not Kind.TRANSFORMED and fv.kind is not Kind.FUNC,
            reverse=(spec.differentiates and not qual.endswith("jacfwd"))
            or (fv.kind is Kind.TRANSFORMED and fv.ref.reverse),
        )
        self.project.record_site_conditions(site, self.held_conditions())
        site = (t, self.frame.in_trace, self.frame.staged, self.frame.weak)
        if self.frame.fn is not None and not self.frame.traced:
            # Inside a function body evaluated untraced: the function may itself be traced, and
            # then the same site, met under that trace, explains more. Run these last.
            self.later_sites.append(site)
        else:
            self.sites.append(site)
        return Value(kind=Kind.TRANSFORMED, ref=t)

    def linen_entry_ref(self, fv: Value) -> FuncRef | None:
        """``model.init`` / ``model.apply`` handed to a transform: the module's ``__call__``."""
        ref = fv.ref
        if not (isinstance(ref, tuple) and len(ref) == 3 and ref[0] == "attr"):
            return None
        owner: Value = ref[1]
        if ref[2] not in K.LINEN_ENTRIES or owner.kind is not Kind.OBJECT or owner.ref is None:
            return None
        m = owner.ref.lookup_method("__call__")
        return FuncRef(m, None, (owner,)) if m is not None else None

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
                nums = int_literals(a.value)
        return frozenset(
            positional[i].name for i in nums if -len(positional) <= i < len(positional)
        )

    def static_params(
        self,
        fn: FunctionInfo,
        kws: list[tuple[Value, cst.Arg]],
        bound: tuple[Value, ...] = (),
    ) -> frozenset[str]:
        """Names of the parameters made static. ``static_argnums`` count the arguments the
        transformed callable receives: after ``self`` of a bound method (``jax.jit(self.f)``) and
        the leading arguments bound by ``partial``."""
        out: set[str] = set()
        positional = fn.positional[len(bound) :]
        for v, a in kws:
            if a.keyword is None:
                continue
            k = a.keyword.value
            if (
                k in ("static_argnums", "static_broadcasted_argnums", "static_argnames")
                and not int_literals(a.value)
                and not str_literals(a.value)
                and v.kind is not Kind.NONE
                and not (isinstance(a.value, cst.Tuple | cst.List) and not a.value.elements)
            ):
                # computed elsewhere (a jit wrapper's own `static_argnames=` parameter): any
                # parameter may be static, so none is taken to be traced
                out.add(ANY_STATIC)
            if k in ("static_argnums", "static_broadcasted_argnums"):
                for i in int_literals(a.value):
                    if -len(positional) <= i < len(positional):
                        out.add(positional[i].name)
                    else:
                        out.add(str(i))
            elif k == "static_argnames":
                out.update(str_literals(a.value))
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
            entries = axes_elements(v, self.all_none) or []
            if entries and entries[-1] is OPEN_NONE:
                entries = entries[:-1] + [OPEN_NONE] * max(0, len(positional) - len(entries) + 1)
            for i, el in enumerate(entries):
                if _is_none(el) and i < len(positional):
                    out.add(positional[i].name)
        return frozenset(out)

    def all_none(self, node: cst.BaseExpression) -> bool:
        """A name bound to a list or tuple of Nones of any length (``[None] * len(kwargs)``)."""
        v = self.frame.lookup(node.value) if isinstance(node, cst.Name) else None
        return (
            v is not None
            and v.kind in (Kind.LIST, Kind.TUPLE)
            and v.elem is not None
            and v.elem.kind is Kind.NONE
        )

    @staticmethod
    def static_in_varargs(t: TransformedRef, fn: FunctionInfo) -> bool:
        """``static_argnums`` that fall in the function's ``*args`` (jraph's
        ``jax.jit(jax.grad(lambda *x: ...), static_argnums=(2, 3, 4))``): some of its elements
        are static, which ones the analysis does not follow, so none is taken to be traced."""
        given = len(fn.positional) - len(t.target.bound)
        return any(s.isdigit() and int(s) >= given for s in t.static)

    def transformed_param(
        self, t: TransformedRef, fn: FunctionInfo, i: int, p: Param, v: Value
    ) -> Value:
        if p.kind == "vararg" and self.static_in_varargs(t, fn):
            return Value(kind=v.kind)
        if t.differentiated is not None and p.name not in t.differentiated and not v.traced:
            return v
        # a dtype or a string is no valid argument of a transform (JAX refuses it at the call,
        # before tracing): such a parameter is never a tracer, as a static one is not
        if (
            p.name in t.static
            or str(i) in t.static
            or ANY_STATIC in t.static
            or (p.annotation is not None and NOT_JAX_TYPES.search(code(p.annotation)))
        ):
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
        # equinox's filter transforms keep Python numbers static; flax nnx's keep a Module's
        # attributes static but trace a number passed as an argument, as jax.jit does
        scalars_static = t.filtered and not t.qual.startswith("flax.nnx.")
        if scalars_static and v.kind in (Kind.SCALAR, Kind.STR, Kind.NONE):
            return v
        if t.filtered and v.kind in (Kind.STR, Kind.NONE):
            return v
        if scalars_static and p.annotation is not None:
            declared = annotation_kind(code(p.annotation))
            if declared in (Kind.SCALAR, Kind.STR):
                # `epsilon: float` of an equinox filter_jit: a Python number, kept static
                return Value(kind=declared)
            items = PYTHON_ITEMS.fullmatch(code(p.annotation).replace(" ", ""))
            if items is not None and declared in (Kind.LIST, Kind.TUPLE):
                # `symbols: list[str]`: a container of Python values, all of them static
                return Value(kind=declared, elem=Value(kind=annotation_kind(items[1])))
        reason = extend(
            self.site_reason(t), (f"`{p.name}` is argument {i + 1} of {fn.name}()", None)
        )
        return deep_trace(
            v, reason, soft=t.filtered and (scalars_static or v.kind is not Kind.SCALAR)
        )

    def site_reason(self, t: TransformedRef) -> Reason:
        """Why the transformed function runs traced: the enclosing trace, if any, then the site."""
        step = (f"{t.target.fn.name}() is traced: {t.site[2]} at {{at}}", (t.site[0], t.site[1]))
        outer = self.frame.in_trace if self.frame is not None else None
        return extend(outer, step) if outer else (step,)

    def run_sites(self) -> None:
        while self.sites or self.later_sites:
            queue = self.sites or self.later_sites
            t, outer, outer_staged, outer_weak = queue.pop(0)
            if id(t.target.fn.node) not in self.called and not self.uncallable(t):
                self.trace_site(t, outer, outer_staged, outer_weak)

    def uncallable(self, t: TransformedRef) -> bool:
        """A vmap whose literal ``in_axes`` has fewer entries than the function's required
        parameters (jaxhps's `jax.vmap(f, in_axes=(0, 0, 0))` of a 14-parameter f, never called):
        JAX refuses every positional call before tracing, so nothing is traced through it."""
        node = t.site[1] if t.site else None
        if not (t.qual in ("jax.vmap", "jax.pmap") and isinstance(node, cst.Call)):
            return False
        axes = [
            a.value for a in node.args if a.keyword is not None and a.keyword.value == "in_axes"
        ]
        axes += [a.value for a in node.args[1:2] if a.keyword is None and t.qual == "jax.vmap"]
        entries = axes_elements(axes[0]) if len(axes) == 1 else None
        if not entries or OPEN_NONE in entries:
            return False
        fn = t.target.fn
        if any(p.kind == "vararg" for p in fn.params):
            return False
        required = [p for p in fn.positional[len(t.target.bound) :] if p.default is None]
        return len(entries) < len(required)

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
                elif got is None and p.kind == "vararg" and self.static_in_varargs(t, fn):
                    pass  # which of `*args` are traced is not known (see static_in_varargs)
                elif got is None and p.kind in ("vararg", "varkw"):
                    r = extend(
                        self.site_reason(t), (f"`*{p.name}` are arguments of {fn.name}()", None)
                    )
                    part = tree_part(r, t.filtered)
                    v = Value(r, v.kind, elem=part if p.kind == "vararg" else None)
                else:
                    v = self.transformed_param(t, fn, i, p, v)
                    if got is None and p.default is None and v.traced and not v.notnone:
                        # a required argument of the transformed function: the caller passes
                        # something to trace (a None there is an optional argument's job)
                        v = dataclasses.replace(v, notnone=True)
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
        self.pending_untraced.sort(key=lambda r: r.fn.name not in INITIALISERS)
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
                self.exec_block(suite_body(stmt.body))

    def function_args(
        self, spec: K.TransformSpec, args: list[tuple[Value, cst.Arg]]
    ) -> list[Value]:
        out: list[Value] = []
        positional = [v for v, a in args if a.keyword is None and a.star == ""]
        for i in spec.fn_args:
            if i < len(positional) and (
                positional[i].kind in (Kind.FUNC, Kind.TRANSFORMED, Kind.CLASS)
                or self.linen_entry_ref(positional[i]) is not None
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


# `list[str]`, `tuple[int, ...]`, `Sequence[float]`: containers of Python values (the item type).
PYTHON_ITEMS = re.compile(
    r"(?:list|List|typing\.List|Sequence|tuple|Tuple)\[(str|int|float|bool)(?:,\.\.\.)?\]"
)


def axes_elements(
    v: cst.BaseExpression, all_none: Callable[[cst.BaseExpression], bool] | None = None
) -> list[cst.BaseExpression] | None:
    """The entries of an ``in_axes`` sequence written as a literal, also built with ``+`` and
    ``*`` (``[0] + [None] * 9``, a common way to spell many unbatched arguments); None if not.
    A run of ``None`` repeated a number of times the source does not spell
    (``(0,) + (None,) * len(args)``) ends the list with ``OPEN_NONE``: every later entry is None."""
    if isinstance(v, cst.Tuple | cst.List):
        out: list[cst.BaseExpression] = []
        for i, e in enumerate(v.elements):
            if isinstance(e, cst.StarredElement):
                # `*nones` of a list of Nones, followed only by Nones: an open None tail
                rest = v.elements[i + 1 :]
                if (
                    all_none is not None
                    and all_none(e.value)
                    and all(_is_none(r.value) for r in rest)
                ):
                    return [*out, OPEN_NONE]
                return None
            out.append(e.value)
        return out
    if isinstance(v, cst.BinaryOperation):
        if isinstance(v.operator, cst.Add):
            left, right = axes_elements(v.left, all_none), axes_elements(v.right, all_none)
            if left is None or right is None or (left and left[-1] is OPEN_NONE):
                return None
            return left + right
        if isinstance(v.operator, cst.Multiply):
            seq, count = (
                (v.left, v.right) if isinstance(v.right, cst.Integer) else (v.right, v.left)
            )
            items = axes_elements(seq, all_none)
            if items is None:
                seq, count = count, seq
                items = axes_elements(seq, all_none)
            if items is None:
                return None
            if isinstance(count, cst.Integer):
                return items * count.evaluated_value
            if items and all(_is_none(e) for e in items):
                return [OPEN_NONE]
    return None


def _is_none(e: cst.BaseExpression) -> bool:
    return isinstance(e, cst.Name) and e.value == "None"


# The open tail of an ``in_axes`` sequence: this entry and every later one are None.
OPEN_NONE = cst.Name("None")

"""Library functions under transforms and project functions called back by libraries.

Two ways a trace crosses into library code that the analysis does not interpret:

- JAX's own function handed to a transform (``jax.jit(jnp.sum)(x, 0)``,
  ``jnp.apply_along_axis(jnp.nonzero, 0, x)``): its arguments are tracers, so its own argument
  checks (a static axis, a data-dependent size) fail at the call, where JAX's traceback points.
  The rules run on that call as if the library function were called there with tracers.
- a project function handed to a library that keeps it and calls it back under a trace (an optax
  schedule called by a jitted ``opt.update``, a numpyro model sampled by ``MCMC.run``): the value
  the library returns *holds* the callback, and the methods that trace it run it traced.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.control_flow import outputs
from jaxlint.analysis.frames import Frame, anchor
from jaxlint.analysis.libraries import library_signature
from jaxlint.analysis.model import FuncRef, ModuleInfo
from jaxlint.analysis.syntax import int_literals, short_name, str_literals
from jaxlint.analysis.transforms import axes_elements
from jaxlint.analysis.values import Kind, Reason, Value, deep_trace, extend, source_of

if TYPE_CHECKING:
    from jaxlint.analysis.project import Project


@dataclass(frozen=True, eq=False)
class LibraryTransformed:
    """A library function passed to a transform (``jax.jit(jnp.sum)``). ``static``: positions
    and keywords the transform leaves concrete; ``static_keywords``: every keyword argument is
    (``static_argnums``, which JAX maps to names); ``static_positions_after``: positions from
    this one on are not traced (``static_argnames`` whose positions only the signature knows,
    ``in_axes=None``, axes not written as a literal). When unsure, an argument is not traced."""

    qual: str
    transform: str
    staged: bool
    static: frozenset[int | str]
    static_keywords: bool
    static_positions_after: int | None
    func: cst.BaseExpression
    site: tuple[ModuleInfo, cst.CSTNode]


@dataclass(frozen=True, eq=False)
class Callback:
    """A project function a library keeps, and how the library calls it back."""

    ref: FuncRef
    spec: K.CallbackSpec
    library: str
    site: tuple[ModuleInfo, cst.CSTNode]


@dataclass(frozen=True, eq=False)
class Holder:
    """What a library call given callbacks returns (an optimizer, an MCMC kernel): it keeps them,
    and so does whatever the library builds from it (``MCMC(NUTS(model))``)."""

    qual: str
    callbacks: tuple[Callback, ...]


def external_qual(fv: Value) -> str | None:
    """The qualified name of a callee outside the project: an external name, a lazily imported
    library name (not parsed for this), or the result of calling one (``...()``)."""
    if fv.kind is Kind.EXT and isinstance(fv.ref, str):
        return fv.ref
    if fv.kind is Kind.LAZY:
        modname, path = fv.ref
        return f"{modname}.{path}" if path else modname
    ref = fv.ref
    if isinstance(ref, tuple) and len(ref) == 2 and ref[0] == "call":
        return f"{ref[1]}()"
    return None


class LibraryCalls:
    """Mixin of :class:`Interpreter`."""

    project: Project
    frame: Frame

    # ------------------------------------------------------------------ library functions

    def library_transformed(
        self,
        qual: str,
        spec: K.TransformSpec,
        fv: Value,
        func: cst.BaseExpression,
        kws: list[tuple[Value, cst.Arg]],
        site: cst.CSTNode,
    ) -> Value:
        """``jax.jit(jnp.sum, ...)``: calling the result traces jnp.sum's non-static arguments."""
        static: set[int | str] = set()
        static_keywords = False
        after: int | None = None
        for _, a in kws:
            if a.keyword is None:
                continue
            k = a.keyword.value
            if k in ("static_argnums", "static_broadcasted_argnums"):
                static.update(int_literals(a.value))
                static_keywords = True  # JAX maps them to names with the function's signature
            elif k == "static_argnames":
                static.update(str_literals(a.value))
                after = 1  # which positions the names are is the signature's: assume all but x
            elif k == "in_axes" and spec.has_in_axes and not spec.staged:
                v = a.value
                if isinstance(v, cst.Name) and v.value == "None":
                    after = 0
                    continue
                axes = axes_elements(v)
                if axes is None:
                    after = 0  # unknown axes: say nothing
                    continue
                static.update(
                    i for i, e in enumerate(axes) if isinstance(e, cst.Name) and e.value == "None"
                )
        t = LibraryTransformed(
            qual=fv.ref,
            transform=qual,
            staged=spec.staged,
            static=frozenset(static),
            static_keywords=static_keywords,
            static_positions_after=after,
            func=func,
            site=(self.frame.module, site),
        )
        return Value(kind=Kind.PARTIAL, ref=t)

    def call_library_transformed(
        self, t: LibraryTransformed, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value:
        caller = self.frame
        name = short_name(t.qual)
        step = (f"{name}() is traced: passed to {short_name(t.transform)} at {{at}}", t.site)
        reason: Reason = extend(caller.in_trace, step) if caller.in_trace else (step,)
        traced: list[bool] = []
        pos = 0
        for _, a in args:
            if a.keyword is not None:
                traced.append(not t.static_keywords and a.keyword.value not in t.static)
            elif a.star:
                traced.append(False)
            else:
                cut = t.static_positions_after
                traced.append(pos not in t.static and (cut is None or pos < cut))
                pos += 1
        result = self.run_library_call(
            t.qual, t.func, node, args, traced, reason, t.staged or caller.staged
        )
        if caller.traced:
            return outputs(result, caller.in_trace)
        if result.kind in (Kind.TUPLE, Kind.LIST, Kind.DICT):
            return Value(kind=result.kind)
        return Value(kind=Kind.DEVICE)

    def library_map(
        self, qual: str, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value | None:
        """``jnp.apply_along_axis(jnp.nonzero, 0, x)``: JAX calls a library function on slices
        of ``x`` under vmap; the rules run on that call, reported here."""
        fn_pos, arr_pos, staged, passes_rest = K.LIBRARY_MAPS[qual]
        positional = [(v, a) for v, a in args if a.keyword is None and not a.star]
        if len(positional) <= max(fn_pos, arr_pos) or positional[fn_pos][0].kind is not Kind.EXT:
            return None
        fv, fa = positional[fn_pos]
        caller = self.frame
        step = (f"{short_name(fv.ref)}() is traced: passed to {short_name(qual)} at {{at}}", None)
        reason: Reason = extend(caller.in_trace, step) if caller.in_trace else (step,)
        reason = (*reason[:-1], (reason[-1][0], anchor(caller, node)))
        # the array's slices are tracers; the extra arguments are closed over (concrete)
        rest = [positional[arr_pos]]
        if passes_rest:
            rest += [*positional[arr_pos + 1 :], *((v, a) for v, a in args if a.keyword)]
        traced = [i == 0 for i in range(len(rest))]
        result = self.run_library_call(
            fv.ref, fa.value, node, rest, traced, reason, staged or caller.staged
        )
        return outputs(result, caller.in_trace) if caller.traced else Value(kind=Kind.DEVICE)

    def run_library_call(
        self,
        qual: str,
        func: cst.BaseExpression,
        at: cst.Call,
        args: list[tuple[Value, cst.Arg]],
        traced: list[bool],
        reason: Reason,
        staged: bool,
    ) -> Value:
        """Evaluate ``qual(*args)`` under a trace, the rules seeing a call of ``qual`` made of
        the original argument nodes; what they find is reported at ``at`` (without a fix: the
        code to change is not that call's)."""
        call = cst.Call(func=func, args=[a for _, a in args])
        caller = self.frame
        frame = Frame(caller.module, caller.fn, caller, reason, staged, caller.filtered)
        frame.report_at = at
        with self.in_frame(frame):  # type: ignore[attr-defined]
            frame.values[id(func)] = Value(kind=Kind.EXT, ref=qual)
            vals: list[tuple[Value, cst.Arg]] = []
            for (v, a), tr in zip(args, traced, strict=True):
                if tr:
                    text = f"`{_source(a.value)}` is an argument of {short_name(qual)}()"
                    v = deep_trace(v, extend(reason, (text, None)))
                frame.values[id(a.value)] = v
                vals.append((v, a))
            result = self.call_external(qual, vals, call)  # type: ignore[attr-defined]
            frame.values[id(call)] = result
            self.project.dispatch("Call", call)
        return result

    def library_function_arg(
        self, qual: str, spec: K.TransformSpec, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value | None:
        """``jax.jit(jnp.sum)``, ``jax.vmap(jnp.nonzero, in_axes=...)``: a transform that returns
        a function, given a library function. None for anything else."""
        if spec.wrapper or spec.differentiates or spec.fn_args != (0,) or spec.list_arg is not None:
            return None
        if qual.startswith("jax.lax.") or qual in K.LIBRARY_MAPS:
            return None
        positional = [(v, a) for v, a in args if a.keyword is None and not a.star]
        if not positional or positional[0][0].kind is not Kind.EXT:
            return None
        fv, fa = positional[0]
        if not isinstance(fv.ref, str) or not fv.ref.startswith(K.JAX_ARRAY_MODULES[:7]):
            return None
        kws = [(v, a) for v, a in args if a.keyword is not None]
        return self.library_transformed(qual, spec, fv, fa.value, kws, node)

    # ------------------------------------------------------------------ callbacks

    def library_callbacks(
        self, fv: Value, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value | None:
        """A call outside the project that is given project callbacks, or objects holding some:
        its result holds them. None where nothing is held (the ordinary path decides)."""
        if not any(_project_function(v) or isinstance(v.ref, Holder) for v, _ in args):
            return None
        qual = external_qual(fv)
        if qual is None or qual.startswith("builtins."):
            return None  # getattr(opt, ...), isinstance(opt, ...): Python's own, not a library
        held: list[Callback] = []
        for v, _ in args:
            if isinstance(v.ref, Holder):
                held.extend(v.ref.callbacks)
        spec = K.LIBRARY_CALLBACKS.get(qual) or next(
            (s for p, s in K.CALLBACK_PREFIXES.items() if qual.startswith(p)), None
        )
        if spec is not None:
            names = self.callback_names(qual, spec)
            positional = [v for v, a in args if a.keyword is None and not a.star]
            for i, v in enumerate(positional):
                if _project_function(v) and (i in spec.args or i in names or spec.every):
                    held.append(Callback(v.ref, spec, qual, anchor(self.frame, node)))
            for v, a in args:
                if a.keyword is None or not _project_function(v):
                    continue
                if spec.every or a.keyword.value in names or a.keyword.value in spec.kwargs:
                    held.append(Callback(v.ref, spec, qual, anchor(self.frame, node)))
        if not held:
            return None
        return Value(kind=Kind.UNKNOWN, ref=Holder(qual, tuple(held)))

    def callback_names(self, qual: str, spec: K.CallbackSpec) -> set[int | str]:
        """Positions and names of the parameters that the library's source annotates as
        callbacks (``learning_rate: base.ScalarOrSchedule``); none where it is not read."""
        if not spec.annotated or "(" in qual:
            return set()
        params = library_signature(tuple(map(str, self.project.libraries.paths)), qual)
        if params is None:
            return set(spec.kwargs)
        out: set[int | str] = set()
        for i, p in enumerate(params):
            ann = _annotation(p)
            if any(word in ann for word in spec.annotated):
                out.update((i, p.arg))
        return out

    def holder_method(self, fv: Value, node: cst.Call) -> bool:
        """``opt.update(...)`` in traced code, ``mcmc.run(...)`` anywhere: run the callbacks
        this call makes the library run (traced). True where the call is the library's own
        trace (its result is then a Python-level object)."""
        ref = fv.ref
        if not (isinstance(ref, tuple) and len(ref) == 3 and ref[0] == "attr"):
            return False
        owner: Value = ref[1]
        method: str = ref[2]
        if not isinstance(owner.ref, Holder):
            return False
        caller = self.frame
        ran = False
        for cb in owner.ref.callbacks:
            where = anchor(caller, node)
            if method in cb.spec.runs:
                step = (
                    f"{cb.ref.fn.name}() is traced: passed to {short_name(cb.library)} at {{at}}",
                    cb.site,
                )
                how = (f"`.{method}()` at {{at}} traces it: {cb.spec.how}", where)
                self.run_callback(cb, (step, how), staged=True)
                ran = True
            elif method in cb.spec.uses and caller.traced:
                assert caller.in_trace is not None
                how = (f"`.{method}()` at {{at}} calls it back: {cb.spec.how}", where)
                given = (
                    f"{cb.ref.fn.name}() was passed to {short_name(cb.library)} at {{at}}",
                    cb.site,
                )
                self.run_callback(cb, extend(caller.in_trace, how, given), staged=caller.staged)
        return ran

    def run_callback(self, cb: Callback, reason: Reason, staged: bool) -> None:
        fn = cb.ref.fn
        env: dict[str, Value] = {}
        bound = self.bind_args(fn, cb.ref.bound, cb.ref.bound_kw, [])  # type: ignore[attr-defined]
        free = 0
        for p in fn.params:
            if p.name in bound:
                env[p.name] = bound[p.name][0]
                continue
            v = self.param_default(fn, p)  # type: ignore[attr-defined]
            if p.kind in ("pos", "posonly") and free in cb.spec.traced:
                text = f"`{p.name}` is argument {free + 1} of {fn.name}(), a tracer there"
                v = Value(extend(reason, (text, None)), Kind.DEVICE)
            if p.kind in ("pos", "posonly"):
                free += 1
            env[p.name] = v
        self.evaluate(fn, cb.ref.closure, env, reason, staged, False)  # type: ignore[attr-defined]


def _project_function(v: Value) -> bool:
    return v.kind is Kind.FUNC and isinstance(v.ref, FuncRef) and not v.ref.fn.module.library


def _annotation(p: ast.arg) -> str:
    return ast.unparse(p.annotation) if p.annotation is not None else ""


def _source(node: cst.CSTNode) -> str:
    return source_of(node, 40)


__all__ = ["Holder", "LibraryCalls", "LibraryTransformed", "external_qual"]

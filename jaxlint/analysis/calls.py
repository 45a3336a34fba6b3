"""Calls: into project functions and methods, classes, linen entry points, externals and builtins."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.control_flow import CONTROL_FLOW, outputs, unwrapped_body
from jaxlint.analysis.frames import DEBUG, Frame, anchor
from jaxlint.analysis.knowledge import LINEN_ENTRIES, LINEN_OPTIONS, canonical
from jaxlint.analysis.library_calls import Holder, LibraryTransformed
from jaxlint.analysis.model import (
    INITIALISERS,
    ClassInfo,
    FuncRef,
    FunctionInfo,
    Param,
    TransformedRef,
)
from jaxlint.analysis.syntax import (
    assigned_keys,
    assigned_self_attrs,
    aux_fields,
    bool_literals,
    dotted,
    fields_from_params,
    flatten_method_leaves,
    lambda_leaves,
    literal_int,
    literal_str,
    set_once_in_init,
    str_literals,
    suite_body,
    where_fields,
)
from jaxlint.analysis.values import (
    ARRAY_METHODS,
    FALSE,
    FLOAT,
    INT,
    JAX_ARRAY_API,
    NONE,
    SCALAR,
    SHAPE,
    STATIC,
    TRUE,
    UNSET,
    Kind,
    Reason,
    Text,
    Value,
    annotation_kind,
    constant,
    deep_trace,
    extend,
    first_reason,
    is_int,
    join,
    python_constant,
    python_type,
    static_pairs,
    truth,
)

if TYPE_CHECKING:
    pass

MAX_DEPTH = 40
# Kinds that hold arrays: numbers computed from them are arrays.
ARRAYISH = (Kind.DEVICE, Kind.TREE)
MAX_SIGNATURES = 12

BUILTIN_CLASSES: dict[str, type] = {
    f"builtins.{t.__name__}": t for t in (bool, int, float, complex, str, list, tuple, dict, set)
}

# Kinds of arguments whose parameter's annotation tells more (``model: JaxSimModel`` receiving a
# traced pytree of unknown type reads its attributes by the class's fields).
ANNOTATABLE = frozenset({Kind.UNKNOWN, Kind.DEVICE, Kind.TREE})


# Values whose structure the analysis knows (what an equinox combine gets back).
_STRUCTURED = frozenset({Kind.OBJECT, Kind.TUPLE, Kind.LIST, Kind.DICT})


def untraced(v: Value) -> Value:
    """The value with its traced parts dropped (the static half of an equinox partition)."""
    elts = tuple(untraced(e) for e in v.elts) if v.elts is not None else None
    pairs = tuple((k, untraced(e)) for k, e in v.pairs) if v.pairs is not None else None
    return Value(None, v.kind, ref=v.ref, elts=elts, pairs=pairs)


class Calls:
    """Mixin of :class:`Interpreter`."""

    # ------------------------------------------------------------------ calls

    def call(self, node: cst.Call) -> Value:
        fv = self.ev(node.func)
        if isinstance(fv.ref, tuple) and len(fv.ref) == 4 and fv.ref[0] == "alts":
            return self.call_alternatives(fv.ref, node)
        args: list[tuple[Value, cst.Arg]] = []
        for a in node.args:
            args.append((self.ev(a.value), a))
        result = self.call_value(fv, args, node)
        return result

    def call_alternatives(self, alts: tuple, node: cst.Call) -> Value:
        """A call of ``f if test else g``: each with the arguments as they are where ``test``
        holds (for f) and where it does not (for g)."""
        _, test, when_true, when_false = alts
        f = self.frame
        saved = f.env
        result: Value | None = None
        try:
            for fv, positive in ((when_true, True), (when_false, False)):
                f.env = dict(saved)
                self.narrow(test, positive)
                args = [(self.ev(a.value), a) for a in node.args]
                r = self.call_value(fv, args, node)
                result = r if result is None else join(result, r)
        finally:
            f.env = saved
        return result  # type: ignore[return-value]

    def call_value(self, fv: Value, args: list[tuple[Value, cst.Arg]], node: cst.Call) -> Value:
        f = self.frame
        if any(v.kind is Kind.LAZY for v, _ in args) and (f.traced or fv.kind is Kind.EXT):
            # functions handed to transforms or called from traced code must be analysed
            args = [(self.resolve(v), a) for v, a in args]
        kind = fv.kind
        if kind is Kind.PARTIAL and isinstance(fv.ref, LibraryTransformed):
            return self.call_library_transformed(fv.ref, args, node)
        if self.holder_method(fv, node):
            return STATIC
        if kind is not Kind.FUNC and (held := self.library_callbacks(fv, args, node)) is not None:
            return held
        if kind is Kind.EXT:
            return self.call_external(fv.ref, args, node)
        if kind is Kind.FUNC and fv.ref.fn.module.library:
            qual = f"{fv.ref.fn.module.name}.{fv.ref.fn.name}"
            if qual in K.NUMPYRO_SITES:
                # a library function the knowledge base knows better than its source says
                return self.call_external(qual, args, node)
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
            else:
                self.project.record_masks(info, args)
            init = info.lookup_method("__init__")
            stored: tuple[tuple[str | None, Value], ...] = ()
            if init is not None:
                # untraced too: what a written constructor stores (a flag set from a literal
                # argument) decides the `if`s of the methods traced later
                done = self.call_function(
                    FuncRef(init, None, (Value(kind=Kind.OBJECT, ref=info),)), args, node
                )
                stored = self.stored_by_init(info, init, done)
            r = first_reason(*(v for v, _ in args))
            # built of filtered parts (an equinox wrapper around a filter_jit argument): its
            # non-array leaves are their Python values
            kept = filtered_only(v for v, _ in args)
            pairs = self.instance_fields(info, args)
            post = info.lookup_method("__post_init__")
            if post is not None and pairs is not None:
                pairs = self.post_init_fields(info, post, pairs, node)
            if stored:
                given = {k for k, _ in stored}
                pairs = (*stored, *(p for p in pairs or () if p[0] not in given))
            return Value(r, Kind.OBJECT, ref=info, pairs=pairs, filtered=kept)
        if kind is Kind.OBJECT and fv.ref is not None:
            m = fv.ref.lookup_method("__call__")
            if m is not None:
                return self.call_function(FuncRef(m, None, (fv,)), args, node)
        if kind is Kind.HOST and fv.ref is None:
            # a NumPy callable (`np.vectorize(f)`, `np.frompyfunc(...)`): it makes a NumPy array of
            # its argument (an object array of pytrees), or raises there for a tracer
            return Value(kind=Kind.HOST)
        r = first_reason(*(v for v, _ in args))
        ref = fv.ref
        if isinstance(ref, tuple) and len(ref) == 3 and ref[0] == "attr":
            owner: Value = ref[1]
            name: str = ref[2]
            if name in LINEN_ENTRIES and owner.kind is Kind.OBJECT and owner.ref is not None:
                return self.linen_entry(owner, name, args, node)
            if name in ("replace", "_replace") and (done := replaced(owner, args)) is not None:
                return done
            if name == "update" and (done := self.dict_updated(owner, args, node)) is not None:
                return done
            r = owner.reason or r
            if (folded := _folded_str_method(owner, name, args)) is not None:
                return folded
            if name in K.HOST_METHODS and not owner.traced:
                return Value(kind=Kind.HOST)
            if name in ("bit_length", "bit_count", "__index__") and is_int(owner):
                return INT
            if name in ("item", "tolist", "__index__", "__int__", "__float__", "__bool__"):
                return (
                    SCALAR
                    if owner.kind is not Kind.HOST or name == "item"
                    else Value(kind=Kind.LIST)
                )
            if name == "copy" and owner.kind not in (Kind.DEVICE, Kind.HOST) and not owner.boolean:
                # a copy of a mapping, a list or an object not known to be an array: the same
                return owner.with_reason(r)
            if name in ("copy", "astype", "view", "flatten", "ravel", "squeeze"):
                if r is None:
                    return Value(
                        kind=owner.kind if owner.kind in (Kind.HOST, Kind.DEVICE) else Kind.UNKNOWN
                    )
                return Value(r, Kind.DEVICE, owner.boolean and name != "astype")
            if name in ("pop", "copy") and owner.kind in (Kind.LIST, Kind.TUPLE):
                return self.element(owner, None) if name == "pop" else owner
            if (
                name in ("get", "pop", "setdefault")
                and (
                    owner.kind is Kind.DICT
                    or (
                        args
                        and isinstance(args[0][1].value, cst.SimpleString)
                        and not args[0][1].keyword
                    )
                )
            ) or (name == "get" and owner.traced and owner.kind is not Kind.DEVICE):
                # a mapping's item (`variables.get("cache")`; ``x.at[i].get()`` is the only array
                # ``get``): what it holds is not known to be an array
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
                arrayish = (owner.kind is Kind.DEVICE and name in JAX_ARRAY_API) or (
                    owner.traced and name in ARRAY_METHODS
                )
                return Value(r, Kind.DEVICE if arrayish else Kind.UNKNOWN, boolean)
            if owner.kind is Kind.HOST:
                return Value(kind=Kind.HOST)
            if owner.kind is Kind.DEVICE and name in JAX_ARRAY_API:
                if f.traced and f.staged:
                    return Value(f.in_trace, Kind.DEVICE)
                return Value(kind=Kind.DEVICE)
            return STATIC
        if r is not None:
            # a callable not known here, given filtered values (a wrapper class passed as
            # `new_wrapper: Callable[[Env], Env]`): a non-array it returns is a Python value
            kept = not fv.traced and filtered_only(v for v, _ in args)
            return Value(r, Kind.UNKNOWN, filtered=kept)
        return STATIC

    def dict_updated(
        self, owner: Value, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value | None:
        """``d.update(k=v)`` on a mapping of known keys held by a name: the name now holds the
        merged mapping, so one traced entry does not taint the others (``**d`` later)."""
        target = node.func.value if isinstance(node.func, cst.Attribute) else None
        if owner.kind is not Kind.DICT or not isinstance(target, cst.Name):
            return None
        merged = merged_pairs(owner.pairs, args)
        if merged is None:
            return None
        self.frame.env[target.value] = Value(
            first_reason(*(v for _, v in merged)), Kind.DICT, pairs=merged
        )
        return NONE

    def linen_entry(
        self, owner: Value, name: str, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value:
        """``model.apply(variables, *args, method=...)`` / ``model.init(rngs, *args)``: run the
        method (``__call__`` by default, a function or its name with ``method=``) on the rest of
        the arguments, so that what the caller traces reaches it."""
        method, rest = linen_method_args(owner.ref, args)
        r = first_reason(*(v for v, _ in args))
        if method is None or method.cls is None:
            return Value(r, Kind.UNKNOWN)
        result = self.call_function(FuncRef(method, None, (owner,)), rest, node)
        return result if name == "apply" and r is not None else Value(r, Kind.UNKNOWN)

    def call_transformed(
        self, t: TransformedRef, args: list[tuple[Value, cst.Arg]], node: cst.Call
    ) -> Value:
        if t.partial_args:
            given = list(t.partial_args)
            args = (
                [x for x in given if x[1].keyword is None]
                + args
                + [x for x in given if x[1].keyword is not None]
            )
        if t.linen_entry:
            args = linen_method_args(t.target.fn.cls, args)[1]
        fn = t.target.fn
        caller = self.frame
        if too_many_args(fn, t.target.bound, args):
            return Value(first_reason(*(v for v, _ in args)), Kind.UNKNOWN)
        if t.static:
            bound = self.bind_args(fn, t.target.bound, t.target.bound_kw, args)
            for i, p in enumerate(fn.params):
                got = bound.get(p.name)
                if got is None or not (p.name in t.static or str(i) in t.static):
                    continue
                # a `*xs`/`**kw` spread: which of its items lands here, and whether that one is
                # traced, is not known (the node is the container, not the value)
                spread = any(a.star and a.value is got[1] for _, a in args)
                # reported at the call: the line JAX's traceback points to (a call's first line)
                if (
                    caller.traced
                    and got[0].traced
                    and got[0].kind is not Kind.UNKNOWN
                    and not spread
                    and not self.project.hashed_by_identity(got[0])
                ):
                    # (a value of unknown kind, an item of a dict rebuilt from a static skeleton
                    # and traced arrays as jaxfmm does, may well be the Python int it is meant to)
                    self.hook("static_arg", node, p, got[0], t, got[1])
                elif got[1] is not None and not spread:
                    # hashed at the call, traced caller or not: rules decide what is unhashable
                    self.project.dispatch("static_value", node, p, got[0], t, got[1])
        self.called.add(id(fn.node))
        # jax.grad(g)(x) called under an abstracting transform, or jax.jit(jax.grad(g))(x)
        # called anywhere: JAX transposes g's loops at this call
        reverse = t.reverse and (t.differentiated is None or (caller.traced and not caller.weak))
        if reverse:
            self.reverse_diff.append([])
        try:
            result = self.call_function(t.target, args, node, transformed=t)
        finally:
            found = self.reverse_diff.pop() if reverse else []
        if found:
            self.project.dispatch("reverse_diff", node, t, found)
        closure = t.target.closure
        if caller.traced and (
            caller.staged
            or any(v.traced for v, _ in args)
            or any(v.traced for v in t.target.bound)
            or (closure is not None and closure.holds_traced())
        ):
            return outputs(result, caller.in_trace)
        # Called from Python, or with concrete arguments inside a transform that does not stage
        # them (chronax fits each model with jitted helpers on the unbatched training window
        # inside a `vmap`): the result is a concrete array (or a container of them).
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
        # The method whose `self` the call goes to (`self._step(...)` in a jitted `_run` of the
        # same object, also from a lambda or closure inside it): a subclass that overrides that
        # method too (without super()) never runs it, so never makes this call.
        caller = self.frame
        while caller is not None:
            cf = caller.fn
            if (
                cf is not None
                and cf.cls is not None
                and not cf.is_static
                and cf.params
                and caller.env.get(cf.params[0].name) is receiver
            ):
                break
            caller = caller.parent
        if caller is None:
            # a receiver declared of a base class (`norm: Functional` passed in): which of the
            # project's subclasses it is, the callers decide; each override taken as possible
            # cried wolf on code never run under a trace. `self.step_env(...)` in a base
            # class's method is written for the subclasses to override: those are followed.
            return []
        out = []
        for sub in self.project.subclasses(receiver.ref):
            if caller.fn is not None:
                own = sub.lookup_method(caller.fn.name)
                if own is not None and own is not caller.fn and not calls_super(own.node):
                    continue
            m = sub.methods.get(fn.name)
            if m is not None and m is not fn:
                me = Value(receiver.reason, Kind.OBJECT, ref=sub, filtered=receiver.filtered)
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
            elif a.star == "*" and v.elts is not None and v.kind in (Kind.TUPLE, Kind.LIST):
                # a sequence of known length: one argument per element
                pos_vals.extend((e, a.value) for e in v.elts)
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
        # `**kwargs` gets the other keyword arguments under their names, so that spreading it
        # again (`self.forward_native(*args, **kwargs)`) passes each to its parameter
        extra: list[tuple[str | None, Value]] = []
        spread: Value | None = None
        where: cst.CSTNode | None = None
        for v, a in args:
            if a.keyword is not None:
                k = a.keyword.value
                if k in names:
                    out[k] = (v, a.value)
                elif varkw is not None:
                    extra.append((k, v))
                    where = a.value
            elif a.star == "**" and v.pairs is not None and all(k for k, _ in v.pairs):
                # a dict of known keys: those arguments, no others
                for k, pv in v.pairs:
                    if k in names:
                        out[k] = (pv, a.value)
                    elif varkw is not None:
                        extra.append((k, pv))
                        where = a.value
            elif a.star == "**":
                # a mapping of unknown keys may fill any parameter; one with a default is taken
                # to keep it (jaxfne forwards its plasticity options with `**kw`, never the
                # optional `feed_current=None` input), unless the caller stores that key in the
                # mapping (`call_kwargs["quad_nt"] = quad_nt`)
                caller = self.frame.fn
                stored = (
                    assigned_keys(caller.node, a.value.value)
                    if caller is not None
                    and isinstance(caller.node, cst.FunctionDef)
                    and isinstance(a.value, cst.Name)
                    else set()
                )
                for p in fn.params:
                    if (
                        p.name not in out
                        and p.kind in ("pos", "kwonly")
                        and (p.default is None or p.name in stored)
                    ):
                        out[p.name] = (Value(v.reason), a.value)
                spread, where = v, a.value
        if varkw is not None and (extra or spread is not None):
            parts = [v for _, v in extra] + ([spread] if spread is not None else [])
            pairs = tuple(extra) if spread is None else None
            out[varkw.name] = (Value(first_reason(*parts), Kind.DICT, pairs=pairs), where)
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
        if too_many_args(fn, ref.bound, args):
            # Python raises TypeError at the call (a stale caller): the body never runs from here
            return Value(first_reason(*(v for v, _ in args)), Kind.UNKNOWN)
        bound = self.bind_args(fn, ref.bound, ref.bound_kw, args)
        env: dict[str, Value] = {}
        at = anchor(caller, node)
        for i, p in enumerate(fn.params):
            got = bound.get(p.name)
            if got is None and p.kind == "varkw":
                # no keyword left over at this call: `**static` is an empty dict (jcm's
                # `cls(rate=..., **static)` then builds from the named fields only)
                v = Value(kind=Kind.DICT, pairs=())
            elif got is None:
                v = self.param_default(fn, p)
                if (
                    p.default is not None
                    and not v.traced
                    and (transformed is None or v is STATIC or transformed.qual in K.LOOP_BODIES)
                    and (
                        (literal := literal_default(p.default)) is not None
                        or (literal := self.namespace_default(fn, p.default)) is not None
                    )
                ):
                    # an unpassed default: the literal itself (``approx=False``,
                    # ``backend="jax"``; in a plain call also when annotated: ``validate: bool =
                    # False``; an annotated parameter of the transformed function itself is the
                    # jitted API's, which its users may set, statically or not, but a
                    # lax.while_loop/scan/cond body is called with its operands only: qpax's
                    # `verbose: bool = False`)
                    v = literal
                if transformed is not None and self.traced_flag(transformed, fn, i, p):
                    # a `flag: bool = True` that the transform does not make static: traced as
                    # soon as a caller passes it, as its annotation invites
                    v = Value(
                        extend(
                            self.site_reason(transformed),
                            (
                                f"`{p.name}` (a bool flag, argument {i + 1} of {fn.name}()) is "
                                "not static: traced whenever a caller passes it",
                                None,
                            ),
                        ),
                        Kind.DEVICE,
                        boolean=True,
                    )
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
            read = isinstance(v.ref, tuple) and v.ref[:1] == ("attr",)  # an attribute's value
            if (v.ref is None or read) and p.annotation is not None and v.kind in ANNOTATABLE:
                v = self.annotated(p, v)
            if (
                i == 0
                and fn.cls is not None
                and not fn.is_static
                and v.kind is not Kind.NONE
                and not v.notnone
            ):
                # the receiver of a method is never None, also where its class is not known (a
                # traced pytree whose `update` was found by name); nor is it once passed on
                v = dataclasses.replace(v, notnone=True)
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

    def traced_flag(self, t: TransformedRef, fn: FunctionInfo, i: int, p: Param) -> bool:
        """An unpassed ``flag: bool = True/False`` parameter of a function *decorated* with a
        jit-like transform (its signature is the jitted API; not static, not differentiated-only,
        not equinox-filtered). ``jax.jit(step)`` at a call site leaves the flag to that caller."""
        return (
            t.staged
            and str(t.site[2]).startswith("decorated")
            and not t.filtered
            and t.differentiated is None
            and not t.linen_entry
            and p.kind in ("pos", "kwonly")
            and isinstance(p.annotation, cst.Name)
            and p.annotation.value == "bool"
            and isinstance(p.default, cst.Name)
            and p.default.value in ("True", "False")
            and p.name not in t.static
            and str(i) not in t.static
            and p.name not in t.unbatched
        )

    def namespace_default(self, fn: FunctionInfo, default: cst.BaseExpression) -> Value | None:
        """A default naming an array module (``xp=jnp``): that module, so ``xp is np`` and
        ``xp.asarray`` are known where the caller leaves it."""
        if not isinstance(default, cst.Name | cst.Attribute) or fn.module.frame is None:
            return None
        with self.in_frame(fn.module.frame):
            v = self._lookup_quiet(default)
        return v if v is not None and v.kind is Kind.EXT and v.ref in K.ARRAY_NAMESPACES else None

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

    @staticmethod
    def stored_by_init(
        info: ClassInfo, init: FunctionInfo, done: Value
    ) -> tuple[tuple[str | None, Value], ...]:
        """What a written ``__init__`` stored on the new object and nothing else changes (jcm's
        `self._spec = spec or MAM4_SPEC`: module data, static whatever the term's parameters)."""
        if not isinstance(init.node, cst.FunctionDef) or not done.pairs:
            return ()
        methods = [m.node for c in info.mro() for m in c.methods.values()]
        once = set_once_in_init(init.node, methods)
        return tuple((k, v) for k, v in done.pairs if k in once)

    def post_init_fields(
        self,
        info: ClassInfo,
        post: FunctionInfo,
        pairs: tuple[tuple[str | None, Value], ...],
        node: cst.Call,
    ) -> tuple[tuple[str | None, Value], ...] | None:
        """The fields after a ``__post_init__`` ran on them (jcm maps a scheme alias to its int
        with ``object.__setattr__``): a field it sets once at its top level holds what it set;
        one it may set otherwise (or any, for a computed name) is not known."""
        if not isinstance(post.node, cst.FunctionDef):
            return None
        assigned = assigned_self_attrs(post.node)
        if assigned is None:
            return None
        me = Value(kind=Kind.OBJECT, ref=info, pairs=pairs)
        done = self.call_function(FuncRef(post, None, (me,)), [], node)
        methods = [m.node for c in info.mro() for m in c.methods.values()]
        once = set_once_in_init(post.node, methods)
        kept = [(k, v) for k, v in pairs if k not in assigned]
        return (*kept, *((k, v) for k, v in done.pairs or () if k in once))

    def instance_fields(
        self, info: ClassInfo, args: list[tuple[Value, cst.Arg]]
    ) -> tuple[tuple[str | None, Value], ...] | None:
        """The field values of an instance built in the code by a generated constructor
        (dataclass, flax struct, equinox Module, NamedTuple): a Python value passed there stays
        one, since only a transform's arguments have their leaves traced."""
        init = info.lookup_method("__init__")
        if not info.fields or any(a.star == "*" for _, a in args):
            return None
        if init is not None and any(a.star for _, a in args):
            return None
        if init is not None:
            # a written constructor: the fields it sets to an argument as given (quantax's
            # `MultiDet(self.ndets, q)` keeps `ndets` a Python int)
            if not isinstance(init.node, cst.FunctionDef):
                return None
            given = fields_from_params(init.node)
            bound = self.bind_args(init, (Value(kind=Kind.OBJECT, ref=info),), (), args)
            pairs = [(f, bound[p][0]) for f, p in given.items() if f in info.fields and p in bound]
            return tuple(pairs) or None
        positional = [v for v, a in args if a.keyword is None and not a.star]
        if len(positional) > len(info.fields):
            return None
        named = {a.keyword.value: v for v, a in args if a.keyword is not None}
        for v, a in args:
            if a.star != "**":
                continue
            if v.pairs is None or not all(isinstance(k, str) for k, _ in v.pairs):
                return None  # a mapping of unknown keys may give any field
            named.update(v.pairs)  # type: ignore[arg-type]
        pairs = [*zip(info.fields, positional, strict=False)]
        pairs += [(name, named[name]) for name in info.fields[len(positional) :] if name in named]
        # a field left to its literal default holds that Python value (microlux builds
        # `TrajectoryModel(times=t, delta_s=None)` and tests `if self.photo_center:`)
        given = {name for name, _ in pairs}
        for name in info.fields:
            default = info.attrs.get(name)
            if name not in given and default is not None and truth(default) is not None:
                pairs.append((name, default))
        return tuple(pairs)

    def annotated(self, p: Param, v: Value) -> Value:
        ann = p.annotation
        if ann is None:
            return v
        if isinstance(ann, cst.SimpleString) and (text := literal_str(ann)) is not None:
            # a forward reference, `other: "DFAx"`
            try:
                ann = cst.parse_expression(text)
            except cst.ParserSyntaxError:
                return v
        if v.traced:
            # a traced argument given to `model: Model | None` (or Optional[Model]) is a Model
            ann = optional_inner(ann)
        target = ann.value if isinstance(ann, cst.Subscript) else ann
        if isinstance(target, cst.Name | cst.Attribute):
            with contextlib.suppress(Exception):
                a = self._lookup_quiet(target)
                if a is not None and a.kind is Kind.CLASS:
                    # fields known of an object of a class not known then (replaced ones)
                    pairs = v.pairs if v.kind is Kind.UNKNOWN else None
                    return Value(
                        v.reason,
                        Kind.OBJECT,
                        ref=a.ref,
                        pairs=pairs,
                        notnone=v.notnone,
                        filtered=v.filtered,
                    )
        if v.traced and v.kind in (Kind.UNKNOWN, Kind.DEVICE) and isinstance(ann, cst.Subscript):
            # `channels: tuple[Observation, ...]` given a field of what an unknown step returned
            # (taken for an array leaf): a Python container, so `if not channels:` is Python's
            declared = annotation_kind(dotted(target) or "")
            if declared in (Kind.TUPLE, Kind.LIST):
                return Value(v.reason, declared, notnone=True, filtered=v.filtered)
        if not v.traced:
            # `n: int` on a value nobody traced: a Python scalar (static), not an array.
            kind = (
                annotation_kind(dotted(target) or "")
                if isinstance(target, cst.Name | cst.Attribute)
                else None
            )
            if kind in (Kind.SCALAR, Kind.STR):
                return Value(kind=kind)
        return v

    def _lookup_qual(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a dotted external name (decorators, field calls), no evaluation."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        v = self.frame.lookup(head)
        if v is None or v.kind is not Kind.EXT:
            return None
        return canonical(f"{v.ref}.{rest}" if rest else v.ref)

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
            (
                k,
                v.traced,
                v.kind,
                # an object holding library callbacks: each its own context (which callbacks);
                # a class: each its own (a registration helper records each class's fields)
                id(v.ref)
                if v.kind in (Kind.OBJECT, Kind.FUNC, Kind.CLASS) or isinstance(v.ref, Holder)
                else 0,
                # flags and mode strings (`backend="cpu"`) decide branches: each its own summary
                v.const if v.const is None or isinstance(v.const, bool | str) else UNSET,
                v.notnone,
                v.pytype,
            )
            for k, v in env.items()
        )
        # called from the 0-d path of a rank test: what it finds is not reported either
        unsure = self.frame is not None and self.frame.unsure > 0
        # a `try` around the call (in this frame or a caller's) catches what the callee raises
        # (rheojax probes `jax.eval_shape(model_fn, ...)` in `try: ... except Exception:`)
        caught = self.frame.all_caught() if self.frame is not None else frozenset()
        key = (
            id(fn.node),
            id(closure),
            sig,
            in_trace is not None,
            staged,
            filtered,
            weak,
            unsure,
            caught,
        )
        hit = self.memo.get(key)
        if hit is not None:
            return reanchored(hit[0], hit[2], first_reason(*env.values()) or in_trace)
        count = self.signatures.get(id(fn.node), 0)
        if (
            key in self.active
            or self.depth > MAX_DEPTH
            or (count > MAX_SIGNATURES and in_trace is None)
        ):
            # a recursive call (or one too deep, or in one context too many): its result is not
            # known, so not an array; of filtered values, what it builds is filtered too
            reason = first_reason(*env.values())
            return Value(reason, Kind.UNKNOWN, filtered=filtered_only(env.values()))
        self.signatures[id(fn.node)] = count + 1
        self.active.add(key)
        self.depth += 1
        if in_trace is not None:
            env = self.linen_setup(fn, env, in_trace, staged, filtered, weak)
        frame = Frame(fn.module, fn, closure, in_trace, staged, filtered, weak=weak)
        frame.outer_caught = caught
        frame.unsure = int(unsure)
        frame.env.update(env)
        try:
            with self.in_frame(frame):
                if isinstance(fn.node, cst.Lambda):
                    frame.returns = self.ev(fn.node.body)
                else:
                    self.exec_block(suite_body(fn.node.body))
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
        if fn.cls is not None and fn.name in ("__init__", "__post_init__", "setup"):
            # what the constructor stored on `self` (read back where the class is called)
            stored = tuple((k[5:], v) for k, v in frame.env.items() if k.startswith("self."))
            result = Value(kind=Kind.NONE, pairs=stored)
        if (
            not result.traced
            and isinstance(fn.node, cst.FunctionDef)
            and fn.node.returns is not None
            and dotted(fn.node.returns.annotation) == "int"
        ):
            result = INT  # `def next_power_of_2(x: int) -> int`
        # the entry keeps the objects whose ids are in its key alive: a freed closure or FuncRef
        # whose id a new one reuses would otherwise get this result (a wrong one, and one that
        # depends on what else the process allocated)
        self.memo[key] = (
            result,
            (closure, *(v.ref for v in env.values())),
            first_reason(*env.values()) or in_trace,
        )
        return result

    def lacks(self, v: Value, name: str) -> bool:
        """Whether an object of a project class surely has no attribute ``name``: neither its
        class, its bases (all in view) nor its subclasses define, declare or assign it, and none
        computes attributes (``__getattr__``)."""
        info = v.ref
        if v.kind is not Kind.OBJECT or not isinstance(info, ClassInfo):
            return False
        for c in (*info.mro(), *self.project.subclasses(info)):
            if any(
                b.kind is not Kind.CLASS and not (b.kind is Kind.EXT and b.ref in PLAIN_BASES)
                for b in c.bases
            ):
                return False
            if (
                name in c.fields
                or name in c.attrs
                or name in c.methods
                or "__getattr__" in c.methods
                or "__getattribute__" in c.methods
            ):
                return False
            for m in c.methods.values():
                if isinstance(m.node, cst.FunctionDef):
                    assigned = assigned_self_attrs(m.node)
                    if assigned is None or name in assigned:
                        return False
        return True

    def linen_setup(
        self,
        fn: FunctionInfo,
        env: dict[str, Value],
        in_trace: Reason,
        staged: bool,
        filtered: bool,
        weak: bool,
    ) -> dict[str, Value]:
        """A linen method run under a trace: flax runs the module's ``setup()`` lazily, inside
        that trace, so what it stores on ``self`` from JAX operations is traced there too
        (``self.img_shape = jnp.array(self.latent_shape) * 2`` then used as a shape)."""
        info = fn.cls
        me = env.get("self")
        if info is None or not info.is_linen or fn.name in INITIALISERS or me is None:
            return env
        setup = info.lookup_method("setup")
        if setup is None:
            return env
        done = self.evaluate(setup, None, {"self": me}, in_trace, staged, filtered, weak)
        stored = {
            f"self.{k}": v.with_reason(
                extend(
                    v.reason,
                    (f"`self.{k}` is set in setup(), which flax runs inside the trace", None),
                )
            )
            for k, v in done.pairs or ()
            if v.traced and f"self.{k}" not in env
        }
        return {**env, **stored} if stored else env

    # ------------------------------------------------------------------ external calls

    def call_external(self, qual: str, args: list[tuple[Value, cst.Arg]], node: cst.Call) -> Value:
        f = self.frame
        project = self.project
        if qual in K.TRACE_STATE_CLEAN:
            # no trace is active: false under one (jno marches on the host only then)
            return FALSE if f.traced else Value(kind=Kind.SCALAR, boolean=True)
        if qual in K.NUMPYRO_SITES and f.traced:
            observed = next((v for v, a in args if a.keyword and a.keyword.value == "obs"), None)
            if observed is not None and observed.kind is not Kind.NONE:
                return observed  # the data given (the model's own arguments are closed over)
            # a latent value: the sampler (NUTS, SVI) traces the model with it
            step = (
                Text("`{0}` is a value numpyro draws under the trace at {at}", node),
                anchor(f, node),
            )
            return Value(extend(f.in_trace, step), Kind.DEVICE)
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
                # `partial(jitted, grid=grid)`: the transformed function given those arguments
                # at each call (static or traced as the transform says)
                t: TransformedRef = target.ref
                if any(a.star for _, a in rest):
                    return target
                given = t.partial_args + tuple(rest)
                return Value(kind=Kind.TRANSFORMED, ref=dataclasses.replace(t, partial_args=given))
            return STATIC
        if qual in K.LIBRARY_MAPS and (mapped := self.library_map(qual, args, node)) is not None:
            return mapped
        if project.is_transform(qual):
            spec = project.transform_spec(qual)
            if qual in CONTROL_FLOW:
                # `jax.checkpoint(body) if remat else body`: that one body
                args = [(unwrapped_body(v) if v.kind is Kind.UNKNOWN else v, a) for v, a in args]
            fn_vals = self.function_args(spec, args)
            library_fn = self.library_function_arg(qual, spec, args, node)
            if library_fn is not None:
                return library_fn
            if not fn_vals:
                if spec.has_static or spec.has_in_axes or spec.wrapper:
                    return Value(kind=Kind.PARTIAL, ref=(qual, tuple(args)))
                return STATIC
            if qual in CONTROL_FLOW and (inline := self.control_flow(qual, args, node)) is not None:
                return inline
            result: Value = STATIC
            kws = [(v, a) for v, a in args if a.keyword is not None]
            positional = [(v, a) for v, a in args if a.keyword is None and not a.star]
            if qual == "jax.vmap" and len(positional) > 1:
                # jax.vmap(f, (0, None)): in_axes is also its second positional parameter
                v, a = positional[1]
                kws.append((v, a.with_changes(keyword=cst.Name("in_axes"))))
            for fv in fn_vals:
                result = self.apply_transform(qual, fv, kws, node)
            if (
                qual in K.EVAL_SHAPE
                and len(fn_vals) == 1
                and result.kind is Kind.TRANSFORMED
                and args[0][0] is fn_vals[0]
                and args[0][1].keyword is None
            ):
                # eval_shape(f, *args) runs f on these arguments now, and returns shapes
                self.call_transformed(result.ref, args[1:], node)
                return STATIC
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
        if K.returns_python_value(qual):
            return Value(kind=Kind.SCALAR)
        if qual.startswith("numpy."):
            if qual in ("numpy.shape", "numpy.ndim", "numpy.size"):
                return SHAPE if qual == "numpy.shape" else INT
            if qual[6:] in K.NUMPY_DISPATCHING and any(
                v.traced and v.kind is Kind.DEVICE for v, _ in args
            ):
                return Value(reason, Kind.DEVICE)  # np.sum(x) calls x.sum(): a tracer
            if reason is not None and qual.rsplit(".", 1)[-1] not in K.NUMPY_NON_CONVERTING:
                # NumPy converts its argument to a host array, or raises right there (JX202):
                # what runs after it holds a host array, never a tracer
                return Value(kind=Kind.HOST)
            if qual.rsplit(".", 1)[-1] in K.NUMPY_NON_CONVERTING:
                return STATIC
            return Value(kind=Kind.HOST)
        if qual.startswith("math."):
            return Value(reason, Kind.DEVICE) if reason else SCALAR
        if qual.startswith("builtins."):
            return self.call_builtin(qual[9:], args, node, reason)
        if qual == "dataclasses.replace" and args:
            done = replaced(args[0][0], args[1:])
            if done is not None:
                return done
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
        if qual == "equinox.partition" and args:
            # (the arrays, the rest): the second part holds no array, so nothing traced
            tree = args[0][0]
            return Value(tree.reason, Kind.TUPLE, elts=(tree, untraced(tree)))
        if qual == "equinox.combine" and args:
            # the static part's Python values come back as they were; only arrays are traced
            # (optimistix's filter_cond: `eqx.combine(_dynamic, static)` inside lax.cond)
            trees = [v for v, a in args if a.keyword is None]
            shaped = [v for v in trees if not v.traced and v.kind in _STRUCTURED]
            if reason is not None and shaped:
                return deep_trace(shaped[0], reason, soft=True)
            if reason is not None and any(not v.traced for v in trees):
                # a static part of unknown structure (`eqx.partition(self.model, ...)`): the
                # Python values it holds (quantax's `ndets: int`) come back static
                return Value(reason, Kind.TREE, filtered=True)
        if qual == "equinox.tree_at":
            positional = [(v, a) for v, a in args if a.keyword is None and not a.star]
            named = {a.keyword.value: (v, a) for v, a in args if a.keyword is not None}
            where = positional[0] if positional else named.get("where")
            tree = (positional[1] if len(positional) > 1 else named.get("pytree") or (None,))[0]
            new = (positional[2] if len(positional) > 2 else named.get("replace") or (None,))[0]
            fields = where_fields(where[1].value) if where is not None else None
            if tree is not None and new is not None and fields and tree.kind is Kind.OBJECT:
                # the object with the named fields replaced, the others as they were (dftax
                # moves a basis's centers: `eqx.tree_at(lambda b: b.centers, basis, coords)`)
                news = (new,) if len(fields) == 1 else new.elts
                kept = merged_pairs(tree.pairs or (), [])
                if news is not None and len(news) == len(fields) and kept is not None:
                    pairs = (
                        *((k, v) for k, v in kept if k not in fields),
                        *zip(fields, news, strict=True),
                    )
                    return Value(
                        tree.reason, Kind.OBJECT, ref=tree.ref, pairs=pairs, filtered=tree.filtered
                    )
            if (
                reason is not None
                and tree is not None
                and new is not None
                and filtered_only((tree, new))
            ):
                # the pytree with some of its leaves replaced: as filtered as what goes in
                # (jaxnasium re-wraps a filter_jit argument: `eqx.tree_at(lambda e: e._env, env, w)`)
                return dataclasses.replace(tree, reason=reason, pairs=None)
        if qual == "jax.lax.psum" and args and isinstance(args[0][1].value, cst.Integer):
            # `lax.psum(1, axis)` is JAX's idiom for the axis size: a Python int, not a tracer
            return SCALAR
        if (
            qual in K.REDUCES
            and len(args) >= 2
            and args[0][0].kind is Kind.FUNC
            and all(a.keyword is None and not a.star for _, a in args[:3])
        ):
            return self.reduce(qual, args, node)
        if qual in K.CLOSURE_CONVERT:
            # (a function over the closed-over values, those values): the function is a Python
            # object whatever it closes over (jax.experimental.ode passes it as a static argument)
            consts = Value(reason, Kind.LIST, elem=Value(reason, Kind.DEVICE) if reason else STATIC)
            return Value(reason, Kind.TUPLE, elts=(STATIC, consts))
        if qual in K.TREE_LEAVES:
            # of a tree the analysis does not follow (a recursive helper's tree of key strings),
            # leaves that may be Python values
            leaf = self.leaf_of(args[0][0]) if reason and args else STATIC
            if qual.endswith("with_path"):
                # (key path, leaf) pairs: the paths are Python keys
                leaf = Value(reason, Kind.TUPLE, elts=(STATIC, leaf))
            if qual.endswith(("flatten", "flatten_with_path")):
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
            results = []
            for fv in fvs:
                # the callback gets one leaf of each tree: traced only where that tree is
                leaves = [(self.leaf_of(v), a) for v, a in trees]
                if qual.endswith("with_path"):
                    leaves = [(STATIC, trees[0][1]), *leaves] if trees else leaves
                results.append(self.call_function(fv.ref, leaves, node))
            callback = args[0][0] if args else None
            # a callback whose result is a Python value whatever its leaf (jnp.iscomplexobj,
            # a project function that returns `x.dtype == ...`) maps the tree to Python values
            if callback is not None and (
                (callback.kind is Kind.EXT and K.returns_python_value(str(callback.ref)))
                or (results and all(v.reason is None for v in results))
            ):
                return STATIC
            r = first_reason(*(v for v, _ in trees))
            first = trees[0][0] if trees else None
            if first is not None and first.kind is Kind.OBJECT and first.ref.is_pytree:
                # the same tree structure: an object of the same class, its leaves mapped
                # (dfax's `jax.tree.map(lambda x: x[0], batch)` keeps `.n_tokens` a property;
                # `jax.tree.map(jnp.asarray, geometry)` keeps what isinstance tests later)
                return Value(
                    r,
                    Kind.OBJECT,
                    ref=first.ref,
                    pairs=static_pairs(first),
                    filtered=first.filtered,
                )
            return Value(r, Kind.UNKNOWN)
        is_jax = qual.startswith(K.JAX_ARRAY_MODULES) or qual.startswith("jax.")
        # a function argument passed to an unknown higher-order function: called with the other args
        for v, _a in args:
            if v.kind is Kind.FUNC and (f.traced or reason is not None):
                others = [(ov, oa) for ov, oa in args if ov is not v and oa.keyword is None]
                self.call_function(v.ref, others, node)
        if is_jax and qual.rsplit(".", 1)[-1][:1].isupper() and not qual.startswith("jax.numpy."):
            # a class of JAX's (lax.ConvDimensionNumbers, lax.Precision, a GatherDimensionNumbers):
            # a Python object made of what it is given, not an array JAX computes
            return Value(reason, Kind.UNKNOWN) if reason is not None else STATIC
        if is_jax:
            if (
                reason is None
                and f.traced
                and f.staged
                and qual.startswith(K.JAX_ARRAY_MODULES[:6])
            ):
                reason = self.staging(node)
            boolean = qual in K.BOOLEAN_RESULTS or (
                qual in ("jax.numpy.any", "jax.numpy.all") and reason is not None
            )
            if qual in ("jax.numpy.asarray", "jax.numpy.array") and args:
                boolean = args[0][0].boolean or bool_literals(args[0][1].value)
            elif qual in ("jax.numpy.where", "jax.lax.select") and len(args) == 3:
                boolean = args[1][0].boolean and args[2][0].boolean
            elif qual == "jax.numpy.astype" and len(args) == 2:
                # `jnp.astype(x, bool)` (JX201's fix for `bool(x)`) is still a mask
                dtype = args[1][1].value
                boolean = (isinstance(dtype, cst.Name) and dtype.value == "bool") or (
                    isinstance(dtype, cst.Attribute) and dtype.attr.value == "bool_"
                )
            if qual in K.TREE_POLYMORPHIC and args and args[0][0].kind is not Kind.DEVICE:
                # stop_gradient, device_put...: the tree they are given, leaf for leaf
                return args[0][0].with_reason(reason)
            # JAX's array modules return arrays; another library's function (equinox, optax,
            # chex, tree utilities) returns an array only where it is given one: a pytree of
            # unknown type in, a pytree (or any Python object) out
            arrays_in = any(v.traced and v.kind is Kind.DEVICE for v, _ in args)
            kind = (
                Kind.DEVICE
                if qual.startswith(K.JAX_ARRAY_MODULES[:6]) or (reason and arrays_in)
                else Kind.UNKNOWN
            )
            tracers_in = arrays_in or any(
                v.traced and (v.kind is Kind.TREE or v.boolean) for v, _ in args
            )
            if kind is Kind.DEVICE and reason is not None and not (f.staged or tracers_in):
                # under vmap/grad alone JAX computes on Python values right away: given only
                # values not known to be tracers (a leaf of an unknown class may be its static
                # metadata), the result is not known to be one either
                kind = Kind.UNKNOWN
            if qual.endswith((".shape", ".ndim")):
                return STATIC
            return Value(reason, kind, boolean, ref=("call", qual))
        if reason is not None:
            return Value(reason, Kind.UNKNOWN)
        return STATIC

    def reduce(self, qual: str, args: list[tuple[Value, cst.Arg]], node: cst.Call) -> Value:
        """``jax.tree.reduce(f, tree, init)`` / ``functools.reduce(f, xs, init)``: f gets the
        accumulator (the initializer first: `True` stays a Python bool) and one leaf or item."""
        fv, tree = args[0][0], args[1]
        item = self.element(tree[0], None) if qual == "functools.reduce" else self.leaf_of(tree[0])
        acc = args[2][0] if len(args) > 2 else item
        out = acc
        for _ in range(2):  # the first step, then one with what it returned
            step = self.call_function(fv.ref, [(out, tree[1]), (item, tree[1])], node)
            out = join(acc, step) if len(args) > 2 else step
        return out

    def registered_static_fields(
        self, info: ClassInfo, qual: str, args: list[tuple[Value, cst.Arg]]
    ) -> None:
        """Fields a registration keeps out of the leaves: ``meta_fields=`` of register_dataclass,
        or what the flatten function returns as auxiliary data instead of children."""
        for v, a in args:
            if a.keyword is not None and a.keyword.value == "meta_fields":
                info.static_fields.update(str_literals(a.value))
                # names a helper passes on (`meta_fields=list(meta)` of its own parameter)
                info.static_fields.update(e.const for e in v.elts or () if isinstance(e.const, str))
        if not qual.endswith(("register_pytree_node", "register_pytree_with_keys")):
            return
        by_name = {a.keyword.value: (v, a) for v, a in args if a.keyword is not None}
        positional = [(v, a) for v, a in args if a.keyword is None]
        # the plain flatten function where given; else the keyed one (the same children)
        flatten = (
            by_name.get("flatten_func")
            or (positional[1] if len(positional) > 1 else None)
            or by_name.get("flatten_with_keys")
        )
        if flatten is None:
            return
        fv, arg = flatten
        leaves = None
        if fv.kind is Kind.FUNC and isinstance(fv.ref.fn.node, cst.FunctionDef):
            node = fv.ref.fn.node
            info.static_fields.update(aux_fields(node) & set(info.fields))
            leaves = flatten_method_leaves(node, None)
        elif isinstance(arg.value, cst.Lambda):
            leaves = lambda_leaves(arg.value)
        if leaves is not None:
            # (jaxcld's NamedTuple returns `children, aux_data` built in locals)
            info.static_fields.update(set(info.fields) - leaves)
        # every attribute the function does not return as a child is static
        info.flatten_leaves = leaves
        info.opaque_flatten = leaves is None

    def isinstance_value(self, v: Value, types: cst.BaseExpression) -> Value:
        """``isinstance`` of a value whose kind decides it: under a trace, a traced array is a
        Tracer (and a ``jax.Array``) and no host type; an untraced value is no Tracer."""
        classes = self.project_classes(types)
        if classes and v.kind is Kind.OBJECT and v.ref is not None:
            # an object of a project class: its class decides (quantax's `where` dispatches
            # on `isinstance(x, LogArray)`)
            mro = list(v.ref.mro())
            if any(c in mro for c in classes):
                return TRUE
            if not self.project.open_ancestry(v.ref) and all(v.ref not in c.mro() for c in classes):
                return FALSE
        quals = self.type_quals(types)
        out = Value(kind=Kind.SCALAR, boolean=True)
        if quals and not v.traced and v.const is not UNSET:
            # a Python constant (`dense_mass=True` passed down): isinstance of builtin classes
            classes = [BUILTIN_CLASSES.get(q) for q in quals]
            if all(c is not None for c in classes):
                return TRUE if isinstance(v.const, tuple(classes)) else FALSE
        pytype = python_type(v) if quals else None
        if pytype is not None:
            # a shape entry, a length, `float(x)`: a Python number whose type is known
            # (`isinstance(n, int)` guards in size helpers, jax-galsim's casts)
            classes = [K.number_class(q) for q in quals]
            if all(c is not None for c in classes):
                return TRUE if issubclass(pytype, tuple(classes)) else FALSE  # type: ignore[arg-type]
        if quals and not self.frame.traced and quals <= K.TRACER_TYPES - {"jax.Array"}:
            # no trace is active on this path: nothing is a Tracer (the code a Tracer test lets
            # through runs only where the function is traced, and is evaluated there)
            return FALSE
        if not quals or not self.frame.traced:
            return out
        if v.traced and v.kind is Kind.DEVICE:
            # under jax.grad alone too: what the differentiated arguments reach is a JVP tracer
            if quals & K.TRACER_TYPES:
                return TRUE
            if quals <= K.HOST_TYPES | K.CONTAINER_TYPES | K.INDEX_TYPES:
                return FALSE
        if v.traced and v.kind is Kind.TREE and not self.frame.weak and quals <= K.HOST_TYPES:
            # a transform's argument: a tracer or a container of them, never a Python or NumPy
            # number (jax-galsim's `isinstance(x, (int, float, np.integer, np.floating))`)
            return FALSE
        if v.kind is Kind.DEVICE and quals & {"jax.Array", "jax.numpy.ndarray"}:
            return TRUE  # a concrete JAX array (a constant, a closure) is a jax.Array too
        if not v.traced and v.kind is not Kind.UNKNOWN and quals <= K.TRACER_TYPES - {"jax.Array"}:
            return FALSE
        return out

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
            if name == "isinstance" and len(args) == 2:
                return self.isinstance_value(vals[0], args[1][1].value)
            if name == "type" and len(vals) == 1 and vals[0].traced and vals[0].kind is Kind.DEVICE:
                # an array under a trace is a Tracer: `type(x).__module__.startswith("jax")`
                # dispatches to the JAX path (xpcsjax's backend test)
                return Value(kind=Kind.EXT, ref=K.TRACER_CLASS)
            if (folded := _folded_cast(name, args)) is not None:
                # `self.check_residual = bool(check_residual)` of a literal argument: the
                # constant, so a flag set in a constructor still decides its `if`
                return folded
            if name == "len" or (name == "int" and reason is None):
                return INT
            if name == "float" and reason is None:
                return FLOAT
            return Value(
                kind=Kind.SCALAR, boolean=name in ("bool", "isinstance", "callable", "hasattr")
            )
        if name == "range":
            return Value(kind=Kind.LIST, elem=INT)
        if name == "enumerate" and vals:
            return Value(
                vals[0].reason,
                Kind.LIST,
                elem=Value(kind=Kind.TUPLE, elts=(SCALAR, self.element(vals[0], None))),
            )
        if name == "zip":
            # one element per iterable: `strict=True` is no iterable
            its = [v for v, a in args if a.keyword is None and not a.star]
            return Value(
                reason,
                Kind.LIST,
                elem=Value(reason, Kind.TUPLE, elts=tuple(self.element(v, None) for v in its)),
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
            attr_name = literal_str(args[1][1].value)
            if attr_name is not None and len(args) >= 3 and self.lacks(vals[0], attr_name):
                return vals[2]  # `getattr(grid, "screen", None)` of a class without `screen`
            if attr_name is not None:
                return self.attr(vals[0], attr_name, args[1][1].value)
            return Value(vals[0].reason)
        if name in ("min", "max", "sum", "abs", "round", "pow", "divmod"):
            if reason is not None:
                # numbers of arrays are arrays; of values not known to be arrays (items of
                # records, sizes), not known either
                parts = [*vals, *(self.element(v, None) for v in vals if v.kind is not Kind.DEVICE)]
                arrays = any(v.traced and (v.kind in ARRAYISH or v.boolean) for v in parts)
                return Value(reason, Kind.DEVICE if arrays else Kind.UNKNOWN)
            if vals and vals[0].kind is Kind.HOST:
                return Value(kind=Kind.HOST)
            given = [v for v, a in args if a.keyword is None]
            if name in ("min", "max", "abs") and given and all(map(is_int, given)):
                return INT
            return SCALAR
        if name in ("map", "filter"):
            if vals and vals[0].kind is Kind.EXT and K.returns_python_value(str(vals[0].ref)):
                return Value(kind=Kind.LIST, elem=SCALAR)  # map(jnp.size, leaves): Python ints
            if vals and vals[0].kind is Kind.FUNC:
                others = [(self.element(v, None), a) for v, a in args[1:]]
                res = self.call_function(vals[0].ref, others, node)
                return Value(res.reason, Kind.LIST, elem=res)
            return Value(reason, Kind.LIST)
        if name in ("any", "all"):
            # a Python bool: where an element is a tracer, any()/all() itself raises (JX302)
            if vals and vals[0].elts is not None and vals[0].kind is not Kind.DICT:
                known = [truth(e) for e in vals[0].elts]
                decided = name == "any"  # the element that decides
                if decided in known:
                    return constant(decided)
                if all(k is not None for k in known):
                    return constant(not decided)
            if name == "any" and vals and vals[0].nonempty and vals[0].elem is not None:
                # a Tracer guard over a traced tree's leaves: some element is known to pass
                return TRUE if truth(vals[0].elem) else Value(kind=Kind.SCALAR, boolean=True)
            return Value(kind=Kind.SCALAR, boolean=True)
        if name in ("dict",):
            if all(a.keyword is not None for _, a in args):
                # `dict(lon=..., sigma=...)`: its keys are known, as in a literal
                pairs = tuple((a.keyword.value, v) for v, a in args)  # type: ignore[union-attr]
                return Value(reason, Kind.DICT, pairs=pairs)
            return Value(reason, Kind.DICT)
        if name in ("next", "iter"):
            return self.element(vals[0], None) if vals and name == "next" else Value(reason)
        if name == "super":
            cls = self.frame.fn.cls if self.frame.fn is not None else None
            if cls is not None:
                me = self.frame.lookup("self")
                receiver = me if me is not None and me.kind is Kind.OBJECT else None
                for b in cls.bases:
                    if b.kind is Kind.CLASS:
                        # methods are looked up from the base, but run on the object itself
                        # (`self.forward_native(...)` in the base's `__call__` is this class's)
                        return Value(kind=Kind.OBJECT, ref=b.ref, elem=receiver)
            return STATIC
        if reason is not None:
            return Value(reason, Kind.UNKNOWN)
        return STATIC


# Bases that give an instance no attribute a project would look up by name.
PLAIN_BASES = frozenset({"builtins.object", "abc.ABC", "typing.Generic", "typing.Protocol"})


def filtered_only(values: Iterable[Value]) -> bool:
    """Whether some value is traced and every traced one is filtered (under an equinox filter
    transform, what is computed from such values keeps its Python values static)."""
    traced = [v for v in values if v.traced]
    return bool(traced) and all(v.filtered for v in traced)


def merged_pairs(
    pairs: tuple[tuple[str | None, Value], ...] | None, args: list[tuple[Value, cst.Arg]]
) -> tuple[tuple[str, Value], ...] | None:
    """Known keys updated by keyword arguments and mappings of known keys (``d.update(other)``,
    ``**other``); None where some key is not known."""
    if pairs is None or any(not isinstance(k, str) for k, _ in pairs):
        return None
    out: dict[str, Value] = dict(pairs)  # type: ignore[arg-type]
    for v, a in args:
        if a.keyword is not None:
            out[a.keyword.value] = v
        elif a.star in ("**", "") and v.kind is Kind.DICT and v.pairs is not None:
            if any(not isinstance(k, str) for k, _ in v.pairs):
                return None
            out.update(v.pairs)  # type: ignore[arg-type]
        else:
            return None
    return tuple(out.items())


def replaced(owner: Value, args: list[tuple[Value, cst.Arg]]) -> Value | None:
    """``obj.replace(field=v)`` (flax struct, chex), ``obj._replace`` (NamedTuple),
    ``dataclasses.replace(obj, ...)``: the same object with only the named fields changed, so a
    traced new field leaves the others as they were. None where the fields given are not known.

    A ``**mapping`` whose keys are not known names no field the analysis can see: it is taken to
    replace none (as an unknown ``**kw`` fills no parameter with a default), rather than to make
    every field one of its values."""
    args = [
        (v, a) for v, a in args if a.star != "**" or (v.kind is Kind.DICT and v.pairs is not None)
    ]
    info = owner.ref
    if owner.kind is Kind.UNKNOWN and not args:
        return owner
    if owner.kind is Kind.UNKNOWN and not owner.traced:
        # of a class not known (`surface: BoozerSurface | VmecSurface`): the fields named are
        # the values given, the others as they were (not traced)
        given = merged_pairs(owner.pairs or (), args)
        return Value(kind=Kind.UNKNOWN, pairs=given or None) if given is not None else None
    if owner.kind is not Kind.OBJECT or not isinstance(info, ClassInfo):
        return None
    if info.lookup_method("replace") is not None or info.lookup_method("_replace") is not None:
        return None  # its own replace: analysed as the function it is
    fields = {name for c in info.mro() for name in c.fields}
    merged = merged_pairs(owner.pairs or (), args)
    if not fields or merged is None or not {k for k, _ in merged} <= fields:
        return None
    return Value(owner.reason, Kind.OBJECT, ref=info, pairs=merged, filtered=owner.filtered)


def linen_method_args(
    info: ClassInfo, args: list[tuple[Value, cst.Arg]]
) -> tuple[FunctionInfo | None, list[tuple[Value, cst.Arg]]]:
    """The method a linen ``init``/``apply`` runs (``__call__``, or ``method=``) and the arguments
    it gets: all but the first positional one (the rngs or variables) and the linen options."""
    method = info.lookup_method("__call__")
    rest: list[tuple[Value, cst.Arg]] = []
    skipped_first = False
    for v, a in args:
        if a.keyword is None and a.star == "" and not skipped_first:
            skipped_first = True
        elif a.keyword is not None and a.keyword.value == "method":
            if v.kind is Kind.FUNC:
                method = v.ref.fn
            elif isinstance(a.value, cst.SimpleString) and isinstance(a.value.evaluated_value, str):
                method = info.lookup_method(a.value.evaluated_value)
            else:
                method = None
        elif a.keyword is None or a.keyword.value not in LINEN_OPTIONS:
            rest.append((v, a))
    return method, rest


def calls_super(node: cst.CSTNode) -> bool:
    """Whether a function's body calls ``super()``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "super":
            return True
        stack.extend(n.children)
    return False


def optional_inner(ann: cst.BaseExpression) -> cst.BaseExpression:
    """``X`` of an annotation ``X | None``, ``None | X`` or ``Optional[X]``; else the annotation."""
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        sides = [
            s for s in (ann.left, ann.right) if not (isinstance(s, cst.Name) and s.value == "None")
        ]
        if len(sides) == 1:
            return sides[0]
    if (
        isinstance(ann, cst.Subscript)
        and dotted(ann.value) in ("Optional", "typing.Optional")
        and len(ann.slice) == 1
        and isinstance(ann.slice[0].slice, cst.Index)
    ):
        return ann.slice[0].slice.value
    return ann


def too_many_args(
    fn: FunctionInfo, bound: tuple[Value, ...], args: list[tuple[Value, cst.Arg]]
) -> bool:
    """More positional arguments than the function takes (and no ``*args``): a TypeError."""
    if any(p.kind == "vararg" for p in fn.params) or any(a.star for _, a in args):
        return False
    given = len(bound) + sum(1 for _, a in args if a.keyword is None)
    return given > len(fn.positional)


def _folded_cast(name: str, args: list[tuple[Value, cst.Arg]]) -> Value | None:
    """``bool``/``int``/``float`` of one known Python number or bool: the converted constant."""
    if name not in ("bool", "int", "float") or len(args) != 1:
        return None
    v, a = args[0]
    c = v.const
    if v.traced or a.keyword is not None or a.star or type(c) not in (bool, int, float):
        return None
    try:
        return constant({"bool": bool, "int": int, "float": float}[name](c))
    except (OverflowError, ValueError):  # int(inf), int(nan): raised at run time
        return None


def _folded_str_method(owner: Value, name: str, args: list[tuple[Value, cst.Arg]]) -> Value | None:
    """A pure ``str`` method of a known string with known arguments: its result, so that
    ``if mode.startswith("eval"):`` or a backend test on a module name decides its branch."""
    if owner.kind is not Kind.STR or not isinstance(owner.const, str) or name not in K.STR_METHODS:
        return None
    pos = []
    for v, a in args:
        c = python_constant(v)
        if a.keyword is not None or a.star or c is UNSET:
            return None
        pos.append(c)
    try:
        out = getattr(owner.const, name)(*pos)
    except (TypeError, ValueError):
        return None
    return constant(out) if type(out) in (bool, int, str) else None


def literal_default(node: cst.BaseExpression) -> Value | None:
    """The Python value of a default written as a literal: a bool, None, a number, a string."""
    if isinstance(node, cst.Name):
        return {"True": TRUE, "False": FALSE, "None": NONE}.get(node.value)
    if (n := literal_int(node)) is not None:
        return constant(n)
    if (text := literal_str(node)) is not None:
        return constant(text)
    if isinstance(node, cst.Float):
        return constant(float(node.evaluated_value))
    return None


def reanchored(result: Value, first: Reason | None, mine: Reason | None) -> Value:
    """A summary reused at another call: its traced result explained by this call's arguments
    (or trace), not by the call that computed it (which may be another transform's site)."""
    if (
        not result.traced
        or mine is None
        or first is None
        or mine is first
        or type(result.reason) is not tuple
        or type(mine) is not tuple
        or result.reason[: len(first)] != first
    ):
        return result
    return result.with_reason((*mine, *result.reason[len(first) :]))

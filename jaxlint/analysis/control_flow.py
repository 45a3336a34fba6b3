"""Control-flow primitives (``lax.scan``, ``fori_loop``, ``while_loop``, ``cond``, ``switch``,
``map``): their functions run at the call, on the carry and operands given there, so the body sees
the kinds of what is passed (a tuple carry, an env-state object) and the call's result has the
kinds of what the body returns (``carry, ys = lax.scan(...)``; ``traj.done`` a stacked mask).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis.values import NONE, Kind, Reason, Value, join

if TYPE_CHECKING:
    from jaxlint.analysis.interpreter import Interpreter

Args = list[tuple[Value, cst.Arg]]

CONTROL_FLOW = frozenset(
    {
        "jax.lax.scan",
        "jax.lax.fori_loop",
        "jax.lax.while_loop",
        "jax.lax.cond",
        "jax.lax.switch",
        "jax.lax.map",
    }
)


# rematerialisation wrappers: the same function, traced where it is called
REMAT = frozenset({"jax.checkpoint", "jax.remat", "flax.linen.remat", "flax.linen.checkpoint"})


class ControlFlow:
    """Mixin of :class:`Interpreter`."""

    def control_flow(self: Interpreter, qual: str, args: Args, node: cst.Call) -> Value | None:
        """The result of a control-flow primitive whose functions are the project's, run now;
        None where the call's form is not understood (the generic site handling applies)."""
        pos = [(v, a) for v, a in args if a.keyword is None and a.star == ""]
        if any(a.star for _, a in args):
            return None
        if qual != "jax.lax.while_loop":
            self.project.record_site_names(node, self.frame.lookup)
        kw = {a.keyword.value: (v, a) for v, a in args if a.keyword is not None}
        # an operand (or the predicate, the index) that is traced makes the outputs traced
        fed = any(v.traced for v, _ in args)

        def arg(i: int, name: str) -> tuple[Value, cst.Arg] | None:
            return pos[i] if i < len(pos) else kw.get(name)

        if qual == "jax.lax.scan":
            f, init, xs = arg(0, "f"), arg(1, "init"), arg(2, "xs")
            if f is None or init is None:
                return None
            x = (leading_slice(xs[0]), xs[1]) if xs is not None else (NONE, init[1])
            out = self.run_body(qual, fed, f, [init, x], node)
            if out is None:
                return None
            if out.kind is Kind.TUPLE and out.elts is not None and len(out.elts) == 2:
                return Value(out.reason, Kind.TUPLE, elts=(out.elts[0], stacked(out.elts[1])))
            return Value(out.reason, Kind.TUPLE)
        if qual == "jax.lax.fori_loop":
            lo, body, init = arg(0, "lower"), arg(2, "body_fun"), arg(3, "init_val")
            if lo is None or body is None or init is None:
                return None
            index = (Value(kind=Kind.DEVICE), lo[1])
            return self.run_body(qual, fed, body, [index, init], node)
        if qual == "jax.lax.while_loop":
            cond, body, init = arg(0, "cond_fun"), arg(1, "body_fun"), arg(2, "init_val")
            if cond is None or body is None or init is None:
                return None
            self.run_body(qual, fed, cond, [init], node)
            return self.run_body(qual, fed, body, [init], node)
        if qual in ("jax.lax.cond", "jax.lax.switch"):
            if qual == "jax.lax.cond":
                fns = [p for p in (arg(1, "true_fun"), arg(2, "false_fun")) if p is not None]
                if len(fns) != 2:
                    return None
            else:
                branches = arg(1, "branches")
                if branches is None or branches[0].elts is None:
                    return None
                fns = [(e, branches[1]) for e in branches[0].elts]
            operands = pos[len(fns) + 1 if qual == "jax.lax.cond" else 2 :]
            result: Value | None = None
            for fn in fns:
                out = self.run_body(qual, fed, fn, operands, node)
                if out is None:
                    return None
                result = out if result is None else join(result, out)
            return result
        if qual == "jax.lax.map":
            f, xs = arg(0, "f"), arg(1, "xs")
            if f is None or xs is None:
                return None
            out = self.run_body(qual, fed, f, [(leading_slice(xs[0]), xs[1])], node)
            return stacked(out) if out is not None else None
        return None

    def run_body(
        self: Interpreter,
        qual: str,
        fed: bool,
        fn: tuple[Value, cst.Arg],
        args: Args,
        node: cst.Call,
    ) -> Value | None:
        fv = unwrapped_body(fn[0])
        if fv.kind is not Kind.FUNC:
            return None
        t = self.apply_transform(qual, fv, [], node).ref
        self.called.add(id(t.target.fn.node))
        out = self.call_function(t.target, args, node, transformed=t)
        closure = t.target.closure
        if self.frame.traced and (
            self.frame.staged or fed or (closure is not None and closure.holds_traced())
        ):
            return outputs(out, self.frame.in_trace)
        # run from Python, or on concrete operands inside a transform that does not stage them
        # (a `vmap` over something else): concrete arrays of the kinds the body returns
        return retrace(out, None)


def unwrapped_body(fv: Value) -> Value:
    """The function a body given as ``jax.checkpoint(body)`` (or ``jax.checkpoint(body) if
    remat else body``) runs: the body runs at the call, with the closure's values there (not
    those the enclosing function ends with)."""
    if isinstance(fv.ref, tuple) and len(fv.ref) == 4 and fv.ref[0] == "alts":
        a, b = unwrapped_body(fv.ref[2]), unwrapped_body(fv.ref[3])
        same = a.kind is b.kind is Kind.FUNC and a.ref.fn is b.ref.fn
        return a if same and a.ref.bound == b.ref.bound else fv
    if (
        fv.kind is Kind.TRANSFORMED
        and fv.ref.qual in REMAT
        and not fv.ref.static
        and not fv.ref.partial_args
    ):
        return Value(kind=Kind.FUNC, ref=fv.ref.target)
    return fv


def leading_slice(v: Value) -> Value:
    """One step of what a scan or map iterates over: the same structure, one row of each array."""
    if v.kind is Kind.HOST:
        return Value(v.reason, Kind.DEVICE)
    if v.elts is not None:
        return Value(v.reason, v.kind, elts=tuple(leading_slice(e) for e in v.elts))
    if v.pairs is not None:
        return Value(v.reason, v.kind, pairs=tuple((k, leading_slice(e)) for k, e in v.pairs))
    return v


def stacked(v: Value) -> Value:
    """What a scan or map stacks from the body's outputs: the same structure and kinds."""
    if v.kind in (Kind.SCALAR, Kind.HOST):
        return Value(v.reason, Kind.DEVICE, v.boolean)
    if v.elts is not None:
        return Value(v.reason, v.kind, elts=tuple(stacked(e) for e in v.elts))
    return v


def outputs(v: Value, reason: Reason | None) -> Value:
    """What a transformed function returns to traced code: every number and array leaf of its
    result is a tracer there (``bool(done)`` inside ``vmap(step)`` comes out a boolean array)."""
    if (v.traced and v.elts is None) or reason is None:
        return v
    if v.elts is not None:
        elts = tuple(outputs(e, reason) for e in v.elts)
        return Value(v.reason or reason, v.kind, v.boolean, v.ref, elts, v.elem, v.pairs)
    if v.kind in (Kind.SCALAR, Kind.HOST, Kind.DEVICE):
        return Value(reason, Kind.DEVICE, v.boolean)
    if v.kind is Kind.OBJECT:
        return Value(reason, Kind.OBJECT, ref=v.ref)
    return v


def retrace(v: Value, reason: Reason | None) -> Value:
    """The value with every part's reason replaced (None: a concrete result)."""
    elts = tuple(retrace(e, reason) for e in v.elts) if v.elts is not None else None
    pairs = tuple((k, retrace(e, reason)) for k, e in v.pairs) if v.pairs is not None else None
    kind = Kind.DEVICE if reason is None and v.kind is Kind.TREE else v.kind
    return Value(reason, kind, v.boolean, v.ref, elts, None, pairs)

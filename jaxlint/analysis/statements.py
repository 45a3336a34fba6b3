"""Statements, bindings, imports and class bodies: how names get their values."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from jaxlint.analysis import knowledge as K
from jaxlint.analysis.frames import NARROWED, Frame, anchor
from jaxlint.analysis.knowledge import canonical
from jaxlint.analysis.libraries import library_definition
from jaxlint.analysis.model import ClassInfo, FuncRef, FunctionInfo, Param
from jaxlint.analysis.syntax import (
    atomic_tests,
    code,
    dotted,
    fills_cache,
    is_main_guard,
    literal_str,
    none_test_of_name,
    param_annotation,
    pattern_names,
    rank_test,
    root_names,
    self_attribute,
    self_setattr,
    suite_body,
    tested_subject,
)
from jaxlint.analysis.values import (
    FALSE,
    NONE,
    SCALAR,
    STATIC,
    UNSET,
    Kind,
    Text,
    Value,
    annotation_kind,
    extend,
    join,
    truth,
)

if TYPE_CHECKING:
    from jaxlint.analysis.interpreter import Interpreter


# jax_dataclasses' `Static[T]` (an `Annotated` marker): the field is static, not a leaf.
STATIC_ANNOTATION = re.compile(r"^(?:[\w.]*\.)?Static\[")


# Attributes every array (NumPy or JAX, traced or not) has and Python numbers, lists and tuples
# lack: where `hasattr(x, name)` fails, x is no array, so no tracer.
ARRAY_ONLY_ATTRS = frozenset({"shape", "ndim", "dtype", "astype", "reshape", "__array__"})


class Statements:
    """Mixin of :class:`Interpreter`."""

    def function_info(
        self, node: cst.FunctionDef | cst.Lambda, cls: ClassInfo | None, qualprefix: str
    ) -> FunctionInfo:
        info = self.functions.get(id(node))
        if info is not None:
            return info
        params: list[Param] = []
        p = node.params
        for prm in (*p.posonly_params, *p.params):
            params.append(Param(prm.name.value, "pos", param_annotation(prm), prm.default))
        if isinstance(p.star_arg, cst.Param):
            params.append(
                Param(p.star_arg.name.value, "vararg", param_annotation(p.star_arg), None)
            )
        for prm in p.kwonly_params:
            params.append(Param(prm.name.value, "kwonly", param_annotation(prm), prm.default))
        if p.star_kwarg is not None:
            params.append(
                Param(p.star_kwarg.name.value, "varkw", param_annotation(p.star_kwarg), None)
            )
        name = node.name.value if isinstance(node, cst.FunctionDef) else "<lambda>"
        is_static = is_cm = is_property = is_cached = False
        if isinstance(node, cst.FunctionDef):
            for d in node.decorators:
                dn = dotted(d.decorator)
                is_static |= dn == "staticmethod"
                is_cm |= dn == "classmethod"
                is_cached |= self._lookup_qual(d.decorator) == "functools.cached_property"
                is_property |= dn == "property" or is_cached
        info = FunctionInfo(
            node,
            self.frame.module,
            name,
            f"{qualprefix}{name}",
            tuple(params),
            cls,
            is_static,
            is_cm,
            is_property,
            is_cached,
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
            for stmt in suite_body(node.body):
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
                    ann = code(small.annotation.annotation)
                    info.field_annotations[fname] = ann
                    kind = annotation_kind(ann)
                    if kind is not None:
                        info.field_kinds[fname] = kind
                    elif self.library_class(small.annotation.annotation):
                        self.project.object_annotations.add(ann.replace(" ", ""))
                    if small.value is not None:
                        if is_static_field(self, small.value):
                            info.static_fields.add(fname)
                        else:
                            v = self.ev(small.value)
                            info.attrs[fname] = v
                    if "ClassVar" in ann or "StaticField" in ann or STATIC_ANNOTATION.match(ann):
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
            if value.kind is not Kind.TRANSFORMED:
                # a transformed function's body only ever runs traced
                self.pending_untraced.append(FuncRef(fn, self.frame.parent))
        elif isinstance(stmt, cst.ClassDef):
            info.attrs[stmt.name.value] = self.class_def(stmt)
        else:
            self.exec_stmt(stmt)

    def library_class(self, ann: cst.BaseExpression) -> bool:
        """An annotation naming a class of an installed library other than JAX's and NumPy's
        (flax's ``DynamicScale``, ``FrozenDict``): an object, whose truth is Python's, not an
        array leaf."""
        qual = self._lookup_qual(ann)
        if qual is None or qual.split(".")[0] in K.ARRAY_TYPE_LIBRARIES:
            return False
        paths = tuple(map(str, self.project.libraries.paths))
        return isinstance(library_definition(paths, qual), ast.ClassDef)

    # ------------------------------------------------------------------ statements

    def exec_block(self, body: Sequence[cst.CSTNode]) -> None:
        f = self.frame
        for i, stmt in enumerate(body):
            if f.dead:
                break
            # past `if any(isinstance(v, Tracer) for v in (a, b)): return`, with a or b traced:
            # the rest is the eager path of code that checks (jno's convergence report), which
            # never runs under the trace, nor do its returns (sfincs' `_converged_flag`)
            guard = (
                f.traced
                and isinstance(stmt, cst.If)
                and stmt.orelse is None
                and exits(suite_body(stmt.body))
                and self.denies_tracer(stmt.test, positive=False)
            )
            self.exec_stmt(stmt)
            if guard:
                break
            if f.traced and fills_cache(stmt, body[i + 1 :]):
                # `if key in self.ids: return` then `self.ids[key] = ...`: jaxtari's palette
                # fills the cache in __init__, so under a trace only the hit path is sure to run
                break
        f.dead = False

    def exec_stmt(self, stmt: cst.CSTNode) -> None:
        f = self.frame
        if isinstance(stmt, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in stmt.body:
                self.exec_small(small)
        elif (
            isinstance(stmt, cst.If) and f.fn is None and f.cls is None and is_main_guard(stmt.test)
        ):
            # `if __name__ == "__main__":` runs after every import and class is known
            self.main_blocks.append((f, stmt))
        elif isinstance(stmt, cst.If):
            known = truth(self.ev(stmt.test))
            if known is None:
                known = self.assumed_truth(stmt.test)
            before = dict(f.env)
            if known is True:
                self.narrow(stmt.test)
                with self.holding(stmt.test, True):
                    self.exec_block(suite_body(stmt.body))
                leaves = exits(suite_body(stmt.body))
            elif known is False:
                # Python never runs the body (a flag passed as False, `if not isinstance(t, Tracer)`)
                self.narrow(stmt.test, positive=False)
                with self.holding(stmt.test, False):
                    if isinstance(stmt.orelse, cst.If):
                        self.exec_stmt(stmt.orelse)
                    elif isinstance(stmt.orelse, cst.Else):
                        self.exec_block(suite_body(stmt.orelse.body))
                leaves = stmt.orelse is not None and exits([stmt.orelse])
            else:
                leaves = self.branches(stmt.body, stmt.orelse, stmt.test)
                if stmt.orelse is None and exits(suite_body(stmt.body)):
                    # past `if a and b: raise ...`, a and b do not both hold
                    parts = conjuncts(stmt.test)
                    if len(parts) > 1:
                        f.excluded.append(parts)
            # after the branches, so that a fix reads the kinds of the values they assign or
            # return, with the names bound as they were at the `if`
            after, f.env = f.env, before
            self.hook("If", stmt)
            f.env = after
            # every path Python takes returns or raises: nothing after the `if` runs
            # (`if nbrs is None: return allocate(...)` with nbrs known to be None)
            f.dead = leaves
        elif isinstance(stmt, cst.For):
            it = self.ev(stmt.iter)
            elem = self.element(it, stmt.iter)
            before = dict(f.env)
            for _ in range(2):
                self.bind(stmt.target, elem)
                self.exec_block(suite_body(stmt.body))
            self.merge_into(before)
            if stmt.orelse is not None:
                self.exec_block(suite_body(stmt.orelse.body))
        elif isinstance(stmt, cst.While):
            before = dict(f.env)
            for _ in range(2):
                self.ev(stmt.test)
                self.hook("While", stmt)
                self.exec_block(suite_body(stmt.body))
            self.merge_into(before)
            if stmt.orelse is not None:
                self.exec_block(suite_body(stmt.orelse.body))
        elif isinstance(stmt, cst.With):
            eager = False
            for item in stmt.items:
                v = self.ev(item.item)
                if item.asname is not None:
                    self.bind(item.asname.name, v)
                call = item.item
                eager |= (
                    isinstance(call, cst.Call)
                    and self._lookup_qual(call.func) in K.COMPILE_TIME_EVAL
                )
            # `with jax.ensure_compile_time_eval():` JAX runs operations on concrete values
            # eagerly: what is computed there from static values is concrete, not staged out
            staged = f.staged
            if eager:
                f.staged = False
            try:
                self.exec_block(suite_body(stmt.body))
            finally:
                f.staged = staged
        elif isinstance(stmt, cst.Try | cst.TryStar):
            f.caught.append(caught_names(stmt, f.module.tree))
            before = f.suppressed
            try:
                self.exec_block(suite_body(stmt.body))
            finally:
                f.caught.pop()
            # the traced path raised in the body and the handler leaves: nothing after it runs
            raised = f.traced and f.suppressed > before
            leaves = raised and all(ends_flow(h) for h in stmt.handlers)
            for h in stmt.handlers:
                if h.name is not None:
                    self.bind(h.name.name, STATIC)
                self.exec_block(suite_body(h.body))
            if stmt.orelse is not None and not raised:
                # `try: rr = float(r)` / `except Exception: <traced path>` / `else: <eager>`:
                # under the trace the body raises, so its `else` never runs (zoomy-jax)
                self.exec_block(suite_body(stmt.orelse.body))
            if stmt.finalbody is not None:
                self.exec_block(suite_body(stmt.finalbody.body))
            f.dead = leaves
        elif isinstance(stmt, cst.FunctionDef):
            prefix = f.fn.qualname + ".<locals>." if f.fn else ""
            fn = self.function_info(stmt, None, prefix)
            ref = FuncRef(fn, f if f.fn is not None else None)
            f.env[fn.name] = self.decorate(stmt, Value(kind=Kind.FUNC, ref=ref))
            if not f.traced and f.env[fn.name].kind is not Kind.TRANSFORMED:
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
                self.exec_block(suite_body(case.body))
            self.merge_into(before)

    def narrow(
        self, test: cst.BaseExpression, positive: bool = True, conjunct: bool = False
    ) -> None:
        """Where ``isinstance(x, int)`` (float, str, ``np.ndarray``, ``numbers.Number``...) holds, x is
        a host value: static. Where ``isinstance(x, jax.core.Tracer)`` does not hold, x is concrete."""
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, positive = test.expression, not positive
        if isinstance(test, cst.BooleanOperation) and positive == isinstance(
            test.operator, cst.And
        ):
            # both hold where `a and b` holds; neither where `a or b` does not (only the
            # project-class test is taken from a conjunct so far)
            self.narrow(test.left, positive, conjunct=True)
            self.narrow(test.right, positive, conjunct=True)
            return
        if (
            not positive
            and not conjunct
            and isinstance(test, cst.Call)
            and dotted(test.func) == "hasattr"
            and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name)
            and literal_str(test.args[1].value) in ARRAY_ONLY_ATTRS
        ):
            # no `.shape`: not an array, so no tracer (`if hasattr(s, "shape"): s = s.shape`)
            name = test.args[0].value.value
            v = self.frame.lookup(name)
            if v is not None and v.traced:
                self.frame.env[name] = Value(kind=Kind.UNKNOWN)
            return
        if isinstance(test, cst.Name):
            self.pick_flagged(test.value, positive)
        if isinstance(test, cst.Name) and test.value in self.frame.tests:
            self.narrow(self.frame.tests[test.value], positive, conjunct)
            return
        if not positive and not conjunct and isinstance(test, cst.Name):
            v = self.frame.lookup(test.value)
            if v is not None and not v.traced and v.kind is Kind.SCALAR and v.const is UNSET:
                # past `if verbose:`, a Python flag is false (qpax runs its loop body eagerly
                # under `if verbose:` and through lax.while_loop only in the other branch)
                self.frame.env[test.value] = FALSE
            return
        if self.narrow_not_tracer(test, positive) or (conjunct and not positive):
            # "not a Tracer" holds in a conjunct too (`disable_jit and not isinstance(p, Tracer)`)
            return
        if none_test_of_name(test):
            assert isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name)
            # `x is None` holds: x is None; it does not: x is not None (its other facts stay)
            name = test.left.value
            v = self.frame.lookup(name)
            if v is not None and v.kind is not Kind.NONE:
                if positive == isinstance(test.comparisons[0].operator, cst.Is):
                    narrowed = NONE if not v.traced else None
                else:
                    narrowed = dataclasses.replace(v, notnone=True)
                if narrowed is not None:
                    # and every name bound to the same value (`nbrs = neighbors`)
                    env = self.frame.env
                    for alias in [n for n, a in env.items() if a is v and n != name]:
                        env[alias] = narrowed
                    env[name] = narrowed
            return
        if not (
            isinstance(test, cst.Call) and dotted(test.func) == "isinstance" and len(test.args) == 2
        ):
            return
        subject = test.args[0].value
        if positive and self_attribute(subject):
            self.narrow_self_attribute(subject, test.args[1].value)  # type: ignore[arg-type]
            return
        if not isinstance(subject, cst.Name):
            return
        name = subject.value
        if positive and (classes := self.project_classes(test.args[1].value)):
            # an instance of a class of the project: that object (or one of them), not an array
            v = self.frame.lookup(name)
            if v is not None and v.kind is not Kind.OBJECT:
                kind, ref = (Kind.OBJECT, classes[0]) if len(classes) == 1 else (Kind.UNKNOWN, None)
                self.frame.env[name] = Value(v.reason, kind, ref=ref, filtered=v.filtered)
            return
        if conjunct:
            return
        quals = self.type_quals(test.args[1].value)
        if not quals:
            return
        if positive and quals <= K.HOST_TYPES:
            host = quals <= K.NUMPY_ARRAY_TYPES
            self.frame.env[name] = Value(kind=Kind.HOST) if host else SCALAR

    def narrow_self_attribute(self, subject: cst.Attribute, types: cst.BaseExpression) -> None:
        """``isinstance(self.method, Spielman)`` holds: ``self.method`` is that subclass's object
        in the branch (jaxscape reads the subclass's static fields there)."""
        classes = self.project_classes(types)
        me = self.frame.lookup("self")
        if len(classes) != 1 or me is None or me.kind is not Kind.OBJECT:
            return
        self.frame.env[NARROWED + subject.attr.value] = Value(
            me.reason, Kind.OBJECT, ref=classes[0], filtered=me.filtered
        )

    @contextlib.contextmanager
    def holding(self, test: cst.BaseExpression | None, positive: bool) -> Iterator[None]:
        """Where a test of module-level names holds (``if "DEBUG" in os.environ:``, a false
        ``NO_JIT or DEBUG``): a transform applied there traces under it."""
        f = self.frame
        added = atomic_tests(test, positive) if test is not None else []
        f.conditions.extend(added)
        try:
            yield
        finally:
            del f.conditions[len(f.conditions) - len(added) :]

    def held_conditions(self) -> list[tuple[str, bool]]:
        """The tests of module-level names that hold here, as (source, truth): read only where a
        transform is applied, not at every branch."""
        return [(self.code(t), p) for t, p in self.frame.conditions if self.global_test(t)]

    def global_test(self, test: cst.BaseExpression) -> bool:
        """A test of module-level names only: the same wherever the module's code reads it."""
        roots = root_names(test)
        f: Frame | None = self.frame
        while f is not None:
            if f.fn is not None and roots & f.env.keys():
                return False
            f = f.parent
        return bool(roots)

    def assumed_truth(self, test: cst.BaseExpression) -> bool | None:
        """Under a trace started by a transform applied where a test of module-level names held
        (bqskit's `if "NO_JIT" in os.environ or "PRINT_LOSS" in os.environ: f else jit(f)`),
        the same test in the same module has that truth (`if "PRINT_LOSS" in os.environ:`)."""
        f = self.frame
        if not f.traced or not f.in_trace:
            return None
        at = f.in_trace[0][1]
        if at is None or at[0] is not f.module:
            return None
        held = self.project.site_conditions.get(id(at[1]))
        if held is None or held[0] is not at[1]:
            return None
        return held[1].get(self.code(test))

    def narrow_not_tracer(self, test: cst.BaseExpression, positive: bool) -> bool:
        """Where a test a tracer cannot pass holds (``not isinstance(x, jax.Array |
        np.ndarray)``, a project's ``not is_tracer(x)``), x is concrete. Whether the test is one."""
        if not isinstance(test, cst.Call) or not isinstance(test.func, cst.Name):
            return False
        if test.func.value == "isinstance":
            tested = self.tracer_test_of(test)
            if tested is None or positive:
                return False
            names = [tested]
        else:
            inner = self.tracer_predicate(test)
            if inner is None:
                return False
            names, _, negated = inner
            if positive != negated:
                return True
        for name in names:
            self.make_concrete(name)
        return True

    def denies_tracer(self, test: cst.BaseExpression, positive: bool = True) -> bool:
        """Whether ``test`` holding (failing, ``positive=False``) says that a traced value is no
        Tracer (``not isinstance(x, Tracer)``, ``not any(isinstance(v, Tracer) for v in (a, b))``,
        a project's ``not is_tracer(x)``): JAX takes that path only with concrete values, so it
        is the eager path of code that checks, and nothing found there is reported."""
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, positive = test.expression, not positive
        if isinstance(test, cst.BooleanOperation):
            if positive != isinstance(test.operator, cst.And):
                return False
            return self.denies_tracer(test.left, positive) or self.denies_tracer(
                test.right, positive
            )
        if isinstance(test, cst.Name) and test.value in self.frame.tests:
            return self.denies_tracer(self.frame.tests[test.value], positive)
        if not isinstance(test, cst.Call) or not isinstance(test.func, cst.Name):
            return False
        names: list[cst.BaseExpression] = []
        if test.func.value == "any" and len(test.args) == 1 and not positive:
            gen = test.args[0].value
            if (
                isinstance(gen, cst.GeneratorExp | cst.ListComp)
                and isinstance(gen.elt, cst.Call)
                and gen.for_in.inner_for_in is None
                and isinstance(gen.for_in.target, cst.Name)
                and isinstance(gen.for_in.iter, cst.Tuple | cst.List)
                and self.tracer_test_of(gen.elt) == gen.for_in.target.value
            ):
                names = [e.value for e in gen.for_in.iter.elements]
        elif test.func.value == "isinstance":
            if not positive and self.tracer_test_of(test):
                names = [test.args[0].value]
        elif (inner := self.tracer_predicate(test)) and positive == inner[2]:
            names = [cst.Name(n) for n in inner[0]]
        values = [self.frame.lookup(n.value) for n in names if isinstance(n, cst.Name)]
        return self.frame.traced and any(v is not None and v.traced for v in values)

    def tracer_test_of(self, test: cst.Call) -> str | None:
        """The name that ``isinstance(name, jax.core.Tracer)`` tests."""
        if (
            isinstance(test.func, cst.Name)
            and test.func.value == "isinstance"
            and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name)
            and self.type_quals(test.args[1].value) & K.TRACER_TYPES
        ):
            return test.args[0].value.value
        return None

    def make_concrete(self, name: str) -> None:
        """Past a test that a tracer cannot pass, the name holds a concrete value of the same
        kind and structure."""
        v = self.frame.lookup(name)
        if v is not None and v.traced:
            self.frame.env[name] = Value(kind=v.kind, ref=v.ref, elts=v.elts, pairs=v.pairs)

    def tracer_predicate(self, test: cst.Call) -> tuple[list[str], frozenset[str], bool] | None:
        """``not_jax_tracer(x)``: a project function whose body returns ``[not] isinstance(p,
        Tracer)`` of a parameter, called on a name, or ``any(isinstance(v, Tracer) for v in
        args)`` of its ``*args``, called on names: (the names, the types, negated). Where the
        test (not negated) fails, none of the names holds a tracer."""
        fv = self.frame.lookup(test.func.value)  # type: ignore[attr-defined]
        if fv is None or fv.kind is not Kind.FUNC or fv.ref.bound:
            return None
        fn = fv.ref.fn
        if not isinstance(fn.node, cst.FunctionDef) or fn.module.frame is None:
            return None
        body = [
            st
            for st in suite_body(fn.node.body)
            if not (
                isinstance(st, cst.SimpleStatementLine)
                and isinstance(st.body[0], cst.Expr)
                and isinstance(st.body[0].value, cst.SimpleString | cst.ConcatenatedString)
            )
        ]
        if len(body) != 1 or not isinstance(
            body[0], cst.SimpleStatementLine | cst.SimpleStatementSuite
        ):
            return None
        ret = body[0].body[0]
        if not isinstance(ret, cst.Return) or ret.value is None:
            return None
        expr, negated = ret.value, False
        while isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            expr, negated = expr.expression, not negated
        star = any_of_star_args(expr, fn)
        if star is not None:
            if not test.args or any(
                a.keyword is not None or a.star or not isinstance(a.value, cst.Name)
                for a in test.args
            ):
                return None
            with self.in_frame(fn.module.frame):
                quals = self.type_quals(star.args[1].value)
            if not quals or not quals <= K.TRACER_TYPES:
                return None
            return [a.value.value for a in test.args], quals, negated  # type: ignore[attr-defined]
        if not (
            isinstance(expr, cst.Call)
            and dotted(expr.func) == "isinstance"
            and len(expr.args) == 2
            and isinstance(expr.args[0].value, cst.Name)
        ):
            return None
        params = [p.name for p in fn.positional]
        pname = expr.args[0].value.value
        if pname not in params or params.index(pname) >= len(test.args):
            return None
        arg = test.args[params.index(pname)]
        if arg.keyword is not None or arg.star or not isinstance(arg.value, cst.Name):
            return None
        with self.in_frame(fn.module.frame):
            quals = self.type_quals(expr.args[1].value)
        if not quals or not quals <= K.TRACER_TYPES:
            return None
        return [arg.value.value], quals, negated

    def project_classes(self, node: cst.BaseExpression) -> list[ClassInfo]:
        """The project classes an ``isinstance`` second argument names (empty unless all are)."""
        elements = node.elements if isinstance(node, cst.Tuple) else [node]
        out = []
        for e in elements:
            expr = e.value if isinstance(e, cst.Element) else e
            if not isinstance(expr, cst.Name | cst.Attribute):
                return []
            v = self._lookup_quiet(expr)
            if v is None or v.kind is not Kind.CLASS:
                return []
            out.append(v.ref)
        return out

    def type_quals(self, node: cst.BaseExpression) -> frozenset[str]:
        """Qualified names of the classes an ``isinstance`` second argument names (empty if any
        is unknown)."""
        elements = node.elements if isinstance(node, cst.Tuple) else union_members(node)
        out = set()
        for e in elements:
            expr = e.value if isinstance(e, cst.Element) else e
            qual = self._lookup_qual(expr)
            named = self._lookup_quiet(expr) if qual is None else None
            if named is not None and named.kind is Kind.TUPLE and named.elts:
                # a project constant naming the classes: `SCALAR_TYPES = (float, int)`
                quals = [x.ref for x in named.elts if x.kind is Kind.EXT]
                if len(quals) != len(named.elts):
                    return frozenset()
                out.update(quals)
                continue
            if qual is None:
                name = dotted(expr)
                if name is None or "." in name or self.frame.lookup(name) is not None:
                    return frozenset()
                qual = f"builtins.{name}"
            out.add(qual)
        return frozenset(out)

    def scalar_path(self, test: cst.BaseExpression | None) -> bool | None:
        """For an ``if`` on the rank of a traced value (``x.ndim == 0``, or a name bound to such a
        test): whether its body (True) or its other branch (False) is the 0-d path."""
        if test is None:
            return None
        rank = rank_test(test)
        if rank is None and isinstance(test, cst.Name):
            tv = self.frame.lookup(test.value)
            if tv is not None and isinstance(tv.ref, tuple) and tv.ref[:1] == ("rank",):
                rank = tv.ref[1], tv.ref[2]
        if rank is None:
            return None
        v = self.frame.lookup(rank[0])
        return rank[1] if v is not None and v.traced else None

    def implied_scalar_path(self, test: cst.BaseExpression) -> bool | None:
        """True where the body of `if test:` is a 0-d path by an earlier guard: past `if
        is_variable and method == "dense": raise`, `if method == "dense":` runs only with
        `is_variable` False (dinosaur's `get_geopotential_diff_hybrid`)."""
        if not self.frame.excluded:
            return None
        text = self.code(test)
        for parts in self.frame.excluded:
            if text not in (self.code(p) for p in parts):
                continue
            for other in parts:
                if self.code(other) != text and self.scalar_path(other) is False:
                    return True
        return None

    @contextlib.contextmanager
    def unsure(self, flag: bool) -> Iterator[None]:
        """The 0-d path of a function that takes arrays and numbers (`if x.ndim == 0: return 1
        if x == 0 else x`) is written for Python and NumPy scalars; a traced value of unknown rank
        may never take it, so nothing found there (or in what it calls) is reported."""
        f = self.frame
        f.unsure += flag
        try:
            yield
        finally:
            f.unsure -= flag

    def branches(
        self,
        body: cst.BaseSuite,
        orelse: cst.If | cst.Else | None,
        test: cst.BaseExpression | None = None,
    ) -> bool:
        """Both paths of an ``if`` Python may take; what runs after it sees the names as the
        paths that do not return or raise leave them. True where both return or raise."""
        f = self.frame
        before = dict(f.env)
        scalar = self.scalar_path(test)
        if scalar is None and test is not None:
            scalar = self.implied_scalar_path(test)
        eager = test is not None and self.denies_tracer(test)
        eager_else = test is not None and self.denies_tracer(test, positive=False)
        if test is not None:
            self.narrow(test)
        with self.unsure(scalar is True or eager), self.holding(test, True):
            self.exec_block(suite_body(body))
        after_body = f.env
        f.env = dict(before)
        if test is not None:
            self.narrow(test, positive=False)
        with self.unsure(scalar is False or eager_else), self.holding(test, False):
            if isinstance(orelse, cst.If):
                self.exec_stmt(orelse)
            elif isinstance(orelse, cst.Else):
                self.exec_block(suite_body(orelse.body))
        after_else = f.env
        body_exits = exits(suite_body(body))
        else_exits = orelse is not None and exits([orelse])
        if body_exits and not else_exits:
            # `if x is None: return ...`: after it, x is not None
            return False
        if else_exits and not body_exits:
            f.env = after_body
            return False
        merged = dict(after_else)
        for k, v in after_body.items():
            if k in after_else:
                merged[k] = join(v, after_else[k])
            elif not k.startswith(NARROWED):
                merged[k] = v
        for k in set(after_else) - set(after_body):
            if k.startswith(NARROWED):
                del merged[k]  # what a test told holds in its branch only
        f.env = merged
        self.record_flagged(test, after_body, after_else)
        return body_exits and else_exits

    def record_flagged(
        self,
        test: cst.BaseExpression | None,
        after_body: dict[str, Value],
        after_else: dict[str, Value],
    ) -> None:
        """Past ``if flag:`` (``if not flag:``) with a name bound on both paths, keep each path's
        value for a later test of the same flag."""
        positive = True
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, positive = test.expression, not positive
        if not isinstance(test, cst.Name):
            return
        env = self.frame.env
        paths = {
            k: (env[k], *((v, after_else[k]) if positive else (after_else[k], v)))
            for k, v in after_body.items()
            if k in after_else and v is not after_else[k] and not k.startswith(NARROWED)
        }
        if paths:
            self.frame.flagged[test.value] = (env.get(test.value), paths)  # type: ignore[assignment]

    def pick_flagged(self, flag: str, holds: bool) -> None:
        """Where ``flag`` is known to hold (or not), names bound under an earlier test of it
        that still hold the join take that path's value."""
        entry = self.frame.flagged.get(flag)
        if entry is None or self.frame.env.get(flag) is not entry[0]:
            return
        env = self.frame.env
        for k, (joined, if_true, if_false) in entry[1].items():
            if env.get(k) is joined:
                env[k] = if_true if holds else if_false

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
            set_ = self_setattr(s)
            if set_ is not None and set_[0] is not None:
                self.store_self(set_[0], self.ev(set_[1]), set_[1])
                return
            self.ev(s.value)
            call = s.value
            if (
                isinstance(call, cst.Call)
                and len(call.args) >= 2
                and isinstance(call.args[1].value, cst.Name)
                and (self._lookup_qual(call.func) or "").endswith(".concrete_or_error")
            ):
                # JAX raises there for a tracer (with the library's own message): past it, the
                # value is concrete
                self.make_concrete(call.args[1].value.value)
        elif isinstance(s, cst.Assign):
            v = self.ev(s.value)
            if v.traced and f.traced and not isinstance(s.value, cst.Name):
                step = (
                    Text("`{0}` is computed from it at {at}", s.targets[0].target),
                    anchor(f, s.value),
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
                full = dotted(alias.name) or ""
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
        return Value(kind=Kind.EXT, ref=canonical(name))

    def import_from(self, s: cst.ImportFrom) -> None:
        f = self.frame
        level = len(s.relative)
        base = dotted(s.module) if s.module is not None else ""
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
            name = dotted(alias.name) or ""
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
                v = Value(kind=Kind.EXT, ref=canonical(f"{base}.{name}" if base else name))
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
            # a name bound again: neither a test it held nor a test of it holds any more
            for name, test in list(f.tests.items()):
                if name == target.value or self.code(tested_subject(test)) == target.value:
                    del f.tests[name]
            if (
                isinstance(value_node, cst.Call)
                and dotted(value_node.func) == "isinstance"
                and len(value_node.args) == 2
            ) or none_test_of_name(value_node):
                # `diff = grid is not None`: `if diff:` narrows `grid` as the test itself would
                f.tests[target.value] = value_node
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
                self.store_self(target.attr.value, v, value_node)
        elif isinstance(target, cst.Subscript):
            self.ev(target)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, Value(v.reason, Kind.LIST))

    def store_self(self, name: str, v: Value, value_node: cst.CSTNode | None) -> None:
        """``self.name = v`` (or ``object.__setattr__(self, "name", v)``)."""
        f = self.frame
        me = f.lookup("self")
        cls = me.ref if me is not None and me.kind is Kind.OBJECT else None
        self.project.record_attr(cls, name, v)
        if cls is not None and isinstance(value_node, cst.Call):
            cls.call_assigned.add(name)
        f.env[f"self.{name}"] = v

    def bind_pattern(self, pattern: cst.CSTNode, subject: Value) -> None:
        if isinstance(pattern, cst.MatchAs) and pattern.name is not None:
            self.frame.env[pattern.name.value] = subject
        elif isinstance(
            pattern, cst.MatchSequence | cst.MatchMapping | cst.MatchClass | cst.MatchOr
        ):
            for child in pattern_names(pattern):
                self.frame.env[child] = Value(subject.reason)


def is_static_field(interp: Interpreter, value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    qual = interp._lookup_qual(value.func)
    if qual not in K.STATIC_FIELD_CALLS:
        return is_static_field_factory(interp, value.func)
    if qual.endswith("static_field"):
        return True
    for a in value.args:
        if a.keyword is None:
            continue
        k = a.keyword.value
        text = code(a.value).replace(" ", "")
        if k == "pytree_node" and text == "False":
            return True
        if k == "static" and text == "True":
            return True
        if k == "metadata" and ("static" in text and "True" in text):
            return True
    return False


def ends_flow(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    body = suite_body(handler.body)
    last = body[-1] if body else None
    if isinstance(last, cst.SimpleStatementLine) and last.body:
        return isinstance(last.body[-1], cst.Return | cst.Raise | cst.Continue | cst.Break)
    return False


def exits(body: Sequence[cst.CSTNode]) -> bool:
    """Whether a block always leaves the function (its last statement returns or raises, or is
    an ``if`` whose every path does). ``continue``/``break`` do not count: the loop goes on."""
    last = body[-1] if body else None
    if isinstance(last, cst.SimpleStatementLine | cst.SimpleStatementSuite) and last.body:
        return isinstance(last.body[-1], cst.Return | cst.Raise)
    if isinstance(last, cst.Else):
        return exits(suite_body(last.body))
    if isinstance(last, cst.If) and last.orelse is not None:
        return exits(suite_body(last.body)) and exits([last.orelse])
    if isinstance(last, cst.Try | cst.TryStar):
        # the `try` path leaves (its body, or the `else` it falls into) and so does every
        # handler; or the `finally` leaves whatever happened
        if last.finalbody is not None and exits(suite_body(last.finalbody.body)):
            return True
        done = exits(suite_body(last.body)) or (last.orelse is not None and exits([last.orelse]))
        return done and all(exits(suite_body(h.body)) for h in last.handlers)
    return False


def caught_names(stmt: cst.Try | cst.TryStar, module: cst.Module | None = None) -> frozenset[str]:
    """The last name of each exception class the handlers catch (a bare `except`: all), also
    through a module-level tuple of them (xpcsjax's `except _ARRAY_HASH_EXCEPTIONS:`)."""
    names: set[str] = set()
    for h in stmt.handlers:
        if h.type is None:
            names.add("BaseException")
            continue
        types = h.type.elements if isinstance(h.type, cst.Tuple) else [h.type]
        for t in types:
            names |= _exception_names(t.value if isinstance(t, cst.Element) else t, module, 3)
    return frozenset(names)


def _exception_names(expr: cst.CSTNode, module: cst.Module | None, depth: int) -> set[str]:
    if isinstance(expr, cst.Attribute):
        return {expr.attr.value}
    if not isinstance(expr, cst.Name):
        return set()
    out = {expr.value}
    for item in _module_sequence(module, expr.value) if module is not None and depth else ():
        out |= _exception_names(item, module, depth - 1)
    return out


@functools.lru_cache(maxsize=4096)
def _module_sequence(module: cst.Module, name: str) -> tuple[cst.BaseExpression, ...]:
    """The items of a module-level ``NAME = (A, B)`` (a list, ``tuple(OTHER)``), with the
    ``NAME.append(C)`` statements of the module's top level. Cached: every `except NAME:` a
    trace runs through asks again (trees are compared by identity; an edit makes a new one)."""
    out: list[cst.BaseExpression] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            value = None
            if (
                isinstance(small, cst.Assign)
                and any(
                    isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
                )
            ) or (
                isinstance(small, cst.AnnAssign)
                and isinstance(small.target, cst.Name)
                and small.target.value == name
            ):
                value = small.value
            elif (
                isinstance(small, cst.Expr)
                and isinstance(small.value, cst.Call)
                and dotted(small.value.func) == f"{name}.append"
                and len(small.value.args) == 1
            ):
                out.append(small.value.args[0].value)
            if isinstance(value, cst.Call) and dotted(value.func) in ("tuple", "list"):
                value = value.args[0].value if len(value.args) == 1 else None
            if isinstance(value, cst.Tuple | cst.List):
                out += [e.value for e in value.elements]
            elif isinstance(value, cst.Name):
                out.append(value)
    return tuple(out)


# A project's own field factory (jax_md's `static_field()`): its body marks the field static.
STATIC_MARK = re.compile(
    r"""pytree_node['"]?\]?\s*[=:]\s*False|['"]static['"]\]?\s*[,:=]\s*True|static\s*=\s*True"""
)


def is_static_field_factory(interp: Interpreter, func: cst.BaseExpression) -> bool:
    fv = interp.ev(func)
    if fv.kind is Kind.LAZY:
        fv = interp.resolve(fv)
    if fv.kind is not Kind.FUNC:
        return False
    text = interp.code(fv.ref.fn.node)
    return bool(STATIC_MARK.search(text))


def has_decorator(interp: Interpreter, node: cst.FunctionDef, qual: str) -> bool:
    return any(interp._lookup_qual(d.decorator) == qual for d in node.decorators)


def union_members(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The classes of ``A | B | C`` (an isinstance union), or the node itself."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return [*union_members(node.left), *union_members(node.right)]
    return [node]


def conjuncts(test: cst.BaseExpression) -> tuple[cst.BaseExpression, ...]:
    """The operands of a chain of `and` (the test itself when it is no `and`)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return conjuncts(test.left) + conjuncts(test.right)
    return (test,)


def any_of_star_args(expr: cst.BaseExpression, fn: FunctionInfo) -> cst.Call | None:
    """The ``isinstance(v, T)`` of ``any(isinstance(v, T) for v in args)`` where ``args`` is the
    function's ``*args``."""
    star = [p.name for p in fn.params if p.kind == "vararg"]
    if not (
        star
        and isinstance(expr, cst.Call)
        and dotted(expr.func) == "any"
        and len(expr.args) == 1
        and isinstance(gen := expr.args[0].value, cst.GeneratorExp | cst.ListComp)
        and gen.for_in.inner_for_in is None
        and not gen.for_in.ifs
        and isinstance(gen.for_in.target, cst.Name)
        and isinstance(gen.for_in.iter, cst.Name)
        and gen.for_in.iter.value == star[0]
        and isinstance(elt := gen.elt, cst.Call)
        and dotted(elt.func) == "isinstance"
        and len(elt.args) == 2
        and isinstance(elt.args[0].value, cst.Name)
        and elt.args[0].value.value == gen.for_in.target.value
    ):
        return None
    return elt

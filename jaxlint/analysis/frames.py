"""Frames: one evaluation of a function, class or module body, with its environment."""

from __future__ import annotations

import os

import libcst as cst

from jaxlint.analysis.model import ClassInfo, FunctionInfo, ModuleInfo
from jaxlint.analysis.values import Reason, Value

# Analysis bugs cost one function's precision, never the run; JAXLINT_DEBUG=1 raises them instead.
DEBUG = bool(os.environ.get("JAXLINT_DEBUG"))

# The env key of an attribute of self narrowed by an isinstance test, in that branch only.
NARROWED = "isinstance self."


_TYPE_ERROR = frozenset({"TypeError", "JAXTypeError"})
# What each error JAX raises at trace time is a subclass of (jax.errors, jax 0.10.2).
ERROR_BASES: dict[str, frozenset[str]] = {
    "TracerArrayConversionError": _TYPE_ERROR,
    "TracerIntegerConversionError": _TYPE_ERROR,
    "ConcretizationTypeError": _TYPE_ERROR,
    "UnexpectedTracerError": _TYPE_ERROR,
    "TracerBoolConversionError": _TYPE_ERROR | {"ConcretizationTypeError"},
    "NonConcreteBooleanIndexError": frozenset({"IndexError", "LookupError", "JAXIndexError"}),
}


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
        # (an attribute, not a property of `in_trace`: read for every node; neither changes)
        self.traced = in_trace is not None
        self.staged = staged
        self.filtered = filtered
        self.cls = cls
        # Traced only by grad-like transforms (JVP tracers): bool conversions work here.
        self.weak = weak
        self.returns: Value | None = None
        self.values: dict[int, Value] = {}
        # Exception names caught by the `try` statements around the statement being evaluated:
        # a hazard whose JAX error one of them catches does not escape (the code handles it).
        self.caught: list[frozenset[str]] = []
        # What the `try` statements around the call that runs this frame catch (callers' too).
        self.outer_caught: frozenset[str] = frozenset()
        # Hazards a `try` caught (counted), and whether the rest of the block is dead under the
        # trace (the handler that caught it returns or raises).
        self.suppressed = 0
        self.dead = False
        # Inside the 0-d branch of a rank test on a traced value: findings are not reported.
        self.unsure = 0
        # Conditions that cannot all hold past an `if a and b: raise` (their source texts).
        self.excluded: list[tuple[cst.BaseExpression, ...]] = []
        # A library function's call evaluated as JAX runs it (``jax.jit(jnp.sum)(x, 0)``): what
        # rules find in it is reported at this node of the project, without a fix.
        self.report_at: cst.CSTNode | None = None
        # Names bound to an isinstance test (`traced = isinstance(v, Tracer)`): testing the name
        # narrows as the test would (each dropped when its name is bound again).
        self.tests: dict[str, cst.BaseExpression] = {}
        # The tests that hold where the code being evaluated runs, with their truth: those of
        # module-level names (`"DEBUG" in os.environ`) are what a transform applied here traces
        # under (Statements.held_conditions).
        self.conditions: list[tuple[cst.BaseExpression, bool]] = []
        # Names an `if flag:` bound on both paths: flag -> {name: (joined, if true, if false)}.
        # Testing the flag again picks the path's value while the name still holds the join
        # (`if traced: arr = v` / `else: arr = np.asarray(v)`, then `if not traced: arr...`).
        self.flagged: dict[str, tuple[Value | None, dict[str, tuple[Value, Value, Value]]]] = {}

    def all_caught(self) -> frozenset[str]:
        """The exception names caught around the statement being evaluated, here or in a caller."""
        return self.outer_caught.union(*self.caught)

    def catches(self, jax_error: str | None) -> bool:
        if jax_error is None or not (self.caught or self.outer_caught):
            return False
        bases = ERROR_BASES.get(jax_error, frozenset({jax_error}))
        names = bases | {jax_error, "Exception", "BaseException"}
        if any(names & c for c in self.caught):
            self.suppressed += 1
            return True
        return bool(names & self.outer_caught)

    def holds_traced(self) -> bool:
        """Whether a name visible here (this frame's or an enclosing function's) is traced: what
        a closure defined here can capture."""
        f: Frame | None = self
        while f is not None and f.fn is not None:
            if any(v.traced for v in f.env.values()):
                return True
            f = f.parent
        return False

    def lookup(self, name: str) -> Value | None:
        f: Frame | None = self
        while f is not None:
            if name in f.env:
                return f.env[name]
            f = f.parent
        if self.module.frame is not None and name in self.module.frame.env:
            return self.module.frame.env[name]
        return None


def anchor(frame: Frame, node: cst.CSTNode) -> tuple[ModuleInfo, cst.CSTNode]:
    return (frame.module, node)

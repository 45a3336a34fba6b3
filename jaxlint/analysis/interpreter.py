"""Abstract interpretation of function bodies: which values are traced, and how they got so.

Every function is evaluated once untraced (to find transform sites, closures and where host arrays
come from); functions that a transform traces, and everything they call with traced arguments, are
then evaluated again under the trace, memoised on the traced-ness of their arguments (a call-string
free, context-sensitive summary). Rule hooks run on every node evaluated under a trace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import libcst as cst

from jaxlint.analysis.calls import Calls
from jaxlint.analysis.control_flow import ControlFlow
from jaxlint.analysis.expressions import Expressions
from jaxlint.analysis.frames import DEBUG, Frame
from jaxlint.analysis.library_calls import LibraryCalls
from jaxlint.analysis.model import ClassInfo, FuncRef, FunctionInfo, ModuleInfo, TransformedRef
from jaxlint.analysis.statements import Statements
from jaxlint.analysis.syntax import code
from jaxlint.analysis.transforms import Transforms
from jaxlint.analysis.values import Reason, Value

if TYPE_CHECKING:
    from jaxlint.analysis.project import Project

__all__ = ["Frame", "Interpreter"]


class Interpreter(Statements, Expressions, Calls, ControlFlow, Transforms, LibraryCalls):
    """The evaluator: its rules live in the mixins, one concern each (statements, expressions,
    calls, control flow, transforms); this class holds the state they share."""

    def __init__(self, project: Project) -> None:
        self.project = project
        # (result, the objects whose ids its key holds, the first reason of its arguments)
        self.memo: dict[tuple[Any, ...], tuple[Value, tuple[Any, ...], Reason | None]] = {}
        self.signatures: dict[int, int] = {}
        self.active: set[tuple[Any, ...]] = set()
        self.depth = 0
        self.untraced_done: set[tuple[int, int]] = set()
        self.pending_untraced: list[FuncRef] = []
        self.sites: list[tuple[TransformedRef, Reason | None, bool, bool]] = []
        self.later_sites: list[tuple[TransformedRef, Reason | None, bool, bool]] = []
        self.main_blocks: list[tuple[Frame, cst.If]] = []
        self.functions: dict[int, FunctionInfo] = {}
        # Transformed functions seen called with their arguments: their kinds are known there, so
        # the pass that assumes nothing about the arguments would only add guesses.
        self.called: set[int] = set()
        self.classes: dict[int, ClassInfo] = {}
        # One list per reverse-mode differentiated call being evaluated (innermost last): what
        # rules find in it that JAX cannot transpose (fori_loop bounds that are tracers).
        self.reverse_diff: list[list[tuple[cst.CSTNode, Value]]] = []
        self.frame: Frame = None  # type: ignore[assignment]
        # Source texts of nodes, by id, with the node (kept alive, so its id is not reused):
        # code generation is costly, and some texts are compared again at every `if`.
        self._texts: dict[int, tuple[cst.CSTNode, str]] = {}

    # ------------------------------------------------------------------ frames and hooks
    @contextlib.contextmanager
    def in_frame(self, frame: Frame) -> Iterator[Frame]:
        saved = self.frame
        self.frame = frame
        try:
            yield frame
        finally:
            self.frame = saved

    def code(self, node: cst.CSTNode) -> str:
        """The source text of a node (``syntax.code``), generated once per analysis."""
        hit = self._texts.get(id(node))
        if hit is None:
            hit = self._texts[id(node)] = (node, code(node))
        return hit[1]

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

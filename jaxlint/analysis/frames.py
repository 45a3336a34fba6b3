"""Frames: one evaluation of a function, class or module body, with its environment."""

from __future__ import annotations

import os

import libcst as cst

from jaxlint.analysis.model import ClassInfo, FunctionInfo, ModuleInfo
from jaxlint.analysis.values import Reason, Value

# Analysis bugs cost one function's precision, never the run; JAXLINT_DEBUG=1 raises them instead.
DEBUG = bool(os.environ.get("JAXLINT_DEBUG"))


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


def anchor(frame: Frame, node: cst.CSTNode) -> tuple[ModuleInfo, cst.CSTNode]:
    return (frame.module, node)

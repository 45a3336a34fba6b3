"""What a rule sees: the values of the nodes under a trace, and a way to report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from jaxlint.analysis.values import STATIC, Kind, Reason, Value, extend, source_of
from jaxlint.fixes.spec import CONVENTIONAL, NodeFix
from jaxlint.rules.base import Rule

if TYPE_CHECKING:
    from jaxlint.analysis.interpreter import Frame
    from jaxlint.analysis.project import Project

HOOK_PREFIX = "on_"


class RuleContext:
    def __init__(self, project: Project) -> None:
        self.project = project
        self._interp = project.interp

    @property
    def frame(self) -> Frame:
        return self._interp.frame

    def value(self, node: cst.CSTNode | None) -> Value:
        """The value of an expression already evaluated in the current frame."""
        if node is None:
            return STATIC
        return self._interp.frame.values.get(id(node), STATIC)

    def qual(self, node: cst.CSTNode) -> str | None:
        """Qualified name of an external callee (``jax.numpy.zeros``), or None."""
        v = self.value(node)
        return v.ref if v.kind is Kind.EXT else None

    @property
    def staged(self) -> bool:
        return self.frame.staged

    def source(self, node: cst.CSTNode, limit: int = 60) -> str:
        return source_of(node, limit)

    def alias(self, qual: str) -> tuple[str, tuple[str, ...]]:
        """How this module spells ``qual`` (``jax.numpy`` -> ``jnp``), and the import to add if
        the module does not import it yet (its own alias is reused when it has one)."""
        module_frame = self.frame.module.frame
        if module_frame is not None:
            name = _alias_in(module_frame, qual)
            if name is not None:
                return name, ()
            parent, _, last = qual.rpartition(".")
            if parent and (base := _alias_in(module_frame, parent)) is not None:
                return f"{base}.{last}", ()
        name, imp = CONVENTIONAL.get(qual, (qual, f"import {qual}"))
        return name, (imp,)

    def code(self, node: cst.CSTNode) -> str:
        """Exact source of a node (with its own parentheses), for building replacement text."""
        return cst.Module([]).code_for_node(node)

    def report(
        self,
        rule: Rule,
        node: cst.CSTNode,
        message: str,
        value: Value | Reason | None = None,
        *,
        jax_error: str | None = None,
        fix: NodeFix | None = None,
        why: str | None = None,
    ) -> None:
        if self.frame.unsure or self.frame.catches(jax_error or rule.jax_error):
            return
        reason = value.reason if isinstance(value, Value) else value
        if reason is None:
            reason = self.frame.in_trace or ()
        if why:
            reason = extend(reason, (why, None))
        frame = self.frame
        if frame.report_at is not None:
            node, fix = frame.report_at, None
        self.project.report(rule, frame.module, node, message, reason, jax_error, fix, frame.staged)


def _alias_in(frame: Frame, qual: str) -> str | None:
    for name, v in frame.env.items():
        if v.kind is Kind.EXT and v.ref == qual and "." not in name:
            return name
    return None


def build_hooks() -> dict[str, list[Callable[..., Any]]]:
    from jaxlint.rules import RULE_MODULES

    hooks: dict[str, list[Callable[..., Any]]] = {}
    for mod in RULE_MODULES:
        for attr, fn in vars(mod).items():
            if attr.startswith(HOOK_PREFIX) and callable(fn):
                hooks.setdefault(attr[len(HOOK_PREFIX) :], []).append(fn)
    return hooks

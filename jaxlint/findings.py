"""The data a check produces: findings, their fixes and text edits (SPEC "JSON output")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions; columns count characters."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True, slots=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [asdict(e) for e in self.edits],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    jax_error: str | None
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    trace: tuple[str, ...] = ()
    fix: Fix | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[str, int, int, int, str]:
        # A notebook finding's lines count within its cell (``notebooks.locate``): cells first.
        return (self.path, self.extra.get("cell", 0), self.line, self.column, self.code)

    @property
    def where(self) -> str:
        """``path:line:col``, or ``path:cell N:line:col`` in a notebook."""
        cell = f"cell {self.extra['cell']}:" if "cell" in self.extra else ""
        return f"{self.path}:{cell}{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        """The SPEC fields; a notebook finding adds ``cell`` (its lines, and its fix's, then
        count within that cell: see ``notebooks``)."""
        fix = self.fix.to_dict() if self.fix else None
        offset = self.extra.get("cell_offset", 0)
        if fix and offset:
            for edit in fix["edits"]:
                edit["line"] -= offset
                edit["end_line"] -= offset
        out = {
            "code": self.code,
            "name": self.name,
            "jax_error": self.jax_error,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "trace": list(self.trace),
            "fix": fix,
        }
        if "cell" in self.extra:
            out["cell"] = self.extra["cell"]
        return out

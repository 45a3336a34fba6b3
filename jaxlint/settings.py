"""Resolved settings of one run: what the command line and ``[tool.jaxlint]`` decide together."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("JX",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Extra names (decorators or callables) that trace their function arguments like jax.jit.
    extend_transforms: tuple[str, ...] = ()
    # Names (parameters, attributes, variables) always treated as static.
    static_names: tuple[str, ...] = ()
    # Where installed libraries are read from (an interpreter's import path); None: the one
    # jaxlint runs in; (): none (libraries are opaque).
    library_paths: tuple[str, ...] | None = None

    def is_enabled(self, code: str) -> bool:
        """Ruff-style prefix selection: the longest matching prefix wins, ignore beats select on ties."""
        best_sel = max(
            (len(p) for p in (*self.select, *self.extend_select) if code.startswith(p)), default=-1
        )
        best_ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return best_sel >= 0 and best_sel > best_ign

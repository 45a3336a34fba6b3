"""Installed libraries, read from their source (never imported): where a module that is not the
project's lives, so that a gymnax ``Environment`` base class, its jitted ``step`` and what it calls
(``self.step_env``) are known when a project subclasses it.

Libraries are opaque where the knowledge base already models them by name (JAX, NumPy, flax,
equinox, optax, chex, the standard library): reading their source would only replace exact
knowledge with guesses, and cost time.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import sysconfig
from functools import cache
from pathlib import Path

# Top-level packages modelled by qualified name in knowledge.py (and their compiled parts).
MODELLED = frozenset(
    {
        "jax",
        "jaxlib",
        "numpy",
        "scipy",
        "flax",
        "equinox",
        "optax",
        "chex",
        "jaxtyping",
        "typing_extensions",
        "ml_dtypes",
        "opt_einsum",
        "pandas",
        "torch",
        "tensorflow",
        "libcst",
        "rich",
        "_pytest",
        "pytest",
    }
)

# Modules of modelled packages that the knowledge base does not model, read from source instead:
# flax's `TrainState` (its `apply_fn` is a static field, the module's `apply` under the trace).
READ_FROM_SOURCE = frozenset({"flax.training.train_state"})


def read_eagerly(modname: str, path: str) -> bool:
    """A lazily imported name of a module read from source although its package is modelled:
    resolved in untraced code too, where its objects are built (``TrainState.create(...)``)."""
    qual = f"{modname}.{path}" if path else modname
    return any(qual == m or qual.startswith(f"{m}.") for m in READ_FROM_SOURCE)


class LibraryIndex:
    """Finds the source file of an installed module on a list of directories (``sys.path`` of the
    interpreter the user runs), without importing anything."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        self.paths = tuple(Path(p) for p in paths if p and Path(p).is_dir())
        self._found: dict[str, Path | None] = {}

    def find(self, name: str) -> Path | None:
        """The ``.py`` file of module ``name`` (a package's ``__init__.py``), or None."""
        if name in self._found:
            return self._found[name]
        top = name.split(".")[0]
        out: Path | None = None
        if name in READ_FROM_SOURCE or (
            top not in MODELLED and top not in sys.stdlib_module_names and not top.startswith("_")
        ):
            parts = name.split(".")
            for base in self.paths:
                found = _module_file(base, parts)
                if found is not None:
                    out = found
                    break
        self._found[name] = out
        return out


def _module_file(base: Path, parts: list[str]) -> Path | None:
    directory = base.joinpath(*parts[:-1])
    for candidate in (directory / parts[-1] / "__init__.py", directory / f"{parts[-1]}.py"):
        # the top-level package must be a regular one, so that the module is of its directory
        # tree; below it a namespace directory may stand between packages (`torax/_src`)
        top = base / parts[0] / "__init__.py"
        if candidate.is_file() and (len(parts) == 1 or top.is_file()):
            return candidate
    return None


def running_interpreter_paths() -> tuple[str, ...]:
    """The import path of the interpreter jaxlint runs in, less the standard library and the
    current directory."""
    return _site_paths(tuple(sys.path))


@cache
def interpreter_paths(python: str) -> tuple[str, ...]:
    """The import path of another interpreter (a project's virtualenv), as mypy and pyright ask
    it: by running it once."""
    try:
        out = subprocess.run(
            [python, "-c", "import json, sys; print(json.dumps(sys.path))"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return _site_paths(tuple(json.loads(out.stdout)))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise ValueError(f"cannot ask {python} for its import path: {exc}") from exc


def _site_paths(paths: tuple[str, ...]) -> tuple[str, ...]:
    stdlib = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    return tuple(p for p in paths if p and p not in stdlib and not p.endswith(".zip"))


@cache
def _module_tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None


def library_signature(paths: tuple[str, ...], qual: str) -> list[ast.arg] | None:
    """The parameters of an installed library's function, read from its source (``ast``, a few
    milliseconds, cached): ``optax.adam`` is ``from optax._src.alias import adam`` in
    ``optax/__init__.py``, followed to its ``def``. Works for modelled libraries too: it reads
    one signature, it does not replace their knowledge. None where the source does not say."""
    node = library_definition(paths, qual)
    if not isinstance(node, ast.FunctionDef):
        return None
    a = node.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


@cache
def library_definition(
    paths: tuple[str, ...], qual: str, depth: int = 0
) -> ast.FunctionDef | ast.ClassDef | None:
    """The ``def`` or ``class`` statement of an installed library's name, following the
    re-exports of its packages; None where the source does not say."""
    module, _, name = qual.rpartition(".")
    if not module or depth > 8:
        return None
    parts = module.split(".")
    candidates = (
        c
        for base in paths
        for c in (
            Path(base).joinpath(*parts, "__init__.py"),
            Path(base).joinpath(*parts[:-1], f"{parts[-1]}.py"),
        )
    )
    # a namespace package (``optax._src`` has no ``__init__.py``) is still where the source is
    file = next((c for c in candidates if c.is_file()), None)
    tree = _module_tree(file) if file is not None else None
    if tree is None:
        return None
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef) and stmt.name == name:
            return stmt
        if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    return library_definition(paths, f"{stmt.module}.{alias.name}", depth + 1)
    return None

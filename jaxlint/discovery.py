"""Which files a run reports (the command-line paths, expanded the way ruff does) and which
files it analyses (the projects those belong to).

Directories are walked for ``.py``/``.pyi`` files and ``.ipynb`` notebooks, skipping hidden directories, virtual environments
and ruff's default excluded directories; an explicitly named file is checked whatever its name,
unless the user's ``exclude`` patterns match it or one of its directories (pre-commit passes file
names, and an excluded file must stay excluded then too).

A file's findings depend on the code that calls it, so the analysis covers the file's whole project
(``project_root``, ``project_sources``) whatever else is on the command line: a file's project is a
property of the tree, never of the run.
"""

from __future__ import annotations

import errno
import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jaxlint.config import Config, ConfigResolver

PYTHON_SUFFIXES = (".py", ".pyi")
# What a walk of the given paths reports: notebooks too. A project's own modules (what the analysis
# reads besides) are Python files only: a notebook is never imported, so it is analysed with its
# project, apart from it (``engine``), and cannot change the project's findings.
CHECKED_SUFFIXES = (*PYTHON_SUFFIXES, ".ipynb")

# ruff's default ``exclude`` list, plus our own cache directory.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".bzr",
        ".direnv",
        ".eggs",
        ".git",
        ".git-rewrite",
        ".hg",
        ".ipynb_checkpoints",
        ".jaxlint_cache",
        ".mypy_cache",
        ".nox",
        ".pants.d",
        ".pyenv",
        ".pytest_cache",
        ".pytype",
        ".ruff_cache",
        ".svn",
        ".tox",
        ".venv",
        ".vscode",
        "__pycache__",
        "__pypackages__",
        "_build",
        "buck-out",
        "build",
        "dist",
        "node_modules",
        "site-packages",
        "venv",
    }
)


@functools.lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("(?s:" + _glob_body(pattern) + r")\Z")


def _glob_body(pattern: str) -> str:
    """Translate a glob with globset's defaults (as ruff uses them): ``*`` also crosses ``/``.

    Supports ``*``, ``**``, ``?``, ``[...]`` (``[!...]`` negates) and ``{a,b}`` alternatives.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            start = i
            while i < n and pattern[i] == "*":
                i += 1
            # ``a/**/b`` also matches ``a/b``.
            if (
                i - start >= 2
                and i < n
                and pattern[i] == "/"
                and (start == 0 or pattern[start - 1] == "/")
            ):
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "?":
            out.append(".")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "{":
            j = pattern.find("}", i)
            if j < 0:
                out.append(re.escape(c))
            else:
                alternatives = pattern[i + 1 : j].split(",")
                out.append("(?:" + "|".join(_glob_body(a) for a in alternatives) + ")")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _absolute(path: Path | str) -> str:
    """Absolute POSIX path without resolving symlinks (patterns refer to the tree as the user sees it)."""
    return Path(os.path.abspath(path)).as_posix()


@dataclass(frozen=True)
class GlobSet:
    """Glob patterns anchored at a project root, matched like ruff's ``exclude``/``per-file-ignores``.

    A path matches a pattern when its file name matches the pattern as written, or its absolute path
    matches the pattern joined to ``root``.
    """

    patterns: tuple[str, ...]
    root: Path
    _compiled: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        root = _absolute(self.root).rstrip("/")
        compiled = []
        for pattern in self.patterns:
            anchored = pattern if os.path.isabs(pattern) else f"{root}/{pattern.removeprefix('./')}"
            compiled.append((_glob_regex(pattern), _glob_regex(_absolute(anchored))))
        object.__setattr__(self, "_compiled", tuple(compiled))

    def matches(self, path: Path | str) -> bool:
        absolute = _absolute(path)
        name = absolute.rpartition("/")[2]
        return any(b.match(name) or a.match(absolute) for b, a in self._compiled)

    def matches_self_or_parent(self, path: Path | str) -> bool:
        """Whether the path or a directory between it and the root (exclusive) is matched."""
        if not self._compiled:
            return False
        current = Path(_absolute(path))
        root = Path(_absolute(self.root))
        candidates = [current]
        candidates += [p for p in current.parents if p != root and p.is_relative_to(root)]
        return any(self.matches(c) for c in candidates)


# Files or directories that make the directory holding them a project root.
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


@dataclass(frozen=True)
class ProjectRoot:
    """Where a file's project starts, and how the project's modules are found below it.

    ``marked``: a project marker is there, and the project is everything discovery finds below it
    except nested projects. Otherwise the root was inferred from packages (the directory above the
    top-most package, or the file's own directory) and the project is the modules importable from
    it: its own files and its packages. ``packages`` is false where the root is itself a directory
    of installed or generated code (``site-packages``): there only its top-level files count.
    """

    path: Path
    marked: bool
    packages: bool = True


# At most this many directories without ``__init__.py`` in a row between two packages.
NAMESPACE_GAP = 6


def package_parts(directory: str | Path) -> list[str]:
    """The names of the packages a directory is in, top-most first (``["torax", "_src",
    "sources"]``): walked up while ``__init__.py`` files say so, a namespace directory (none, a
    module-like name) between two packages included, since Python imports it too
    (``torax/_src`` has no ``__init__.py``, yet ``torax._src.state`` imports)."""
    above: list[str] = []
    packages = gap = 0
    current = os.path.abspath(directory)
    while gap <= NAMESPACE_GAP:
        head, name = os.path.split(current)
        if not name or head == current:
            break
        above.append(name)
        if os.path.isfile(os.path.join(current, "__init__.py")):
            packages, gap = len(above), 0
        elif name.isidentifier():
            gap += 1
        else:
            break
        current = head
    return above[:packages][::-1]


def has_project_marker(directory: Path | str) -> bool:
    return any(os.path.exists(os.path.join(directory, m)) for m in PROJECT_MARKERS)


class ProjectFinder:
    """Finds each file's project root (``project_root``), remembering what it looked at per run."""

    def __init__(self) -> None:
        self._marked: dict[str, ProjectRoot | None] = {}

    def root_of(self, file: Path | str) -> ProjectRoot:
        """The nearest ancestor directory holding a project marker.

        The search stops at a directory that discovery skips (``site-packages``, ``.venv``,
        ``build``, hidden ones): code there is installed, vendored or generated, not part of the
        project above it, which would never analyse it. Without a marker the root is the
        directory above the top-most package (``package_parts``), else the file's directory.
        """
        start = os.path.dirname(_absolute(file))
        found = self._marked_root(start)
        if found is not None:
            return found
        top = start
        child = None
        for _ in package_parts(start):
            top, child = os.path.dirname(top), top
        head, name = os.path.split(top)
        if name and _is_default_skipped(Path(head), name):
            # site-packages/flax/...: the project is the package, not every installed one.
            if child is not None:
                return ProjectRoot(Path(child), marked=False)
            return ProjectRoot(Path(top), marked=False, packages=False)
        return ProjectRoot(Path(top), marked=False)

    def _marked_root(self, start: str) -> ProjectRoot | None:
        visited: list[str] = []
        current = start
        found: ProjectRoot | None = None
        while True:
            if current in self._marked:
                found = self._marked[current]
                break
            visited.append(current)
            if has_project_marker(current):
                found = ProjectRoot(Path(current), marked=True)
                break
            head, name = os.path.split(current)
            if not name or head == current or _is_default_skipped(Path(head), name):
                break
            current = head
        for v in visited:
            self._marked[v] = found
        return found


def project_sources(root: ProjectRoot, resolver: ConfigResolver) -> list[tuple[Path, Config]]:
    """Every module of the project at ``root``, with its config, in a stable order.

    A marked project is what discovery finds under its ``src`` directories (``[tool.jaxlint]
    src``, declared in the root's own pyproject.toml or ``--config``; default: the root), minus
    nested projects (subdirectories with a marker of their own). The result depends on the tree
    and the configuration only, never on the paths given.
    """
    config = resolver.for_directory(root.path)
    if not root.marked:
        descend = _importable if root.packages else _never
        return list(_walk(root.path, resolver, descend))
    dirs: tuple[Path, ...] = (root.path,)
    if config.src is not None and (
        config.fixed or (config.source is not None and config.source.parent == root.path)
    ):
        dirs = config.src
    out: list[tuple[Path, Config]] = []
    seen: set[str] = set()
    for directory in dirs:
        if not directory.is_dir():
            continue
        if resolver.for_directory(directory).exclude.matches_self_or_parent(directory):
            continue
        for path, file_config in _walk(directory, resolver, _not_a_project):
            key = _absolute(path)
            if key not in seen:
                seen.add(key)
                out.append((path, file_config))
    return out


def _importable(directory: Path) -> bool:
    """A package, or a namespace directory inside one (``package_parts``)."""
    return bool(package_parts(directory))


def _never(directory: Path) -> bool:
    return False


def _not_a_project(directory: Path) -> bool:
    return not has_project_marker(directory)


def canonical_path(path: Path, cwd: Path) -> str:
    """How the analysis names a file: relative to the current directory (``../`` where outside it).

    Trace chains name other files by these names, so they read the same whatever paths were given.
    """
    absolute = os.path.abspath(cwd / path)
    try:
        return os.path.relpath(absolute, os.path.abspath(cwd))
    except ValueError:  # another drive
        return absolute


@dataclass(frozen=True)
class SourceFile:
    path: Path  # where to read it (the current directory joined with the path as given)
    display: str  # how output names it
    config: Config


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    # One line each: paths named on the command line that do not exist.
    errors: list[str] = field(default_factory=list)
    # The resolver that found the files' configurations (project walks reuse it).
    resolver: ConfigResolver | None = None


def display_path(path: Path, cwd: Path, given: Path | None = None) -> str:
    """Relative to the current directory when under it (like ruff), else as given."""
    absolute = os.path.abspath(cwd / path)
    base = os.path.abspath(cwd)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, base)
    return str(given if given is not None else path)


def _is_default_skipped(directory: Path, name: str) -> bool:
    return (
        name.startswith(".")
        or name in DEFAULT_EXCLUDED_DIRS
        or (directory / name / "pyvenv.cfg").is_file()
    )


def _walk(
    root: Path,
    resolver: ConfigResolver,
    descend: Callable[[Path], bool] | None = None,
    suffixes: tuple[str, ...] = PYTHON_SUFFIXES,
) -> Iterator[tuple[Path, Config]]:
    """Python files under ``root`` with their configs, in a stable (sorted) order.

    Symlinked directories are not followed, so a link cycle cannot hang the walk; ``descend``
    (default: always) says which subdirectories to enter besides the default skips.
    """
    stack = [root]
    while stack:
        directory = stack.pop()
        config = resolver.for_directory(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in entries:
            path = directory / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue
            if is_dir and _is_default_skipped(directory, entry.name):
                continue
            if is_file and not entry.name.endswith(suffixes):
                continue
            if (is_dir or is_file) and not config.exclude.matches(path):
                if is_dir:
                    if descend is None or descend(path):
                        subdirs.append(path)
                else:
                    yield path, config
        stack.extend(reversed(subdirs))


def _missing(path: Path) -> str:
    """Why a given path does not exist, in words: a symlink loop or dangling link is not a typo."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if os.path.islink(path):
            return f"broken symlink (to {os.readlink(path)})"
    return "no such file or directory"


def discover(paths: Sequence[str], resolver: ConfigResolver, cwd: Path) -> Discovery:
    """Expand command-line paths (default ``.``, relative to ``cwd``) into files, each with its config."""
    result = Discovery()
    seen: set[str] = set()

    def add(path: Path, given: Path, config: Config) -> None:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            result.files.append(SourceFile(path, display_path(path, cwd, given), config))

    for given in paths or ["."]:
        root = cwd / given
        if not root.exists():
            result.errors.append(f"{given}: {_missing(root)}")
            continue
        if root.is_dir():
            if resolver.for_directory(root).exclude.matches_self_or_parent(root):
                continue
            for found, config in _walk(root, resolver, suffixes=CHECKED_SUFFIXES):
                add(found, Path(given, found.relative_to(root)), config)
        else:
            config = resolver.for_directory(root.parent)
            if not config.exclude.matches_self_or_parent(root):
                add(root, Path(given), config)
    return result

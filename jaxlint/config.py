"""``[tool.jaxlint]`` configuration: find it, validate it strictly, merge the command line into it.

Like ruff, each file uses the closest ``pyproject.toml`` above it that has a ``[tool.jaxlint]`` table
(patterns resolve against that file's directory); a file with none above it uses the configuration
found from the current directory, else the defaults. ``--config FILE`` replaces the search; its
patterns resolve against the current directory (as ruff's do). Typos must not pass silently, so an
unknown key, a wrong type or an unknown rule code is an error.

``src`` (like ruff's) is not a setting of the analysis but of the project model: the directories,
relative to the file that declares them, whose modules make up the project (default: the project
root; see ``discovery.project_root``).
"""

from __future__ import annotations

import functools
import os
import shutil
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jaxlint.analysis.libraries import interpreter_paths
from jaxlint.discovery import GlobSet, display_path
from jaxlint.selection import SelectorError, validate_selectors
from jaxlint.settings import Settings

PYPROJECT = "pyproject.toml"

_LIST_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "extend-select": "extend_select",
    "exclude": "exclude",
    "extend-transforms": "extend_transforms",
    "static-names": "static_names",
}
_CODE_KEYS = frozenset({"select", "ignore", "extend-select"})
_ALL_KEYS = (*_LIST_KEYS, "per-file-ignores", "src", "python")


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Overrides:
    """Rule selection given on the command line.

    ``--select`` replaces the configured ``select`` and ``extend-select`` (as in ruff); the configured
    ``ignore`` still applies, and ``--ignore``/``--extend-select`` add to the configuration.
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    # ``--python PATH``: read installed libraries from that interpreter's import path.
    library_paths: tuple[str, ...] | None = None

    def apply(self, settings: Settings) -> Settings:
        if self.library_paths is not None:
            settings = replace(settings, library_paths=self.library_paths)
        if self.select is None:
            return replace(
                settings,
                ignore=settings.ignore + self.ignore,
                extend_select=settings.extend_select + self.extend_select,
            )
        return replace(
            settings,
            select=self.select,
            ignore=settings.ignore + self.ignore,
            extend_select=self.extend_select,
        )


@dataclass(frozen=True, eq=False)
class Config:
    """The settings that govern a set of files, and the directory their patterns are relative to."""

    root: Path
    settings: Settings
    source: Path | None = None  # the file read; None for the defaults
    # ``src``: the project's source directories (absolute), None where not configured.
    src: tuple[Path, ...] | None = None
    # Given with --config: it governs every project, wherever its root is.
    fixed: bool = False

    @functools.cached_property
    def exclude(self) -> GlobSet:
        return GlobSet(self.settings.exclude, self.root)


def _read_toml(path: Path, cwd: Path) -> dict[str, Any]:
    where = display_path(path, cwd)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{where}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"{where}: invalid TOML: {reason}") from None


def _jaxlint_table(doc: dict[str, Any]) -> Any:
    tool = doc.get("tool")
    return tool.get("jaxlint") if isinstance(tool, dict) else None


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return tuple(value)


def settings_from_table(table: Any) -> Settings:
    """Validate a ``[tool.jaxlint]`` table; raises ValueError with a one-line reason."""
    if not isinstance(table, dict):
        raise ValueError("must be a table")
    unknown = sorted(set(table) - set(_ALL_KEYS))
    if unknown:
        raise ValueError(f"unknown key '{unknown[0]}' (expected one of: {', '.join(_ALL_KEYS)})")
    fields: dict[str, Any] = {}
    for key, attr in _LIST_KEYS.items():
        if key in table:
            values = _string_list(table[key], key)
            if key in _CODE_KEYS:
                try:
                    validate_selectors(values, key)
                except SelectorError as exc:
                    raise ValueError(str(exc)) from None
            fields[attr] = values
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ValueError("per-file-ignores must be a table of glob = [codes]")
        ignores: dict[str, tuple[str, ...]] = {}
        for pattern, codes in pfi.items():
            what = f"per-file-ignores '{pattern}'"
            ignores[pattern] = _string_list(codes, what)
            try:
                validate_selectors(ignores[pattern], what)
            except SelectorError as exc:
                raise ValueError(str(exc)) from None
        fields["per_file_ignores"] = ignores
    return Settings(**fields)


def src_from_table(table: Any, base: Path) -> tuple[Path, ...] | None:
    """The ``src`` directories of a ``[tool.jaxlint]`` table, resolved against ``base``."""
    if not isinstance(table, dict) or "src" not in table:
        return None
    dirs = _string_list(table["src"], "src")
    return tuple(Path(os.path.normpath(os.path.join(os.path.abspath(base), d))) for d in dirs)


def python_from_table(table: Any, base: Path) -> tuple[str, ...] | None:
    """``python = ".venv/bin/python"``: the import path of the interpreter the project runs in
    (relative to the file that declares it), where its libraries are read from."""
    if not isinstance(table, dict) or "python" not in table:
        return None
    value = table["python"]
    if not isinstance(value, str) or not value:
        raise ValueError("python must be the path of an interpreter (a string)")
    return interpreter_paths(resolve_python(value, base))


def resolve_python(value: str, base: Path) -> str:
    """A path relative to ``base``, or a bare command name looked up on ``PATH``."""
    if os.sep in value or (os.altsep and os.altsep in value):
        return os.path.normpath(os.path.join(os.path.abspath(base), os.path.expanduser(value)))
    return shutil.which(value) or value


def _with_python(settings: Settings, table: Any, base: Path) -> Settings:
    paths = python_from_table(table, base)
    return settings if paths is None else replace(settings, library_paths=paths)


def load_config_file(path: Path, cwd: Path) -> Config:
    """Read ``--config FILE``: a pyproject.toml with ``[tool.jaxlint]``, or a TOML file of those keys."""
    where = display_path(path, cwd)
    doc = _read_toml(path, cwd)
    table = _jaxlint_table(doc)
    if table is None:
        if path.name == PYPROJECT or "tool" in doc:
            raise ConfigError(f"{where}: no [tool.jaxlint] table")
        table, label = doc, ""
    else:
        label = "[tool.jaxlint] "
    try:
        settings = _with_python(settings_from_table(table), table, cwd)
        src = src_from_table(table, cwd)
    except ValueError as exc:
        raise ConfigError(f"{where}: {label}{exc}") from None
    root = Path(os.path.abspath(cwd))
    return Config(root=root, settings=settings, source=path, src=src, fixed=True)


class ConfigResolver:
    """Finds the configuration for each directory, reading each pyproject.toml once."""

    def __init__(
        self, cwd: Path, config_file: Path | None = None, overrides: Overrides | None = None
    ) -> None:
        self._cwd = Path(os.path.abspath(cwd))
        self._overrides = overrides or Overrides()
        self._by_dir: dict[str, Config] = {}
        self._fallback: Config | None = None
        self._fixed = self._finish(load_config_file(config_file, cwd)) if config_file else None

    def _finish(self, config: Config) -> Config:
        return replace(config, settings=self._overrides.apply(config.settings))

    def _load_pyproject(self, path: Path) -> Config | None:
        table = _jaxlint_table(_read_toml(path, self._cwd))
        if table is None:
            return None
        try:
            settings = _with_python(settings_from_table(table), table, path.parent)
            src = src_from_table(table, path.parent)
        except ValueError as exc:
            raise ConfigError(f"{display_path(path, self._cwd)}: [tool.jaxlint] {exc}") from None
        return self._finish(Config(root=path.parent, settings=settings, source=path, src=src))

    def _search(self, directory: str) -> Config | None:
        visited: list[str] = []
        found: Config | None = None
        current = directory
        while True:
            if current in self._by_dir:
                found = self._by_dir[current]
                break
            visited.append(current)
            candidate = Path(current, PYPROJECT)
            if candidate.is_file():
                found = self._load_pyproject(candidate)
                if found is not None:
                    break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        if found is not None:
            for v in visited:
                self._by_dir[v] = found
        return found

    @property
    def fallback(self) -> Config:
        """The configuration of the current directory (used where a file has none above it)."""
        if self._fixed is not None:
            return self._fixed
        if self._fallback is None:
            found = self._search(str(self._cwd))
            self._fallback = found or self._finish(Config(root=self._cwd, settings=Settings()))
        return self._fallback

    def for_directory(self, directory: Path) -> Config:
        if self._fixed is not None:
            return self._fixed
        key = os.path.abspath(directory)
        config = self._by_dir.get(key) or self._search(key)
        if config is None:
            config = self.fallback
            self._by_dir[key] = config
        return config

"""The result cache: an unchanged project is re-checked without parsing anything.

A file's findings depend on every module of its project (callers trace callees), so the cache keeps
whole-analysis results: the selected findings of every module of one analysis, keyed by everything
they depend on: the jaxlint version (and a fingerprint of its own source files, so that a
development install does not serve stale results), the settings, the current directory (paths are
shown relative to it), the project root (per-file ignores are relative to it) and every module's
path and content hash. Editing any module of the project (a caller, too) is a miss; which of its
files were given is not part of the key, so ``jaxlint env.py`` after ``jaxlint .`` is a hit. Reading
and hashing the project's files is all a hit costs: nothing is parsed or tokenized.

Entries live in ``.jaxlint_cache/`` in the configuration's root (where the ``pyproject.toml`` that
configured the run is, else the current directory), like ruff's ``.ruff_cache``: a ``CACHEDIR.TAG``
keeps backup tools out and a ``.gitignore`` of ``*`` keeps git out. ``JAXLINT_CACHE_DIR`` moves it.
Entries are JSON (never pickle: a cache directory is not trusted code), written atomically, and the
oldest are pruned. A cache that cannot be read or written is silently skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxlint import __version__
from jaxlint.discovery import package_parts
from jaxlint.findings import Edit, Finding, Fix
from jaxlint.settings import Settings

if TYPE_CHECKING:
    from jaxlint.analysis.project import TreeCache

CACHE_DIR_NAME = ".jaxlint_cache"
ENV_CACHE_DIR = "JAXLINT_CACHE_DIR"
MAX_ENTRIES = 64
_FORMAT = 1

CACHEDIR_TAG = """Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by jaxlint.
# For information about cache directory tags see https://bford.info/cachedir/
"""


@functools.cache
def _tool_fingerprint() -> str:
    """The version plus the size and mtime of jaxlint's own modules (edits to rules invalidate)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(f"{__version__}:{_FORMAT}".encode(), digest_size=16)
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(root, name))
                digest.update(f"{root}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _settings_key(settings: Settings) -> Any:
    fields = dataclasses.asdict(settings)
    fields["per_file_ignores"] = sorted(fields["per_file_ignores"].items())
    return sorted(fields.items())


def run_key(
    texts: Mapping[str, str], settings: Settings, cwd: Path | None = None, extra: str = ""
) -> str:
    """The cache key of a run over ``texts`` (display path -> text) with ``settings``."""
    digest = hashlib.blake2b(digest_size=20)
    cwd_key = os.path.abspath(cwd or os.getcwd())
    header = [_tool_fingerprint(), _settings_key(settings), cwd_key, extra]
    digest.update(json.dumps(header, default=str).encode())
    # Module names come from the ``__init__.py`` files above each file (also ones not in the run):
    # the packages of each directory, computed once per directory, not once per file
    directories = sorted({os.path.dirname(path) or "." for path in texts})
    packages = (f"{d}={'.'.join(package_parts(d))}" for d in directories)
    digest.update("\0".join(packages).encode("utf-8", "surrogatepass"))
    for path in sorted(texts):
        content = hashlib.blake2b(
            texts[path].encode("utf-8", "surrogatepass"), digest_size=16
        ).digest()
        digest.update(path.encode("utf-8", "surrogatepass") + b"\0" + content)
    return digest.hexdigest()


def _finding_to_json(f: Finding) -> dict[str, Any]:
    out = f.to_dict()
    if f.extra:
        out["extra"] = f.extra
    return out


def _finding_from_json(d: dict[str, Any]) -> Finding:
    fix = d.get("fix")
    return Finding(
        code=d["code"],
        name=d["name"],
        jax_error=d["jax_error"],
        message=d["message"],
        path=d["path"],
        line=d["line"],
        column=d["column"],
        end_line=d["end_line"],
        end_column=d["end_column"],
        trace=tuple(d["trace"]),
        fix=None
        if fix is None
        else Fix(fix["applicability"], fix["message"], tuple(Edit(**e) for e in fix["edits"])),
        extra=d.get("extra", {}),
    )


def cache_dir_for(root: Path) -> Path:
    override = os.environ.get(ENV_CACHE_DIR)
    return Path(override) if override else Path(root) / CACHE_DIR_NAME


class Cache:
    """Whole-run results under ``directory``; ``hits`` and ``misses`` count lookups."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.entries = self.directory / __version__
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_root(cls, root: Path) -> Cache:
        return cls(cache_dir_for(root))

    def _entry(self, key: str) -> Path:
        return self.entries / f"{key}.json"

    def get(self, key: str) -> list[Finding] | None:
        entry = self._entry(key)
        try:
            data = json.loads(entry.read_bytes())
            if data.get("key") != key:
                raise ValueError("not this entry")
            findings = [_finding_from_json(d) for d in data["findings"]]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used: pruned last
        self.hits += 1
        return findings

    def put(self, key: str, findings: list[Finding]) -> None:
        try:
            payload = json.dumps(
                {"key": key, "findings": [_finding_to_json(f) for f in findings]},
                separators=(",", ":"),
            ).encode()
        except (TypeError, ValueError):
            return  # something in ``extra`` that JSON cannot hold: do not cache this run
        with contextlib.suppress(OSError):
            self._prepare()
            fd, temp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=self.entries)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(payload)
                os.replace(temp, self._entry(key))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            self._prune()

    def _prepare(self) -> None:
        fresh = not self.directory.is_dir()
        self.entries.mkdir(parents=True, exist_ok=True)
        if fresh or not (self.directory / "CACHEDIR.TAG").is_file():
            (self.directory / "CACHEDIR.TAG").write_text(CACHEDIR_TAG)
            (self.directory / ".gitignore").write_text("# Automatically created by jaxlint.\n*\n")

    def _prune(self) -> None:
        entries = []
        for entry in self.entries.glob("*.json"):
            with contextlib.suppress(OSError):
                entries.append((entry.stat().st_mtime_ns, entry))
        entries.sort(reverse=True)
        for _, entry in entries[MAX_ENTRIES:]:
            with contextlib.suppress(OSError):
                entry.unlink()


@dataclass(frozen=True)
class CachedAnalysis:
    """One analysis to run through the cache: its texts (name -> text), settings, root, cache."""

    texts: dict[str, str]
    settings: Settings
    root: Path
    cache: Cache | None = None
    # Parsed modules to reuse (and keep) across analyses of nearly the same texts: the rounds of
    # a fix run re-analyse the project after editing a few files.
    trees: TreeCache | None = None


def lint_cached_many(analyses: Sequence[CachedAnalysis], jobs: int = 1) -> list[list[Finding]]:
    """The selected findings of each analysis, from the cache where it has them; the misses are
    analysed by up to ``jobs`` processes (``analysis.parallel``).

    Selection (``select``/``ignore``, per-file ignores relative to ``root``, ``# noqa``) depends only
    on the settings, ``root`` and the texts, so the cache keeps its result: a hit tokenizes nothing.
    """
    from jaxlint.selection import select_findings

    results: list[list[Finding] | None] = []
    keys: list[str] = []
    for a in analyses:
        key = run_key(a.texts, a.settings, extra=os.path.abspath(a.root)) if a.cache else ""
        keys.append(key)
        results.append(a.cache.get(key) if a.cache is not None else None)
    missing = [i for i, found in enumerate(results) if found is None]
    if missing:
        from jaxlint.analysis.parallel import analyse_many
        from jaxlint.analysis.project import analyse_sources

        if all(analyses[i].trees is not None for i in missing):
            raw = [
                analyse_sources(analyses[i].texts, analyses[i].settings, analyses[i].trees)
                for i in missing
            ]
        else:
            raw = analyse_many([(analyses[i].texts, analyses[i].settings) for i in missing], jobs)
        for i, found in zip(missing, raw, strict=True):
            a = analyses[i]
            selected = select_findings(found, a.settings, a.texts, a.root)
            results[i] = sorted(selected, key=lambda f: f.sort_key)
            if a.cache is not None:
                a.cache.put(keys[i], results[i])
    return [found if found is not None else [] for found in results]


def lint_cached(
    texts: dict[str, str],
    settings: Settings,
    root: Path,
    *,
    cache: Cache | None = None,
    trees: TreeCache | None = None,
) -> list[Finding]:
    """The selected findings of one analysis over ``texts``, from the cache when it has them."""
    return lint_cached_many([CachedAnalysis(texts, settings, root, cache, trees)])[0]


__all__ = [
    "CACHE_DIR_NAME",
    "ENV_CACHE_DIR",
    "Cache",
    "CachedAnalysis",
    "lint_cached",
    "lint_cached_many",
    "run_key",
]

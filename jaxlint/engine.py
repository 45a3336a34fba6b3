"""Run the analysis over files: read, parse, analyse across modules, collect raw findings.

Selection (``--select``/``--ignore``/per-file ignores/``# noqa``) is applied by the caller on the raw
findings, so the engine's result does not depend on presentation settings.

What a command-line run analyses vs what it reports (``plan_runs``): each given file is reported
from one analysis of its whole project (``discovery.project_root``/``project_sources``), never of
the given paths alone, so its findings are the same whether it was given alone, with others, by
pre-commit or as part of ``.``. Files of several projects get one analysis per project. A given file
that is not among its project's sources (outside ``src``, or a script without ``.py``) is analysed
with those sources in a second analysis, so that it cannot change the project's own findings.

``overrides`` (absolute path -> text) stand in for what is on disk: an editor's unsaved buffers
(``jaxlint server``) and ``jaxlint check - --stdin-filename PATH``. A given file that is
overridden need not exist.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jaxlint.config import Config, ConfigResolver
from jaxlint.discovery import (
    ProjectFinder,
    ProjectRoot,
    SourceFile,
    canonical_path,
    project_sources,
)
from jaxlint.findings import Finding
from jaxlint.settings import Settings
from jaxlint.source import SourceError, SourceInfo, read_source, read_source_info

if TYPE_CHECKING:
    from jaxlint.analysis.project import TreeCache


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    # One line each: files that could not be read or decoded (the CLI exits 2 when any).
    errors: list[str] = field(default_factory=list)
    # Source text of each checked file by display path (for code frames and noqa).
    sources: dict[str, str] = field(default_factory=dict)


def lint_source(
    text: str, path: str = "<string>", settings: Settings | None = None
) -> list[Finding]:
    """Lint one module given as text (no selection applied)."""
    from jaxlint.analysis.project import analyse_sources

    return analyse_sources({path: text}, settings or Settings())


def lint_files(
    files: Sequence[Path], settings: Settings, display: Sequence[str] | None = None
) -> RunResult:
    """Lint exactly these files together (calls between them are followed), returning raw findings."""
    from jaxlint.analysis.project import analyse_sources

    result = RunResult()
    texts: dict[str, str] = {}
    names = list(display) if display is not None else [str(f) for f in files]
    for f, name in zip(files, names, strict=True):
        try:
            texts[name] = read_source(f)
        except SourceError as exc:
            result.errors.append(f"{name}: {exc}")
    result.sources = texts
    result.files_checked = len(texts)
    result.findings = sorted(analyse_sources(texts, settings), key=lambda f: f.sort_key)
    return result


@dataclass
class Run:
    """One analysis of a command-line run: every module it reads, and the given files it reports.

    Modules are named by ``canonical_path`` (``--no-project``: by the given files' display paths);
    findings carry these names until ``display`` relabels them for output.
    """

    config: Config
    # name -> text of every module analysed, in an order that does not depend on the paths given
    texts: dict[str, str]
    # name -> where the module was read (what --fix writes back, for the given ones)
    paths: dict[str, Path]
    # name -> the given file reported under that name, and how it was read
    given: dict[str, SourceFile]
    infos: dict[str, SourceInfo]

    def reported(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings of the given files, with the paths they are displayed under."""
        return [self.display(f) for f in findings if f.path in self.given]

    def display(self, finding: Finding) -> Finding:
        shown = self.given[finding.path].display if finding.path in self.given else finding.path
        return finding if shown == finding.path else dataclasses.replace(finding, path=shown)


Overrides = Mapping[str, str]  # absolute path -> text, normalised by ``_absolute_keys``


def _absolute_keys(overrides: Mapping[Path, str] | None) -> Overrides:
    return {os.path.abspath(path): text for path, text in (overrides or {}).items()}


def text_info(text: str) -> SourceInfo:
    """A ``SourceInfo`` for text that was never a file's bytes (a buffer, stdin): UTF-8."""
    match = re.search(r"\r\n|\r|\n", text)
    raw = text.encode("utf-8", "surrogatepass")
    return SourceInfo(text, raw, "utf-8", match.group() if match else "\n")


def _read_info(path: Path, overrides: Overrides) -> SourceInfo:
    text = overrides.get(os.path.abspath(path))
    return read_source_info(path) if text is None else text_info(text)


def _read_text(path: Path, overrides: Overrides) -> str:
    text = overrides.get(os.path.abspath(path))
    return read_source(path) if text is None else text


def _read_given(
    members: Sequence[SourceFile], errors: list[str], overrides: Overrides
) -> dict[str, tuple[SourceFile, SourceInfo]]:
    """The given files that can be read, by absolute path; the others are one error line each."""
    out: dict[str, tuple[SourceFile, SourceInfo]] = {}
    for member in members:
        try:
            out[os.path.abspath(member.path)] = (member, _read_info(member.path, overrides))
        except SourceError as exc:
            errors.append(f"{member.display}: {exc}")
    return out


def _isolated_runs(
    files: Sequence[SourceFile], errors: list[str], overrides: Overrides
) -> list[Run]:
    """``--no-project``: the given files alone, one analysis per configuration (the old model)."""
    groups: dict[int, tuple[Config, list[SourceFile]]] = {}
    for source in files:
        groups.setdefault(id(source.config), (source.config, []))[1].append(source)
    runs: list[Run] = []
    for config, members in groups.values():
        read = _read_given(members, errors, overrides)
        if not read:
            continue
        run = Run(config, {}, {}, {}, {})
        for member, info in read.values():
            run.texts[member.display] = info.text
            run.paths[member.display] = member.path
            run.given[member.display] = member
            run.infos[member.display] = info
        runs.append(run)
    return runs


def _project_runs(
    root: ProjectRoot,
    members: Sequence[SourceFile],
    resolver: ConfigResolver,
    cwd: Path,
    errors: list[str],
    overrides: Overrides,
) -> list[Run]:
    read = _read_given(members, errors, overrides)
    unreadable = {os.path.abspath(m.path) for m in members} - set(read)
    project = Run(resolver.for_directory(root.path), {}, {}, {}, {})
    for path, _ in project_sources(root, resolver):
        key = os.path.abspath(path)
        if key in unreadable:
            continue
        name = canonical_path(path, cwd)
        if key in read:
            member, info = read.pop(key)
            project.given[name] = member
            project.infos[name] = info
            text = info.text
        else:
            try:
                text = _read_text(path, overrides)
            except SourceError:
                continue  # reported when given; left out of every analysis alike
        project.texts[name] = text
        project.paths[name] = path
    runs = [project] if project.given else []
    if read:
        # Given files that the project does not contain: analysed with it, reported apart.
        outside = Run(project.config, dict(project.texts), dict(project.paths), {}, {})
        named = sorted(
            ((canonical_path(m.path, cwd), m, info) for m, info in read.values()),
            key=lambda item: item[0],
        )
        for name, member, info in named:
            outside.texts[name] = info.text
            outside.paths[name] = member.path
            outside.given[name] = member
            outside.infos[name] = info
        runs.append(outside)
    return runs


def plan_runs(
    files: Sequence[SourceFile],
    resolver: ConfigResolver,
    cwd: Path,
    *,
    project: bool = True,
    overrides: Mapping[Path, str] | None = None,
) -> tuple[list[Run], list[str]]:
    """The analyses that report ``files`` (see the module docstring), and one error line per
    given file that cannot be read. ``project=False`` analyses the given files alone;
    ``overrides`` are texts to use instead of the files' contents on disk."""
    errors: list[str] = []
    texts = _absolute_keys(overrides)
    if not project:
        return _isolated_runs(files, errors, texts), errors
    finder = ProjectFinder()
    by_root: dict[ProjectRoot, list[SourceFile]] = {}
    for source in files:
        by_root.setdefault(finder.root_of(source.path), []).append(source)
    runs: list[Run] = []
    for root, members in by_root.items():
        runs += _project_runs(root, members, resolver, cwd, errors, texts)
    return runs, errors


def analyse_run(run: Run, trees: TreeCache | None = None) -> list[Finding]:
    """The raw findings (before selection) of one analysis's given files.

    Kept apart from ``select_run`` so that a server can reuse them for texts that differ only
    where the analysis does not look (``TreeCache.same_program``), while ``# noqa`` comments are
    still read from the new texts.
    """
    from jaxlint.analysis.project import analyse_sources

    return [
        f for f in analyse_sources(run.texts, run.config.settings, trees) if f.path in run.given
    ]


def select_run(run: Run, raw: Sequence[Finding]) -> list[Finding]:
    """The selected findings of ``raw`` (``analyse_run``'s) as reported for ``run``'s texts."""
    from jaxlint.selection import select_findings

    selected = select_findings(list(raw), run.config.settings, run.texts, run.config.root)
    return sorted(run.reported(selected), key=lambda f: f.sort_key)


def lint_run(run: Run, trees: TreeCache | None = None) -> list[Finding]:
    """The selected findings of one analysis's given files, uncached but for parsed trees.

    The CLI goes through the result cache (``cache.lint_cached``) instead; a server keeps the
    trees, so that after an edit only the edited module is parsed again.
    """
    return select_run(run, analyse_run(run, trees))


def overlay(run: Run, changed: Mapping[str, str]) -> dict[str, str]:
    """The run's texts with the texts of files fixed earlier (by absolute path) put in."""
    if not changed:
        return run.texts
    out = dict(run.texts)
    for name, path in run.paths.items():
        text = changed.get(os.path.abspath(path))
        if text is not None:
            out[name] = text
    return out


__all__ = [
    "Run",
    "RunResult",
    "analyse_run",
    "lint_files",
    "lint_run",
    "lint_source",
    "overlay",
    "plan_runs",
    "select_run",
    "text_info",
]

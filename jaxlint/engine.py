"""Run the analysis over files: read, parse, analyse across modules, collect raw findings.

Selection (``--select``/``--ignore``/per-file ignores/``# noqa``) is applied by the caller on the raw
findings, so the engine's result does not depend on presentation settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jaxlint.findings import Finding
from jaxlint.settings import Settings
from jaxlint.source import SourceError, read_source


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
    files: Sequence[Path], settings: Settings, jobs: int = 1, display: Sequence[str] | None = None
) -> RunResult:
    """Lint files together (calls between them are followed), returning raw findings."""
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
    result.findings = sorted(analyse_sources(texts, settings, jobs=jobs), key=lambda f: f.sort_key)
    return result

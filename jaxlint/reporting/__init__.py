"""Output formats of ``jaxlint check``: one module per format, all fed the same selected findings."""

from __future__ import annotations

from collections.abc import Iterable

from jaxlint.findings import Finding

FORMATS = ("text", "json", "sarif", "github", "markdown")


def fix_counts(findings: Iterable[Finding]) -> tuple[int, int]:
    """(safe, unsafe): how many findings ``--fix`` fixes, and how many more ``--unsafe-fixes`` would."""
    safe = unsafe = 0
    for finding in findings:
        if finding.fix is not None:
            if finding.fix.applicability == "safe":
                safe += 1
            else:
                unsafe += 1
    return safe, unsafe


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


__all__ = ["FORMATS", "fix_counts", "plural"]

"""``--format sarif``: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

Our columns count characters, so the run declares ``columnKind: unicodeCodePoints`` (SARIF's default
is UTF-16 code units). Relative paths are given against ``%SRCROOT%`` (the current directory), which
is how code scanning maps results to the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jaxlint import __version__
from jaxlint.findings import Finding
from jaxlint.rules import RULES, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def _location(path: str) -> dict[str, Any]:
    candidate = Path(path)
    if candidate.is_absolute():
        return {"uri": candidate.as_uri()}
    return {"uri": quote(candidate.as_posix()), "uriBaseId": SRCROOT}


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    # SARIF requires the end not to precede the start.
    end_line = max(end_line, line)
    end_column = max(end_column, column) if end_line == line else end_column
    return {
        "startLine": line,
        "startColumn": column,
        "endLine": end_line,
        "endColumn": max(end_column, 1),
    }


def _descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule.doc.strip()
    help_text = doc if doc and doc != "TODO" else rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"jax_error": rule.jax_error, "fix": rule.fix},
    }


def _result(finding: Finding, index: Mapping[str, int]) -> dict[str, Any]:
    text = finding.message
    if finding.trace:
        text += "\nWhy traced:\n" + "\n".join(
            f"{n}. {step}" for n, step in enumerate(finding.trace, start=1)
        )
    location = _location(finding.path)
    # A notebook's region is in its joined code (cells after ``# %% [jaxlint cell N]`` markers);
    # ``properties.cell``/``cell_line`` give the cell and the line within it.
    offset = finding.extra.get("cell_offset", 0)
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": "error",
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": _region(
                        finding.line + offset,
                        finding.column,
                        finding.end_line + offset,
                        finding.end_column,
                    ),
                }
            }
        ],
        "properties": {
            "name": finding.name,
            "jax_error": finding.jax_error,
            "trace": list(finding.trace),
        },
    }
    if "cell" in finding.extra:
        result["properties"]["cell"] = finding.extra["cell"]
        result["properties"]["cell_line"] = finding.line
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.fix is not None:
        result["fixes"] = [
            {
                "description": {"text": f"{finding.fix.message} ({finding.fix.applicability})"},
                "artifactChanges": [
                    {
                        "artifactLocation": location,
                        "replacements": [
                            {
                                "deletedRegion": _region(
                                    e.line, e.column, e.end_line, e.end_column
                                ),
                                "insertedContent": {"text": e.content},
                            }
                            for e in finding.fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


def render_sarif(findings: Iterable[Finding], cwd: Path) -> str:
    rules = list(RULES.values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    ordered = sorted(findings, key=lambda f: f.sort_key)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "jaxlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_descriptor(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": cwd.absolute().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index) for f in ordered],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"

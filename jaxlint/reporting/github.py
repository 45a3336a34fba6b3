"""``--format github``: GitHub Actions workflow commands, shown as annotations on the pull request."""

from __future__ import annotations

from collections.abc import Iterable

from jaxlint.findings import Finding


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Iterable[Finding]) -> str:
    lines = []
    for f in sorted(findings, key=lambda f: f.sort_key):
        props = ",".join(
            [
                f"title={_property(f'jaxlint ({f.code})')}",
                f"file={_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={max(f.end_line, f.line)}",
                f"endColumn={f.end_column}",
            ]
        )
        message = f"{f.where}: {f.code} {f.message}"
        if f.trace:
            message += "\nWhy traced: " + " -> ".join(f.trace)
        lines.append(f"::error {props}::{_data(message)}\n")
    return "".join(lines)

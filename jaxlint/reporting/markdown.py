"""``--format markdown``: a table for pull-request comments and CI job summaries."""

from __future__ import annotations

from collections.abc import Iterable

from jaxlint.findings import Finding
from jaxlint.reporting import plural


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def render_markdown(findings: Iterable[Finding]) -> str:
    ordered = sorted(findings, key=lambda f: f.sort_key)
    if not ordered:
        return "### jaxlint: all checks passed\n"
    lines = [
        f"### jaxlint: {plural(len(ordered), 'finding')}",
        "",
        "| Location | Rule | Message | Why traced |",
        "|---|---|---|---|",
    ]
    for f in ordered:
        rule = f"{f.code} `{f.name}`"
        trace = " → ".join(f.trace)
        lines.append(
            f"| `{_cell(f.path)}:{f.line}:{f.column}` | {rule} | {_cell(f.message)} | {_cell(trace)} |"
        )
    return "\n".join(lines) + "\n"

"""``--format markdown``: a table for pull-request comments and CI job summaries."""

from __future__ import annotations

from collections.abc import Iterable

from jaxlint.findings import Finding
from jaxlint.reporting import plural


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _fix(f: Finding) -> str:
    if f.fix is None:
        return "none: rewrite by hand (see the message)"
    flag = "" if f.fix.applicability == "safe" else " (`--unsafe-fixes`)"
    return f"**{f.fix.applicability}**{flag}: {f.fix.message}"


def render_markdown(findings: Iterable[Finding], counts: tuple[int, int] | None = None) -> str:
    """The table; ``counts``: (safe, unsafe) findings that the fix runs would fix, as planned
    (else each finding's own ``fix`` is counted)."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    if not ordered:
        return "### jaxlint: all checks passed\n"
    kinds = [f.fix.applicability if f.fix else "none" for f in ordered]
    safe, unsafe = counts if counts is not None else (kinds.count("safe"), kinds.count("unsafe"))
    lines = [
        f"### jaxlint: {plural(len(ordered), 'finding')}",
        "",
        f"Fixes: {safe} safe (`--fix`), {unsafe} unsafe "
        f"(`--fix --unsafe-fixes`), {len(ordered) - safe - unsafe} by hand.",
        "",
        "| Location | Rule | Message | Why traced | Fix |",
        "|---|---|---|---|---|",
    ]
    for f in ordered:
        rule = f"{f.code} `{f.name}`"
        trace = " → ".join(f.trace)
        lines.append(
            f"| `{_cell(f.where)}` | {rule} | {_cell(f.message)} "
            f"| {_cell(trace)} | {_cell(_fix(f))} |"
        )
    return "\n".join(lines) + "\n"

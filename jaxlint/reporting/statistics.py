"""``--statistics``: how many findings each rule has, instead of the findings (as ruff prints it)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from jaxlint.findings import Finding


@dataclass(frozen=True)
class Statistic:
    code: str
    name: str
    count: int
    fixable: bool  # some of them have a safe fix


def statistics(
    findings: Iterable[Finding], fixable: Iterable[Finding] | None = None
) -> list[Statistic]:
    """One row per code, most frequent first; ``fixable``: the findings ``--fix`` would fix, as
    planned by a fix run (else a finding with a safe ``fix`` counts)."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    safe: set[str] = set()
    for finding in findings:
        counts[finding.code] += 1
        names[finding.code] = finding.name
        if fixable is None and finding.fix is not None and finding.fix.applicability == "safe":
            safe.add(finding.code)
    safe.update(f.code for f in fixable or ())
    return [
        Statistic(code, names[code], count, code in safe)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def render_statistics_text(rows: list[Statistic]) -> str:
    """``count<TAB>code<TAB>[*] name`` with aligned columns; ``[*]`` marks rules ``--fix`` can fix."""
    if not rows:
        return ""
    count_width = max(len(str(r.count)) for r in rows)
    code_width = max(len(r.code) for r in rows)
    return "".join(
        f"{r.count:>{count_width}}\t{r.code:<{code_width}}\t{'[*]' if r.fixable else '[ ]'} {r.name}\n"
        for r in rows
    )


def render_statistics_json(rows: list[Statistic]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2) + "\n"

"""``--format json``: the SPEC's array of finding objects, for tools and CI."""

from __future__ import annotations

import json
from collections.abc import Iterable

from jaxlint.findings import Finding


def render_json(findings: Iterable[Finding]) -> str:
    """Exactly the SPEC fields (``Finding.to_dict``), ordered by path, line, column."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    return json.dumps([f.to_dict() for f in ordered], indent=2) + "\n"

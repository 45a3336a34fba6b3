"""The ``# expect: JX401 ConcretizationTypeError`` comments of the library fixtures: the finding
(code) and the class JAX raises, for the line below each comment."""

from __future__ import annotations

import re

EXPECT = re.compile(r"#\s*expect:\s*(JX\d+)\s+(\w+)")


def expected_markers(text: str) -> set[tuple[int, str, str]]:
    """(line, code, error) of each `# expect:` comment, for the line below it."""
    out = set()
    for i, line in enumerate(text.splitlines(), start=1):
        m = EXPECT.search(line)
        if m:
            out.add((i + 1, m.group(1), m.group(2)))
    return out

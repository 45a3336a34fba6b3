"""Hazards that hide behind dispatch (a base class's jitted method calling `self.step_env`, with
the subclass chosen through a registry, a factory or by the user): found at the line JAX raises."""

from __future__ import annotations

import importlib.util
import re
import traceback
from pathlib import Path

import pytest

from jaxlint.engine import lint_source

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "recall").glob("*.py"))
MARK = re.compile(r"#\s*expect:\s*(JX\d{3})")


def marks(text: str) -> list[tuple[int, str]]:
    return [
        (i, m.group(1)) for i, line in enumerate(text.splitlines(), 1) if (m := MARK.search(line))
    ]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_linter_finds_the_marked_hazard(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    got = {(f.line, f.code) for f in lint_source(text, path.name)}
    assert set(marks(text)) <= got


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_jax_raises_at_the_marked_line(path: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"recall_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(Exception) as info:
        module.run()
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == str(path)]
    assert frames[-1].lineno == marks(path.read_text(encoding="utf-8"))[0][0]

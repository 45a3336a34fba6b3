"""Every rule's examples are executable evidence.

For each ``Example`` of each rule in ``jaxlint.rules.RULES``:

- ``test_jax_confirms_example``: the program is written to a real file, imported and its ``run()``
  called with the pinned JAX. An INVALID example must raise exactly ``raises or rule.jax_error``
  (compared by class name, not ``isinstance``: TracerBoolConversionError is a subclass of
  ConcretizationTypeError, which is a subclass of TypeError), and the innermost traceback frame in
  the example file must be the line marked ``# expect: CODE``. A VALID example must run cleanly.
- ``test_linter_flags_example``: the linter flags exactly the marked lines of an INVALID example
  (with the marked codes, and nothing of the rule's own code elsewhere) and nothing at all in a VALID
  example.

Deselect the linter half with ``-k "not lint"``.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
import traceback
from pathlib import Path

import pytest

from jaxlint.rules import RULES, Example, Rule

EXPECT_RE = re.compile(r"#\s*expect:\s*(JX\d{3}(?:\s*,\s*JX\d{3})*)")
REQUIRED_SECTIONS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
)
_counter = itertools.count()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "untitled"


def _collect() -> list[pytest.param]:
    params = []
    for code, rule in RULES.items():
        for kind, examples in (("valid", rule.valid_examples), ("invalid", rule.invalid_examples)):
            for i, ex in enumerate(examples):
                params.append(pytest.param(rule, ex, id=f"{code}-{kind}-{i}-{_slug(ex.title)}"))
    return params


EXAMPLES = _collect()


def expected_marks(code: str) -> list[tuple[int, str]]:
    """(line, code) for every ``# expect: CODE`` marker, in line order."""
    marks = []
    for lineno, line in enumerate(code.splitlines(), start=1):
        m = EXPECT_RE.search(line)
        if m:
            marks.extend((lineno, c.strip()) for c in m.group(1).split(","))
    return marks


def _import_example(code: str, tmp_path: Path):
    path = tmp_path / "example.py"
    path.write_text(code, encoding="utf-8")
    name = f"_jaxlint_example_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs: dataclass machinery (flax modules) looks the module up by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return name, module, path


def _innermost_line_in(exc: BaseException, path: Path) -> int | None:
    target = path.resolve()
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == target:
            line = frame.lineno
    return line


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_jax_confirms_example(rule: Rule, example: Example, tmp_path: Path) -> None:
    marks = expected_marks(example.code)
    assert example.code.startswith(("import ", "from ")), "code must start at line 1 with an import"
    name, module, path = _import_example(example.code, tmp_path)
    try:
        assert callable(getattr(module, "run", None)), "an example defines run()"
        if example.valid:
            assert not marks, "a VALID example carries no '# expect:' marker"
            module.run()
            return
        assert marks, "an INVALID example marks its hazard line with '# expect: CODE'"
        assert rule.code in {c for _, c in marks}, f"no '# expect: {rule.code}' marker"
        expected = example.raises or rule.jax_error
        with pytest.raises(BaseException) as info:
            module.run()
        exc = info.value
        assert type(exc).__name__ == expected, (
            f"expected {expected}, JAX raised {type(exc).__name__}: {exc}"
        )
        line = _innermost_line_in(exc, path)
        assert line == marks[0][0], (
            f"innermost frame in the example is line {line}, marked line is {marks[0][0]}"
        )
    finally:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_linter_flags_example(rule: Rule, example: Example) -> None:
    from jaxlint.engine import lint_source

    findings = lint_source(example.code, path="example.py")
    got = sorted((f.line, f.code) for f in findings)
    if example.valid:
        assert got == [], f"findings on a VALID example: {got}"
        return
    marks = expected_marks(example.code)
    missing = [m for m in marks if m not in got]
    assert not missing, f"marked hazards not found: {missing}; findings: {got}"
    marked_lines = {line for line, c in marks if c == rule.code}
    extra = [(line, c) for line, c in got if c == rule.code and line not in marked_lines]
    assert not extra, f"{rule.code} findings on unmarked lines: {extra}"
    # the finding names the class JAX raises there (test_invalid_example_raises measures it)
    first = next(f for f in findings if (f.line, f.code) == marks[0])
    if marks[0][1] == rule.code:
        assert first.jax_error == (example.raises or rule.jax_error), first.message


def test_rule_documentation_and_example_counts() -> None:
    for code, rule in RULES.items():
        assert rule.doc.strip() and "TODO" not in rule.doc, f"{code}: doc is missing"
        if code == "JX000":
            continue
        for section in REQUIRED_SECTIONS:
            assert re.search(rf"^{re.escape(section)}\s*$", rule.doc, re.M), (
                f"{code}: doc lacks the section {section!r}"
            )
        assert len(rule.valid_examples) >= 4, f"{code}: fewer than 4 VALID examples"
        assert len(rule.invalid_examples) >= 4, f"{code}: fewer than 4 INVALID examples"
        for ex in rule.examples:
            assert ex.title, f"{code}: an example has no title"
            if ex.valid:
                assert ex.raises is None, f"{code}: VALID example {ex.title!r} sets raises="


def test_jax_error_is_raised_by_a_default_invalid_example() -> None:
    """``rule.jax_error`` is the class of at least one INVALID example that does not override it."""
    for code, rule in RULES.items():
        if code == "JX000":
            assert rule.jax_error is None
            continue
        assert rule.jax_error, f"{code}: jax_error is empty"
        defaults = [e for e in rule.invalid_examples if e.raises is None]
        assert defaults, f"{code}: every INVALID example overrides raises="


def test_example_titles_are_unique_per_rule() -> None:
    for code, rule in RULES.items():
        ids = [(e.valid, _slug(e.title)) for e in rule.examples]
        assert len(ids) == len(set(ids)), f"{code}: duplicate example titles"

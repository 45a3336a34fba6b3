"""JX000 syntax-error: A file that does not parse."""

from __future__ import annotations

from jaxlint.rules.base import Example, Rule

RULE = Rule(
    code="JX000",
    name="syntax-error",
    jax_error=None,
    summary="A file that does not parse.",
    fix="none",
    doc="""## What it does
Reports a file that does not parse as Python (for the Python version jaxlint runs on), at the line
and column of the first syntax error. The rest of the run continues: the other files are checked.

## Why is this bad?
A file that does not parse cannot be analysed, so no other rule can vouch for it; it would also fail
at import time, long before JAX traces anything. JAX raises nothing here: the error is Python's
`SyntaxError`.

## Example
```python
def step(x)
    return x + 1
```

## Use instead
```python
def step(x):
    return x + 1
```

## Fix safety
There is no automatic fix.
""",
    examples=(),
)

_ = Example  # JX000 has no runnable examples; keeps the shared import used

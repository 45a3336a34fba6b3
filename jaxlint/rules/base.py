"""What every rule declares: identity, the JAX error it predicts, its documentation and examples.

A rule's examples are executable programs. The test suite runs each through real JAX: an INVALID
example must raise ``raises`` (default: the rule's ``jax_error``) when ``run()`` is called, at the line
marked ``# expect: CODE``; a VALID example must run cleanly. The linter must flag exactly the marked
lines. So a rule cannot claim an error that JAX does not raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    code: str
    valid: bool
    # Exception class name expected from ``run()`` (INVALID only); defaults to the rule's jax_error.
    raises: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    # Class name of the exception the pinned JAX raises for this hazard under jax.jit.
    jax_error: str | None
    summary: str
    # Markdown sections: what it finds, why it breaks, what to write instead, when the fix is unsafe.
    doc: str
    fix: str = "none"  # "safe", "unsafe", "safe/unsafe", "advice" or "none"
    examples: tuple[Example, ...] = field(default_factory=tuple)

    @property
    def valid_examples(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.valid)

    @property
    def invalid_examples(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if not e.valid)

"""The rule registry: every rule module, in code order."""

from __future__ import annotations

from types import ModuleType

from jaxlint.rules import (
    jx000_syntax_error,
    jx101_traced_host_index,
    jx102_traced_slice,
    jx103_traced_bool_mask,
    jx201_traced_conversion,
    jx202_traced_host_call,
    jx301_traced_branch,
    jx302_traced_bool_op,
    jx401_traced_shape,
    jx402_data_dependent_shape,
    jx501_traced_split_count,
    jx601_traced_static_arg,
    jx602_unhashable_static_arg,
)
from jaxlint.rules.base import Example, Rule

RULE_MODULES: tuple[ModuleType, ...] = (
    jx000_syntax_error,
    jx101_traced_host_index,
    jx102_traced_slice,
    jx103_traced_bool_mask,
    jx201_traced_conversion,
    jx202_traced_host_call,
    jx301_traced_branch,
    jx302_traced_bool_op,
    jx401_traced_shape,
    jx402_data_dependent_shape,
    jx501_traced_split_count,
    jx601_traced_static_arg,
    jx602_unhashable_static_arg,
)
RULES: dict[str, Rule] = {m.RULE.code: m.RULE for m in RULE_MODULES}

__all__ = ["RULES", "RULE_MODULES", "Example", "Rule"]

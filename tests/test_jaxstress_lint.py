"""The runtime practises what the linter preaches: `jaxlint jaxstress/` reports nothing."""

from __future__ import annotations

from pathlib import Path

from jaxlint.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_jaxstress_has_no_tracer_hazards(capsys) -> None:
    assert main(["check", "--no-cache", str(ROOT / "jaxstress")]) == 0, capsys.readouterr().out

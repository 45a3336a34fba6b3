"""`jaxlint examples/jax_migration` lists every hazard that JAX raises on in the broken original.

The ground truth (`hazards.json`) was measured by running the example under JAX hazard by hazard
(and is re-verified by test_migration_original.py); here the linter must report each entry at the
same file and line, with the same rule and the same exception class, and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "jax_migration"


def lint_json() -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "jaxlint", "check", "--no-cache", "--format", "json", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def test_every_measured_hazard_is_reported_and_nothing_else() -> None:
    truth = json.loads((EXAMPLE / "hazards.json").read_text(encoding="utf-8"))
    findings = lint_json()
    got = {(Path(f["path"]).name, f["line"], f["code"]) for f in findings}
    expected = {(h["file"], h["line"], h["code"]) for h in truth}
    assert got == expected
    errors = {(Path(f["path"]).name, f["line"]): f["jax_error"] for f in findings}
    for h in truth:
        assert errors[(h["file"], h["line"])] == h["jax_error"], h


def test_each_finding_explains_why_its_value_is_traced() -> None:
    for f in lint_json():
        assert f["trace"], f
        assert " is traced: " in f["trace"][0], f["trace"]


def test_migration_report_is_current() -> None:
    """HAZARDS.md is what `jaxlint --format markdown examples/jax_migration` prints (run from the
    repository root); regenerate it with that command when the example or the linter changes."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxlint",
            "check",
            "--no-cache",
            "--format",
            "markdown",
            "examples/jax_migration",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.stdout == (EXAMPLE / "HAZARDS.md").read_text(encoding="utf-8")

"""Recall on real user reports: programs rebuilt from public bug reports (GitHub issues of jax,
flax, equinox, brax, numpyro... each file's first line names its source), judged by JAX.

`benchmarks/user_reports/r*_NN.py` keep the shape of the reporter's code (classes, helpers,
closures, how the function is jitted, vmapped or scanned) and define `run()`. JAX runs each: the
class and the line it raises at are the ground truth (a program that does not raise in this JAX
is left out and listed). A report counts as found when jaxlint, run on that file alone, reports
that line. `*_ok.py` are the fixes the reports' answers suggest: they must run, and any finding on
them is a false positive.

    python benchmarks/user_reports.py            # the table, then the totals
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jaxlint.engine import lint_source  # noqa: E402

CASES = Path(__file__).resolve().parent / "user_reports"


@dataclass
class Case:
    name: str
    source: str  # the report it comes from (the file's first comment line)
    error: str | None  # what JAX raised (None: it ran)
    line: int | None  # where, in the file
    findings: list[tuple[int, str]]  # (line, code)


def run_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    spec = importlib.util.spec_from_file_location(f"user_report_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    error = line = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
            module.run()
    except Exception as err:  # any class JAX raises is the ground truth
        error = type(err).__name__
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
        line = frames[-1].lineno if frames else None
    findings = [(f.line, f.code) for f in lint_source(text, path.name)]
    return Case(path.stem, first.lstrip("# ").strip(), error, line, findings)


def main() -> int:
    reports = [run_case(p) for p in sorted(CASES.glob("r*.py")) if not p.stem.endswith("_ok")]
    fixed = [run_case(p) for p in sorted(CASES.glob("r*_ok.py"))]
    raised = [c for c in reports if c.error is not None]
    found = [c for c in raised if any(line == c.line for line, _ in c.findings)]
    for c in reports:
        if c.error is None:
            verdict = "does not raise here (left out)"
        else:
            hit = [code for line, code in c.findings if line == c.line]
            verdict = f"found ({', '.join(hit)})" if hit else "MISSED"
        print(
            f"{c.name:8} {c.error or '-':34} line {c.line or '-':>3}  {verdict:28} {c.source[:70]}"
        )
    false = [(c.name, c.findings) for c in fixed if c.findings]
    broken = [c.name for c in fixed if c.error is not None]
    for name, findings in false:
        print(f"FALSE POSITIVE on the fixed program {name}: {findings}")
    for name in broken:
        print(f"the fixed program {name} raises: not a valid check")
    print(
        f"{len(found)} of {len(raised)} reports found at the line JAX raises "
        f"({len(found) / max(len(raised), 1):.1%}); {len(reports) - len(raised)} left out; "
        f"{len(false)} of {len(fixed)} fixed programs with a finding"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Lines per second of `jaxlint check` against a bare `libcst.parse_module` of the same files.

Both run as fresh processes over the same file list, interleaved, `--repeats` times; the table
reports medians and the ratio to the bare parse measured in the same run (SPEC: at most 2x).

    python benchmarks/lint_speed.py                 # flax + optax sources from site-packages
    python benchmarks/lint_speed.py PATH [PATH...]  # any trees
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

PARSE_SCRIPT = """
import sys, libcst
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        libcst.parse_module(text)
    except Exception:
        pass
"""


def default_paths() -> list[Path]:
    out = []
    for name in ("flax", "optax"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            sys.exit(f"lint_speed: {name} is not installed (pip install -e '.[dev]')")
        out.append(Path(spec.origin).parent)
    return out


def python_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return files


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    files = python_files(args.paths or default_paths())
    lines = sum(f.read_text(encoding="utf-8", errors="replace").count("\n") for f in files)
    names = [str(f) for f in files]
    py = sys.executable
    runs = {
        "libcst.parse_module (bare)": [py, "-c", PARSE_SCRIPT, *names],
        "jaxlint check": [py, "-m", "jaxlint", "check", "--no-cache", "--exit-zero", "-q", *names],
        "jaxlint check -j 2": [
            py,
            "-m",
            "jaxlint",
            "check",
            "--no-cache",
            "--exit-zero",
            "-q",
            "-j",
            "2",
            *names,
        ],
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):
        for name, cmd in runs.items():  # interleaved: drift hits every variant alike
            times[name].append(timed(cmd))
    base = statistics.median(times["libcst.parse_module (bare)"])
    print(
        f"{len(files)} files, {lines} lines; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'variant':32} {'median s':>9} {'spread s':>9} {'lines/s':>9} {'vs parse':>9}")
    for name, ts in times.items():
        med = statistics.median(ts)
        spread = max(ts) - min(ts)
        print(f"{name:32} {med:9.2f} {spread:9.2f} {lines / med:9.0f} {med / base:8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

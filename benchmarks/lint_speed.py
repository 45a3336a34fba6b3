"""Lines per second of `jaxlint check` against a bare `libcst.parse_module` of the same files.

Every variant runs as a fresh process, interleaved with the others, `--repeats` times; the tables
report medians and the ratio to the bare parse measured in the same run (SPEC: a full check at most
2x). The default tree is the installed flax + optax sources copied into a temporary directory with
a `pyproject.toml`, i.e. one project as a user's checkout would be (left in site-packages, each
installed package would be a project of its own).

    python benchmarks/lint_speed.py                 # full check of flax + optax
    python benchmarks/lint_speed.py PATH [PATH...]  # full check of any trees
    python benchmarks/lint_speed.py --precommit     # the pre-commit case (below)
    python benchmarks/lint_speed.py --packages flax --precommit   # a 56k-line project

`--precommit` measures what a hook on one staged file costs: `jaxlint check FILE` analyses FILE's
whole project (flax + optax) and reports FILE. Variants: cold (empty result cache), warm (cache
filled, nothing changed: a hit), and edited (cache filled, then another file of the project
edited, as between two commits: the project's key changes, so it is a whole re-analysis).

The full check also runs with installed libraries made opaque (`--python` naming a stand-in
interpreter whose import path is empty), so that what reading libraries costs shows apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
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
# The staged file of --precommit: optax's segmentation losses (the tree's findings are there).
STAGED = "optax/losses/_segmentation.py"
# The file edited between two runs of the "edited" variant (another file of the same project).
EDITED = "flax/linen/linear.py"


def copy_project(target: Path, packages: list[str]) -> Path:
    """Packages from site-packages, copied under ``target`` with a pyproject.toml marker."""
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"lint_speed: {name} is not installed (pip install -e '.[dev]')")
        source = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "pyproject.toml").write_text("[tool.jaxlint]\n")
    return target


def python_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return files


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - t0


def report(header: str, lines: int, times: dict[str, list[float]], base: str) -> None:
    print(header)
    print(f"{'variant':42} {'median s':>9} {'spread s':>9} {'lines/s':>9} {'vs parse':>9}")
    reference = statistics.median(times[base])
    for name, ts in times.items():
        med = statistics.median(ts)
        spread = max(ts) - min(ts)
        print(f"{name:44} {med:9.2f} {spread:9.2f} {lines / med:9.0f} {med / reference:8.2f}x")


def measure(
    variants: dict[str, tuple[list[str], Callable[[], None]]],
    repeats: int,
    cwd: Path,
    env: dict[str, str],
) -> dict[str, list[float]]:
    """Each variant's times; ``prepare`` runs before each timed command (not timed)."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(repeats):
        for name, (cmd, prepare) in variants.items():  # interleaved: drift hits all alike
            prepare()
            times[name].append(timed(cmd, cwd, env))
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--precommit", action="store_true", help="measure one staged file (see above)")
    ap.add_argument("--packages", default="flax,optax", help="installed packages to copy")
    ap.add_argument("--staged", help=f"the staged file of --precommit (default {STAGED})")
    ap.add_argument("--edited", help=f"the file edited between runs (default {EDITED})")
    args = ap.parse_args()
    packages = args.packages.split(",")
    staged = args.staged or (STAGED if "optax" in packages else "flax/linen/attention.py")
    edited_name = args.edited or EDITED
    py = sys.executable
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory(prefix="lint_speed.") as tmp:
        work = Path(tmp)
        if args.paths:
            cwd, targets = Path.cwd(), [p.resolve() for p in args.paths]
        else:
            cwd = copy_project(work / "project", packages)
            targets = [cwd / name for name in packages]
        files = python_files(targets)
        lines = sum(f.read_text(encoding="utf-8", errors="replace").count("\n") for f in files)
        names = [str(f) for f in files]
        bare = [py, "-c", PARSE_SCRIPT, *names]
        check = [py, "-m", "jaxlint", "check", "--exit-zero", "-q"]
        machine = (
            f"{len(files)} files, {lines} lines; {cpu_model()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f} at the start"
        )
        nothing: Callable[[], None] = lambda: None  # noqa: E731
        opaque = work / "no-libraries-python"
        opaque.write_text("#!/bin/sh\necho '[]'\n")
        opaque.chmod(0o755)
        if not args.precommit:
            variants = {
                "libcst.parse_module (bare)": (bare, nothing),
                "jaxlint check": ([*check, "--no-cache", *names], nothing),
                "jaxlint check, libraries opaque": (
                    [*check, "--no-cache", "--python", str(opaque), *names],
                    nothing,
                ),
                "jaxlint check -j 2": ([*check, "--no-cache", "-j", "2", *names], nothing),
            }
            times = measure(variants, args.repeats, cwd, env)
            report(machine, lines, times, "libcst.parse_module (bare)")
            return 0
        if args.paths:
            sys.exit("lint_speed: --precommit measures a copied project (--packages, no PATHs)")
        cache = work / "cache"
        env["JAXLINT_CACHE_DIR"] = str(cache)
        hook = [*check, staged]
        edited = cwd / edited_name
        original = edited.read_text(encoding="utf-8")
        edits = iter(range(1_000_000))

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def filled_cache() -> None:
            edited.write_text(original, encoding="utf-8")
            subprocess.run(hook, cwd=cwd, env=env, check=False, capture_output=True)

        def edit_another_file() -> None:
            filled_cache()
            edited.write_text(original + f"# edit {next(edits)}\n", encoding="utf-8")

        variants = {
            "libcst.parse_module (bare, whole project)": (bare, nothing),
            "check FILE, cold (empty cache)": (hook, empty_cache),
            "check FILE, warm (cache hit)": (hook, filled_cache),
            "check FILE, another file edited": (hook, edit_another_file),
            "check --no-project FILE, cold": ([*check, "--no-project", staged], empty_cache),
        }
        times = measure(variants, args.repeats, cwd, env)
        edited.write_text(original, encoding="utf-8")
        header = f"pre-commit: FILE = {staged}, edited: {edited_name}, one staged file of {machine}"
        report(header, lines, times, next(iter(variants)))
        cold = statistics.median(times["check FILE, cold (empty cache)"])
        warm_edit = statistics.median(times["check FILE, another file edited"])
        print(f"edited / cold: {warm_edit / cold:.2f} (issue's target: < 0.20)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

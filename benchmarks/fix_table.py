"""What ``jaxlint --fix --unsafe-fixes`` does to the hazards it finds, with JAX as the judge.

For every hazard pattern of ``hazard_table.py`` under every transform (plus a few programs with
several hazards, and the example migration): run the original under the transform; where JAX
raises there and the same code runs eagerly, lint it, apply ``--fix --unsafe-fixes`` (the CLI, in
a scratch project), run the fixed program under the same transform and compare with the eager
original: the same pytree structure and numbers equal within float32 tolerance. Each row is one of

    equal        fixed, and the fixed program matches the eager original
    broken       fixed, runs, and gives other numbers or another structure (must be 0)
    raises       fixed, and the fixed program still fails (fixes that cannot help here)
    not offered  found, but no fix applies (advice only)
    not found    jaxlint misses the hazard (recall: hazard_table.py measures it)

and every fix must be idempotent (a second ``--fix`` changes nothing) and parse.

    python benchmarks/fix_table.py               # the rows that are not `equal`, then totals
    python benchmarks/fix_table.py --json F      # every row, for comparison across versions

``f`` returns ``y`` (the hazard's value) when the eager original's ``y`` is numeric, else
``t * 1.0``. The driver passes ``i`` as a Python int where the transform allows (a count from a
config), as arrays under vmap, pmap and scan. Under ``fori`` and ``grad`` the output is reduced to
a float32 sum (the carry and a derivative's input must be arrays).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hazard_table  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxlint.cli import main as jaxlint_main  # noqa: E402
from jaxlint.fixes.apply import parses  # noqa: E402

SUM = "_tree_sum"
# A float32 sum of every leaf: what fori's carry and grad's output hold of ``f``'s result.
HELPERS = (
    f"\n\ndef {SUM}(tree):\n"
    "    return sum(jnp.sum(jnp.asarray(leaf, jnp.float32)) for leaf in jax.tree.leaves(tree))\n"
)
TRANSFORMS: dict[str, str] = {
    # I0 is a Python int here: batched transforms get it as an array
    **{
        name: call.replace("I0[None]", "jnp.asarray(I0)[None]")
        for name, call in hazard_table.TRANSFORMS.items()
    },
    "fori": f"lax.fori_loop(0, 1, lambda k, c: c + {SUM}(f(X, T0 + c * 0.0, I0 + k)), 0.0)",
    "grad": f"jax.value_and_grad(lambda *a: {SUM}(f(*a)), argnums=1)(X, T0, I0)[0]",
}
# How the transform's output relates to the eager f(X, T0, I0): "same", "first" (leading
# batch axis of identical rows), "scan" (the scan's stacked outputs, one row) or "sum" (the
# float32 sum of its leaves).
RELATION = {"vmap": "first", "pmap": "first", "scan": "scan", "fori": "sum", "grad": "sum"}

# Programs with several hazards in one function: (setup, body); the body defines y.
MULTI: dict[str, tuple[str, str]] = {
    "clip and branch": (
        "",
        "y = max(-1.0, min(1.0, t))\n    if y > 0 and t < 5:\n        y = y * 2.0",
    ),
    "host table and conversion": (
        "NP = np.arange(10.0)",
        "k = int(i)\n    y = NP[k] + np.exp(t)",
    ),
    "branch on a mask count": (
        "",
        "n = (x > 0.5).sum()\n    y = 0.0\n    if n > 1:\n        y = x.sum()\n"
        "    elif not (t > 0):\n        y = -1.0",
    ),
    "slice and shape": ("", "y = jnp.zeros(i) + x[i:i + 2].sum()"),
    "loop over a traced range": (
        "",
        "y = t\n    s = 0.0\n    for k in range(i + 2):\n        y = y * 0.5 + k\n        s += y",
    ),
}

# Found hazards that no fix makes equal (yet), and why; the CI test fails when one becomes
# fixed (update the list) or another appears. Keys: "pattern/transform" or "pattern/*".
# (Counts that reach f as a transform's operand are fixed at the call: vmap's and pmap's map an
# array of one repeated Python value, passed itself with in_axes None (pmap: also a static
# broadcast argument); scan's body reads the repeated value instead of its row; cond's branches
# close over the operands; a fori_loop with known bounds is unrolled.)
KNOWN_UNFIXABLE: dict[str, str] = {
    "comprehension if/*": "how many elements are kept depends on the data: only a mask keeps all",
    "jax_array[mask]/*": "the result's length depends on the data (a reduction could mask it)",
    'f"{t:.2f}"/*': "a string of a traced value: jax.debug.print formats it at run time",
    '"{:>5}".format(t)/*': "a string of a traced value: jax.debug.print formats it at run time",
    "jnp.unique(x)/*": "the padding of unique is a valid value: only the author can pick size=",
    "jnp.nonzero(x)/*": "the indices themselves are the result: padding would change them",
    "jnp.where(x > 0)/*": "the indices themselves are the result: padding would change them",
    "jnp.argwhere(x)/*": "the indices themselves are the result: padding would change them",
    "np.random.randint(0, i)/*": "NumPy's global RNG has no JAX twin (jax.random needs a key)",
    "jnp.bincount(ids)/*": "only the author knows a bound on the ids for length=",
    "jax.ops.segment_sum(x, ids)/*": "only the author knows a bound on the ids for num_segments=",
    "len(t.devices())/*": "where a value lives is asked of a concrete buffer: only the author "
    "can move the question outside the trace",
    "max(x) (iterable)/scan": "the iterated value is not known to be one array there",
    "max(x) (iterable)/fori": "the iterated value is not known to be one array there",
}

VERDICTS = ("equal", "broken", "raises", "not offered", "not found")


@dataclass
class Row:
    pattern: str
    transform: str
    verdict: str | None  # one of VERDICTS; None: not a tracer hazard here (runs, or fails eagerly)
    codes: list[str]  # the findings' codes before fixing
    left: list[str]  # the codes left after --fix --unsafe-fixes
    error: str | None = None  # what the fixed program raised, or how it differed
    idempotent: bool = True
    parses: bool = True


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"fixcase_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    return module


def _run(module: Any, call: str) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        out = module.run() if call == "run" else module.eager()
        jax.block_until_ready(out) if _numeric(out) else None
        jax.effects_barrier()
    return out


def _numeric(tree: Any) -> bool:
    try:
        leaves = jax.tree.leaves(tree)
        return bool(leaves) and all(
            isinstance(leaf, int | float | np.ndarray | np.generic | jax.Array)
            and np.asarray(leaf).dtype.kind in "biuf"
            for leaf in leaves
        )
    except Exception:  # a string, a range of tracers...: not an array
        return False


def _tree_sum(tree: Any) -> float:
    return float(sum(np.sum(np.asarray(leaf, np.float32)) for leaf in jax.tree.leaves(tree)))


def compare(eager: Any, got: Any, relation: str) -> str | None:
    """None when ``got`` (the transform's output) matches the eager ``eager``; else how not."""
    if relation == "sum":
        want, have = _tree_sum(eager), float(np.asarray(got))
        ok = np.allclose(have, want, rtol=1e-5, atol=1e-5, equal_nan=True)
        return None if ok else f"sum {have} != {want}"
    if relation == "scan":
        got, relation = got[1], "first"
    if relation == "first":
        if any(np.ndim(a) == 0 for a in jax.tree.leaves(got)):
            return "no batch axis"
        got = jax.tree.map(lambda a: np.asarray(a)[0], got)
    want_leaves, want_tree = jax.tree.flatten(eager)
    got_leaves, got_tree = jax.tree.flatten(got)
    if want_tree != got_tree:
        return f"structure {got_tree} != {want_tree}"
    for w, g in zip(want_leaves, got_leaves, strict=True):
        w, g = np.asarray(w), np.asarray(g)
        if w.shape != g.shape:
            return f"shape {g.shape} != {w.shape}"
        if not np.allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-5, atol=1e-6):
            return f"values {g.tolist()} != {w.tolist()}"
    return None


def _jaxlint(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        jaxlint_main(["check", *args, "--no-cache", "--format", "json"])
    return out.getvalue()


def _codes(directory: Path) -> list[str]:
    return sorted(f["code"] for f in json.loads(_jaxlint(str(directory)) or "[]"))


def source(setup: str, body: str, transform: str, ret: str) -> str:
    call = TRANSFORMS[transform]
    text = hazard_table.program(setup, body, call, ret=ret, i0="1")
    return (
        text
        + HELPERS
        + "\n\ndef eager():\n    return f(jnp.arange(5.0) / 4.0, jnp.float32(2.0), 1)\n"
    )


def run_case(pattern: str, setup: str, body: str, transform: str, work: Path) -> Row:
    case = work / f"case_{abs(hash((pattern, transform)))}"
    case.mkdir()
    (case / "pyproject.toml").write_text("[project]\nname = 'case'\n")
    path = case / "case.py"
    # f returns y where y is numeric eagerly (else the hazard table's t * 1.0)
    path.write_text(source(setup, body, transform, "y"), encoding="utf-8")
    try:
        eager = _run(_load(path), "eager")
    except Exception:
        return Row(pattern, transform, None, [], [])  # fails without a transform too
    if not _numeric(eager):
        path.write_text(source(setup, body, transform, "t * 1.0"), encoding="utf-8")
        eager = _run(_load(path), "eager")
    try:
        _run(_load(path), "run")
        return Row(pattern, transform, None, [], [])  # traces fine: no hazard to fix
    except Exception:
        pass
    codes = _codes(case)
    if not codes:
        return Row(pattern, transform, "not found", [], [])
    original = path.read_text(encoding="utf-8")
    _jaxlint("--fix", "--unsafe-fixes", str(case))
    fixed = path.read_text(encoding="utf-8")
    left = _codes(case)
    row = Row(pattern, transform, None, codes, left, parses=parses(fixed))
    _jaxlint("--fix", "--unsafe-fixes", str(case))
    row.idempotent = path.read_text(encoding="utf-8") == fixed
    if fixed == original:
        row.verdict = "not offered"
        return row
    try:
        got = _run(_load(path), "run")
    except Exception as err:  # the fix did not make it trace
        row.verdict, row.error = "raises", f"{type(err).__name__}: {str(err)[:160]}"
        return row
    row.error = compare(eager, got, RELATION.get(transform, "same"))
    row.verdict = "broken" if row.error else "equal"
    return row


def run_example(work: Path) -> Row:
    """The example migration: fixed with --fix --unsafe-fixes, its trainer run under jit and
    compared with the original run eagerly (tests/test_migration_original.py's helpers)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_migration_original as mig

    dest = work / "jax_migration"
    shutil.copytree(mig.EXAMPLE_DIR, dest, ignore=shutil.ignore_patterns("__pycache__"))
    codes = _codes(dest)
    _jaxlint("--fix", "--unsafe-fixes", str(dest))
    texts = {p.name: p.read_text() for p in dest.glob("*.py")}
    row = Row("examples/jax_migration", "trainer", None, codes, _codes(dest))
    row.parses = all(parses(t) for t in texts.values())
    _jaxlint("--fix", "--unsafe-fixes", str(dest))
    row.idempotent = all(p.read_text() == texts[p.name] for p in dest.glob("*.py"))
    results, failure = mig.run_traced(dest)
    if failure is not None:
        row.verdict, row.error = "raises", str(failure)[:200]
        return row
    want = mig.original_eager_results()
    diffs = []
    for got, ref in zip(results, want, strict=True):
        for hg, hr in zip(got["history"], ref["history"], strict=True):
            diffs += [
                f"{k}: {hg.get(k)} != {hr[k]}"
                for k in hr
                if not np.isclose(hg.get(k, np.nan), hr[k], rtol=1e-4, atol=1e-5)
            ]
        if not np.isclose(got["final_param_norm"], ref["final_param_norm"], rtol=1e-5):
            diffs.append("final_param_norm")
    row.verdict = "broken" if diffs else "equal"
    row.error = "; ".join(diffs) or None
    return row


def run_all(example: bool = True) -> list[Row]:
    warnings.filterwarnings("ignore")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for pattern, (setup, body) in {**hazard_table.HAZARDS, **MULTI}.items():
            if pattern.startswith("OK "):
                continue
            for transform in TRANSFORMS:
                rows.append(run_case(pattern, setup, body, transform, work))
        if example:
            rows.append(run_example(work))
    return rows


def known_unfixable(row: Row) -> bool:
    return f"{row.pattern}/{row.transform}" in KNOWN_UNFIXABLE or f"{row.pattern}/*" in (
        KNOWN_UNFIXABLE
    )


def summary(rows: list[Row]) -> dict[str, Any]:
    hazards = [r for r in rows if r.verdict is not None]
    counts = Counter(r.verdict for r in hazards)
    found = len(hazards) - counts["not found"]
    fixed = [r for r in hazards if r.verdict in ("equal", "broken", "raises")]
    return {
        **{v: counts[v] for v in VERDICTS},
        "hazards": len(hazards),
        "found": found,
        "equal_share": counts["equal"] / found if found else 1.0,
        "not_idempotent": sum(not r.idempotent for r in fixed),
        "not_parsing": sum(not r.parses for r in fixed),
        "findings_left_after_equal": sum(bool(r.left) for r in hazards if r.verdict == "equal"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--no-example", action="store_true", help="skip the example migration")
    args = parser.parse_args(argv)
    rows = run_all(example=not args.no_example)
    by_verdict: dict[str, list[str]] = {}
    for r in rows:
        if r.verdict is not None and r.verdict != "equal":
            by_verdict.setdefault(r.verdict, []).append(f"{r.pattern}/{r.transform}")
        if r.verdict is not None and not (r.idempotent and r.parses):
            print(f"NOT IDEMPOTENT OR NOT PARSING: {r.pattern}/{r.transform}")
    for verdict, names in by_verdict.items():
        print(f"{verdict} ({len(names)}): {', '.join(names)}")
    for r in rows:
        if r.verdict in ("broken", "raises"):
            print(f"  {r.verdict}: {r.pattern}/{r.transform}: {r.error}")
    s = summary(rows)
    print(
        f"jax {jax.__version__}: {s['hazards']} hazards, {s['found']} found; of those "
        f"{s['equal']} fixed and equal ({s['equal_share']:.1%}), {s['broken']} broken, "
        f"{s['raises']} still raise, {s['not offered']} not offered; "
        f"{s['not_idempotent']} not idempotent, {s['not_parsing']} not parsing"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""examples/jax_migration: the broken NumPy->JAX port that jaxlint is measured against.

1. the original runs EAGERLY (no transform) and gives finite results;
2. run as is, its real entry point dies at trace time on the FIRST hazard of hazards.json;
3. hazards.json is re-measured with JAX: in a scratch copy, the hazards are neutralised one by one
   (each entry's ``neutralise`` text replacement, in order) and JAX must raise every entry's class
   at that entry's file:line; once all are neutralised the copy runs under jit and reproduces
   the original's eager results.

"Eager" means no JAX transform at all: ``jax.jit`` is the identity, ``jax.lax.scan`` a Python
loop and ``jax.vmap`` a Python loop over the mapped axis (``jax.disable_jit()`` alone is not
enough: vmap still traces). ``run_eager`` / ``original_eager_results`` are importable helpers
for the tests of ``jaxlint --fix`` on this example.

Rebuild hazards.json after editing the example (same measurement, written back):
    python tests/test_migration_original.py --rebuild
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import math
import os
import shutil
import sys
import traceback
from pathlib import Path

import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("flax")
pytest.importorskip("optax")
pytest.importorskip("pandas")
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "jax_migration"
HAZARDS_PATH = EXAMPLE_DIR / "hazards.json"
HAZARDS = json.loads(HAZARDS_PATH.read_text())
MODULES = ("data_loader", "env_phase1_jax", "train_ppo_jax_fixed", "stress_hardware_jax")
# small enough to run eagerly; every env finishes an episode within one rollout
ARGV = (
    "--num-envs=2",
    "--num-steps=8",
    "--updates=1",
    "--episode-bars=6",
    "--window=8",
    "--days=3",
)
RULES = ("JX101", "JX102", "JX103", "JX201", "JX202", "JX301", "JX302", "JX401", "JX402", "JX501")
# functions of the example traced by a transform, and which one (for the "transform" field)
TRANSFORM_OF = {
    "collect_rollouts": "jit via collect_rollouts",
    "step_fn": "scan",
    "reset": "vmap",
    "step": "vmap",
    "update": "jit via update",
    "loss_fn": "value_and_grad",
}


# --------------------------------------------------------------------------- eager harness
def _stack(*xs):
    # host-side stack: the values and dtypes of jnp.stack without one XLA compile per shape
    return jnp.asarray(np.stack([np.asarray(x) for x in xs]))


def _take(tree, i):
    return jax.tree.map(lambda x: jnp.asarray(np.asarray(x)[i]), tree)


def loop_vmap(fun, in_axes=0, out_axes=0):
    if out_axes != 0:
        raise NotImplementedError("loop_vmap: out_axes must be 0")

    def mapped(*args):
        axes = tuple(in_axes) if isinstance(in_axes, list | tuple) else (in_axes,) * len(args)
        if any(ax not in (0, None) for ax in axes):
            raise NotImplementedError("loop_vmap: in_axes entries must be 0 or None")
        (n,) = {jax.tree.leaves(a)[0].shape[0] for a, ax in zip(args, axes, strict=True) if ax == 0}
        outs = [
            fun(*[a if ax is None else _take(a, i) for a, ax in zip(args, axes, strict=True)])
            for i in range(n)
        ]
        return jax.tree.map(_stack, *outs)

    return mapped


def loop_scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    n = length if xs is None else jax.tree.leaves(xs)[0].shape[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, {}
    for i in order:
        carry, ys[i] = f(carry, None if xs is None else _take(xs, i))
    return carry, jax.tree.map(_stack, *[ys[i] for i in range(n)])


def identity_jit(fun=None, **_static):
    return fun if fun is not None else (lambda f: f)


@contextlib.contextmanager
def eager_jax():
    """No transform at all: jit is the identity, scan and vmap are Python loops."""
    saved = jax.jit, jax.vmap, jax.lax.scan
    jax.jit, jax.vmap, jax.lax.scan = identity_jit, loop_vmap, loop_scan
    try:
        yield
    finally:
        jax.jit, jax.vmap, jax.lax.scan = saved


@contextlib.contextmanager
def example_on_path(example_dir):
    """Import the example's modules (plain imports, folder on sys.path) from example_dir."""
    saved = {m: sys.modules.pop(m) for m in MODULES if m in sys.modules}
    sys.path.insert(0, str(example_dir))
    try:
        yield importlib.import_module("stress_hardware_jax")
    finally:
        sys.path.remove(str(example_dir))
        for m in MODULES:
            sys.modules.pop(m, None)
        sys.modules.update(saved)


def run_eager(example_dir=EXAMPLE_DIR, argv=ARGV):
    """Results of the real entry point run with no transform."""
    with example_on_path(example_dir) as stress, eager_jax():
        return stress.main(list(argv))


@functools.lru_cache(maxsize=4)
def original_eager_results(argv=ARGV):
    return run_eager(EXAMPLE_DIR, argv)


def run_traced(example_dir, argv=ARGV):
    """Run the real entry point as is. Returns (results, None) or (None, failure), where failure
    holds the exception class and the innermost traceback frame in the example's files."""
    example_dir = os.path.realpath(example_dir)
    with example_on_path(example_dir) as stress:
        try:
            return stress.main(list(argv)), None
        except Exception as err:
            frames = [
                (os.path.basename(fr.filename), fr.lineno, fr.name)
                for fr in traceback.extract_tb(err.__traceback__)
                if os.path.realpath(os.path.dirname(fr.filename)) == example_dir
            ]
            chain = []
            for _, _, name in frames:
                if name in TRANSFORM_OF and TRANSFORM_OF[name] not in chain:
                    chain.append(TRANSFORM_OF[name])
            return None, {
                "jax_error": type(err).__name__,
                "file": frames[-1][0] if frames else None,
                "line": frames[-1][1] if frames else None,
                "transform": " -> ".join(chain),
                "call_chain": [f"{f}:{name}" for f, _, name in frames],
                "message": str(err).splitlines()[0][:300] if str(err) else "",
            }


def neutralise(example_dir, entry):
    path = Path(example_dir) / entry["file"]
    old, new = entry["neutralise"]["old"], entry["neutralise"]["new"]
    text = path.read_text()
    assert text.count(old) == 1, f"neutralise text of {entry['file']}:{entry['line']} not unique"
    path.write_text(text.replace(old, new))


def scratch_copy(dest):
    dest = Path(dest) / "jax_migration"
    shutil.copytree(EXAMPLE_DIR, dest, ignore=shutil.ignore_patterns("__pycache__", "*.json"))
    return dest


def _all_finite(results):
    for res in results:
        assert not res["oom"]
        values = [res["final_param_norm"]] + [v for h in res["history"] for v in h.values()]
        assert values and all(math.isfinite(v) for v in values), res
    return True


def _assert_same_results(got, ref):
    assert len(got) == len(ref)
    for g, r in zip(got, ref, strict=True):
        assert g["num_envs"] == r["num_envs"]
        assert g["final_param_norm"] == pytest.approx(r["final_param_norm"], rel=1e-5)
        for hg, hr in zip(g["history"], r["history"], strict=True):
            assert hg.keys() == hr.keys()
            for k in hr:
                assert hg[k] == pytest.approx(hr[k], rel=1e-4, abs=1e-5), k


# --------------------------------------------------------------------------- tests
def test_hazards_json_is_consistent():
    assert len(HAZARDS) >= len(RULES)
    assert {h["code"] for h in HAZARDS} >= set(RULES)
    assert [h["first"] for h in HAZARDS] == [True] + [False] * (len(HAZARDS) - 1)
    assert len({(h["file"], h["line"], h["code"]) for h in HAZARDS}) == len(HAZARDS)
    sources = {f: (EXAMPLE_DIR / f).read_text() for f in {h["file"] for h in HAZARDS}}
    for h in HAZARDS:
        assert h["file"] in {m + ".py" for m in MODULES}
        assert sources[h["file"]].splitlines()[h["line"] - 1].strip() == h["snippet"]
        old, new = h["neutralise"]["old"], h["neutralise"]["new"]
        assert old.count("\n") == new.count("\n"), "a neutralisation must keep line numbers"
        assert h["jax_error"] and h["transform"].startswith("jit via ")


def test_example_is_valid_python_311():
    import ast

    for m in MODULES:
        ast.parse((EXAMPLE_DIR / f"{m}.py").read_text(), feature_version=(3, 11))


@pytest.mark.slow
def test_original_runs_eagerly():
    results = original_eager_results()
    assert [r["num_envs"] for r in results] == [2]
    assert _all_finite(results)


def test_original_fails_at_trace_time_on_first_hazard():
    results, failure = run_traced(EXAMPLE_DIR)
    assert results is None, "the original must not run under jit"
    first = HAZARDS[0]
    assert (failure["jax_error"], failure["file"], failure["line"]) == (
        first["jax_error"],
        first["file"],
        first["line"],
    ), failure
    assert failure["transform"] == first["transform"]


@pytest.mark.slow
def test_ground_truth_reverified_hazard_by_hazard(tmp_path):
    work = scratch_copy(tmp_path)
    for i, entry in enumerate(HAZARDS):
        results, failure = run_traced(work)
        assert results is None, f"entry {i} ({entry['file']}:{entry['line']}) was never reached"
        measured = {k: failure[k] for k in ("file", "line", "jax_error", "transform")}
        expected = {k: entry[k] for k in ("file", "line", "jax_error", "transform")}
        assert measured == expected, f"entry {i}: {failure}"
        neutralise(work, entry)
    # every hazard neutralised: the copy runs under jit, and its neutralisations are real fixes
    results, failure = run_traced(work)
    assert failure is None, f"a hazard missing from hazards.json: {failure}"
    _assert_same_results(results, original_eager_results())


# --------------------------------------------------------------------------- rebuild
def rebuild(table, dest_json=HAZARDS_PATH):
    """Measure the ground truth again: run, match the innermost frame to the one neutralisation
    (table entry) whose `old` text spans it, record, neutralise, repeat until the run is clean."""
    import tempfile

    work = scratch_copy(tempfile.mkdtemp(prefix="jax_migration_gt_"))
    original = {f: (EXAMPLE_DIR / f).read_text().splitlines() for f in {t["file"] for t in table}}
    todo, out = list(table), []
    while True:
        _, failure = run_traced(work)
        if failure is None:
            break
        text = (work / failure["file"]).read_text()
        matches = []
        for t in todo:
            old = t["neutralise"]["old"]
            if t["file"] == failure["file"] and text.count(old) == 1:
                first = text[: text.index(old)].count("\n") + 1
                if first <= failure["line"] <= first + old.rstrip("\n").count("\n"):
                    matches.append(t)
        if len(matches) != 1:
            raise SystemExit(f"no single neutralisation for {failure}")
        t = matches[0]
        todo.remove(t)
        entry = {
            "file": t["file"],
            "line": failure["line"],
            "code": t["code"],
            "jax_error": failure["jax_error"],
            "first": not out,
            "snippet": original[t["file"]][failure["line"] - 1].strip(),
            "transform": failure["transform"],
            "call_chain": failure["call_chain"],
            "message": failure["message"],
            "neutralise": t["neutralise"],
        }
        out.append(entry)
        print(f"{len(out):2d} {entry['file']}:{entry['line']} {entry['code']} {entry['jax_error']}")
        neutralise(work, entry)
    if todo:
        raise SystemExit(f"never reached: {[t['neutralise']['old'][:60] for t in todo]}")
    Path(dest_json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {len(out)} hazards to {dest_json}")


if __name__ == "__main__":
    if "--rebuild" in sys.argv:
        rebuild(HAZARDS)
    else:
        print(__doc__)

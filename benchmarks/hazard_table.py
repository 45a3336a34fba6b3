"""Recall and precision of jaxlint on the hazard table of `shared/jax-hazards.md`, with JAX as the
ground truth: one small program per (hazard, transform), run with the installed JAX, then linted.

A hazard line is a true positive when JAX raises at it and jaxlint reports it there with the class
JAX raised; a clean program must get no finding. Rows marked OK are patterns that trace fine.

    python benchmarks/hazard_table.py            # table of mismatches and the totals
    python benchmarks/hazard_table.py --json F   # every case, for comparison across versions
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import sys
import tempfile
import traceback
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402

from jaxlint.engine import lint_source  # noqa: E402

# name -> (module-level setup, body lines of f(x, t, i)); x: float array, t: float scalar,
# i: int scalar, all three traced by the transform. The first body line is the hazard line.
HAZARDS: dict[str, tuple[str, str]] = {
    "numpy_array[i]": ("NP = np.arange(10.0)", "y = NP[i]"),
    "python_list[i]": ("L = [1.0, 2.0, 3.0]", "y = L[i]"),
    "dict[i]": ("D = {0: 1.0, 1: 2.0}", "y = D[i]"),
    "hash(t)": ("", "y = hash(t)"),
    "jax_array[i:i+3]": ("", "y = x[i:i + 3]"),
    "numpy_array[i:i+3]": ("NP = np.arange(10.0)", "y = NP[i:i + 3]"),
    "jax_array[i:]": ("", "y = x[i:]"),
    "jax_array[mask]": ("", "y = x[x > 0.5]"),
    "x.at[mask].set": ("", "y = x.at[x > 0.5].set(0.0)"),
    "int(t)": ("", "y = int(t)"),
    "float(t)": ("", "y = float(t)"),
    "bool(t)": ("", "y = bool(t)"),
    "t.item()": ("", "y = t.item()"),
    "t.tolist()": ("", "y = t.tolist()"),
    "len(t.devices())": ("", "y = len(t.devices())"),
    "range(i)": ("", "y = range(i)"),
    "operator.index(i)": ("import operator", "y = operator.index(i)"),
    "np.asarray(t)": ("", "y = np.asarray(t)"),
    "np.exp(t)": ("", "y = np.exp(t)"),
    "math.sqrt(t)": ("import math", "y = math.sqrt(t)"),
    'f"{t:.2f}"': ("", 'y = f"{t:.2f}"'),
    '"%d" % i': ("", 'y = "%d" % i'),
    '"{:>5}".format(t)': ("", 'y = "{:>5}".format(t)'),
    "if t > 0": ("", "y = 1.0\n    if t > 0:\n        y = 2.0"),
    "while": ("", "y = t\n    while y > 10.0:\n        y = y - 1.0"),
    "comprehension if": ("", "y = [v for v in (1.0, 2.0) if t > v]"),
    "and": ("", "y = (t > 0) and (t < 5)"),
    "or": ("", "y = (t > 0) or (t < 5)"),
    "not": ("", "y = not (t > 0)"),
    "a if t > 0 else b": ("", "y = 1.0 if t > 0 else 2.0"),
    "assert": ("", "assert t > -100.0\n    y = t"),
    "min(t, 1.0)": ("", "y = min(t, 1.0)"),
    "0 < t < 5": ("", "y = 0 < t < 5"),
    "t in (1, 2)": ("", "y = t in (1.0, 2.0)"),
    "any(x > 0)": ("", "y = any(x > 0)"),
    "jnp.zeros(i)": ("", "y = jnp.zeros(i)"),
    "jnp.zeros((i,))": ("", "y = jnp.zeros((i,))"),
    "jnp.arange(i)": ("", "y = jnp.arange(i)"),
    "jnp.linspace(0, 1, i)": ("", "y = jnp.linspace(0, 1, i)"),
    "x.reshape(i, -1)": ("", "y = x.reshape(i, -1)"),
    "jnp.repeat(x, i)": ("", "y = jnp.repeat(x, i)"),
    "jnp.sum(x, axis=i - 1)": ("", "y = jnp.sum(x, axis=i - 1)"),
    "jnp.pad(x, i)": ("", "y = jnp.pad(x, i)"),
    "jnp.nonzero(x)": ("", "y = jnp.nonzero(x)"),
    "jnp.where(x > 0)": ("", "y = jnp.where(x > 0)"),
    "jnp.unique(x)": ("", "y = jnp.unique(x)"),
    "jnp.argwhere(x)": ("", "y = jnp.argwhere(x)"),
    "jnp.bincount(ids)": ("", "y = jnp.bincount(jnp.zeros(3, jnp.int32) + i)"),
    "jax.ops.segment_sum(x, ids)": (
        "",
        "y = jax.ops.segment_sum(x[:3], jnp.zeros(3, jnp.int32) + i)",
    ),
    "multigammaln(t, i)": ("", "y = jax.scipy.special.multigammaln(t + 3.0, i)"),
    "random.split(key, i)": ("", "y = jax.random.split(jax.random.key(0), i)"),
    "random.normal(key, (i,))": ("", "y = jax.random.normal(jax.random.key(0), (i,))"),
    "C[0] > 0 (JAX constant)": (
        "C = jnp.arange(3.0)",
        "y = 1.0\n    if C[0] > 0:\n        y = 2.0",
    ),
    "np.random.randint(0, i)": ("", "y = np.random.randint(0, i)"),
    "np.float32(t)": ("", "y = np.float32(t)"),
    "np.isnan(t)": ("", "y = np.isnan(t)"),
    "math.floor(t)": ("import math", "y = math.floor(t)"),
    "max(x) (iterable)": ("", "y = max(x)"),
    "jax.random.choice(key, i)": ("", "y = jax.random.choice(jax.random.key(0), i)"),
    "jnp.take(x, 0, axis=i - 1)": ("", "y = jnp.take(x, 0, axis=i - 1)"),
    "jnp.concatenate(axis=i - 1)": ("", "y = jnp.concatenate([x, x], axis=i - 1)"),
    "jnp.split(x, [i])": ("", "y = jnp.split(x, [i])"),
    "x[:i]": ("", "y = x[:i]"),
    "jnp.full((i,), 1.0)": ("", "y = jnp.full((i,), 1.0)"),
    "jax.nn.one_hot(i, i + 2)": ("", "y = jax.nn.one_hot(i, i + 2)"),
    "lax.dynamic_slice(x, (i,), (i,))": ("", "y = lax.dynamic_slice(x, (i,), (i,))"),
    "lax.scan(length=i)": ("", "y = lax.scan(lambda c, _: (c + 1.0, None), t, xs=None, length=i)"),
    "lax.map(batch_size=i)": ("", "y = lax.map(lambda v: v * 2.0, x, batch_size=i)"),
    "grad(fori_loop(0, i))": (
        "",
        "y = jax.grad(lambda s: lax.fori_loop(0, i, lambda k, c: c * s, s))(t)",
    ),
    "g = grad(fori_loop(0, i)); g(t)": (
        "",
        "g = jax.grad(lambda s: lax.fori_loop(0, i, lambda k, c: c * s, s))\n    y = g(t)",
    ),
    "OK jax_array[i]": ("", "y = x[i]"),
    "OK lax.dynamic_slice(x, (i,), (2,))": ("", "y = lax.dynamic_slice(x, (i,), (2,))"),
    "OK fori_loop(0, i, ...)": ("", "y = lax.fori_loop(0, i, lambda k, c: c + t, 0.0)"),
    "OK jnp.where(t > 0, 1, 2)": ("", "y = jnp.where(t > 0, 1.0, 2.0)"),
    "OK jnp.take(x, i)": ("", "y = jnp.take(x, i)"),
    "OK isinstance(t, jax.Array)": (
        "",
        "y = 1.0\n    if isinstance(t, jax.Array):\n        y = 2.0",
    ),
    "OK round/abs/pow": ("", "y = round(t) + abs(t) + pow(t, 2)"),
    "OK jnp.array([t, 1.0])": ("", "y = jnp.array([t, 1.0])"),
    "OK lax.cond(t > 0, ...)": ("", "y = lax.cond(t > 0, lambda: 1.0, lambda: 2.0)"),
    "OK jax.debug.print": ("", 'y = jax.debug.print("{t:.2f}", t=t)'),
    "OK x.ndim and shape checks": (
        "",
        "y = 1.0\n    if x.ndim == 1 and x.shape[0] > 2:\n        y = 2.0",
    ),
    "OK np.sum(x)": ("", "y = np.sum(x)"),
    "OK jnp.ones(x.shape[0])": ("", "y = jnp.ones(x.shape[0])"),
    "OK jnp.ones(len(x))": ("", "y = jnp.ones(len(x))"),
    "OK split(key, x.shape[0])": ("", "y = jax.random.split(jax.random.key(0), x.shape[0])"),
    "OK randint maxval i": ("", "y = jax.random.randint(jax.random.key(0), (), 0, i)"),
    "OK for v in x": ("", "y = 0.0\n    for v in x:\n        y = y + v"),
    "OK static loop": ("", "y = 0.0\n    for k in range(3):\n        y = y + x[k]"),
    "OK x is None": ("", "y = 0.0 if x is None else x"),
    'OK "%s" % t': ("", 'y = "%s" % t'),
    'OK "k" in dict': ("", 'y = "a" in {"a": x}'),
    "OK scan length 3": ("", "y = lax.scan(lambda c, _: (c + 1.0, None), t, xs=None, length=3)"),
    "OK map batch_size=2": ("", "y = lax.map(lambda v: v * 2.0, x, batch_size=2)"),
    "OK grad(fori_loop(0, 3))": (
        "",
        "y = jax.grad(lambda s: lax.fori_loop(0, 3, lambda k, c: c * s, s))(t)",
    ),
    "OK grad(fori_loop(0, i)) static carry": (
        "",
        "y = jax.grad(lambda s: s * lax.fori_loop(0, i, lambda k, c: c + 1, 0))(t)",
    ),
    "OK static tuple argument": (
        "G = jax.jit(lambda a, n: a * len(n), static_argnums=1)",
        "y = G(x, (1, 2))",
    ),
    "OK list to a non-static argument": (
        "G = jax.jit(lambda a, n: a * n[0], static_argnums=())",
        "y = G(x, [t, 2.0])",
    ),
    "OK np constant": ("NP = np.arange(3.0)", "y = 1.0\n    if NP[0] > 0:\n        y = 2.0"),
}
TRANSFORMS: dict[str, str] = {
    "jit": "jax.jit(f)(X, T0, I0)",
    "vmap": "jax.vmap(f, in_axes=(None, 0, 0))(X, jnp.stack([T0, T0]), jnp.stack([I0, I0]))",
    "pmap": "jax.pmap(f, in_axes=(None, 0, 0))(X, T0[None], I0[None])",
    "scan": "lax.scan(lambda c, ti: (c, f(X, ti[0], ti[1])), 0.0, (T0[None], I0[None]))",
    "fori": "lax.fori_loop(0, 1, lambda k, c: c + f(X, T0 + c, I0 + k), 0.0)",
    "cond": "lax.cond(True, lambda ops: f(*ops), lambda ops: f(*ops), (X, T0, I0))",
    "grad": "jax.grad(f, argnums=1)(X, T0, I0)",
}
HEADER = "import jax\nimport jax.numpy as jnp\nimport numpy as np\nfrom jax import lax\n"


# Hazards jaxlint is known to miss, and why (the CI test fails if one is found or another missed).
KNOWN_MISSES = {
    # `a` may be a traced array of candidates (fine) or a traced count (fails): the analysis does
    # not know the shape or the dtype of a traced value.
    "jax.random.choice(key, i)": "a traced count and a traced array of candidates look alike",
}


@dataclass
class Case:
    hazard: str
    transform: str
    jax_error: str | None  # what JAX raised (None: it ran)
    jax_line: int | None
    findings: list[tuple[int, str, str | None]]  # (line, code, jax_error)
    # tp, tn, fn, fp, class (right line, other class), line (wrong line), eager (the code fails
    # without any transform too: not a tracer hazard, left out of the totals)
    verdict: str


def program(
    setup: str, body: str, call: str, *, ret: str = "t * 1.0", i0: str = "jnp.int32(1)"
) -> str:
    """The case's module: ``f`` holds the hazard and returns ``ret``; ``run`` calls it as ``call``
    with ``I0 = i0`` (benchmarks/fix_table.py returns ``y`` and passes a Python int)."""
    return (
        f"{HEADER}{setup}\n\n\ndef f(x, t, i):\n    {body}\n    return {ret}\n\n\n"
        f"def run():\n    X = jnp.arange(5.0) / 4.0\n    T0 = jnp.float32(2.0)\n"
        f"    I0 = {i0}\n    return {call}\n"
    )


def run_case(hazard: str, transform: str, work: Path) -> Case:
    setup, body = HAZARDS[hazard]
    src = program(setup, body, TRANSFORMS[transform])
    path = work / f"case_{abs(hash((hazard, transform)))}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    error = line = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # jax.debug.print rows print
            spec.loader.exec_module(module)
            module.run()
            jax.effects_barrier()
    except Exception as err:  # any class JAX raises is the ground truth
        error = type(err).__name__
        frames = [fr for fr in traceback.extract_tb(err.__traceback__) if fr.filename == str(path)]
        line = frames[-1].lineno if frames else None
    findings = [(f.line, f.code, f.jax_error) for f in lint_source(src, path.name)]
    if error is not None and _fails_eagerly(module):
        return Case(hazard, transform, error, line, findings, "eager")
    if error is None:
        verdict = "tn" if not findings else "fp"
    else:
        at = [f for f in findings if f[0] == line]
        if any(f[2] == error for f in at):
            verdict = "tp"
        elif at:
            verdict = "class"
        else:
            verdict = "line" if findings else "fn"
    return Case(hazard, transform, error, line, findings, verdict)


def _fails_eagerly(module: object) -> bool:
    """Whether ``f`` fails on the same concrete inputs with no transform at all."""
    import jax.numpy as jnp

    try:
        module.f(jnp.arange(5.0) / 4.0, jnp.float32(2.0), jnp.int32(1))  # type: ignore[attr-defined]
    except Exception:  # any failure: the hazard is not the trace's
        return True
    return False


def run_all() -> list[Case]:
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        return [run_case(h, t, Path(tmp)) for h in HAZARDS for t in TRANSFORMS]


def summary(cases: list[Case]) -> dict[str, float | int]:
    count = {
        v: sum(c.verdict == v for c in cases)
        for v in ("tp", "tn", "fn", "fp", "class", "line", "eager")
    }
    hazards = count["tp"] + count["fn"] + count["class"] + count["line"]
    flagged = count["tp"] + count["fp"] + count["class"]
    return {
        **count,
        "cases": len(cases),
        "recall": count["tp"] / hazards if hazards else 1.0,
        "precision": count["tp"] / flagged if flagged else 1.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every case here")
    args = parser.parse_args(argv)
    cases = run_all()
    for c in cases:
        if c.verdict not in ("tp", "tn", "eager"):
            print(
                f"{c.verdict:5s} {c.hazard:26s} {c.transform:5s} jax={c.jax_error}@{c.jax_line} "
                f"jaxlint={c.findings}"
            )
    s = summary(cases)
    print(
        f"jax {jax.__version__}: {s['cases']} cases, {s['tp']} hazards found with the right "
        f"class, {s['fn']} missed, {s['class']} with another class, {s['line']} at another line, "
        f"{s['fp']} false positives on {s['tn'] + s['fp']} clean programs "
        f"({s['eager']} that fail without a transform too left out); "
        f"recall {s['recall']:.3f}, precision {s['precision']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(c) for c in cases], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

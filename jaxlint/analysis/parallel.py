"""``-j N``: analyse groups of modules that import each other in separate processes.

Parsing is most of a check's cost and LibCST trees are as slow to pickle as to parse, so workers
do not share trees: each parses and analyses whole groups of modules that import each other
(found by scanning import statements, no parse). A group is analysed exactly as in one process,
so findings do not depend on ``-j``; a tree that is one import group gains nothing. Imports of
modules outside a worker's groups (which the scan missed) stay lazy: parsed only where traced
code, a transform, a decorator or a base class reaches them.
"""

from __future__ import annotations

import multiprocessing
import re
import sys

from jaxlint.analysis.project import analyse_group, module_name
from jaxlint.findings import Finding
from jaxlint.settings import Settings

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w., \t]+)|import[ \t]+([\w., \t]+))",
    re.M,
)

# Set once per worker by the pool initialiser, so the texts are not sent with every task.
_TEXTS: dict[str, str] = {}
_SETTINGS = Settings()


def _init(texts: dict[str, str], settings: Settings) -> None:
    global _TEXTS, _SETTINGS
    _TEXTS, _SETTINGS = texts, settings


def import_groups(texts: dict[str, str]) -> list[list[str]]:
    """Groups of modules that import each other (by import statements in the text), with
    modules that nobody imports attached to one group they import."""
    names: dict[str, str] = {}
    packages: dict[str, str] = {}
    for path in texts:
        name, package = module_name(path)
        names.setdefault(name, path)
        packages[path] = package
    parent = {p: p for p in texts}

    def find(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    edges: dict[str, set[str]] = {p: set() for p in texts}
    for path, text in texts.items():
        for dots, base, what, plain in _IMPORT.findall(text):
            targets: list[str] = []
            if plain:
                targets = [t.split()[0] for t in plain.split(",") if t.strip()]
            else:
                if dots:
                    pkg = packages[path].split(".") if packages[path] else []
                    pkg = pkg[: len(pkg) - (len(dots) - 1)] if len(dots) > 1 else pkg
                    base = ".".join([*pkg, base] if base else pkg)
                targets = [base] + [f"{base}.{w.split()[0]}" for w in what.split(",") if w.strip()]
            for t in targets:
                while t:
                    other = names.get(t)
                    if other is not None:
                        if other != path:
                            edges[path].add(other)
                        break
                    t = t.rpartition(".")[0]
    imported = {o for targets in edges.values() for o in targets}
    for path, targets in edges.items():
        # A module nobody imports (a test, a script) does not bind the groups it imports into
        # one: it joins one of them and reads the others lazily.
        for other in sorted(targets)[:1] if path not in imported else targets:
            parent[find(path)] = find(other)
    groups: dict[str, list[str]] = {}
    for p in texts:
        groups.setdefault(find(p), []).append(p)
    return sorted(groups.values(), key=lambda g: -sum(len(texts[p]) for p in g))


def _work(roots: list[str]) -> list[Finding]:
    return analyse_group(_TEXTS, _SETTINGS, roots)


def analyse_in_parallel(texts: dict[str, str], settings: Settings, jobs: int) -> list[Finding]:
    # Whole import groups only: a group is analysed exactly as in one process, so findings do
    # not depend on -j (splitting a group would leave cross-module provenance to chance).
    units = import_groups(texts)
    total = sum(len(t) for t in texts.values()) or 1
    if len(units) < 2 or sum(len(texts[p]) for p in units[0]) > 0.75 * total:
        # one group holds nearly all the work: processes would only add their start-up cost
        return analyse_group(texts, settings, texts.keys())
    units.sort(key=lambda u: -sum(len(texts[p]) for p in u))
    bins: list[list[str]] = [[] for _ in range(min(jobs, len(units)))]
    sizes = [0] * len(bins)
    for u in units:
        i = sizes.index(min(sizes))
        bins[i].extend(u)
        sizes[i] += sum(len(texts[p]) for p in u)
    # fork is cheapest, but not safe once a multithreaded library (JAX, in tests) is loaded
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and "jax" not in sys.modules else "spawn"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(len(bins), initializer=_init, initargs=(texts, settings)) as pool:
        results = pool.map(_work, bins)
    seen: set[tuple[str, int, int, str]] = set()
    out: list[Finding] = []
    for findings in results:
        for f in findings:
            key = (f.path, f.line, f.column, f.code)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


__all__ = ["analyse_in_parallel", "import_groups"]

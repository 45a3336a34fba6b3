"""``-j N``: analyse parts of a project in separate processes.

Parsing is most of a check's cost and LibCST trees are as slow to pickle as to parse, so workers
share no trees: every worker gets all the texts, parses and analyses its *primary* modules
(module bodies run, transform sites traced, findings reported) and treats every other module as
a lazy import, parsed and loaded only where traced code, a transform, a decorator, a base class
or an annotation reaches it. Each module is thus analysed by the worker that owns it, with the
modules its code uses loaded as in one process; findings reached from several workers are merged
(first report in file order wins). What a worker does not load is what the module's code never
reaches, so findings match one process; the exception would be knowledge keyed by attribute name
across the whole project (``Project.attr_kinds`` and the field-name sets), which covers only the
modules a worker loaded. The equality is checked on flax + optax, jax and the test fixtures.

Who owns what (``plan``): a tree of several independent import groups (modules that import each
other, found by scanning import statements, no parse) is dealt out group by group. When one
group holds most of the text (flax + optax is one group: optax's tests import flax), the file
list itself is cut into contiguous runs of about equal size, cut where the directory changes, so
that packages, which mostly import each other, stay in one worker and lazy loads stay few.
Small trees stay in one process: a worker's start-up would cost more than it saves.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from jaxlint.analysis.project import analyse_group, module_name
from jaxlint.findings import Finding
from jaxlint.settings import Settings

# Below this much source text (about half a second of parsing) one process is faster.
MIN_PARALLEL_CHARS = 200_000
# A group holding more than this share of the text is cut instead of dealt out whole.
DOMINANT = 0.75
# How far (share of a part's size) a cut may move from the balanced point to a package boundary.
SLACK = 0.25

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


def _size(texts: dict[str, str], paths: Iterable[str]) -> int:
    return sum(len(texts[p]) for p in paths)


def _boundary_depth(a: str, b: str) -> int:
    """How many directories two neighbouring files share: a cut between them that shares few
    keeps packages, which mostly import each other, on one side."""
    try:
        common = os.path.commonpath([os.path.dirname(a), os.path.dirname(b)])
    except ValueError:  # different drives, or relative against absolute
        return 0
    return len(Path(common).parts)


def split_paths(texts: dict[str, str], paths: list[str], parts: int) -> list[list[str]]:
    """``paths`` cut into ``parts`` contiguous runs of about equal text size.

    Each cut goes where the directory changes most (shallowest shared directory) within
    ``SLACK`` of the balanced point, so packages stay whole where the sizes allow.
    """
    sizes = [len(texts[p]) for p in paths]
    total = sum(sizes)
    prefix = [0]
    for s in sizes:
        prefix.append(prefix[-1] + s)
    cuts: list[int] = [0]
    for k in range(1, parts):
        target = total * k / parts
        slack = SLACK * total / parts
        lo = cuts[-1] + 1
        hi = len(paths) - (parts - k)  # leave at least one file for each later run
        if lo > hi:
            break
        window = [i for i in range(lo, hi + 1) if abs(prefix[i] - target) <= slack]
        if not window:
            window = [min(range(lo, hi + 1), key=lambda i: abs(prefix[i] - target))]
        cuts.append(
            min(
                window,
                key=lambda i: (
                    _boundary_depth(paths[i - 1], paths[i]),
                    abs(prefix[i] - target),
                ),
            )
        )
    cuts.append(len(paths))
    return [paths[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def plan(texts: dict[str, str], jobs: int, min_chars: int = MIN_PARALLEL_CHARS) -> list[list[str]]:
    """The primary modules of each worker; a single list means one process."""
    paths = list(texts)
    total = _size(texts, paths)
    if jobs < 2 or len(paths) < 2 or total < min_chars:
        return [paths]
    units = import_groups(texts)
    if len(units) >= 2 and _size(texts, units[0]) <= DOMINANT * total:
        # independent groups: whole groups per worker, largest first into the lightest bin
        bins: list[list[str]] = [[] for _ in range(min(jobs, len(units)))]
        sizes = [0] * len(bins)
        for u in units:
            i = sizes.index(min(sizes))
            bins[i].extend(u)
            sizes[i] += _size(texts, u)
        order = {p: i for i, p in enumerate(paths)}
        return sorted((sorted(b, key=order.__getitem__) for b in bins), key=lambda b: order[b[0]])
    # one group holds most of the text: cut the file list itself
    return split_paths(texts, paths, jobs)


def analyse_in_parallel(
    texts: dict[str, str], settings: Settings, jobs: int, min_chars: int = MIN_PARALLEL_CHARS
) -> list[Finding]:
    """Findings of ``texts`` analysed by up to ``jobs`` processes (see the module docstring)."""
    bins = plan(texts, jobs, min_chars)
    if len(bins) < 2:
        return analyse_group(texts, settings, texts.keys())
    # fork is cheapest, but not safe once a multithreaded library (JAX, in tests) is loaded
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and "jax" not in sys.modules else "spawn"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(len(bins) - 1, initializer=_init, initargs=(texts, settings)) as pool:
        # this process takes the first part itself: one process start fewer
        rest = pool.map_async(_work, bins[1:])
        results = [analyse_group(texts, settings, bins[0]), *rest.get()]
    # Runs are in file order, so the first report of a node is the one a single process, which
    # loads modules in that order, would most likely keep.
    seen: set[tuple[str, int, int, str]] = set()
    out: list[Finding] = []
    for findings in results:
        for f in findings:
            key = (f.path, f.line, f.column, f.code)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


__all__ = ["analyse_in_parallel", "import_groups", "plan", "split_paths"]

"""``-j N``: independent analyses (one per project) in separate processes.

One project is always analysed in one process. Splitting a project's modules among workers, as an
earlier version did, made findings depend on ``-j``: each worker knew only the modules it loaded
(the attribute kinds, pytree field names and subclass overrides of the others were missing) and
which worker's trace reached a node first decided the trace chain. The SPEC wants a file's findings
independent of ``-j``, so only analyses that share nothing run in parallel: those of different
projects (``jaxlint`` over ten repositories, a monorepo of several ``pyproject.toml`` projects), and
the extra analysis of given files outside their project's sources.

Trees are never sent between processes (pickling a LibCST tree costs more than parsing its text):
a worker gets the texts of one analysis, parses and analyses them, and returns the raw findings.
Small runs stay in one process: a worker's start-up would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence

from jaxlint.analysis.project import analyse_group
from jaxlint.findings import Finding
from jaxlint.settings import Settings

# Below this much source text in all (about half a second of parsing) one process is faster.
MIN_PARALLEL_CHARS = 200_000

Analysis = tuple[dict[str, str], Settings]


def _work(analysis: Analysis) -> list[Finding]:
    texts, settings = analysis
    return analyse_group(texts, settings, texts.keys())


def analyse_many(
    analyses: Sequence[Analysis], jobs: int, min_chars: int = MIN_PARALLEL_CHARS
) -> list[list[Finding]]:
    """The raw findings of each analysis (texts, settings), in order, using up to ``jobs``
    processes; each analysis's result is the one a single process computes."""
    sizes = [sum(map(len, texts.values())) for texts, _ in analyses]
    if jobs < 2 or len(analyses) < 2 or sum(sizes) < min_chars:
        return [_work(a) for a in analyses]
    # Largest first: the pool hands the small ones to whichever worker is free.
    order = sorted(range(len(analyses)), key=lambda i: -sizes[i])
    # fork is cheapest, but not safe once a multithreaded library (JAX, in tests) is loaded
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and "jax" not in sys.modules else "spawn"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(min(jobs, len(analyses))) as pool:
        results = pool.map(_work, [analyses[i] for i in order], chunksize=1)
    out: list[list[Finding]] = [[] for _ in analyses]
    for i, findings in zip(order, results, strict=True):
        out[i] = findings
    return out


__all__ = ["MIN_PARALLEL_CHARS", "analyse_many"]

"""The CI slice of the real-code benchmark: released JAX projects downloaded from PyPI, linted,
every finding triaged in benchmarks/realcode_triage.json, and ``--fix`` leaving code that compiles.

It needs PyPI and nothing else; it skips only when ``pip download`` cannot reach the index."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "realcode.py"


def _load():
    spec = importlib.util.spec_from_file_location("realcode", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realcode"] = module
    spec.loader.exec_module(module)
    return module


realcode = _load()


def _corpus_dir() -> Path:
    """The benchmark's cache outside the repository (downloads are reused), or
    TRACESAFE_REALCODE_DIR."""
    configured = os.environ.get("TRACESAFE_REALCODE_DIR")
    return Path(configured) if configured else realcode.DEFAULT_DIR


@pytest.fixture(scope="module")
def slice_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, int]:
    root = _corpus_dir()
    for project in (p for p in realcode.PROJECTS if p.name in realcode.SLICE):
        try:
            realcode.fetch(project, root)
        except realcode.FetchError as exc:
            if exc.index_unreachable:
                pytest.skip(f"pip download cannot reach the package index: {exc}")
            raise
    out = tmp_path_factory.mktemp("realcode") / "slice.json"
    code = realcode.main(
        ["--slice", "--fix", "--check-triage", "--dir", str(root), "--json", str(out)]
    )
    return json.loads(out.read_text(encoding="utf-8")), code


@pytest.mark.slow
def test_slice_lints_every_project(slice_results: tuple[dict, int]) -> None:
    results, _ = slice_results
    assert [r["project"] for r in results["projects"]] == list(realcode.SLICE)
    for row in results["projects"]:
        assert row["status"] == "ok", row
        assert row["files"] > 0 and row["lines"] > 1000, row
    assert results["together"]["status"] == "ok"
    assert results["together"]["equal_union"], results["together"]


@pytest.mark.slow
def test_slice_has_no_untriaged_finding(slice_results: tuple[dict, int]) -> None:
    results, code = slice_results
    untriaged = [
        f"{f['project']} {f['path']}:{f['line']} {f['code']} {f['message'][:100]}"
        for f in results["findings"]
        if f["verdict"] is None
    ]
    assert not untriaged, (
        "untriaged findings (judge them in benchmarks/realcode_triage.json):\n"
        + ("\n".join(untriaged))
    )
    assert code == 0


@pytest.mark.slow
def test_slice_fixed_files_compile(slice_results: tuple[dict, int]) -> None:
    results, _ = slice_results
    for name, fix in results["fix"]["projects"].items():
        assert fix["status"] == "ok", (name, fix)
        broken = [f for f in fix["files"] if not f["compiles"]]
        assert not broken, (name, broken)


def test_triage_file_is_well_formed() -> None:
    entries = realcode.load_triage(realcode.TRIAGE)
    known = {p.name for p in realcode.PROJECTS}
    seen = set()
    for entry in entries:
        assert entry["project"] in known, entry
        assert entry["reason"].strip() and "\n" not in entry["reason"], entry
        key = (entry["project"], entry["path"], entry["code"], entry["source"], entry["line"])
        assert key not in seen, f"duplicate triage entry {key}"
        seen.add(key)


def test_triage_matching_survives_line_shifts() -> None:
    finding = {"project": "p", "path": "a.py", "line": 12, "code": "JX301", "source": "if x:"}
    entries = [
        {"project": "p", "path": "a.py", "line": 10, "code": "JX301", "source": "if x:"},
        {"project": "p", "path": "a.py", "line": 40, "code": "JX301", "source": "if x:"},
        {"project": "p", "path": "b.py", "line": 1, "code": "JX301", "source": "if y:"},
    ]
    for e, verdict in zip(entries, ("false", "true", "false"), strict=True):
        e.update(verdict=verdict, reason=verdict)
    stale = realcode.apply_triage([finding], entries, ["p"])
    assert finding["verdict"] == "false"  # the nearer of the two same-source entries
    assert [e["line"] for e in stale] == [40, 1]

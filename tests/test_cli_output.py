"""The command's output options and error lines, on real files (issue 11, item 3): --output-file,
--show-fixes, unknown noqa codes, NO_COLOR on a real terminal, the short rule page, one-line errors
that name the cause, and --fix leaving read-only files alone."""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jaxlint.cli import main

REPO = Path(__file__).resolve().parents[1]
Capsys = pytest.CaptureFixture[str]
HAZARD = "import jax\n\n\n@jax.jit\ndef f(x):\n    return int(x)\n"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_output_file(cwd: Path, capsys: Capsys) -> None:
    (cwd / "a.py").write_text(HAZARD)
    code, out, err = run(capsys, "a.py", "--no-cache", "--format", "json", "-o", "report.json")
    assert code == 1 and out == "" and err == ""
    assert '"code": "JX201"' in (cwd / "report.json").read_text()
    code, _, err = run(capsys, "a.py", "--no-cache", "--output-file", "missing/dir/r.txt")
    assert code == 2 and err.startswith("jaxlint: error: missing/dir/r.txt: cannot write")


def test_show_fixes_available_then_applied(cwd: Path, capsys: Capsys) -> None:
    (cwd / "a.py").write_text(HAZARD)
    _, out, _ = run(capsys, "a.py", "--no-cache", "--show-fixes", "-q")
    assert out.endswith(
        "1 fix available:\n- a.py:\n    1 \u00d7 JX201 (traced-conversion) [safe]\n"
    )
    _, out, _ = run(capsys, "a.py", "--no-cache", "--show-fixes", "--fix")
    assert out.endswith("Fixed 1 finding:\n- a.py:\n    1 \u00d7 JX201 (traced-conversion)\n")


def test_unknown_noqa_code_warns(cwd: Path, capsys: Capsys) -> None:
    (cwd / "a.py").write_text(HAZARD.replace("int(x)", "int(x)  # noqa: JX999, F401"))
    code, out, err = run(capsys, "a.py", "--no-cache", "-q")
    assert code == 1 and "JX201" in out  # a typo suppresses nothing
    assert err == (
        "jaxlint: warning: a.py:6: unknown rule code 'JX999' in # noqa (see: jaxlint rules)\n"
    )


def _on_a_terminal(cwd: Path, argv: list[str], **env: str) -> bytes:
    """Run the CLI with stdout and stderr on a real pseudo-terminal; everything it wrote."""
    leader, follower = pty.openpty()
    environment = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "TERM": "xterm", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jaxlint", *argv],
        cwd=cwd,
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=environment,
    )
    os.close(follower)
    data = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        data += chunk
    os.close(leader)
    proc.wait(timeout=120)
    return data


def test_no_color_means_no_escapes_on_a_terminal(cwd: Path) -> None:
    (cwd / "a.py").write_text(HAZARD)
    argv = ["a.py", "--no-cache"]
    assert b"\x1b[" in _on_a_terminal(cwd, argv)  # styled when allowed
    assert b"\x1b[" not in _on_a_terminal(cwd, argv, NO_COLOR="1")
    page = _on_a_terminal(cwd, ["rule", "JX301"], NO_COLOR="1", PAGER="cat")
    assert b"JX301 traced-branch" in page and b"\x1b[" not in page


def test_piped_output_is_plain(cwd: Path) -> None:
    (cwd / "a.py").write_text(HAZARD)
    for argv in (["a.py", "--no-cache"], ["rule", "JX201"], ["rules"]):
        proc = subprocess.run(
            [sys.executable, "-m", "jaxlint", *argv],
            cwd=cwd,
            capture_output=True,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "TERM": "xterm"},
            timeout=120,
        )
        assert b"\x1b[" not in proc.stdout + proc.stderr


def test_errors_name_the_cause_in_one_line(cwd: Path, capsys: Capsys) -> None:
    (cwd / "bad_utf8.py").write_bytes(b"x = '\xff'\n")
    (cwd / "binary.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (cwd / "declared.py").write_bytes(b"# -*- coding: klingon -*-\nx = 1\n")
    (cwd / "loop_a.py").symlink_to("loop_b.py")
    (cwd / "loop_b.py").symlink_to("loop_a.py")
    names = ["bad_utf8.py", "binary.py", "declared.py", "loop_a.py"]
    code, _, err = run(capsys, *names, "--no-cache", "-q")
    assert code == 2
    assert sorted(err.splitlines()) == [
        "jaxlint: error: bad_utf8.py: invalid UTF-8 (byte 0xff at offset 5: invalid start byte)",
        "jaxlint: error: binary.py: binary file, not source text (NUL byte at offset 8)",
        "jaxlint: error: declared.py: bad encoding declaration: unknown encoding: klingon",
        "jaxlint: error: loop_a.py: symlink loop",
    ]


def test_fix_leaves_a_read_only_file_alone(cwd: Path, capsys: Capsys) -> None:
    """0444 stays untouched even for root (who passes every access check)."""
    target = cwd / "ro.py"
    target.write_text(HAZARD)
    target.chmod(0o444)
    (cwd / "rw.py").write_text(HAZARD)
    code, out, err = run(capsys, "ro.py", "rw.py", "--no-cache", "--fix")
    assert target.read_text() == HAZARD and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert "astype" in (cwd / "rw.py").read_text()
    assert err == "jaxlint: warning: ro.py: not fixed: read-only file (mode 0444), left alone\n"
    assert code == 1 and "ro.py:6:12: JX201" in out

"""``jaxlint server`` driven over stdio by a real LSP client (pygls' ``LanguageClient``), and
``jaxlint check -`` (stdin) as a subprocess: both on real projects under tmp_path."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

REPO = Path(__file__).resolve().parents[1]
LIB = "def f(x):\n    if x > 0:\n        return x\n    return -x\n"
MAIN = "import jax\nfrom pkg.lib import f\n\nstep = jax.jit(f)\n"
CONVERT = "import jax\n\n\n@jax.jit\ndef g(x):\n    return float(x.sum())\n"


def make_project(root: Path, config: str = "") -> Path:
    """``pkg.lib.f`` is only traced because ``pkg.main`` jits it: a project-context finding."""
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(config)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "lib.py").write_text(LIB)
    (root / "pkg" / "main.py").write_text(MAIN)
    return root


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "JAXLINT_CACHE_DIR": os.devnull + "/none"}


class Session:
    """A client talking to a ``jaxlint server`` subprocess started in ``cwd``."""

    def __init__(self, cwd: Path, process_cwd: Path | None = None) -> None:
        self.cwd = cwd
        self.process_cwd = process_cwd or cwd
        self.client = LanguageClient("jaxlint-tests", "1")
        self.published: dict[str, types.PublishDiagnosticsParams] = {}
        self.count: dict[str, int] = {}
        self.changed = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published[params.uri] = params
            self.count[params.uri] = self.count.get(params.uri, 0) + 1
            self.changed.set()

    async def start(self) -> None:
        await self.client.start_io(
            sys.executable, "-m", "jaxlint", "server", cwd=str(self.process_cwd), env=env()
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(self.cwd))
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def diagnostics(self, uri: str, version: int, timeout: float = 60) -> list[Any]:
        """The diagnostics published for ``uri`` at ``version`` (waiting for them)."""

        async def wait() -> list[Any]:
            while True:
                got = self.published.get(uri)
                if got is not None and got.version == version:
                    return list(got.diagnostics)
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def publications(self, uri: str, count: int, timeout: float = 60) -> list[Any]:
        """The diagnostics of ``uri`` once they have been published ``count`` times."""

        async def wait() -> list[Any]:
            while self.count.get(uri, 0) < count:
                self.changed.clear()
                await self.changed.wait()
            return list(self.published[uri].diagnostics)

        return await asyncio.wait_for(wait(), timeout)

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = from_fs_path(str(path)) or ""
        item = types.TextDocumentItem(
            uri, "python", version, path.read_text() if text is None else text
        )
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )

    async def actions(self, uri: str, only: list[str] | None = None) -> list[types.CodeAction]:
        whole = types.Range(types.Position(0, 0), types.Position(10_000, 0))
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(uri),
                whole,
                types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]


def drive(
    cwd: Path,
    body: Callable[[Session], Coroutine[Any, Any, None]],
    process_cwd: Path | None = None,
) -> None:
    async def main() -> None:
        session = Session(cwd, process_cwd)
        await session.start()
        try:
            await body(session)
        finally:
            await session.stop()

    asyncio.run(main())


def apply(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(keepends=True)

    def offset(p: types.Position) -> int:
        return sum(len(line) for line in lines[: p.line]) + p.character

    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]


def test_diagnostics_use_the_project_and_unsaved_text(tmp_path: Path) -> None:
    root = make_project(tmp_path)

    async def body(s: Session) -> None:
        lib = s.open(root / "pkg" / "lib.py")
        (diag,) = await s.diagnostics(lib, 1)
        assert diag.code == "JX301" and diag.source == "jaxlint"
        assert (diag.range.start.line, diag.range.start.character) == (1, 7)
        # The chain: traced because main.py jits f, a location in the other file.
        steps = diag.related_information
        assert "passed to jax.jit at pkg/main.py:4" in steps[0].message
        assert steps[0].location.uri == from_fs_path(str(root / "pkg" / "main.py"))
        assert steps[0].location.range.start.line == 3
        # Unsaved text of the caller: main.py no longer jits f, so lib.py is clean.
        main = s.open(root / "pkg" / "main.py", "from pkg.lib import f\n\nstep = f\n")
        await s.diagnostics(main, 1)
        s.change(lib, LIB + "\n", 2)
        assert await s.diagnostics(lib, 2) == []
        # Unsaved text of the file itself.
        s.change(main, MAIN, 2)
        await s.diagnostics(main, 2)
        s.change(lib, "def f(x):\n    return int(x)\n", 3)
        (diag,) = await s.diagnostics(lib, 3)
        assert diag.code == "JX201"

    drive(root, body)


def cli_json(cwd: Path, *paths: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "jaxlint", "check", "--no-cache", "--format", "json", *paths],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env(),
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def as_cli(uri_path: str, diag: types.Diagnostic) -> tuple[Any, ...]:
    """A diagnostic in the CLI's terms (ASCII sources: characters are UTF-16 units)."""
    r = diag.range
    steps = tuple(i.message.split(": ", 1)[1] for i in diag.related_information or [])
    return (
        uri_path,
        diag.code,
        r.start.line + 1,
        r.start.character + 1,
        r.end.line + 1,
        r.end.character + 1,
        diag.message.split("\n")[0],
        steps,
    )


def test_warm_diagnostics_are_the_command_lines(tmp_path: Path) -> None:
    """Every open buffer of a real project, after an edit (the other modules' trees reused),
    has exactly the findings ``jaxlint check`` reports for the same text on disk."""
    root = tmp_path / "migration"
    shutil.copytree(REPO / "examples" / "jax_migration", root)
    files = sorted(p.name for p in root.glob("*.py"))
    edited = root / "env_phase1_jax.py"
    new_text = edited.read_text().replace("\n\n\n", "\n\n\n# edited\n\n\n", 1)

    async def body(s: Session) -> None:
        uris = {name: s.open(root / name) for name in files}
        for uri in uris.values():
            await s.publications(uri, 1)
        seen = dict(s.count)
        s.change(uris[edited.name], new_text, 2)
        got = set()
        for name, uri in uris.items():
            for diag in await s.publications(uri, seen[uri] + 1):
                got.add(as_cli(name, diag))
        edited.write_text(new_text)
        want = {
            (
                f["path"],
                f["code"],
                f["line"],
                f["column"],
                f["end_line"],
                f["end_column"],
                f["message"],
                tuple(f["trace"]),
            )
            for f in cli_json(root, *files)
        }
        assert len(want) == 31 and got == want

    drive(root, body)


def test_edits_faster_than_analyses_are_coalesced(tmp_path: Path) -> None:
    """A burst of edits is answered for its last version (the ones between may be skipped)."""
    root = make_project(tmp_path)

    async def body(s: Session) -> None:
        lib = s.open(root / "pkg" / "lib.py")
        for version in range(2, 8):
            s.change(lib, LIB + "#\n" * version, version)
        s.change(lib, "def f(x):\n    return int(x)\n", 8)
        (diag,) = await s.diagnostics(lib, 8)
        assert diag.code == "JX201"

    drive(root, body)


def test_quick_fixes_and_fix_all(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "pkg" / "conv.py").write_text(CONVERT)

    async def body(s: Session) -> None:
        lib = s.open(root / "pkg" / "lib.py")
        await s.diagnostics(lib, 1)
        (action,) = await s.actions(lib, [types.CodeActionKind.QuickFix])
        assert action.is_preferred and action.title.startswith("JX301: ")
        assert action.diagnostics and action.diagnostics[0].code == "JX301"
        conv = s.open(root / "pkg" / "conv.py")
        await s.diagnostics(conv, 1)
        (unsafe,) = await s.actions(conv)
        assert unsafe.title.endswith("(unsafe)") and not unsafe.is_preferred
        (edit,) = unsafe.edit.document_changes[0].edits
        assert "astype" in apply(CONVERT, edit)
        # fix all: the safe JX301 fix goes in, to a fixed point; nothing for the unsafe one.
        (fix_all,) = await s.actions(lib, ["source.fixAll"])
        assert fix_all.kind == "source.fixAll.jaxlint"
        (edit,) = fix_all.edit.document_changes[0].edits
        fixed = apply(LIB, edit)
        assert "jnp.where" in fixed and "if x > 0" not in fixed
        assert await s.actions(conv, ["source.fixAll"]) == []

    drive(root, body)


def test_settings_come_from_tool_jaxlint(tmp_path: Path) -> None:
    """Per-file ignores match relative to the workspace root, wherever the editor started us."""
    root = make_project(tmp_path / "ws", '[tool.jaxlint.per-file-ignores]\n"pkg/*" = ["JX301"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    async def body(s: Session) -> None:
        lib = s.open(root / "pkg" / "lib.py")
        assert await s.diagnostics(lib, 1) == []
        (root / "pyproject.toml").write_text("")  # read afresh: the next analysis reports it
        s.change(lib, LIB, 2)
        (diag,) = await s.diagnostics(lib, 2)
        assert diag.code == "JX301"
        assert "at pkg/main.py:4" in diag.related_information[0].message

    drive(root, body, process_cwd=elsewhere)


# ---------------------------------------------------------------------------------- stdin
def check_stdin(cwd: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaxlint", "check", "--no-cache", "-", *args],
        input=text,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env(),
        timeout=120,
    )


def test_stdin_is_checked_as_the_named_file_in_its_project(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = check_stdin(root, LIB, "--stdin-filename", "pkg/lib.py", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert '"path": "pkg/lib.py"' in done.stdout and '"JX301"' in done.stdout
    assert "pkg/main.py:4" in done.stdout  # traced through the project's caller
    clean = "def f(x):\n    return x\n"
    assert check_stdin(root, clean, "--stdin-filename", "pkg/lib.py").returncode == 0


def test_stdin_fix_writes_the_fixed_source_to_stdout(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = check_stdin(root, LIB, "--stdin-filename", "pkg/lib.py", "--fix")
    assert done.returncode == 0, done.stderr
    assert "jnp.where" in done.stdout and "if x > 0" not in done.stdout
    assert "1 fixed" in done.stderr
    assert (root / "pkg" / "lib.py").read_text() == LIB  # the file is not touched
    unchanged = check_stdin(root, CONVERT, "--stdin-filename", "new.py", "--fix")
    assert unchanged.stdout == CONVERT and unchanged.returncode == 1


def test_stdin_diff_names_the_file(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = check_stdin(root, LIB, "--stdin-filename", "pkg/lib.py", "--diff")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("--- pkg/lib.py\n+++ pkg/lib.py\n")
    assert "jnp.where" in done.stdout and (root / "pkg" / "lib.py").read_text() == LIB


def test_stdin_usage_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = check_stdin(root, LIB, "pkg")
    assert done.returncode == 2 and "cannot be combined" in done.stderr
    alone = subprocess.run(
        [sys.executable, "-m", "jaxlint", "check", "--stdin-filename", "x.py", "pkg"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env(),
        timeout=120,
    )
    assert alone.returncode == 2 and "needs the path '-'" in alone.stderr

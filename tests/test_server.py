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


# ---------------------------------------------------------------------------------- warm path
TRACED_LIB = "import jax.numpy as jnp\n\n\ndef f(x):\n    if x > 0:\n        return x\n    return jnp.abs(x)\n"
TRACING_MAIN = "import jax\n\nfrom pkg.lib import f\n\nstep = jax.jit(f)\n"
PLAIN_MAIN = "import jax\n\nfrom pkg.lib import f\n\nstep = f\n"
# (file, its new text): comment lines at the end (the last analysis is reused), edits of the
# caller that change what the callee traces, a noqa, a syntax error and back, a new finding.
EDITS = [
    ("lib", TRACED_LIB + "# a comment at the end\n"),
    ("lib", TRACED_LIB + "# a comment at the end\n\n# noqa\n#"),
    ("main", PLAIN_MAIN),
    ("lib", TRACED_LIB + "# a comment at the end\n"),
    ("main", TRACING_MAIN + "# traced again\n"),
    ("lib", TRACED_LIB.replace("if x > 0:", "if x > 0:  # noqa: JX301") + "# end\n"),
    ("lib", "import jax.numpy as jnp\n\n\ndef f(x:\n"),
    ("lib", TRACED_LIB.replace("return jnp.abs(x)", "return int(x)") + "# end\n"),
    ("lib", TRACED_LIB.replace("return jnp.abs(x)", "return int(x)") + "# end\n# more\n"),
]


def test_diagnostics_after_edits_are_a_cold_checks(tmp_path: Path) -> None:
    """After each edit (to either open file, the caller's too), both buffers' diagnostics are
    what a cold ``jaxlint check`` reports for the same texts on disk."""
    root = tmp_path / "live"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    texts = {"lib": TRACED_LIB, "main": TRACING_MAIN}
    for name, text in texts.items():
        (root / "pkg" / f"{name}.py").write_text(text)
    disk = tmp_path / "disk"
    shutil.copytree(root, disk)

    async def body(s: Session) -> None:
        uris = {name: s.open(root / "pkg" / f"{name}.py") for name in texts}
        for uri in uris.values():
            await s.publications(uri, 1)
        versions = dict.fromkeys(texts, 1)
        seen = []
        for step, (name, text) in enumerate(EDITS):
            counts = {uri: s.count[uri] for uri in uris.values()}
            texts[name] = text
            versions[name] += 1
            s.change(uris[name], text, versions[name])
            got = set()
            for other, uri in uris.items():
                for diag in await s.publications(uri, counts[uri] + 1):
                    got.add(as_cli(f"pkg/{other}.py", diag))
                assert s.published[uri].version == versions[other]
            for other, other_text in texts.items():
                (disk / "pkg" / f"{other}.py").write_text(other_text)
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
                for f in cli_json(disk, "pkg/lib.py", "pkg/main.py")
            }
            assert got == want, f"after edit {step}: {name}"
            seen.append(sorted(code for _, code, *_ in got))
        # The sequence did exercise findings that come and go.
        assert seen[0] == ["JX301"] and seen[2] == [] and seen[5] == []
        assert seen[6] == ["JX000"] and "JX201" in seen[7]

    drive(root, body)


def test_comment_lines_at_the_end_reuse_the_last_analysis(tmp_path: Path, monkeypatch: Any) -> None:
    """Only an edit of the program is analysed again; ``# noqa`` is still read afresh."""
    import jaxlint.server as server

    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    lib, main = root / "pkg" / "lib.py", root / "pkg" / "main.py"
    lib.write_text(TRACED_LIB)
    main.write_text(TRACING_MAIN)
    calls: list[int] = []
    real = server.analyse_run

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(server, "analyse_run", counted)
    monkeypatch.chdir(root)
    ls = server.JaxlintServer()
    ls.cwd = root

    def codes(lib_text: str, main_text: str = TRACING_MAIN) -> list[str]:
        found = ls.lint([lib, main], {lib: lib_text, main: main_text})
        return [f.code for f in found[lib] + found[main]]

    assert codes(TRACED_LIB) == ["JX301"] and len(calls) == 1
    assert codes(TRACED_LIB + "# one\n") == ["JX301"] and len(calls) == 1
    assert codes(TRACED_LIB + "# one\n\n# two") == ["JX301"] and len(calls) == 1
    assert codes(TRACED_LIB, TRACING_MAIN + "#\n") == ["JX301"] and len(calls) == 1
    # A comment at the end of a line, an indented comment, a statement: analysed again.
    noqa = TRACED_LIB.replace("if x > 0:", "if x > 0:  # noqa")
    assert codes(noqa) == [] and len(calls) == 2
    assert codes(TRACED_LIB + "    # in f\n") == ["JX301"] and len(calls) == 3
    assert codes(TRACED_LIB + "g = f\n") == ["JX301"] and len(calls) == 4
    assert codes(TRACED_LIB, PLAIN_MAIN) == [] and len(calls) == 5


def test_same_program_means_the_same_tree() -> None:
    """Wherever ``TreeCache.same_program`` holds, LibCST parses the new text into the old
    text's header and statements (only the module's footer differs)."""
    import itertools

    import libcst

    from jaxlint.analysis.project import TreeCache

    programs = [
        "import jax\n\nx = 1\n",
        '"""doc"""\nimport jax\n\n\ndef f():\n    return 1\n\n    # in f\n',
        "# head\nimport jax\nif x:\n    pass\nelse:\n    y = '''\n# in a string\n'''\n",
        "import jax\nclass A:\n    def g(self):\n        pass\n        # deep\n",
        "import jax\nx = (1,\n  2)  # c\n",
    ]
    ends = ["", "\n", "# a\n", "\n\n# b", "# c\r\n", "    # indented\n", " \n", "x\n", "\r# r\n"]
    reused = 0
    for program, end, more in itertools.product(programs, ends, ends):
        old = program + end
        cache = TreeCache()
        before = cache.parse("m.py", old)
        for new in (old + more, program + more, old[:-1] + more):
            if cache.same_program("m.py", old, new):
                reused += 1
                after = libcst.parse_module(new)
                pairs = [
                    *zip(after.header, before.header, strict=True),
                    *zip(after.body, before.body, strict=True),
                ]
                assert all(a.deep_equals(b) for a, b in pairs), (old, new)
                assert after.default_indent == before.default_indent
                assert after.default_newline == before.default_newline
    assert reused > 100


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


def test_reparse_gives_the_full_parse() -> None:
    """Random edits of real modules: wherever ``reparse`` re-parses only the edited statements,
    its tree is LibCST's full parse of the new text (and so are its statement offsets), also for
    an edit of an edited tree."""
    import random

    import libcst

    from jaxlint.analysis.reparse import reparse, statement_offsets

    rng = random.Random(7)
    snippets = [
        "x = 1\n", "    y = 2\n", "# c\n", "\n", "def g():\n    pass\n", "else:\n    pass\n",
        "(", ")", '"""', "'", "\\\n", "if x:\n", "    ", "\t", "@dec\n", "  # indented\n",
        "except Exception:\n    pass\n", "class K:\n  z = 1\n", "\r\n", "x", ":", "#", "'''\n",
    ]  # fmt: skip

    def edit(text: str) -> str:
        pos = rng.randrange(len(text) + 1)
        if rng.random() < 0.6:
            return text[:pos] + rng.choice(snippets) + text[pos:]
        return text[:pos] + text[pos + rng.randint(1, 40) :]

    def same(got: tuple[libcst.Module, list[int]], text: str) -> bool:
        full = libcst.parse_module(text)  # raises where reparse parsed what does not parse
        tree, offsets = got
        return (
            tree.deep_equals(full)
            and tree.code == text
            and offsets == statement_offsets(full, text)
            and (tree.default_indent, tree.default_newline, tree.has_trailing_newline)
            == (full.default_indent, full.default_newline, full.has_trailing_newline)
        )

    incremental = 0
    for path in sorted((REPO / "examples" / "jax_migration").glob("*.py")):
        text = path.read_text()
        tree = libcst.parse_module(text)
        offsets = statement_offsets(tree, text)
        assert offsets is not None
        for _ in range(25):
            new = edit(text)
            got = reparse(text, tree, offsets, new)
            if got is None:
                continue
            incremental += 1
            assert same(got, new), (path.name, new)
            newer = edit(new)
            again = reparse(new, got[0], got[1], newer)
            assert again is None or same(again, newer), (path.name, newer)
    assert incremental >= 20

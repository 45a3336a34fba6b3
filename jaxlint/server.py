"""``jaxlint server``: the checks as a Language Server (LSP over stdio, on pygls), for editors.

A buffer's diagnostics are exactly what ``jaxlint check FILE`` reports for it: the same
configuration resolution (``[tool.jaxlint]``, read afresh for each analysis so that edits to it
apply at once), the same whole-project analysis (``engine.plan_runs``) with every open buffer's
unsaved text used instead of the file on disk (``overrides``), the same selection. What makes a
re-analysis after an edit cheaper is a ``TreeCache`` per project: the other modules' trees are
reused, and of the edited module only the top-level statements the edit touched are parsed again
(``analysis.reparse``). Results are kept by the result cache's key (texts and
settings), so a save or a re-open without changes is not analysed again, and the raw findings of
the last analysis of each run are reused when the texts differ only by comment and blank lines at
the end of a module (``TreeCache.same_program``: the same trees, so the same analysis), with
``# noqa`` read from the new texts. Any other edit is analysed afresh, over the whole project: a
file's findings depend on what its callers elsewhere trace, through facts that the analysis
gathers across modules, so there is no sound smaller unit to redo.

The process's cyclic garbage collector is off while serving (``run_server``): after each refresh
the garbage is collected and the survivors (mostly syntax trees) are frozen, so that no collection
rescans millions of tree nodes in the middle of an analysis (that cost 0.1-0.2 s an edit).

An edit re-publishes every open buffer of its project (a caller decides what its callees trace),
from one analysis. Analyses run in a worker thread, one at a time, so requests are still read
meanwhile; edits that come faster than analyses are coalesced (only the latest is analysed).

Each diagnostic carries the "why traced" chain as related information (with the locations of its
steps, in other files too); a finding's fix is a quick fix (safe ones preferred, unsafe ones
labelled), and ``source.fixAll.jaxlint`` applies every safe fix as ``jaxlint check --fix`` would.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from jaxlint import __version__
from jaxlint.analysis.project import TreeCache
from jaxlint.cache import run_key
from jaxlint.config import ConfigError, ConfigResolver
from jaxlint.discovery import ProjectFinder, SourceFile, display_path
from jaxlint.engine import analyse_run, plan_runs, select_run
from jaxlint.findings import Edit, Finding
from jaxlint.source import SourceError, read_source

T = TypeVar("T")
FIX_ALL = "source.fixAll.jaxlint"
MAX_RESULTS = 16
# Collections between full ones (``gc.unfreeze``): what was frozen and died since is freed then.
UNFREEZE_EVERY = 64
# A collection put off because a newer edit waits, at most this many times in a row.
MAX_DEFERRED_COLLECTIONS = 4
SYNTAX_ERROR = "JX000"


class JaxlintServer(LanguageServer):
    """The server, with the state that outlives one request: parsed trees and the last findings."""

    def __init__(self) -> None:
        super().__init__("jaxlint", __version__)
        self.cwd = Path.cwd()
        # One tree cache per project root: the parsed modules of the last analysis.
        self.trees: dict[str, TreeCache] = {}
        # Findings by everything they depend on (``cache.run_key``), the latest few.
        self.results: dict[str, list[Finding]] = {}
        # The texts and raw findings of the last analysis of each run, by its modules, settings
        # and reported files (a ``run_key`` without the texts).
        self.analysed: dict[str, tuple[dict[str, str], list[Finding]]] = {}
        # Whether this process's garbage collection is ours to run (``run_server``).
        self.manage_gc = False
        self.collections = 0
        self.deferred_collections = 0
        # A count of the edits of each project (by root): an analysis is of the latest or moot.
        self.stamps: dict[str, int] = {}
        self.busy = asyncio.Lock()
        # The findings last published for each open document, and the version they are of.
        self.published: dict[str, tuple[int | None, list[Finding]]] = {}

    # ------------------------------------------------------------------ analysis
    def overrides(self) -> dict[Path, str]:
        """The unsaved text of every open ``file:`` buffer."""
        return {
            Path(doc.path): doc.source
            for doc in self.workspace.text_documents.values()
            if doc.uri.startswith("file:")
        }

    def lint(self, paths: Sequence[Path], overrides: dict[Path, str]) -> dict[Path, list[Finding]]:
        """What ``jaxlint check PATHS`` reports for each path (all of one project), with
        ``overrides`` (unsaved texts) in place of the files on disk.

        Runs in the worker thread, one at a time: it reads nothing of the workspace.
        """
        resolver = ConfigResolver(self.cwd)
        out: dict[Path, list[Finding]] = {path: [] for path in paths}
        given: dict[str, SourceFile] = {}
        for path in paths:
            config = resolver.for_directory(path.parent)
            if not config.exclude.matches_self_or_parent(path):
                source = SourceFile(path, display_path(path, self.cwd), config)
                given[source.display] = source
        if not given:
            return out
        runs, _ = plan_runs(list(given.values()), resolver, self.cwd, overrides=overrides)
        root = str(ProjectFinder().root_of(paths[0]).path)
        trees = self.trees.setdefault(root, TreeCache())
        for run in runs:
            # Unchanged texts (a save after the edits, a re-opened buffer) need no analysis.
            reported = "\0".join(sorted(run.given))
            key = run_key(run.texts, run.config.settings, extra=f"{run.config.root}\0{reported}")
            if key not in self.results:
                if len(self.results) >= MAX_RESULTS:
                    del self.results[next(iter(self.results))]
                identity = run_key(
                    dict.fromkeys(run.texts, ""),
                    run.config.settings,
                    extra=f"{run.config.root}\0{reported}",
                )
                raw = self.reusable(identity, run.texts, trees)
                if raw is None:
                    raw = analyse_run(run, trees)
                    # The texts the trees were parsed from: later edits are compared to these.
                    self.analysed.pop(identity, None)
                    if len(self.analysed) >= MAX_RESULTS:
                        del self.analysed[next(iter(self.analysed))]
                    self.analysed[identity] = (dict(run.texts), raw)
                self.results[key] = select_run(run, raw)
            for finding in self.results[key]:
                out[given[finding.path].path].append(finding)
        trees.keep_only(name for run in runs for name in run.texts)
        return out

    def reusable(
        self, identity: str, texts: dict[str, str], trees: TreeCache
    ) -> list[Finding] | None:
        """The raw findings of the last analysis of this run (``identity``: the same modules,
        settings and reported files) if every text is the one analysed then or differs from it
        only where the analysis does not look (``TreeCache.same_program``); else None."""
        last = self.analysed.get(identity)
        if last is None:
            return None
        old_texts, raw = last
        if old_texts.keys() != texts.keys():
            return None
        for name, text in texts.items():
            old = old_texts[name]
            if text != old and not trees.same_program(name, old, text):
                return None
        return raw

    def collect_garbage(self, urgent: bool = True) -> None:
        """Collect the garbage of the last analyses and freeze what survives (syntax trees,
        caches), so that later collections only scan what is new; a full collection now and
        then frees what was frozen and has died since. Put off (``urgent=False``) while a newer
        edit waits, a few times at most."""
        if not self.manage_gc:
            return
        if not urgent and self.deferred_collections < MAX_DEFERRED_COLLECTIONS:
            self.deferred_collections += 1
            return
        self.deferred_collections = 0
        self.collections += 1
        if self.collections % UNFREEZE_EVERY == 0:
            gc.unfreeze()
        gc.collect()
        gc.freeze()

    async def in_worker(self, work: Callable[..., T], *args: Any) -> T:
        """Run analysis off the event loop (requests keep being read), one analysis at a time."""
        async with self.busy:
            return await asyncio.to_thread(work, *args)

    def project_documents(self, root: str) -> list[TextDocument]:
        """The open Python buffers of the project at ``root``."""
        finder = ProjectFinder()
        return [
            doc
            for doc in self.workspace.text_documents.values()
            if doc.uri.startswith("file:")
            and doc.path.endswith((".py", ".pyi"))
            and str(finder.root_of(doc.path).path) == root
        ]

    async def refresh(self, uri: str) -> None:
        """Analyse the open buffers of ``uri``'s project (an edit changes what other files
        report: a caller decides what is traced) and publish their diagnostics.

        Edits that come faster than analyses are coalesced: an analysis that a newer edit of
        the project supersedes is skipped, or its result dropped.
        """
        if not uri.startswith("file:") or not uri.endswith((".py", ".pyi")):
            return
        root = str(ProjectFinder().root_of(to_fs_path(uri) or uri).path)
        stamp = self.stamps.get(root, 0) + 1
        self.stamps[root] = stamp
        async with self.busy:
            docs = self.project_documents(root)
            if self.stamps[root] != stamp or not docs:
                return  # a newer edit (or a close) came in: its refresh publishes
            versions = [doc.version for doc in docs]
            try:
                found = await asyncio.to_thread(
                    self.lint, [Path(doc.path) for doc in docs], self.overrides()
                )
            except ConfigError as exc:
                self.window_show_message(
                    types.ShowMessageParams(types.MessageType.Error, f"jaxlint: {exc}")
                )
                return
            except Exception as exc:  # as the CLI: one line, and the server goes on
                reason = " ".join(str(exc).split()) or "no details"
                message = f"jaxlint: internal error: {type(exc).__name__}: {reason}"
                self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
                return
        if self.stamps[root] == stamp:
            for doc, version in zip(docs, versions, strict=True):
                findings = found[Path(doc.path)]
                self.published[doc.uri] = (version, findings)
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(
                        uri=doc.uri,
                        diagnostics=[self.diagnostic(doc, f) for f in findings],
                        version=version,
                    )
                )
        # After publishing, off the path from an edit to its diagnostics.
        await self.in_worker(self.collect_garbage, self.stamps[root] == stamp)

    # ------------------------------------------------------------------ conversions
    def lines_of(self, path: str) -> list[str]:
        """A file's lines as the client sees them (its open buffer, else the file on disk)."""
        uri = from_fs_path(os.path.abspath(path)) or ""
        doc = self.workspace.text_documents.get(uri)
        if doc is not None:
            return doc.lines
        try:
            return read_source(Path(path)).splitlines(keepends=True)
        except SourceError:
            return []

    def range(
        self, lines: Sequence[str], line: int, col: int, end: int, end_col: int
    ) -> types.Range:
        """1-based (line, column in characters) -> an LSP range in the client's units (UTF-16)."""
        codec = self.workspace.position_codec
        return types.Range(
            codec.position_to_client_units(lines, types.Position(line - 1, col - 1)),
            codec.position_to_client_units(lines, types.Position(end - 1, end_col - 1)),
        )

    def diagnostic(self, doc: TextDocument, f: Finding) -> types.Diagnostic:
        related: list[types.DiagnosticRelatedInformation] = []
        locations = f.extra.get("trace_locations") or [None] * len(f.trace)
        here = types.Location(doc.uri, self.range(doc.lines, f.line, f.column, f.line, f.column))
        for number, (step, where) in enumerate(zip(f.trace, locations, strict=False), start=1):
            location = here
            if where is not None:
                path, *span = where
                target = os.path.abspath(path)
                lines = doc.lines if target == os.path.abspath(doc.path) else self.lines_of(path)
                location = types.Location(from_fs_path(target) or doc.uri, self.range(lines, *span))
            related.append(
                types.DiagnosticRelatedInformation(location, f"why traced {number}: {step}")
            )
        message = f.message
        if f.fix is not None:
            label = "fix" if f.fix.applicability == "safe" else "unsafe fix"
            message += f"\n{label}: {f.fix.message}"
        return types.Diagnostic(
            range=self.range(doc.lines, f.line, f.column, f.end_line, f.end_column),
            message=message,
            severity=(
                types.DiagnosticSeverity.Error
                if f.code == SYNTAX_ERROR
                else types.DiagnosticSeverity.Warning
            ),
            code=f.code,
            source="jaxlint",
            related_information=related or None,
        )

    def text_edits(self, lines: Sequence[str], edits: Sequence[Edit]) -> list[types.TextEdit]:
        return [
            types.TextEdit(self.range(lines, e.line, e.column, e.end_line, e.end_column), e.content)
            for e in edits
        ]

    def workspace_edit(self, doc: TextDocument, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        """Edits tied to the document's version, so that a client drops them once it changed."""
        ident = types.OptionalVersionedTextDocumentIdentifier(doc.uri, doc.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(ident, edits)])

    # ------------------------------------------------------------------ code actions
    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = self.workspace.get_text_document(params.text_document.uri)
        version, findings = self.published.get(doc.uri, (None, []))
        if version != doc.version:
            return []  # the diagnostics in view are stale; new ones (and actions) follow
        only = params.context.only

        def wanted(kind: str) -> bool:
            return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)

        actions: list[types.CodeAction] = []
        if wanted(types.CodeActionKind.QuickFix):
            start, end = params.range.start, params.range.end
            for f in findings:
                if f.fix is None or not f.fix.edits:
                    continue
                diag = self.diagnostic(doc, f)
                r = diag.range
                if (r.end.line, r.end.character) < (start.line, start.character) or (
                    r.start.line,
                    r.start.character,
                ) > (end.line, end.character):
                    continue
                safe = f.fix.applicability == "safe"
                title = f"{f.code}: {f.fix.message}" + ("" if safe else " (unsafe)")
                actions.append(
                    types.CodeAction(
                        title=title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        is_preferred=safe,
                        edit=self.workspace_edit(doc, self.text_edits(doc.lines, f.fix.edits)),
                    )
                )
        if wanted(FIX_ALL) and any(f.fix and f.fix.applicability == "safe" for f in findings):
            fixed = await self.in_worker(
                self.fix_all, Path(doc.path), doc.source, doc.lines, self.overrides()
            )
            await self.in_worker(self.collect_garbage)
            if fixed is not None and fixed != doc.source:
                whole = types.Range(types.Position(0, 0), types.Position(len(doc.lines), 0))
                actions.append(
                    types.CodeAction(
                        title="jaxlint: fix all safe fixes",
                        kind=FIX_ALL,
                        edit=self.workspace_edit(doc, [types.TextEdit(whole, fixed)]),
                    )
                )
        return actions

    def fix_all(
        self, path: Path, text: str, lines: Sequence[str], overrides: dict[Path, str]
    ) -> str | None:
        """The buffer with every safe fix applied, to a fixed point (``jaxlint check --fix``)."""
        from jaxlint.fixes.apply import fix_texts

        name = display_path(path, self.cwd)
        newline = next(
            (ln[len(ln.rstrip("\r\n")) :] for ln in lines if ln.rstrip("\r\n") != ln), "\n"
        )

        def lint(texts: dict[str, str]) -> list[Finding]:
            return self.lint([path], {**overrides, path: texts[name]})[path]

        try:
            run = fix_texts({name: text}, lint, newlines={name: newline})
        except ConfigError:
            return None
        return run.texts[name]


def build_server() -> JaxlintServer:
    server = JaxlintServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: JaxlintServer, params: types.InitializedParams) -> None:
        # Paths are shown, and per-file-ignores matched, relative to the current directory, as
        # on the command line run from the workspace root: be there, whatever the editor's cwd.
        root = ls.workspace.root_path
        if root and os.path.isdir(root):
            os.chdir(root)
            ls.cwd = Path.cwd()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: JaxlintServer, params: types.DidOpenTextDocumentParams) -> None:
        await ls.refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: JaxlintServer, params: types.DidChangeTextDocumentParams) -> None:
        await ls.refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: JaxlintServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: JaxlintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.published.pop(uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
        await ls.refresh(uri)  # the file on disk replaces the closed buffer's text

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    async def code_action(
        ls: JaxlintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        return await ls.code_actions(params)

    return server


def run_server(argv: list[str]) -> int:
    """``jaxlint server``: serve LSP over stdin/stdout until the client says exit."""
    parser = argparse.ArgumentParser(
        prog="jaxlint server",
        description="Run the jaxlint language server over stdio (for editors).",
    )
    parser.parse_args(argv)
    server = build_server()
    # Collections run between analyses instead (``JaxlintServer.collect_garbage``).
    server.manage_gc = True
    gc.disable()
    server.start_io()
    return 0


__all__ = ["FIX_ALL", "JaxlintServer", "build_server", "run_server"]

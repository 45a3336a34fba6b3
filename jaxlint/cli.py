"""The ``jaxlint`` command: ``check`` (the default), ``rules`` and ``rule CODE``.

Exit codes: 0 no findings left, 1 findings left (or, with ``--diff``, a diff shown), 2 usage error,
unreadable path or internal error. No traceback ever reaches the user: anything unexpected becomes
one ``internal error`` line.

Each given file is reported from an analysis of its whole project (``engine.plan_runs``), so its
findings do not depend on the other paths given; ``--no-project`` analyses the given files alone.
``--fix`` lints, applies the fixes, re-lints and repeats until nothing changes (``fixes.apply``),
writes the changed given files (``fixes.write``) and then reports what is left, like
``ruff --fix``. Results are cached per project (``cache``) unless ``--no-cache``.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jaxlint import __version__
from jaxlint.analysis.libraries import interpreter_paths
from jaxlint.cache import Cache, CachedAnalysis, cache_dir_for, lint_cached, lint_cached_many
from jaxlint.config import Config, ConfigError, ConfigResolver, Overrides, resolve_python
from jaxlint.discovery import Discovery, SourceFile, discover, display_path
from jaxlint.engine import Run, overlay, plan_runs
from jaxlint.findings import Finding
from jaxlint.reporting import FORMATS, plural
from jaxlint.rules import RULES, Rule
from jaxlint.selection import SelectorError, split_codes, validate_selectors

if TYPE_CHECKING:
    from jaxlint.analysis.project import TreeCache

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Files and pipes have no width; the rule table needs more than the usual 80 columns.
PIPED_WIDTH = 140

_EPILOG = """\
what is analysed:
  the whole project of each path (the nearest pyproject.toml, setup.cfg, setup.py or .git
  above it, or [tool.jaxlint] src); only the paths given are reported, so a file's findings
  do not depend on the other paths, on -j, or on pre-commit passing only staged files.
  --no-project analyses the given files alone.

other commands:
  jaxlint rules              the rule table
  jaxlint rule CODE          one rule: what, why, an example, fix safety (--examples: all)
  jaxlint server             the language server (LSP over stdio), for editors

A path named like a command needs the explicit form: jaxlint check rules/
"""


def _selectors(option: str) -> Callable[[str], tuple[str, ...]]:
    """An argparse ``type`` that rejects unknown codes as a usage error."""

    def parse(value: str) -> tuple[str, ...]:
        try:
            return validate_selectors(split_codes(value), option)
        except SelectorError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{option}: ")) from None

    return parse


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: '{value}'") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError("must be 0 (all cores) or more")
    return jobs or os.cpu_count() or 1


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxlint",
        usage="jaxlint [check] [PATHS ...] [options]",
        description="Find JAX tracer hazards statically, before jax.jit does.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATHS", help="files or directories (default: .)"
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="with the path '-': read the source from stdin and check it as if it were PATH "
        "(in PATH's project; default: stdin.py); --fix then writes the fixed source to stdout",
    )
    parser.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    parser.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="also apply fixes marked unsafe (with --fix or --diff)",
    )
    parser.add_argument(
        "--show-fixes",
        action="store_true",
        help="list the fixes applied (with --fix) or available (otherwise), as ruff does",
    )
    parser.add_argument(
        "--output-file",
        "-o",
        type=Path,
        metavar="PATH",
        help="write the report to this file instead of standard output",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff and change nothing (exit 1 if any)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    for option, text in (
        ("--select", "rule codes or prefixes to check (replaces the configured select)"),
        ("--ignore", "rule codes or prefixes to skip"),
        ("--extend-select", "rule codes or prefixes to check in addition"),
    ):
        parser.add_argument(
            option, action="append", type=_selectors(option), metavar="CODES", help=text
        )
    parser.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when findings are left"
    )
    parser.add_argument(
        "--statistics", action="store_true", help="print the count of findings per rule instead"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only the findings' header lines"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="read installed libraries from this interpreter's import path (the project's "
        "virtualenv); default: [tool.jaxlint] python, else the interpreter jaxlint runs in",
    )
    parser.add_argument(
        "--no-project",
        action="store_true",
        help="analyse only the given files, not their whole project (calls from other files of "
        "the project are then missed)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="worker processes for independent projects (0: all cores); findings do not change",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="use this file instead of [tool.jaxlint] lookup"
    )
    parser.add_argument("--version", action="version", version=f"jaxlint {__version__}")
    return parser


def _flatten(groups: list[tuple[str, ...]] | None) -> tuple[str, ...] | None:
    return None if groups is None else tuple(code for group in groups for code in group)


def _error(message: str) -> None:
    """One line whatever the message holds (a reader of CI logs greps by line)."""
    print(f"jaxlint: error: {' '.join(message.split())}", file=sys.stderr)


@dataclass
class CheckOutcome:
    """What a check (or fix) run found, did and could not do."""

    # The selected findings left, in order, and the text of every file checked (after fixing).
    findings: list[Finding] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    # One line each: files that could not be read or decoded (exit 2).
    errors: list[str] = field(default_factory=list)
    # One line each: fixes refused, files not written (reported, the run goes on).
    warnings: list[str] = field(default_factory=list)
    # How many findings were fixed (written; with --diff: would be), and the diffs of --diff.
    fixed: int = 0
    # The findings whose fixes went in (--show-fixes), with their display paths.
    fixed_findings: list[Finding] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    # Cache lookups of the run (for tests and --verbose-like diagnostics).
    cache_hits: int = 0
    cache_misses: int = 0
    # The final text of every fixed given file, by absolute path (``--fix -`` prints it).
    written: dict[str, str] = field(default_factory=dict)
    # The fix plan (``_plan``): the findings left that ``--fix`` would fix, and the further ones
    # that ``--fix --unsafe-fixes`` would; planned by running the fixes, not read off ``fix``.
    fixable_safe: list[Finding] = field(default_factory=list)
    fixable_unsafe: list[Finding] = field(default_factory=list)


_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def unified_diff(path: str, old: str, new: str) -> str:
    """A unified diff that ``patch -p0`` applies (line endings kept, last-line-without-newline noted)."""
    out: list[str] = []
    for line in difflib.unified_diff(
        _LINES.findall(old), _LINES.findall(new), fromfile=path, tofile=path
    ):
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _fix_run(
    args: argparse.Namespace,
    run: Run,
    lint: Callable[[dict[str, str]], list[Finding]],
    outcome: CheckOutcome,
    written: dict[str, str],
) -> None:
    """Fix the given files of one analysis; ``written`` collects the final texts by absolute path
    (later analyses of a run read them)."""
    from jaxlint.fixes.apply import MAX_ROUNDS, Rejection, fix_texts, resolved
    from jaxlint.fixes.write import WriteError, encode_fixed, write_fixed

    infos = run.infos
    texts = {name: info.text for name, info in infos.items()}
    fixes = fix_texts(
        texts,
        lint,
        unsafe=args.unsafe_fixes,
        newlines={name: info.newline for name, info in infos.items()},
    )
    from jaxlint.notebooks import locate_all

    shown_texts = {run.given[n].display: t for n, t in fixes.texts.items() if n in run.given}
    rejected = locate_all([run.display(r.finding) for r in fixes.rejected], shown_texts)
    outcome.warnings += [
        Rejection(f, r.reason).describe() for f, r in zip(rejected, fixes.rejected, strict=True)
    ]
    outcome.warnings += [
        f"{run.given[name].display}: the fixes did not settle "
        f"(stopped after {min(fixes.rounds, MAX_ROUNDS)} rounds); what they left is kept"
        for name in fixes.unsettled
    ]
    final = dict(fixes.texts)
    reverted = False
    for name in sorted(fixes.changed):
        shown = run.given[name].display
        try:
            if args.diff:
                encode_fixed(infos[name], fixes.texts[name])
                outcome.diffs.append(unified_diff(shown, infos[name].text, fixes.texts[name]))
            elif not getattr(args, "stdin", False):  # stdin: run_check prints the fixed text
                write_fixed(run.given[name].path, infos[name], fixes.texts[name])
        except WriteError as exc:
            outcome.warnings.append(f"{shown}: not fixed: {exc}")
            final[name] = infos[name].text
            reverted = True
            continue
    left = lint(final) if reverted else fixes.remaining
    # Fixed: the findings that went away (not the fixes applied: see ``resolved``).
    gone = run.reported(resolved(fixes.initial, left))
    outcome.fixed += len(gone)
    outcome.fixed_findings += gone
    outcome.findings += run.reported(left)
    if not args.unsafe_fixes and want_plan(args):
        # What --unsafe-fixes would still fix, planned from the texts this run leaves.
        outcome.fixable_unsafe += _plan(run, lint, final, unsafe=True, found=left)
    for name, text in final.items():
        outcome.sources[run.given[name].display] = text
        if not args.diff:
            written[os.path.abspath(run.given[name].path)] = text
    outcome.written.update(written)


def _linter(
    run: Run, base: dict[str, str], cache: Cache | None, trees: TreeCache | None = None
) -> Callable[[dict[str, str]], list[Finding]]:
    """Lint given texts over ``base`` (the run's other modules): the selected findings of the
    given. ``trees`` keeps the parsed modules between rounds: a round edits a few files."""
    if trees is None:
        from jaxlint.analysis.project import TreeCache

        trees = TreeCache()

    def lint(given: dict[str, str]) -> list[Finding]:
        texts = {**base, **given}
        found = lint_cached(texts, run.config.settings, run.config.root, cache=cache, trees=trees)
        return [f for f in found if f.path in given]

    return lint


def want_plan(args: argparse.Namespace) -> bool:
    """Whether the output reports how many findings the fixes would fix (then they are planned)."""
    if args.diff:
        return False
    summary = args.format == "markdown" or (args.format == "text" and not args.quiet)
    return args.statistics or args.show_fixes or summary


def _plan(
    run: Run,
    lint: Callable[[dict[str, str]], list[Finding]],
    texts: dict[str, str],
    *,
    unsafe: bool,
    found: list[Finding],
) -> list[Finding]:
    """The findings of ``found`` (those of ``texts``) that ``--fix`` would fix, displayed.

    Planned by doing the fix run in memory, exactly as ``--fix`` does it (rounds, overlaps,
    refusals, re-checks), so that a check's counts are what ``--fix`` then does.
    """
    from jaxlint.fixes.apply import fix_texts, fixable

    if not any(fixable(f, unsafe) for f in found):
        return []
    newlines = {name: info.newline for name, info in run.infos.items() if name in texts}
    fixes = fix_texts(texts, lint, unsafe=unsafe, newlines=newlines, initial=found)
    return run.reported(fixes.resolved)


def check_files(
    files: Sequence[SourceFile],
    args: argparse.Namespace,
    resolver: ConfigResolver | None = None,
    overrides: Mapping[Path, str] | None = None,
) -> CheckOutcome:
    """Lint (and with ``--fix``/``--diff`` fix) ``files``, each from an analysis of its project.

    ``resolver`` is the one that discovered ``files`` (default: a new one from ``args``); project
    walks read their configuration from it. ``overrides`` replace files' texts (stdin).
    """
    cwd = Path.cwd()
    resolver = resolver or _resolver(args, cwd)
    runs, errors = plan_runs(files, resolver, cwd, project=not args.no_project, overrides=overrides)
    outcome = CheckOutcome(errors=errors)
    caches: dict[str, Cache] = {}

    def cache_for(config: Config) -> Cache | None:
        if args.no_cache:
            return None
        directory = os.path.abspath(cache_dir_for(config.root))
        return caches.setdefault(directory, Cache(Path(directory)))

    if args.fix or args.diff:
        written: dict[str, str] = {}
        for run in runs:
            lint = _linter(run, overlay(run, written), cache_for(run.config))
            _fix_run(args, run, lint, outcome, written)
        outcome.cache_hits = sum(c.hits for c in caches.values())
        outcome.cache_misses = sum(c.misses for c in caches.values())
    else:
        # Planning the fixes re-analyses the project: in one process, the first analysis keeps
        # its parsed modules for it (with -j, workers parse apart and the plan parses again).
        plan = want_plan(args) and args.jobs < 2
        if plan:
            from jaxlint.analysis.project import TreeCache
        analyses = [
            CachedAnalysis(
                run.texts,
                run.config.settings,
                run.config.root,
                cache_for(run.config),
                TreeCache() if plan else None,
            )
            for run in runs
        ]
        results = lint_cached_many(analyses, args.jobs)
        # the lookups of the analyses themselves (planning the fix counts looks up more)
        outcome.cache_hits = sum(c.hits for c in caches.values())
        outcome.cache_misses = sum(c.misses for c in caches.values())
        for run, analysis, found in zip(runs, analyses, results, strict=True):
            outcome.findings += run.reported(found)
            for name, info in run.infos.items():
                outcome.sources[run.given[name].display] = info.text
            if want_plan(args) and any(f.fix is not None for f in found):
                lint = _linter(run, overlay(run, {}), cache_for(run.config), analysis.trees)
                texts = {name: info.text for name, info in run.infos.items()}
                initial = [f for f in found if f.path in texts]
                safe = _plan(run, lint, texts, unsafe=False, found=initial)
                both = _plan(run, lint, texts, unsafe=True, found=initial)
                outcome.fixable_safe += safe
                outcome.fixable_unsafe += [f for f in both if f not in safe]
    outcome.findings.sort(key=lambda f: f.sort_key)
    return outcome


def _write_fix_text(args: argparse.Namespace, outcome: CheckOutcome, unreadable: int) -> None:
    """The text format after ``--fix``: what is left, then ruff's "(M fixed, K remaining)" summary."""
    from jaxlint.reporting.text import code_frame, frame_lines, header, make_console, notes
    from jaxlint.selection import split_lines

    console = make_console(sys.stdout)
    split: dict[str, list[str]] = {}
    for finding in outcome.findings:
        console.print(header(finding))
        if args.quiet:
            continue
        if finding.path not in split:
            split[finding.path] = split_lines(outcome.sources.get(finding.path, ""))
        lines = frame_lines(finding, split[finding.path])
        for line in (*code_frame(finding, lines), *notes(finding)):
            console.print(line)
        console.print()
    if args.quiet:
        return
    left = len(outcome.findings)
    if not left and not outcome.fixed and not unreadable:
        console.print("All checks passed!")
        return
    if left or outcome.fixed:
        total = plural(left + outcome.fixed, "finding")
        console.print(f"Found {total} ({outcome.fixed} fixed, {left} remaining).")
    unsafe = len(outcome.fixable_unsafe)
    if unsafe and not args.unsafe_fixes:
        console.print(f"{plural(unsafe, 'more finding')} fixable with --fix --unsafe-fixes.")
    if unreadable:
        console.print(f"{plural(unreadable, 'file')} could not be checked (see the errors above).")


def _report(
    args: argparse.Namespace,
    findings: list[Finding],
    sources: dict[str, str],
    unreadable: int,
    outcome: CheckOutcome | None = None,
) -> None:
    fixable = outcome.fixable_safe if outcome is not None else None
    counts = (
        (len(outcome.fixable_safe), len(outcome.fixable_unsafe)) if outcome is not None else None
    )
    if args.diff:
        return  # the diff is the output (see run_check)
    if args.statistics:
        from jaxlint.reporting.statistics import (
            render_statistics_json,
            render_statistics_text,
            statistics,
        )

        rows = statistics(findings, fixable)
        render = render_statistics_json if args.format == "json" else render_statistics_text
        sys.stdout.write(render(rows))
        return
    if args.format == "text":
        from jaxlint.reporting.text import make_console, write_text

        write_text(
            make_console(sys.stdout),
            findings,
            sources,
            quiet=args.quiet,
            unreadable=unreadable,
            counts=counts,
        )
    elif args.format == "json":
        from jaxlint.reporting.json import render_json

        sys.stdout.write(render_json(findings))
    elif args.format == "sarif":
        from jaxlint.reporting.sarif import render_sarif

        sys.stdout.write(render_sarif(findings, Path.cwd()))
    elif args.format == "github":
        from jaxlint.reporting.github import render_github

        sys.stdout.write(render_github(findings))
    else:
        from jaxlint.reporting.markdown import render_markdown

        sys.stdout.write(render_markdown(findings, counts))


def _resolver(args: argparse.Namespace, cwd: Path) -> ConfigResolver:
    python = getattr(args, "python", None)
    try:
        library_paths = interpreter_paths(resolve_python(python, cwd)) if python else None
    except ValueError as exc:
        raise ConfigError(f"--python: {exc}") from None
    overrides = Overrides(
        select=_flatten(args.select),
        ignore=_flatten(args.ignore) or (),
        extend_select=_flatten(args.extend_select) or (),
        library_paths=library_paths,
    )
    return ConfigResolver(cwd, args.config, overrides)


def discover_for(args: argparse.Namespace, cwd: Path) -> Discovery:
    """The files that parsed ``check`` arguments name, each with its configuration."""
    resolver = _resolver(args, cwd)
    found = discover(args.paths, resolver, cwd)
    found.resolver = resolver
    return found


def _noqa_warnings(sources: dict[str, str]) -> list[str]:
    """One line per unknown ``JX`` code in a ``# noqa:`` of a checked file."""
    from jaxlint.notebooks import is_notebook, position
    from jaxlint.selection import unknown_noqa_codes

    out: list[str] = []
    for path, text in sorted(sources.items()):
        for line, code in unknown_noqa_codes(text):
            where = position(text, line) if is_notebook(path) else str(line)
            out.append(f"{path}:{where}: unknown rule code '{code}' in # noqa (see: jaxlint rules)")
    return out


def _show_fixes(args: argparse.Namespace, outcome: CheckOutcome) -> None:
    """ruff's ``--show-fixes``: per file, how many findings of each rule were (or can be) fixed."""
    unsafe: set[int] = set()
    if args.fix:
        listed = outcome.fixed_findings
        title = f"Fixed {plural(len(listed), 'finding')}:"
    else:
        listed = outcome.fixable_safe + outcome.fixable_unsafe
        title = f"{len(listed)} {'fix' if len(listed) == 1 else 'fixes'} available:"
        unsafe = {id(f) for f in outcome.fixable_unsafe}
    if not listed:
        print("No fixes applied." if args.fix else "No fixes available.")
        return
    print(title)
    by_path: dict[str, dict[tuple[str, str, str], int]] = {}
    for f in listed:
        kind = "" if args.fix else (" [unsafe]" if id(f) in unsafe else " [safe]")
        counts = by_path.setdefault(f.path, {})
        counts[(f.code, f.name, kind)] = counts.get((f.code, f.name, kind), 0) + 1
    for path, counts in sorted(by_path.items()):
        print(f"- {path}:")
        for (code, name, kind), count in sorted(counts.items()):
            print(f"    {count} \u00d7 {code} ({name}){kind}")


@contextlib.contextmanager
def _report_to(path: Path | None) -> Iterator[None]:
    """Standard output, or ``--output-file`` (written whole at the end, like a redirect)."""
    if path is None:
        yield
        return
    with open(path, "w", encoding="utf-8") as fh, contextlib.redirect_stdout(fh):
        yield


def _stdin_file(args: argparse.Namespace, cwd: Path) -> tuple[Discovery, dict[Path, str]] | str:
    """``check -``: the file stdin stands for, and its text as an override (or a usage error)."""
    from jaxlint.source import SourceError, source_info

    if args.paths != ["-"]:
        return "'-' (stdin) cannot be combined with other paths"
    name = Path(args.stdin_filename or "stdin.py")
    resolver = _resolver(args, cwd)
    path = cwd / name
    found = Discovery(resolver=resolver)
    try:
        text = source_info(sys.stdin.buffer.read()).text
    except SourceError as exc:
        found.errors.append(f"{name}: {exc}")
        return found, {}
    config = resolver.for_directory(path.parent)
    found.files.append(SourceFile(path, display_path(path, cwd, name), config))
    return found, {path: text}


def run_check(argv: list[str]) -> int:
    args = _check_parser().parse_args(argv)
    args.stdin = "-" in args.paths
    if args.stdin_filename is not None and not args.stdin:
        _error("--stdin-filename needs the path '-' (read the source from stdin)")
        return EXIT_ERROR
    try:
        with _report_to(args.output_file):
            return _run_check(args)
    except OSError as exc:
        _error(f"{args.output_file}: cannot write the report: {exc.strerror or exc}")
        return EXIT_ERROR


def _run_check(args: argparse.Namespace) -> int:
    overrides: dict[Path, str] = {}
    try:
        if args.stdin:
            stdin = _stdin_file(args, Path.cwd())
            if isinstance(stdin, str):
                _error(stdin)
                return EXIT_ERROR
            found, overrides = stdin
        else:
            found = discover_for(args, Path.cwd())
        outcome = (
            check_files(found.files, args, found.resolver, overrides)
            if found.files
            else CheckOutcome()
        )
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_ERROR
    if args.stdin and args.fix and not args.diff:
        return _finish_stdin_fix(args, found, outcome, overrides)
    errors = found.errors + outcome.errors
    from jaxlint.notebooks import locate_all

    outcome.findings = locate_all(outcome.findings, outcome.sources)
    for line in errors:
        _error(line)
    for line in [*outcome.warnings, *_noqa_warnings(outcome.sources)]:
        print(f"jaxlint: warning: {' '.join(line.split())}", file=sys.stderr)
    if not found.files and not found.errors and not args.quiet:
        print("jaxlint: warning: no Python files found under the given paths", file=sys.stderr)
    if args.diff:
        sys.stdout.write("".join(outcome.diffs))
        if not args.quiet:
            if outcome.fixed:
                message = f"Would fix {plural(outcome.fixed, 'finding')}."
            else:
                message = "No findings would be fixed."
            print(message, file=sys.stderr)
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if outcome.diffs else EXIT_OK
    if args.fix and args.format == "text" and not args.statistics:
        _write_fix_text(args, outcome, len(errors))
    else:
        _report(args, outcome.findings, outcome.sources, len(errors), outcome)
    if args.show_fixes and args.format == "text" and not args.statistics:
        _show_fixes(args, outcome)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if outcome.findings and not args.exit_zero else EXIT_OK


def _finish_stdin_fix(
    args: argparse.Namespace,
    found: Discovery,
    outcome: CheckOutcome,
    overrides: Mapping[Path, str],
) -> int:
    """``check --fix -``: the fixed source goes to stdout (as ruff does), the report to stderr."""
    for line in found.errors + outcome.errors:
        _error(line)
    for line in outcome.warnings:
        print(f"jaxlint: warning: {line}", file=sys.stderr)
    for path, text in overrides.items():
        sys.stdout.write(outcome.written.get(os.path.abspath(path), text))
    sys.stdout.flush()
    errors = found.errors + outcome.errors
    with contextlib.redirect_stdout(sys.stderr):
        if args.format == "text" and not args.statistics:
            _write_fix_text(args, outcome, len(errors))
        else:
            _report(args, outcome.findings, outcome.sources, len(errors), outcome)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if outcome.findings and not args.exit_zero else EXIT_OK


def run_rules(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="jaxlint rules", description="List the rules.")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if args.format == "json":
        rows = [
            {
                "code": r.code,
                "name": r.name,
                "jax_error": r.jax_error,
                "fix": r.fix,
                "summary": r.summary,
            }
            for r in RULES.values()
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    from rich.table import Table

    from jaxlint.reporting.text import make_console

    table = Table(title="jaxlint rules")
    for column in ("Code", "Name", "JAX error", "Fix"):
        table.add_column(column, no_wrap=True)
    table.add_column("Summary", ratio=1, min_width=30)
    for r in RULES.values():
        table.add_row(r.code, r.name, r.jax_error or "-", r.fix, r.summary)
    console = make_console(sys.stdout)
    console.soft_wrap = False  # a table must fit the width it is drawn at
    if not console.is_terminal:
        console.width = max(console.width, PIPED_WIDTH)
    console.print(table)
    return EXIT_OK


# The sections of a rule's doc that the short page keeps: what, why, one example, fix safety;
# the long ones (BRIEF_SECTIONS) are cut to their first paragraph there.
SHORT_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")
BRIEF_SECTIONS = ("Why is this bad?", "Fix safety")


def _short_doc(doc: str) -> str:
    """What, why (first paragraph), one example and its rewrite, fix safety (first paragraph)."""
    kept: list[str] = []
    for section in re.split(r"(?m)^(?=## )", doc.strip()):
        title = section.removeprefix("## ").partition("\n")[0].strip()
        if title not in SHORT_SECTIONS:
            continue
        if title in BRIEF_SECTIONS:
            head, _, body = section.partition("\n")
            section = head + "\n" + body.strip().split("\n\n")[0]
        kept.append(section.strip())
    return "\n\n".join(kept)


def rule_markdown(rule: Rule, examples: bool = True) -> str:
    """The page ``jaxlint rule CODE`` shows: identity, the rule's own doc, then its examples;
    without ``examples`` only what it finds, why, one example and the fix's safety."""
    parts = [
        f"# {rule.code} {rule.name}",
        rule.summary,
        f"**JAX error:** `{rule.jax_error or '-'}` · **Fix:** {rule.fix}",
        rule.doc.strip() if examples else _short_doc(rule.doc),
    ]
    if not examples:
        if rule.examples:
            parts.append(
                f"*{len(rule.examples)} runnable examples and the full page:* "
                f"`jaxlint rule {rule.code} --examples`"
            )
    elif rule.examples:
        parts.append("## Examples")
        for example in rule.examples:
            if example.valid:
                kind = "Valid (traces cleanly)"
            else:
                kind = f"Invalid (raises `{example.raises or rule.jax_error}`)"
            parts.append(f"### {kind}" + (f": {example.title}" if example.title else ""))
            parts.append(f"```python\n{example.code.strip()}\n```")
    return "\n\n".join(p for p in parts if p) + "\n"


def run_rule(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="jaxlint rule", description="Show one rule's documentation."
    )
    parser.add_argument("code", metavar="CODE", help="a rule code, e.g. JX101")
    parser.add_argument(
        "--examples", action="store_true", help="the full page, with every runnable example"
    )
    args = parser.parse_args(argv)
    rule = RULES.get(args.code.upper())
    if rule is None:
        _error(f"unknown rule '{args.code}' (see: jaxlint rules)")
        return EXIT_ERROR
    from rich.markdown import Markdown

    from jaxlint.reporting.text import make_console

    console = make_console(sys.stdout)
    console.soft_wrap = False
    page = Markdown(rule_markdown(rule, examples=args.examples))
    # A terminal gets a pager (pydoc's: $PAGER, else less); a pipe or file gets the plain page.
    pager = console.pager(styles=True) if sys.stdout.isatty() else contextlib.nullcontext()
    with pager:
        console.print(page)
    return EXIT_OK


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "server":
        from jaxlint.server import run_server

        return run_server(argv[1:])
    if argv and argv[0] == "rules":
        return run_rules(argv[1:])
    if argv and argv[0] == "rule":
        return run_rule(argv[1:])
    if argv and argv[0] == "check":
        argv = argv[1:]
    return run_check(argv)


def _tolerate_unencodable_output() -> None:
    """Source lines may hold characters the terminal's encoding lacks: escape them, do not crash."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code instead of raising SystemExit."""
    _tolerate_unencodable_output()
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or EXIT_OK
        print(exc.code, file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("jaxlint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``jaxlint | head``); keep Python from complaining at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS
    except Exception as exc:
        reason = " ".join(str(exc).split()) or "no details"
        print(f"jaxlint: internal error: {type(exc).__name__}: {reason}", file=sys.stderr)
        return EXIT_ERROR

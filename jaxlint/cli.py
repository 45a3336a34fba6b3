"""The ``jaxlint`` command: ``check`` (the default), ``rules`` and ``rule CODE``.

Exit codes: 0 no findings left, 1 findings left, 2 usage error, unreadable path or internal error.
No traceback ever reaches the user: anything unexpected becomes one ``internal error`` line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from jaxlint import __version__
from jaxlint.config import Config, ConfigError, ConfigResolver, Overrides
from jaxlint.discovery import SourceFile, discover
from jaxlint.engine import lint_files
from jaxlint.findings import Finding
from jaxlint.reporting import FORMATS
from jaxlint.rules import RULES, Rule
from jaxlint.selection import SelectorError, select_findings, split_codes, validate_selectors

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Files and pipes have no width; the rule table needs more than the usual 80 columns.
PIPED_WIDTH = 140

_EPILOG = """\
other commands:
  jaxlint rules              the rule table
  jaxlint rule CODE          one rule's documentation, with examples

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
        "-j", "--jobs", type=_jobs, default=1, metavar="N", help="worker processes (0: all cores)"
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="use this file instead of [tool.jaxlint] lookup"
    )
    parser.add_argument("--version", action="version", version=f"jaxlint {__version__}")
    return parser


def _flatten(groups: list[tuple[str, ...]] | None) -> tuple[str, ...] | None:
    return None if groups is None else tuple(code for group in groups for code in group)


def _error(message: str) -> None:
    print(f"jaxlint: error: {message}", file=sys.stderr)


def _lint(
    files: Sequence[SourceFile], jobs: int
) -> tuple[list[Finding], dict[str, str], list[str]]:
    """Lint each group of files that share a configuration; return kept findings, sources, errors."""
    groups: dict[int, tuple[Config, list[SourceFile]]] = {}
    for source in files:
        groups.setdefault(id(source.config), (source.config, []))[1].append(source)
    findings: list[Finding] = []
    sources: dict[str, str] = {}
    errors: list[str] = []
    for config, members in groups.values():
        result = lint_files(
            [m.path for m in members],
            config.settings,
            jobs=jobs,
            display=[m.display for m in members],
        )
        findings += select_findings(result.findings, config.settings, result.sources, config.root)
        sources.update(result.sources)
        errors += result.errors
    findings.sort(key=lambda f: f.sort_key)
    return findings, sources, errors


def _report(
    args: argparse.Namespace, findings: list[Finding], sources: dict[str, str], unreadable: int
) -> None:
    if args.statistics:
        from jaxlint.reporting.statistics import (
            render_statistics_json,
            render_statistics_text,
            statistics,
        )

        rows = statistics(findings)
        render = render_statistics_json if args.format == "json" else render_statistics_text
        sys.stdout.write(render(rows))
        return
    if args.format == "text":
        from jaxlint.reporting.text import make_console, write_text

        write_text(
            make_console(sys.stdout), findings, sources, quiet=args.quiet, unreadable=unreadable
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

        sys.stdout.write(render_markdown(findings))


def run_check(argv: list[str]) -> int:
    args = _check_parser().parse_args(argv)
    cwd = Path.cwd()
    overrides = Overrides(
        select=_flatten(args.select),
        ignore=_flatten(args.ignore) or (),
        extend_select=_flatten(args.extend_select) or (),
    )
    try:
        resolver = ConfigResolver(cwd, args.config, overrides)
        found = discover(args.paths, resolver, cwd)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_ERROR
    findings, sources, errors = _lint(found.files, args.jobs) if found.files else ([], {}, [])
    errors = found.errors + errors
    for line in errors:
        _error(line)
    if not found.files and not found.errors and not args.quiet:
        print("jaxlint: warning: no Python files found under the given paths", file=sys.stderr)
    _report(args, findings, sources, len(errors))
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_OK


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


def rule_markdown(rule: Rule) -> str:
    """The page ``jaxlint rule CODE`` shows: identity, the rule's own doc, then its examples."""
    parts = [
        f"# {rule.code} {rule.name}",
        rule.summary,
        f"**JAX error:** `{rule.jax_error or '-'}` · **Fix:** {rule.fix}",
        rule.doc.strip(),
    ]
    if rule.examples:
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
    args = parser.parse_args(argv)
    rule = RULES.get(args.code.upper())
    if rule is None:
        _error(f"unknown rule '{args.code}' (see: jaxlint rules)")
        return EXIT_ERROR
    from rich.markdown import Markdown

    from jaxlint.reporting.text import make_console

    console = make_console(sys.stdout)
    console.soft_wrap = False
    console.print(Markdown(rule_markdown(rule)))
    return EXIT_OK


def _dispatch(argv: list[str]) -> int:
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

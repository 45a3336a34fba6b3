"""The sweep's rich table: live while the sweep runs, and the summary of a profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

OUTCOME_STYLE = {
    "ok": "green",
    "oom": "bold red",
    "error": "red",
    "skipped": "yellow",
    "running": "cyan",
    "pending": "dim",
}


def _bytes(value: float | None) -> str:
    """Compact binary size: 584M, 2.9M, 12K."""
    if value is None:
        return "-"
    for unit in ("", "K", "M", "G", "T"):
        if abs(value) < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if abs(value) >= 10 or not unit else f"{value:.1f}{unit}"
        value /= 1024
    return "-"  # pragma: no cover


def _si(value: float | None) -> str:
    """Compact decimal count: 39.2k, 1.05M, 812."""
    if value is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.3g}"


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def _median(stats: Mapping[str, Any] | None, si: bool = True) -> str:
    if not stats or stats.get("median") is None:
        return "-"
    return _si(stats["median"]) if si else f"{stats['median']:.3g}"


def _spread(stats: Mapping[str, Any] | None) -> str:
    """Half the relative min-max range over the repeats: ``2%``."""
    spread = (stats or {}).get("spread")
    return "-" if spread is None else f"{spread / 2:.0%}"


WIDE = 120  # narrower consoles get the compact table (no upd/s, no bandwidth column)


def _note(p: Mapping[str, Any]) -> str:
    note = str(p.get("reason") or p.get("message") or "")
    if not note and p.get("compile_cache_hit"):
        note = "compiled program loaded from the persistent cache"
    if p.get("recompiles"):
        note = f"{p['recompiles']} recompiles in timed region! {note}"
    return note


def point_notes(points: Sequence[Mapping[str, Any]]) -> list[str]:
    """The notes the compact table leaves out, one line per point that has one."""
    out = []
    for p in points:
        note = _note(p)
        if note and not (p.get("compile_cache_hit") and note.startswith("compiled program")):
            where = f"num_envs={p.get('num_envs')} mb={p.get('num_minibatches')}"
            out.append(f"{where} T={p.get('num_steps')}: {note}")
    return out


def points_table(
    points: Sequence[Mapping[str, Any]],
    title: str = "jaxstress bench",
    recommended: Mapping[str, Any] | None = None,
    compact: bool = False,
) -> Table:
    """One row per grid point; the recommended one is marked with a star."""
    table = Table(
        title=title,
        header_style="bold",
        expand=False,
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
        caption="steps/s: env steps per second of run time (compile excluded), median over "
        "repeats; ±: half its min-max range (run-to-run noise); "
        "T: num_steps; mem pred/peak: predicted / measured peak memory"
        + ("" if compact else "; of bw: fraction of the bandwidth bound"),
    )
    # compact: short headers, and the notes go below the table (`point_notes`)
    dropped = {"upd/s", "of bw", "note"} if compact else set()
    columns = [
        ("envs", "right"),
        ("mb", "right"),
        ("T", "right"),
        ("result", "left"),
        ("compile" if compact else "compile s", "right"),
        ("steps/s" if compact else "env steps/s", "right"),
        ("±", "right"),
        ("upd/s", "right"),
        ("util%", "right"),
        ("pred" if compact else "mem pred", "right"),
        ("peak" if compact else "mem peak", "right"),
        ("of bw", "right"),
        ("note", "left"),
    ]
    keep = [name not in dropped for name, _ in columns]
    for (name, justify), kept in zip(columns, keep, strict=True):
        if kept:
            table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    key = None
    if recommended:
        key = (
            recommended.get("num_envs"),
            recommended.get("num_minibatches"),
            recommended.get("num_steps"),
        )
    for p in points:
        outcome = p.get("outcome", "pending")
        memory = p.get("memory") or {}
        util = (p.get("utilisation") or {}).get("mean")
        bound = p.get("bandwidth_bound") or {}
        mark = (p.get("num_envs"), p.get("num_minibatches"), p.get("num_steps")) == key
        note = _note(p)
        cells = (
            ("* " if mark else "") + str(p.get("num_envs")),
            str(p.get("num_minibatches")),
            str(p.get("num_steps")),
            Text(outcome, style=OUTCOME_STYLE.get(outcome, "")),
            _num(p.get("compile_s"), ".1f"),
            _median(p.get("steps_per_sec")),
            _spread(p.get("steps_per_sec")),
            _median(p.get("updates_per_sec"), si=False),
            _num(util, ".0f"),
            _bytes((memory.get("predicted") or {}).get("peak_bytes")),
            _bytes((memory.get("measured") or {}).get("bytes")),
            _num(bound.get("fraction"), ".2f"),
            Text(_short(note), style="dim"),
        )
        table.add_row(*(cell for cell, kept in zip(cells, keep, strict=True) if kept))
    return table


def point_line(i: int, total: int, p: Mapping[str, Any]) -> str:
    """One finished point as a log line (the non-terminal view of the live table)."""
    memory = p.get("memory") or {}
    note = _note(p)
    return (
        f"point {i}/{total}: num_envs={p.get('num_envs')} mb={p.get('num_minibatches')} "
        f"T={p.get('num_steps')} {p.get('outcome')}  compile {_num(p.get('compile_s'), '.1f')}s  "
        f"steps/s {_median(p.get('steps_per_sec'))} ±{_spread(p.get('steps_per_sec'))}  "
        f"peak {_bytes((memory.get('measured') or {}).get('bytes'))}"
        + (f"  {note}" if note else "")
    )


class LiveTable:
    """The sweep's progress; ``update(points)`` after every change.

    On a terminal: a rich ``Live`` table that is removed when the sweep ends (``transient``), so
    the final table (`print_profile`) appears once. Redirected (a log, a pipe): ``Live`` would
    print nothing until the end, so each finished point is printed as one line instead.
    """

    def __init__(self, console: Console, title: str, total: int) -> None:
        self.console = console
        self.title = title
        self.total = total
        self.live: Live | None = None
        self.printed = 0

    def __enter__(self) -> LiveTable:
        self.compact = self.console.width < WIDE
        if not self.console.is_terminal:
            self.console.print(self.title, markup=False, highlight=False)
            return self
        self.live = Live(
            points_table([], self.title, compact=self.compact),
            console=self.console,
            refresh_per_second=4,
            transient=True,
        )
        self.live.__enter__()
        return self

    def update(self, points: Sequence[Mapping[str, Any]], status: str = "") -> None:
        if self.live is None:
            for p in points[self.printed :]:
                self.printed += 1
                self.console.print(
                    point_line(self.printed, self.total, p), markup=False, highlight=False
                )
            return
        parts: list[Any] = [points_table(points, self.title, compact=self.compact)]
        if self.compact:
            parts += [Text(line, style="dim") for line in point_notes(points)]
        if status:
            parts.append(Text(status, style="cyan"))
        self.live.update(Group(*parts))

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None


def recommendation_text(profile: Mapping[str, Any]) -> str:
    """The one ``recommended:`` line (with its rule and noise), or why there is none."""
    from jaxstress.bench.profile import MIN_POINTS, fitting_count

    rec = profile.get("recommended")
    if not rec:
        points = profile.get("points", [])
        if profile.get("complete", True):
            return "no recommendation: no point finished within the memory headroom"
        found = fitting_count(points, profile.get("settings", {}).get("headroom", 0.8))
        return (
            f"no recommendation: the sweep stopped after {len(points)} point(s), {found} fitting; "
            f"a recommendation needs the complete grid or at least {MIN_POINTS} fitting points"
        )
    head = "recommended" if profile.get("complete", True) else "recommended (partial sweep)"
    text = (
        f"{head}: num_envs={rec['num_envs']} num_minibatches={rec['num_minibatches']} "
        f"num_steps={rec['num_steps']}  ({rec['steps_per_sec']:,.0f} env steps/s median"
    )
    if "steps_per_sec_min" not in rec:  # a profile from before the noise rule
        return text + ")"
    text += f", slowest repeat {rec['steps_per_sec_min']:,.0f}; rule: highest slowest repeat)"
    ties = rec.get("within_noise_of") or []
    if rec.get("noise") is None:
        text += "; run-to-run noise not measured (1 repeat: use --repeats 3)"
    elif ties:
        shown = ", ".join(f"num_envs={t['num_envs']} mb={t['num_minibatches']} "
                          f"T={t['num_steps']}" for t in ties[:3])  # fmt: skip
        more = f" (+{len(ties) - 3} more)" if len(ties) > 3 else ""
        text += (
            f"; within run-to-run noise (±{rec['noise']:.0%}) of {shown}{more}: "
            "their repeat ranges overlap, so any of them is as fast"
        )
    elif rec.get("candidates") == 1:
        text += f"; the only point that fits (run-to-run noise ±{rec['noise']:.0%})"
    else:
        text += f"; faster than every other point beyond run-to-run noise (±{rec['noise']:.0%})"
    return text


def print_profile(profile: Mapping[str, Any], console: Console, path: Any = None) -> None:
    """``jaxstress profile show`` and the end of a sweep: header, table, recommendation."""
    versions = profile.get("versions") or {}
    bandwidth = profile.get("bandwidth") or {}
    header = (
        f"[bold]{profile.get('device_kind')}[/] x{profile.get('device_count', 1)} "
        f"({profile.get('platform', '?')})  env={profile.get('env')}  "
        f"date={profile.get('date', '?')}  jax={versions.get('jax')} "
        f"jaxlib={versions.get('jaxlib')} cuda={versions.get('cuda') or '-'}"
    )
    if path is not None:
        console.print(f"profile [bold]{path}[/]")
    console.print(header)
    if bandwidth.get("bytes_per_s"):
        console.print(
            f"memory bandwidth {bandwidth['bytes_per_s'] / 1e9:.2f} GB/s (copy benchmark); "
            f"memory limit {_bytes(profile.get('memory_limit_bytes'))} "
            f"({profile.get('memory_limit_source', '?')})"
        )
    check = profile.get("env_check") or {}
    if check and not check.get("ok"):
        console.print(f"[red]env check failed:[/] {check.get('message')}")
    if profile.get("interrupted") or profile.get("complete") is False:
        console.print("[yellow]interrupted: partial results (not used by --profile auto)[/]")
    compact = console.width < WIDE
    points = profile.get("points", [])
    console.print(points_table(points, "grid", profile.get("recommended"), compact=compact))
    if compact:
        for line in point_notes(points):
            console.print(line, style="dim", markup=False, highlight=False)
    for note in profile.get("notes", []):
        console.print(f"[dim]note: {note}[/]")
    console.print(recommendation_text(profile), style="bold", markup=False, highlight=False)

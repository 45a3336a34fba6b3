"""``jaxstress`` command line: one ``add_<name>_parser`` + ``cmd_<name>`` pair per subcommand.

To add a subcommand, write both functions and append the adder to ``SUBCOMMANDS``. Handlers
return the exit code; bad input is one line on stderr and exit 2, never a traceback. JAX is
imported lazily inside handlers so ``jaxstress --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jaxstress import __version__

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130


class UsageError(ValueError):
    """Bad command-line input detected after parsing (one-line message, exit 2)."""


def _error(command: str, message: object) -> int:
    text = " ".join(str(message).split())  # always one line
    print(f"jaxstress {command}: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def _input_errors() -> tuple[type[BaseException], ...]:
    """Exception classes that mean bad user input (not a bug) for the train command."""
    from jaxstress.ppo.config import ConfigError
    from jaxstress.sharding import DeviceError
    from jaxstress.training import CheckpointError

    errors: list[type[BaseException]] = [
        UsageError,
        ConfigError,
        CheckpointError,
        DeviceError,
        OSError,
    ]
    try:
        from jaxstress.data import DataError

        errors.append(DataError)
    except ImportError:  # pragma: no cover - the data package ships with jaxstress
        pass
    return tuple(errors)


LOG_WIDTH = 200  # redirected output: wide enough for the full table, text never hard-wrapped


def make_console() -> Any:
    """The rich Console every subcommand prints through.

    Redirected to a file or pipe, rich would wrap lines at 80 columns, which breaks a log into
    pieces a reader (or grep) cannot follow: there, text is soft-wrapped (left whole) and
    tables get ``LOG_WIDTH`` columns. rich flushes after every print, so a log shows progress
    as it happens.
    """
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(soft_wrap=True, width=LOG_WIDTH)
    return console


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_train_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train PPO on the phase-1 (or dummy) env",
        description=(
            "Train PPO with the whole update loop under jax.jit. Settings: defaults < --config "
            "< --profile < flags. Writes metrics.jsonl, learning_curve.png, checkpoint.msgpack, "
            "run.json and summary.json into --out. Set JAX_COMPILATION_CACHE_DIR to reuse "
            "compiled programs across runs (a resumed run then skips most compile time)."
        ),
    )
    parser.add_argument("--config", metavar="FILE", help="JSON or TOML settings file")
    parser.add_argument(
        "--profile",
        metavar="auto|PATH",
        help="hardware profile JSON whose 'recommended' sets num_envs/num_minibatches/num_steps; "
        "auto: the profile in profiles/ matching this device",
    )
    parser.add_argument(
        "--data", metavar="PATH", help="CSV/Parquet OHLCV bars (default: embedded market)"
    )
    parser.add_argument("--total-steps", type=_positive_int, metavar="N", help="env steps to run")
    parser.add_argument("--out", metavar="DIR", help="output directory (default runs/<time>)")
    parser.add_argument("--env", choices=("phase1", "dummy"), help="environment (phase1)")
    parser.add_argument("--seed", type=int, metavar="N", help="random seed")
    parser.add_argument(
        "--devices",
        metavar="all|N",
        default="all",
        help="split the env batch over all local devices or the first N, as 'jaxstress bench' "
        "does (all); num_envs must be a multiple of the count",
    )
    parser.add_argument(
        "--resume", metavar="DIR", help="continue the run saved in DIR (into DIR unless --out)"
    )
    parser.set_defaults(handler=cmd_train)


def _train_settings(args: argparse.Namespace) -> tuple[Any, Path, Path | None]:
    """Resolve (settings, out dir, resume dir) from flags, files and the profile."""
    from jaxstress.training import (
        CHECKPOINT_FILE,
        TrainSettings,
        load_config_file,
        load_run_settings,
        profile_recommendation,
    )

    resume = Path(args.resume) if args.resume else None
    if resume is not None:
        clash = [f"--{n}" for n in ("config", "profile", "env", "seed") if getattr(args, n)]
        if clash:
            raise UsageError(f"{', '.join(clash)} cannot be combined with --resume")
        settings = load_run_settings(resume)
    else:
        settings = TrainSettings()
        if args.config:
            settings = settings.merged(load_config_file(args.config))
        if args.profile:
            from jaxstress.sharding import parse_devices, select_devices

            # Match the profile to the devices this run will use, not all the host has.
            devices = select_devices(parse_devices(args.devices))
            overrides, note = profile_recommendation(
                args.profile, devices[0].device_kind, device_count=len(devices)
            )
            print(note, file=sys.stderr)
            settings = settings.merged(overrides)
        flags = {"env": args.env, "seed": args.seed}
        settings = settings.merged({k: v for k, v in flags.items() if v is not None})
    flags = {"data": args.data, "total_timesteps": args.total_steps}
    settings = settings.merged({k: v for k, v in flags.items() if v is not None})

    if args.out:
        out = Path(args.out)
    elif resume is not None:
        out = resume
    else:
        out = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    if out != resume and (out / CHECKPOINT_FILE).exists():
        raise UsageError(f"{out} already holds a run; use --resume {out} or another --out")
    return settings, out, resume


def cmd_train(args: argparse.Namespace) -> int:
    errors = _input_errors()
    try:
        from jaxstress.sharding import parse_devices

        devices = parse_devices(args.devices)
        settings, out, resume = _train_settings(args)
        from jaxstress.training import run_training

        run_training(settings, out, resume_from=resume, devices=devices, console=make_console())
    except errors as exc:
        return _error("train", exc)
    except KeyboardInterrupt:
        print(
            "jaxstress train: interrupted; the last finished chunk is checkpointed, "
            "learning_curve.png and summary.json are written",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return EXIT_OK


def add_bench_parser(subparsers: Any) -> None:
    from jaxstress.bench.commands import add_bench_parser as add

    add(subparsers)


def add_profile_parser(subparsers: Any) -> None:
    from jaxstress.bench.commands import add_profile_parser as add

    add(subparsers)


# Each adder registers one subcommand; bench and profile append theirs here.
SUBCOMMANDS: list[Callable[[Any], None]] = [add_train_parser, add_bench_parser, add_profile_parser]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxstress",
        description="Trace-safe trading runtime: PPO training and hardware stress sweeps.",
    )
    parser.add_argument("--version", action="version", version=f"jaxstress {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return handler(args)

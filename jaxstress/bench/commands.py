"""``jaxstress bench`` and ``jaxstress profile show``: parsers and handlers.

Registered in `jaxstress.cli` (``SUBCOMMANDS``). Values are validated here, after parsing, so
bad input is one line on stderr and exit 2. Exit codes: 0 done (``--check``: passed), 1 the
sweep failed (env check, tracer error, ``--check`` not met), 2 bad input, 130 interrupted
(the profile of what was measured is written).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SIZE_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
SIZE_UNITS.update({"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40})


class BenchInputError(ValueError):
    pass


def _error(command: str, message: object) -> int:
    text = " ".join(str(message).split())
    print(f"jaxstress {command}: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def parse_int_list(text: str, flag: str) -> tuple[int, ...]:
    values = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part.isdigit() or int(part) < 1:
            raise BenchInputError(f"{flag} takes comma-separated positive integers, got {text!r}")
        values.append(int(part))
    return tuple(values)


def parse_positive(text: str, flag: str) -> int:
    values = parse_int_list(text, flag)
    if len(values) != 1:
        raise BenchInputError(f"{flag} takes one positive integer, got {text!r}")
    return values[0]


def parse_bytes(text: str, flag: str) -> int:
    """``1000000``, ``512M``, ``2GiB``, ``1.5G`` (decimal k/M/G/T, binary Ki/Mi/Gi/Ti)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]i?)?b?\s*", text.lower())
    if not match:
        raise BenchInputError(f"{flag} takes a size in bytes (e.g. 512M, 2GiB), got {text!r}")
    value = float(match.group(1)) * SIZE_UNITS[match.group(2) or ""]
    if value < 1:
        raise BenchInputError(f"{flag} must be at least 1 byte, got {text!r}")
    return int(value)


def add_bench_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="stress sweep: PPO throughput over num_envs x minibatches; writes a profile",
        description=(
            "Run a short real PPO training per grid point (each in its own process), measuring "
            "compile and run time apart, env steps/s, updates/s, device utilisation and peak "
            "memory; OOM is recorded and the sweep goes on. Writes profiles/<device>.json "
            "(read by 'jaxstress train --profile auto') and a PNG plot."
        ),
    )
    parser.add_argument("--env", choices=("phase1", "dummy"), default="phase1")
    parser.add_argument(
        "--env-module",
        metavar="PATH",
        help="a Python file with another env (make_env(), or a class with reset/step)",
    )
    parser.add_argument("--num-envs", metavar="N,N,...", help="default 256,1024,4096,16384")
    parser.add_argument("--minibatches", metavar="N,N,...", help="default 4,8")
    parser.add_argument("--num-steps", metavar="N[,N...]", help="rollout length(s), default 128")
    parser.add_argument("--updates", metavar="N", help="PPO updates per timed run (50)")
    parser.add_argument("--repeats", metavar="N", help="timed runs per point (3)")
    parser.add_argument("--data", metavar="PATH", help="CSV/Parquet OHLCV bars")
    parser.add_argument("--config", metavar="FILE", help="other PPO/env settings (as train)")
    parser.add_argument("--out", metavar="DIR", default="profiles", help="(profiles)")
    parser.add_argument("--devices", metavar="all|N", default="all")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small grid (num_envs 16,64,256 x minibatches 2,4, 32 steps, 5 updates)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="run the sweep 3 times; exit 1 unless all complete cleanly",
    )
    parser.add_argument(
        "--min-util",
        metavar="PCT",
        default="70",
        help="--check: utilisation the recommended point must reach (NVML only; 70)",
    )
    parser.add_argument(
        "--mem-limit",
        metavar="BYTES",
        help="skip points whose predicted peak exceeds this (default: the device's memory)",
    )
    parser.add_argument(
        "--point-rlimit",
        metavar="BYTES",
        help="cap the address space each point may add after compiling (forces real OOMs)",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="persistent XLA compilation cache ($JAX_COMPILATION_CACHE_DIR or "
        "~/.cache/jaxstress/xla; 'none' disables)",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="multi-host: jax.distributed.initialize() in every point (run on every host); "
        "on SLURM/Open MPI/k8s JAX finds the coordinator, elsewhere give the three flags below",
    )
    parser.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        help="--distributed: address of process 0 (implies --distributed)",
    )
    parser.add_argument("--num-processes", metavar="N", help="--distributed: number of hosts")
    parser.add_argument("--process-id", metavar="I", help="--distributed: this host, 0..N-1")
    parser.add_argument("--point-timeout", metavar="SECONDS", help="kill a point after this")
    parser.add_argument(
        "--no-traffic",
        action="store_true",
        help="skip the bytes-per-update estimate (two extra compiles per point) and so the "
        "bandwidth bound",
    )
    parser.add_argument("--seed", metavar="N", default="0")
    parser.set_defaults(handler=cmd_bench)


def _settings(args: argparse.Namespace) -> Any:
    from jaxstress.bench.sweep import DEFAULTS, QUICK, SweepSettings, default_cache_dir
    from jaxstress.sharding import parse_devices

    base = QUICK if args.quick else DEFAULTS
    values: dict[str, Any] = {}
    for key, flag, parse in (
        ("num_envs", "--num-envs", parse_int_list),
        ("minibatches", "--minibatches", parse_int_list),
        ("num_steps", "--num-steps", parse_int_list),
        ("updates", "--updates", parse_positive),
        ("repeats", "--repeats", parse_positive),
    ):
        text = getattr(args, key)
        values[key] = base[key] if text is None else parse(text, flag)
    if args.env_module is not None and not Path(args.env_module).is_file():
        raise BenchInputError(f"--env-module {args.env_module}: no such file")
    if args.data is not None and not Path(args.data).is_file():
        raise BenchInputError(f"--data {args.data}: no such file")
    config: dict[str, Any] = {}
    if args.config:
        from jaxstress.training import load_config_file

        config = load_config_file(args.config)
        for key in ("num_envs", "num_minibatches", "num_steps", "total_timesteps"):
            config.pop(key, None)
            if isinstance(config.get("ppo"), dict):
                config["ppo"].pop(key, None)
        from jaxstress.training import TrainSettings

        TrainSettings().merged(config)  # validates (ConfigError: one line, exit 2)
    cache = args.cache_dir if args.cache_dir is not None else default_cache_dir()
    seed = args.seed.strip()
    if not seed.isdigit():
        raise BenchInputError(f"--seed takes a non-negative integer, got {args.seed!r}")
    coordinator, num_processes, process_id = _distributed(args)
    timeout = None
    if args.point_timeout is not None:
        try:
            timeout = float(args.point_timeout)
        except ValueError:
            timeout = -1.0
        if not timeout > 0:
            raise BenchInputError(f"--point-timeout takes seconds > 0, got {args.point_timeout!r}")
    return SweepSettings(
        env=args.env,
        env_module=args.env_module,
        data=args.data,
        config=config,
        out=args.out,
        devices=parse_devices(args.devices),
        mem_limit=parse_bytes(args.mem_limit, "--mem-limit")
        if args.mem_limit is not None
        else None,
        point_rlimit=parse_bytes(args.point_rlimit, "--point-rlimit")
        if args.point_rlimit is not None
        else None,
        cache_dir=None if cache.lower() == "none" else cache,
        distributed=args.distributed or coordinator is not None,
        coordinator=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        point_timeout=timeout,
        seed=int(seed),
        traffic=not args.no_traffic,
        **values,
    )


def _distributed(args: argparse.Namespace) -> tuple[str | None, int | None, int | None]:
    """``--coordinator/--num-processes/--process-id``: all three or none."""
    given = (args.coordinator, args.num_processes, args.process_id)
    if all(value is None for value in given):
        return None, None, None
    if any(value is None for value in given):
        raise BenchInputError("--coordinator, --num-processes and --process-id go together")
    if not re.fullmatch(r"\S+:\d+", args.coordinator):
        raise BenchInputError(f"--coordinator takes HOST:PORT, got {args.coordinator!r}")
    count = parse_positive(args.num_processes, "--num-processes")
    pid = args.process_id.strip()
    if not pid.isdigit() or int(pid) >= count:
        raise BenchInputError(
            f"--process-id takes an integer in [0, {count - 1}], got {args.process_id!r}"
        )
    return args.coordinator, count, int(pid)


def _min_util(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise BenchInputError(f"--min-util takes a percentage in [0, 100], got {text!r}")
    return value


def cmd_bench(args: argparse.Namespace) -> int:
    from jaxstress.cli import make_console
    from jaxstress.ppo.config import ConfigError
    from jaxstress.sharding import DeviceError

    try:
        settings = _settings(args)
        min_util = _min_util(args.min_util)
    except (BenchInputError, ConfigError, DeviceError, OSError) as exc:
        return _error("bench", exc)
    from jaxstress.bench.sweep import BenchFailure, BenchUsageError, run_check, run_sweep

    console = make_console()
    command = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "bench" else []
    try:
        if args.check:
            passed, verdict = run_check(settings, min_util, console, command)
            if not passed:
                print(f"jaxstress bench --check: failed: {verdict}", file=sys.stderr)
                return EXIT_FAIL
            console.print(f"[bold green]jaxstress bench --check: {verdict}[/]")
            return EXIT_OK
        result = run_sweep(settings, console, command)
    except BenchUsageError as exc:
        return _error("bench", exc)
    except BenchFailure as exc:
        print(f"jaxstress bench: failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("jaxstress bench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.interrupted:
        print(
            f"jaxstress bench: interrupted; partial profile written to {result.path} (the last "
            "complete profile is unchanged; --profile auto does not use a partial one)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    failed = [p for p in result.profile["points"] if p.get("outcome") == "error"]
    if failed and not any(p.get("outcome") == "ok" for p in result.profile["points"]):
        print(
            f"jaxstress bench: failed: every point failed; first: {failed[0].get('message')}",
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_OK


def add_profile_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="show a hardware profile written by 'jaxstress bench'",
        description="Hardware profiles written by 'jaxstress bench'.",
    )
    actions = parser.add_subparsers(dest="profile_command", metavar="ACTION")
    show = actions.add_parser("show", help="print a profile (default: the last one written)")
    show.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="profile JSON (default: the last profile 'jaxstress bench' wrote, as recorded in "
        "profiles/last-profile.txt, else this device's profile in profiles/)",
    )
    show.add_argument("--dir", help="look for this device's profile in DIR instead")
    show.add_argument("--json", action="store_true", help="print the raw JSON")
    show.set_defaults(handler=cmd_profile_show)
    parser.set_defaults(handler=_profile_usage)


def _profile_usage(args: argparse.Namespace) -> int:
    return _error("profile", "missing action; use 'jaxstress profile show [PATH]'")


def _default_profile(directory: str | None) -> Path:
    """``profile show`` without PATH: the last profile written, else this device's in DIR."""
    from jaxstress.bench.profile import DEFAULT_DIR, LAST_FILE, ProfileError, last_recorded

    last = None if directory else last_recorded()
    if last is not None and last.is_file():
        return last
    import jax

    from jaxstress.bench.profile import find_profile

    kind = jax.devices()[0].device_kind
    found = find_profile(kind, directory or DEFAULT_DIR, jax.device_count())
    if found is not None:
        return found
    gone = f"the last profile written, {last}, no longer exists; " if last is not None else ""
    raise ProfileError(
        f"{gone}no profile for device kind {kind!r} in {directory or DEFAULT_DIR}/ (and none "
        f"recorded in {DEFAULT_DIR}/{LAST_FILE}); pass its path: 'jaxstress profile show "
        "DIR/<device>.json' (where 'jaxstress bench --out DIR' wrote it)"
    )


def cmd_profile_show(args: argparse.Namespace) -> int:
    import json

    from jaxstress.bench.profile import ProfileError, read_profile
    from jaxstress.cli import make_console

    try:
        path = Path(args.path) if args.path else _default_profile(args.dir)
        profile = read_profile(path)
    except ProfileError as exc:
        return _error("profile", exc)
    if args.json:
        print(json.dumps(profile, indent=2))
        return EXIT_OK
    from jaxstress.bench.table import print_profile

    print_profile(profile, make_console(), path)
    return EXIT_OK

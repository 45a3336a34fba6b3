"""The stress sweep on this machine: ``jaxstress bench --quick`` from a cold compilation cache,
and 1 vs 2 vs 4 forced host devices, measured in one run; prints a BENCHMARKS section.

    python benchmarks/stress_sweep.py                        # both parts, markdown on stdout
    python benchmarks/stress_sweep.py --markdown benchmarks/STRESS.md
    python benchmarks/stress_sweep.py --skip-quick           # scaling only
    python benchmarks/stress_sweep.py --skip-scaling         # the quick sweep only

Part 1 runs ``jaxstress bench --quick`` with an empty XLA cache directory (a fresh machine's
compile times) and reports its wall time, every point and the recommendation. Part 2 runs
sweep points (``jaxstress.bench.point``) in processes that all see 4 forced host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=4``): on 1 device, and on 2 and 4 devices
with the PPO update replicated on every device (the code before minibatches were sharded,
``PointSpec.shard_update=False``) and sharded, in interleaved rounds; it compares throughput and
the training results. On CPU the forced "devices" share the same cores, so this measures the
cost of partitioning and what sharding the update saves, not a speed-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
FORCED = "--xla_force_host_platform_device_count=4"


def bench(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    child_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "jaxstress", "bench", *args],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    return time.perf_counter() - start, proc.returncode, proc.stdout


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_sps(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "-"
    half = (stats.get("spread") or 0) / 2
    return f"{stats['median']:,.0f} ±{half:.0%}"


def points_rows(profile: dict[str, Any]) -> list[str]:
    rows = [
        "| num_envs | minibatches | num_steps | outcome | compile s | env steps/s (±half range) "
        "| updates/s | CPU share % | predicted peak | of bandwidth bound |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    rec = profile.get("recommended") or {}
    for p in profile["points"]:
        mark = (
            " **(recommended)**"
            if (p["num_envs"], p["num_minibatches"], p["num_steps"])
            == (rec.get("num_envs"), rec.get("num_minibatches"), rec.get("num_steps"))
            else ""
        )
        util = (p.get("utilisation") or {}).get("mean")
        pred = ((p.get("memory") or {}).get("predicted") or {}).get("peak_bytes")
        bound = (p.get("bandwidth_bound") or {}).get("fraction")
        ups = (p.get("updates_per_sec") or {}).get("median")
        rows.append(
            f"| {p['num_envs']}{mark} | {p['num_minibatches']} | {p['num_steps']} "
            f"| {p['outcome']} | {p.get('compile_s', 0):.1f} | {fmt_sps(p.get('steps_per_sec'))} "
            f"| {'-' if ups is None else f'{ups:.2f}'} | {'-' if util is None else f'{util:.0f}'} "
            f"| {'-' if pred is None else f'{pred / 2**20:.1f} MiB'} "
            f"| {'-' if bound is None else f'{bound:.2f}'} |"
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="where profiles go (default: a temp dir)")
    ap.add_argument("--markdown", type=Path, help="write the section here too")
    ap.add_argument("--skip-quick", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--scaling-envs", default="256,1024")
    ap.add_argument("--scaling-updates", type=int, default=5)
    ap.add_argument("--scaling-rounds", type=int, default=2, help="interleaved rounds (2)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="jaxstress-stress-"))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Stress sweep (`jaxstress bench`)",
        "",
        f"Measured {now} by `python benchmarks/stress_sweep.py` on {cpu_model()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average at start "
        f"{load()} (the machine is shared: absolute numbers are noisy). "
        "No GPU was available in this session: every number below is CPU; the GPU path "
        "(NVML monitor, device memory stats) is covered by tests with a pynvml stand-in only.",
        "",
    ]

    if not args.skip_quick:
        cache = tempfile.mkdtemp(prefix="jaxstress-xla-")  # cold cache: a fresh machine
        cmd = ["--quick", "--out", str(out / "quick"), "--cache-dir", cache]
        wall, code, _ = bench(cmd)
        profile = json.loads((out / "quick" / "cpu.json").read_text()) if code == 0 else None
        lines += [
            "### `jaxstress bench --quick` (cold compilation cache)",
            "",
            "```",
            "jaxstress bench --quick     # = --env phase1 --num-envs 16,64,256 --minibatches 2,4 "
            "--num-steps 32 --updates 5 --repeats 3",
            "```",
            "",
            f"Wall time {wall:.0f} s from a cold XLA cache (exit {code}); load average after: "
            f"{load()}.",
            "",
        ]
        if profile is not None:
            bw = profile["bandwidth"]["bytes_per_s"]
            rec = profile["recommended"]
            lines += [
                f"Copy bandwidth {bw / 1e9:.2f} GB/s; memory limit: "
                f"{profile['memory_limit_source']}; jax {profile['versions']['jax']}.",
                "",
                *points_rows(profile),
                "",
                f"Recommendation: `num_envs={rec['num_envs']} num_minibatches="
                f"{rec['num_minibatches']} num_steps={rec['num_steps']}` "
                f"({rec['steps_per_sec']:,.0f} env steps/s).",
                "",
                f"Per point (median): {_phase_summary(profile)}.",
                "",
            ]

    if not args.skip_scaling:
        lines += scaling_section(args, out)
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    print(f"profiles under {out}", file=sys.stderr)
    return 0


VARIANTS = ((1, True), (2, False), (2, True), (4, False), (4, True))


def _label(devices: int, sharded: bool) -> str:
    if devices == 1:
        return "1 device"
    return f"{devices} devices, " + ("update sharded" if sharded else "update replicated")


def scaling_section(args: argparse.Namespace, out: Path) -> list[str]:
    """1 vs 2 vs 4 forced host devices, PPO update replicated (before) vs sharded (after).

    Every variant is one point process per round; rounds are interleaved (rotating order) and
    share one compilation cache, so later rounds load their programs instead of compiling.
    """
    import statistics

    sys.path.insert(0, str(REPO))
    from jaxstress.bench.point import PointSpec, run_in_subprocess

    cache = tempfile.mkdtemp(prefix="jaxstress-xla-scaling-")
    envs = [int(n) for n in args.scaling_envs.split(",")]
    forced = {"XLA_FLAGS": FORCED, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)}
    sps: dict[tuple[int, int, bool], list[float]] = {}
    digests: dict[tuple[int, int, bool], dict[str, Any]] = {}
    failures: list[str] = []
    load_start, started = load(), time.perf_counter()
    todo = [(n, d, sh) for n in envs for d, sh in VARIANTS]
    for r in range(args.scaling_rounds):
        shift = (r * len(VARIANTS)) % len(todo)
        for key in todo[shift:] + todo[:shift]:
            n, devices, sharded = key
            spec = PointSpec(env="phase1", num_envs=n, num_minibatches=4, num_steps=32,
                             updates=args.scaling_updates, repeats=3, devices=devices,
                             traffic=False, cache_dir=cache, shard_update=sharded)  # fmt: skip
            result = run_in_subprocess(spec, env=forced)
            if result.get("outcome") != "ok":
                failures.append(f"{_label(devices, sharded)}, {n} envs: {result.get('message')}")
                continue
            sps.setdefault(key, []).append(result["steps_per_sec"]["median"])
            digests[key] = result["digest"]
    wall = time.perf_counter() - started
    lines = [
        "### 1 vs 2 vs 4 forced host devices, PPO update replicated vs sharded (one run)",
        "",
        "```",
        f"python benchmarks/stress_sweep.py --skip-quick --scaling-envs {args.scaling_envs} "
        f"--scaling-rounds {args.scaling_rounds}",
        "```",
        "",
        f"Each cell: median over {args.scaling_rounds} interleaved rounds of the point's median "
        f"env steps/s (phase1, num_minibatches 4, num_steps 32, {args.scaling_updates} updates x "
        "3 repeats, compile excluded), every process started with "
        f"`XLA_FLAGS={FORCED}` so all variants see the same 4-device host. Load average at "
        f"start {load_start}, at end {load()}; wall time {wall:.0f} s.",
        "",
        "| num_envs | variant | env steps/s | vs 1 device | same training results as 1 device |",
        "|---:|---|---:|---:|---|",
    ]
    for n in envs:
        base_runs = sps.get((n, 1, True))
        base = statistics.median(base_runs) if base_runs else None
        for devices, sharded in VARIANTS:
            key = (n, devices, sharded)
            if key not in sps:
                lines.append(f"| {n} | {_label(devices, sharded)} | failed | - | - |")
                continue
            value = statistics.median(sps[key])
            ratio = f"{value / base:.2f}x" if base else "-"
            same = "-"
            if devices > 1 and (n, 1, True) in digests:
                a, b = digests[(n, 1, True)], digests[key]
                ok = all(
                    abs(x - y) <= 1e-4 * max(1.0, abs(x))
                    for k in ("mean_reward", "total_loss", "entropy")
                    for x, y in zip(a[k], b[k], strict=True)
                )
                same = "yes (rel 1e-4)" if ok else "NO"
            lines.append(f"| {n} | {_label(devices, sharded)} | {value:,.0f} | {ratio} | {same} |")
    lines.append("")
    for n in envs:
        for devices in (2, 4):
            rep, sh = sps.get((n, devices, False)), sps.get((n, devices, True))
            if rep and sh:
                lines.append(
                    f"- {n} envs, {devices} devices: sharded / replicated update = "
                    f"**{statistics.median(sh) / statistics.median(rep):.2f}x**"
                )
    lines += [f"- failed: {f}" for f in failures]
    lines.append("")
    return lines


def _phase_summary(profile: dict[str, Any]) -> str:
    import statistics

    phases: dict[str, list[float]] = {}
    for p in profile["points"]:
        for name, value in (p.get("phases_s") or {}).items():
            phases.setdefault(name, []).append(value)
    wall = [p["wall_s"] for p in profile["points"] if "wall_s" in p]
    parts = [f"{k} {statistics.median(v):.1f} s" for k, v in phases.items()]
    if wall:
        parts.append(f"point total after interpreter start {statistics.median(wall):.1f} s")
    parts.append(f"sweep {profile.get('sweep_wall_s', 0):.0f} s")
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())

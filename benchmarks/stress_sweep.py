"""The stress sweep on this machine: ``jaxstress bench --quick`` from a cold compilation cache,
and the 1 vs 4 forced-host-device scaling, measured in one run; prints a BENCHMARKS section.

    python benchmarks/stress_sweep.py                        # both parts, markdown on stdout
    python benchmarks/stress_sweep.py --markdown benchmarks/STRESS.md
    python benchmarks/stress_sweep.py --skip-quick           # scaling only

Part 1 runs ``jaxstress bench --quick`` with an empty XLA cache directory (a fresh machine's
compile times) and reports its wall time, every point and the recommendation. Part 2 runs the
same small grid twice in processes that see 4 forced host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=4``), once on ``--devices 1`` and once
sharded over ``--devices 4``, and compares throughput and the training results. On CPU the four
"devices" share the same cores, so this measures the cost of sharding, not a speed-up.
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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
    ap.add_argument("--scaling-envs", default="256,1024")
    ap.add_argument("--scaling-updates", default="5")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="jaxstress-stress-"))
    today = dt.date.today().isoformat()
    lines = [
        "## Stress sweep (`jaxstress bench`)",
        "",
        f"Measured {today} by `python benchmarks/stress_sweep.py` on {cpu_model()}, "
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

    grid = ["--env", "phase1", "--num-envs", args.scaling_envs, "--minibatches", "4",
            "--num-steps", "32", "--updates", args.scaling_updates, "--repeats", "3",
            "--no-traffic"]  # fmt: skip
    scaling: dict[int, dict[str, Any]] = {}
    walls = {}
    for devices in (1, 4):
        target = out / f"scaling-{devices}"
        cmd = [*grid, "--devices", str(devices), "--out", str(target)]
        walls[devices], code, _ = bench(cmd, env={"XLA_FLAGS": FORCED})
        if code != 0:
            print(f"scaling run on {devices} device(s) failed (exit {code})", file=sys.stderr)
            return 1
        name = "cpu.json" if devices == 1 else f"cpu-x{devices}.json"
        scaling[devices] = json.loads((target / name).read_text())
    lines += [
        "### 1 vs 4 forced host devices (one run)",
        "",
        "```",
        f"XLA_FLAGS={FORCED} jaxstress bench {' '.join(grid)} --devices 1|4",
        "```",
        "",
        "| num_envs | env steps/s, 1 device | env steps/s, 4 devices (sharded) | ratio "
        "| same training results |",
        "|---:|---:|---:|---:|---|",
    ]
    one = {p["num_envs"]: p for p in scaling[1]["points"]}
    four = {p["num_envs"]: p for p in scaling[4]["points"]}
    for n in sorted(one):
        a, b = one[n], four.get(n, {})
        if a.get("outcome") != "ok" or b.get("outcome") != "ok":
            lines.append(f"| {n} | {a.get('outcome')} | {b.get('outcome')} | - | - |")
            continue
        ratio = b["steps_per_sec"]["median"] / a["steps_per_sec"]["median"]
        same = all(
            abs(x - y) <= 1e-4 * max(1.0, abs(x))
            for key in ("mean_reward", "total_loss", "entropy")
            for x, y in zip(a["digest"][key], b["digest"][key], strict=True)
        )
        lines.append(
            f"| {n} | {fmt_sps(a['steps_per_sec'])} | {fmt_sps(b['steps_per_sec'])} "
            f"| {ratio:.2f}x | {'yes (rel 1e-4)' if same else 'NO'} |"
        )
    lines += [
        "",
        "The 4 forced devices are one CPU's cores split four ways (same memory bus), so the "
        "ratio is no speed-up measurement: it is the cost of partitioning on shared cores, plus "
        "the PPO update phase, which the compiled program runs replicated (see below). On a "
        "multi-GPU host the same code path shards the env batch over real devices. Wall times: "
        f"{walls[1]:.0f} s (1 device), {walls[4]:.0f} s (4 devices).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    print(f"profiles under {out}", file=sys.stderr)
    return 0


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

"""The profile's PNG: env steps/s and utilisation against num_envs, one line per setting."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from typing import Any


def plot_profile(profile: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Two panels (throughput with its min-max range, utilisation) against num_envs.

    One line per (num_minibatches, num_steps) setting; OOM points are marked with an x at the
    bottom of the throughput panel. A bare ``Figure`` (Agg canvas): no display, no pyplot state.
    """
    from matplotlib.figure import Figure

    lines: dict[tuple[int, int], list[Mapping[str, Any]]] = defaultdict(list)
    for point in profile.get("points", []):
        lines[(point["num_minibatches"], point["num_steps"])].append(point)
    fig = Figure(figsize=(9, 7))
    ax_sps, ax_util = fig.subplots(2, 1, sharex=True)
    steps_vary = len({k[1] for k in lines}) > 1
    for (mb, steps), points in sorted(lines.items()):
        label = f"minibatches={mb}" + (f", num_steps={steps}" if steps_vary else "")
        ok = sorted((p for p in points if p.get("outcome") == "ok"), key=lambda p: p["num_envs"])
        xs = [p["num_envs"] for p in ok]
        med = [p["steps_per_sec"]["median"] for p in ok]
        lo = [p["steps_per_sec"]["min"] for p in ok]
        hi = [p["steps_per_sec"]["max"] for p in ok]
        (line,) = ax_sps.plot(xs, med, marker="o", label=label)
        if xs:
            ax_sps.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
        util = [(p["num_envs"], (p.get("utilisation") or {}).get("mean")) for p in ok]
        util = [(x, u) for x, u in util if u is not None]
        ax_util.plot([x for x, _ in util], [u for _, u in util], marker="o", color=line.get_color())
        ooms = [p["num_envs"] for p in points if p.get("outcome") == "oom"]
        if ooms:
            ax_sps.plot(ooms, [0] * len(ooms), "x", color=line.get_color(), markersize=10)
    rec = profile.get("recommended")
    if rec:
        ax_sps.plot(
            [rec["num_envs"]],
            [rec["steps_per_sec"]],
            "*",
            color="black",
            markersize=16,
            label="recommended",
        )
    ax_sps.set_xscale("log", base=2)
    sizes = sorted({p["num_envs"] for p in profile.get("points", [])})
    if sizes:
        ax_sps.set_xticks(sizes, [str(n) for n in sizes])
        ax_sps.minorticks_off()
    ax_sps.set_ylabel("env steps / s (median, min-max band)")
    ax_sps.grid(alpha=0.3)
    ax_sps.legend(fontsize="small")
    kind = "GPU busy %" if profile.get("monitor") == "nvml" else "process CPU share %"
    ax_util.set_ylabel(f"utilisation ({kind})")
    ax_util.set_xlabel("num_envs")
    ax_util.set_ylim(0, 105)
    ax_util.grid(alpha=0.3)
    fig.suptitle(
        f"jaxstress bench: {profile.get('env')} on {profile.get('device_kind')} "
        f"x{profile.get('device_count', 1)}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)

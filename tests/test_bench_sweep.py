"""``jaxstress bench`` for real: OOM (predicted and real), Ctrl-C, 4 devices vs 1, the env check
on the broken migration example, and ``--quick --check`` end to end.

Every sweep here runs real PPO in point subprocesses on CPU. The configs are tiny and share one
persistent XLA cache (module scope) so repeated shapes load instead of compiling.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_ENV = REPO / "examples" / "jax_migration" / "env_phase1_jax.py"
SMALL = "update_epochs = 1\nhidden_sizes = [16]\ndummy_episode_length = 8\n"
# dummy env, 16-step rollouts, 2 updates, 1 repeat: a point is mostly process start + compile
TINY = ("--env", "dummy", "--config", "small.toml", "--num-steps", "16", "--updates", "2",
        "--repeats", "1", "--minibatches", "2", "--no-traffic")  # fmt: skip

BIG = 2**20

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    pythonpath = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": pythonpath, "JAX_PLATFORMS": "cpu"}
    # cache every program (init, env check), not only those that take over a second
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env.pop("XLA_FLAGS", None)
    return env


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench")
    (path / "small.toml").write_text(SMALL)
    return path


def bench(work: Path, *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaxstress", "bench", *args, "--cache-dir", str(work / "xla")],
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def by_envs(profile: dict) -> dict[int, dict]:
    return {p["num_envs"]: p for p in profile["points"]}


def test_real_oom_is_recorded_and_larger_envs_on_the_axis_are_skipped(work: Path) -> None:
    # After compiling, each point may add only 16 MiB of address space (RLIMIT_AS): 8 envs fit,
    # 2**20 envs need GBs of rollout buffers, so XLA's allocation really fails.
    proc = bench(work, *TINY, "--num-envs", f"8,{BIG},{2 * BIG}", "--point-rlimit", "16Mi",
                 "--out", "oom")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    profile = json.loads((work / "oom" / "cpu.json").read_text())
    points = by_envs(profile)
    assert points[8]["outcome"] == "ok" and points[8]["recompiles"] == 0
    assert points[BIG]["outcome"] == "oom"
    assert "RESOURCE_EXHAUSTED" in points[BIG]["message"]
    assert points[2 * BIG]["outcome"] == "skipped"
    assert "known OOM" in points[2 * BIG]["reason"]
    assert profile["recommended"]["num_envs"] == 8  # the complete grid: the only fit wins
    assert not (work / "oom" / "cpu.partial.json").exists()
    assert "oom" in proc.stdout and "recommended: num_envs=8" in proc.stdout
    # redirected output: one line per point as it finishes, the table and the line once,
    # long lines whole (not wrapped at 80 columns)
    out = proc.stdout
    assert "point 1/3: num_envs=8 mb=2 T=16 ok" in out and "point 2/3: " in out
    assert out.count("compile s") == 1 and out.count("recommended:") == 1, out
    assert "run-to-run noise not measured (1 repeat" in out
    whole = (
        "note: peak memory on CPU is the point process's peak RSS (no device memory stats): it "
        "includes the Python/JAX runtime and the compiler, so it exceeds the prediction"
    )
    assert whole in out


def test_points_predicted_over_the_memory_limit_are_skipped_without_running(work: Path) -> None:
    # Same shapes as above (compile-cache hits); 2**20 envs are predicted at GBs > 4 MB.
    proc = bench(work, *TINY, "--num-envs", f"8,{BIG},{2 * BIG}", "--mem-limit", "4M",
                 "--out", "pred")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    profile = json.loads((work / "pred" / "cpu.json").read_text())
    points = by_envs(profile)
    assert profile["memory_limit_source"] == "--mem-limit"
    small, big = points[8], points[BIG]
    assert small["outcome"] == "ok"
    assert small["memory"]["predicted"]["peak_bytes"] < 4_000_000
    assert big["outcome"] == "skipped" and "predicted peak" in big["reason"]
    assert big["memory"]["predicted"]["peak_bytes"] > 4_000_000
    assert "run_s" not in big and "steps_per_sec" not in big  # never ran
    assert points[2 * BIG]["outcome"] == "skipped" and "known OOM" in points[2 * BIG]["reason"]
    # predicted vs measured, side by side in the profile
    assert (
        small["memory"]["measured"]["bytes"] > 0 and "RSS" in small["memory"]["measured"]["source"]
    )


def test_ctrl_c_keeps_the_partial_profile_beside_the_complete_one(work: Path) -> None:
    """A real SIGINT to a real sweep: the last complete profile stays, the partial one is kept
    beside it, ``--profile auto`` ignores it with a warning and ``profile show`` finds it."""
    from jaxstress.bench.profile import last_recorded
    from jaxstress.ppo.config import ConfigError
    from jaxstress.training import profile_recommendation

    out = work / "sigint"
    out.mkdir()
    complete = {"device_kind": "cpu", "device_count": 1, "complete": True, "points": [],
                "recommended": {"num_envs": 4096, "num_minibatches": 4, "num_steps": 128}}  # fmt: skip
    (out / "cpu.json").write_text(json.dumps(complete))
    before = (out / "cpu.json").read_bytes()
    cmd = [sys.executable, "-m", "jaxstress", "bench", *TINY, "--num-envs", "8,16,32",
           "--cache-dir", str(work / "xla"), "--out", str(out)]  # fmt: skip
    log = (work / "sigint.log").open("w")
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=_env(),
        stdout=log,
        stderr=subprocess.PIPE,
        text=True,
        # a shell may start background jobs with SIGINT ignored; Ctrl-C needs its default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    partial = out / "cpu.partial.json"
    deadline = time.monotonic() + 300
    while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert partial.exists(), "the first point never finished"
    # the redirected log shows the finished point before the sweep ends (flushed as it goes)
    assert "point 1/3: num_envs=8" in (work / "sigint.log").read_text()
    proc.send_signal(signal.SIGINT)  # the second point is running now
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; partial profile written to" in err and "cpu.partial.json" in err
    assert (out / "cpu.json").read_bytes() == before  # never replaced by an incomplete sweep
    profile = json.loads(partial.read_text())
    assert profile["interrupted"] is True and profile["complete"] is False
    assert profile["points"][0]["num_envs"] == 8 and profile["points"][0]["outcome"] == "ok"
    assert len(profile["points"]) < 3
    assert profile["recommended"] is None  # one point: not enough to recommend anything
    text = (work / "sigint.log").read_text()
    assert "recommended:" not in text and "no recommendation: the sweep stopped after" in text
    assert (out / "cpu.partial.png").exists() and not (out / "cpu.png").exists()

    chosen, note = profile_recommendation("auto", "cpu", out)
    assert chosen == complete["recommended"]
    assert len(note.splitlines()) == 1 and "warning: ignored the interrupted sweep" in note
    with pytest.raises(ConfigError, match="interrupted sweep with too few points"):
        profile_recommendation(str(partial), "cpu", out)
    assert last_recorded(work / "profiles") == partial.resolve()
    show = subprocess.run([sys.executable, "-m", "jaxstress", "profile", "show"], cwd=work,
                          env=_env(), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert show.returncode == 0, show.stderr
    assert f"profile {partial.resolve()}" in show.stdout and "interrupted" in show.stdout


def test_four_forced_cpu_devices_give_the_one_device_results(work: Path) -> None:
    from jaxstress.bench.point import PointSpec, run_in_subprocess

    forced = {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    }
    config = {"update_epochs": 1, "hidden_sizes": [16], "dummy_episode_length": 8}
    results = {}
    for devices in (1, 4):
        spec = PointSpec(env="dummy", config=config, num_envs=8, num_minibatches=2,
                         num_steps=16, updates=2, repeats=1, devices=devices, traffic=False,
                         cache_dir=str(work / "xla"))  # fmt: skip
        results[devices] = run_in_subprocess(spec, env=forced)
    one, four = results[1], results[4]
    assert one["outcome"] == "ok" and four["outcome"] == "ok", (one, four)
    assert one["devices"] == 1 and four["devices"] == 4
    assert (
        four["env_batch_sharding"]["devices"] == 4 and "data" in four["env_batch_sharding"]["spec"]
    )
    assert one["env_batch_sharding"]["devices"] == 1
    # Rollout and learning phase are split: each of 4 devices does about a quarter of the work
    # (0.30 measured; with the learning phase replicated it was 0.93).
    assert four["flops_per_device"] < 0.4 * one["flops_per_device"]
    for key in ("mean_reward", "total_loss", "entropy"):
        assert four["digest"][key] == pytest.approx(one["digest"][key], rel=1e-4, abs=1e-6), key
    assert four["digest"]["param_sq_sum"] == pytest.approx(one["digest"]["param_sq_sum"], rel=1e-5)


def test_distributed_sweep_over_two_local_processes(work: Path) -> None:
    """``--distributed`` for real: two hosts simulated by two processes on this machine.

    Every point process of both sweeps calls ``jax.distributed.initialize`` against process
    0's coordinator; the mesh spans both processes' CPU devices (collectives over gloo) and
    only process 0 writes the profile.
    """
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        port = sock.getsockname()[1]
    common = [sys.executable, "-m", "jaxstress", "bench", *TINY, "--num-envs", "8",
              "--cache-dir", str(work / "xla"), "--coordinator", f"localhost:{port}",
              "--num-processes", "2"]  # fmt: skip
    procs = [
        subprocess.Popen(
            [*common, "--process-id", str(i), "--out", f"dist{i}"],
            cwd=work,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (0, 1)
    ]
    try:
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    profile = json.loads((work / "dist0" / "cpu-x2.json").read_text())
    assert profile["process_count"] == 2 and profile["device_count"] == 2
    (point,) = profile["points"]
    assert point["outcome"] == "ok" and point["recompiles"] == 0, point
    assert point["devices"] == 2 and point["env_batch_sharding"]["devices"] == 2
    assert not list((work / "dist1").glob("*.json"))  # only process 0 writes


def test_devices_beyond_the_host_are_a_usage_error(work: Path) -> None:
    proc = bench(work, *TINY, "--num-envs", "8", "--devices", "64", "--out", "dev")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "--devices 64: this host has 1 cpu device(s)" in proc.stderr


def test_check_fails_on_the_broken_migration_env_naming_the_tracer_error(work: Path) -> None:
    hazards = json.loads((EXAMPLE_ENV.parent / "hazards.json").read_text())
    in_env = [h for h in hazards if h["file"] == EXAMPLE_ENV.name]
    proc = bench(work, "--check", "--quick", "--env-module", str(EXAMPLE_ENV), "--out", "broken")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("jaxstress bench --check: failed: sweep 1/3: env check failed: ")
    assert "tracer error" in line
    # the class and place JAX reports, as measured in hazards.json
    assert any(f"{h['jax_error']} at {h['file']}:{h['line']}" in line for h in in_env), line
    failed = json.loads((work / "broken" / "cpu.json.failed").read_text())
    assert failed["env_check"]["ok"] is False and failed["env_check"]["tracer_error"] is True
    assert failed["points"] == [] and failed["recommended"] is None


def test_quick_check_end_to_end(work: Path) -> None:
    """``--quick`` defaults (phase1, 32 steps, 5 updates, 3 repeats) on one point, 3 sweeps.

    The full quick grid (6 points) is what ``benchmarks/stress_sweep.py`` runs and times.
    """
    proc = bench(work, "--quick", "--check", "--num-envs", "64", "--minibatches", "2",
                 "--out", "quick", timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "jaxstress bench --check: passed: 3 sweeps complete" in proc.stdout
    assert "utilisation not evaluated on CPU" in proc.stdout
    assert proc.stdout.count("recommended: num_envs=64 num_minibatches=2 num_steps=32") == 3
    profile = json.loads((work / "quick" / "cpu.json").read_text())
    assert (work / "quick" / "cpu.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert profile["device_kind"] == "cpu" and profile["device_count"] == 1
    assert profile["env"] == "phase1"
    assert profile["versions"]["jax"] and profile["versions"]["jaxlib"]
    assert profile["env_check"]["ok"] and profile["complete"] and not profile["interrupted"]
    assert profile["bandwidth"]["bytes_per_s"] > 0
    assert profile["settings"]["updates"] == 5 and profile["settings"]["repeats"] == 3
    assert profile["monitor"] == "cpu"
    (p,) = profile["points"]
    assert p["outcome"] == "ok" and p["num_steps"] == 32 and p["recompiles"] == 0
    assert p["compile_s"] > 0 and len(p["run_s"]["values"]) == 3
    sps = p["steps_per_sec"]
    assert sps["min"] <= sps["median"] <= sps["max"]
    assert p["updates_per_sec"]["median"] == pytest.approx(sps["median"] / (64 * 32))
    assert 0 < p["utilisation"]["mean"] <= 100 + 15
    assert p["memory"]["predicted"]["peak_bytes"] > 0
    assert p["bandwidth_bound"]["steps_per_sec"] > 0 and p["traffic"]["bytes_per_update"] > 0
    assert profile["recommended"]["steps_per_sec"] == sps["median"]

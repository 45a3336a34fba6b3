"""``jaxstress train``: outputs, resume, hardware profiles and one-line errors on bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxstress.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
SMALL_CONFIG = """\
env = "dummy"
num_envs = 8
num_steps = 16
num_minibatches = 2
update_epochs = 1
hidden_sizes = [16]
chunk_updates = 3
dummy_episode_length = 8
anneal_lr = false  # the resumed run then compiles the same program: a compile-cache hit
"""


def jaxstress(
    *args: str, cwd: Path, cache: Path | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = _env(extra_env)
    if cache is not None:  # a persistent XLA cache shared by the runs of one test
        env["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "jaxstress", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _env(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    pythonpath = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": pythonpath, "JAX_PLATFORMS": "cpu", **(extra_env or {})}


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    work = tmp_path_factory.mktemp("train")
    (work / "small.toml").write_text(SMALL_CONFIG)
    # 512 steps = 4 updates of 8 envs x 16 steps, in chunks of 3 + 1 (one compilation).
    proc = jaxstress(
        "train",
        "--config",
        "small.toml",
        "--total-steps",
        "512",
        "--out",
        "run",
        cwd=work,
        cache=work / "xla-cache",
    )
    if proc.returncode == 0:  # as this run left them (test_resume_... continues the run)
        for name in ("summary.json", "metrics.jsonl"):
            (work / f"first-{name}").write_bytes((work / "run" / name).read_bytes())
    return work, proc


@pytest.mark.slow
def test_train_writes_metrics_curve_and_checkpoint(first_run) -> None:
    work, proc = first_run
    assert proc.returncode == 0, proc.stderr
    run = work / "run"
    lines = records(run)
    assert [r["update"] for r in lines] == [1, 2, 3, 4]
    assert [r["env_steps"] for r in lines] == [128, 256, 384, 512]
    for key in ("mean_episode_return", "policy_loss", "value_loss", "entropy", "steps_per_sec"):
        assert all(isinstance(r[key], float) for r in lines), key
    assert (run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "checkpoint.msgpack").stat().st_size > 0
    saved = json.loads((run / "run.json").read_text())
    assert saved["env"] == "dummy" and saved["ppo"]["num_envs"] == 8
    summary = json.loads((run / "summary.json").read_text())
    assert summary["updates"] == 4 and summary["compile_s"] > 0


@pytest.mark.slow
def test_resume_continues_the_step_count(first_run) -> None:
    work, first = first_run
    assert first.returncode == 0, first.stderr
    proc = jaxstress(
        "train", "--resume", "run", "--total-steps", "1024", cwd=work, cache=work / "xla-cache"
    )
    assert proc.returncode == 0, proc.stderr
    lines = records(work / "run")
    assert [r["update"] for r in lines] == list(range(1, 9))
    assert lines[-1]["env_steps"] == 1024
    assert json.loads((work / "run" / "run.json").read_text())["ppo"]["total_timesteps"] == 1024
    # Training into an existing run without --resume is refused rather than mixed up.
    again = jaxstress("train", "--config", "small.toml", "--out", "run", cwd=work)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "--resume" in again.stderr


def structure(lines: list[str]) -> list[str]:
    """A log's line structure: values blanked, repeated lines (the per-chunk ones) once."""
    out: list[str] = []
    for line in lines:
        line = re.sub(r"=\S+", "=", line.strip())  # key=value: the key stays
        line = re.sub(r"[-+]?\d[\d,.]*\w*", "#", line)  # numbers, with units (8.5s)
        if line and line != "..." and (not out or out[-1] != line):
            out.append(line)
    return out


def readme_sample() -> list[str]:
    text = (REPO / "README.md").read_text()
    after = text.split("<!-- sample: jaxstress train", 1)[1]
    return after.split("```console\n", 1)[1].split("```", 1)[0].splitlines()


@pytest.mark.slow
def test_readme_sample_output_matches_what_train_prints(first_run) -> None:
    """The README's sample is what the command prints today, line for line (values aside)."""
    _, proc = first_run
    assert proc.returncode == 0, proc.stderr
    assert structure(readme_sample()) == structure(proc.stdout.splitlines())
    first_line = (REPO / "README.md").read_text().split("```bash\n", 1)[1].splitlines()[0]
    assert "jaxstress train --total-steps 1048576 --out runs/demo" in first_line
    assert "updates=128 (1,048,576 env steps)" in readme_sample()[0]


@pytest.mark.slow
def test_steps_per_sec_and_baselines_agree_everywhere(first_run) -> None:
    """One steps/s: the last console line, the last metrics record and summary.json."""
    work, proc = first_run
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((work / "first-summary.json").read_text())
    lines = proc.stdout.splitlines()
    done = next(line for line in lines if line.startswith("done: "))
    assert f"{summary['steps_per_sec']:,.0f} steps/s (env steps per second of run time" in done
    last = json.loads((work / "first-metrics.jsonl").read_text().splitlines()[-1])
    assert last["steps_per_sec"] == summary["steps_per_sec"]
    last_chunk = [line for line in lines if line.startswith("update ")][-1]
    assert last_chunk.endswith(f"{summary['steps_per_sec']:,.0f} steps/s")
    assert "compile time excluded" in summary["steps_per_sec_definition"]
    # the baselines are computed: episodes really ran for each policy
    baselines = summary["eval"]
    assert all(baselines["episodes"][name] > 0 for name in ("trained", "random", "flat"))
    shown = next(line for line in lines if line.startswith("mean episode return: "))
    assert f"random policy {baselines['random']:+.3f}" in shown
    assert f"flat (always hold) {baselines['flat']:+.3f}" in shown


@pytest.mark.slow
def test_ctrl_c_still_writes_the_curve_and_summary(tmp_path: Path) -> None:
    """A real SIGINT to a real train: exit 130, the finished chunks are plotted and summed up."""
    (tmp_path / "small.toml").write_text(SMALL_CONFIG)
    log = (tmp_path / "log.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jaxstress", "train", "--config", "small.toml",
         "--total-steps", "100000000", "--out", "run"],
        cwd=tmp_path, env=_env(), stdout=log, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    metrics = tmp_path / "run" / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if metrics.exists() and metrics.stat().st_size > 0:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1]
    # redirected, the log already shows the chunks so far (flushed as it goes)
    assert "update 3/" in (tmp_path / "log.txt").read_text()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "summary.json" in err
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["eval"] is None
    assert summary["updates"] >= 3 and summary["updates"] % 3 == 0  # whole chunks only
    assert (run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert records(run)[-1]["update"] >= summary["updates"]


@pytest.mark.slow
def test_four_forced_devices_train_like_one_device(tmp_path: Path) -> None:
    """``train`` splits the env batch over every device (as the bench measures) without
    changing the result beyond float summation order; num_envs must split evenly."""
    import jax
    from flax import serialization

    (tmp_path / "small.toml").write_text(SMALL_CONFIG)
    forced = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    procs, runs = {}, {}
    for devices in ("1", "all"):  # 256 steps: 2 updates of 8 envs x 16 steps, one chunk
        procs[devices] = proc = jaxstress(
            "train", "--config", "small.toml", "--total-steps", "256", "--devices", devices,
            "--out", f"run-{devices}", cwd=tmp_path, extra_env=forced,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        runs[devices] = tmp_path / f"run-{devices}"
    assert "devices=1 " in procs["1"].stdout and "devices=4 " in procs["all"].stdout
    summaries = {d: json.loads((run / "summary.json").read_text()) for d, run in runs.items()}
    assert summaries["1"]["device_count"] == 1 and summaries["all"]["device_count"] == 4

    one, four = records(runs["1"]), records(runs["all"])
    assert [r["update"] for r in four] == [r["update"] for r in one] == [1, 2]
    for a, b in zip(one, four, strict=True):
        for key in ("mean_episode_return", "total_loss", "policy_loss", "value_loss", "entropy"):
            assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6), key

    def param_sq_sum(run: Path) -> float:
        state = serialization.msgpack_restore((run / "checkpoint.msgpack").read_bytes())
        return sum(
            float((leaf.astype("float64") ** 2).sum()) for leaf in jax.tree.leaves(state["params"])
        )

    assert param_sq_sum(runs["all"]) == pytest.approx(param_sq_sum(runs["1"]), rel=1e-5)

    uneven = jaxstress("train", "--config", "small.toml", "--devices", "3", "--out", "odd",
                       cwd=tmp_path, extra_env=forced)  # fmt: skip
    assert uneven.returncode == 2 and uneven.stderr.count("\n") == 1, uneven.stderr
    assert "num_envs=8 not divisible by 3 devices" in uneven.stderr


def test_bad_data_path_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = jaxstress("train", "--data", "missing.csv", "--out", "run", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "missing.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ("num_env = 4\n", ".toml", "unknown config key 'num_env'"),
        ("num_envs = 'many'\n", ".toml", "num_envs must be int"),
        ("num_envs = [\n", ".toml", "invalid config file"),
        ('{"num_envs": 3, "num_minibatches": 2, "num_steps": 1}', ".json", "divisible"),
        ('{"env": "atari"}', ".json", "env must be one of"),
        ('{"env_params": {"fee": "x"}}', ".json", "env_params.fee must be float"),
        ('{"env_params": {"max_steps": 0}}', ".json", "max_steps must be >= 1"),
    ],
)
def test_bad_config_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, suffix: str, expected: str
) -> None:
    config = tmp_path / f"cfg{suffix}"
    config.write_text(content)
    code = main(["train", "--config", str(config), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and expected in err, err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--config", "missing.toml"], "cannot read config file"),
        (["--profile", "missing.json"], "cannot read profile"),
        (["--resume", "."], "not a jaxstress run directory"),
        (["--resume", ".", "--env", "dummy"], "cannot be combined with --resume"),
        (["--devices", "x"], "--devices takes 'all' or a positive integer"),
        (["--devices", "1000"], "--devices 1000: this host has"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args,
    expected,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


def test_no_subcommand_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "train" in capsys.readouterr().err


def resolve(*argv: str):
    from jaxstress.cli import _train_settings

    return _train_settings(build_parser().parse_args(["train", *argv]))


def test_settings_precedence_config_then_profile_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"num_envs": 8, "num_steps": 16, "seed": 1, "env": "dummy"}))
    profile = tmp_path / "gpu.json"
    profile.write_text(json.dumps({"device_kind": "x", "recommended": {"num_envs": 32}}))
    settings, out, resume = resolve(
        "--config", str(config), "--profile", str(profile), "--seed", "7", "--out", "o"
    )
    assert (settings.ppo.num_envs, settings.ppo.num_steps, settings.ppo.seed) == (32, 16, 7)
    assert settings.env == "dummy" and out == Path("o") and resume is None


def test_profile_auto_matches_the_device_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import jax

    monkeypatch.chdir(tmp_path)
    settings, out, _ = resolve("--profile", "auto")
    assert "no hardware profile" in capsys.readouterr().err
    assert settings.ppo.num_envs == 64 and out.parent == Path("runs")

    (tmp_path / "profiles").mkdir()
    kind = jax.devices()[0].device_kind
    recommended = {"num_envs": 128, "num_minibatches": 8, "num_steps": 64}
    (tmp_path / "profiles" / "other.json").write_text(
        json.dumps({"device_kind": "not-this-one", "recommended": {"num_envs": 4}})
    )
    (tmp_path / "profiles" / "here.json").write_text(
        json.dumps({"device_kind": kind, "recommended": recommended})
    )
    settings, _, _ = resolve("--profile", "auto")
    assert "here.json" in capsys.readouterr().err
    ppo = settings.ppo
    assert (ppo.num_envs, ppo.num_minibatches, ppo.num_steps) == (128, 8, 64)


def test_profile_auto_matches_the_device_count_and_says_when_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import jax

    from jaxstress.training import profile_recommendation

    kind = jax.devices()[0].device_kind
    profiles = tmp_path / "profiles"
    profiles.mkdir()

    def write(name: str, count: int, num_envs: int, mtime: int) -> None:
        path = profiles / name
        recommended = {"num_envs": num_envs, "num_minibatches": 4, "num_steps": 32}
        path.write_text(
            json.dumps({"device_kind": kind, "device_count": count, "recommended": recommended})
        )
        os.utime(path, (mtime, mtime))

    # Only a 4-device profile: this (1-device) host falls back to it and says so on one line.
    write("cpu-x4.json", 4, 1024, 2_000_000_000)
    monkeypatch.chdir(tmp_path)
    settings, _, _ = resolve("--profile", "auto")
    err = capsys.readouterr().err.strip()
    assert settings.ppo.num_envs == 1024
    assert err.splitlines() == [err]
    assert f"no hardware profile for {jax.device_count()} x {kind!r}" in err
    assert "measured on 4 device(s)" in err and "cpu-x4.json" in err

    # The profile of the same count wins over a newer one of another count.
    write("cpu.json", 1, 64, 1_000_000_000)
    settings, _, _ = resolve("--profile", "auto")
    err = capsys.readouterr().err
    assert settings.ppo.num_envs == 64
    assert "cpu.json: num_envs=64" in err and "no hardware profile" not in err

    chosen, note = profile_recommendation("auto", kind, profiles, device_count=4)
    assert chosen["num_envs"] == 1024 and "cpu-x4.json" in note and "no hardware" not in note
    # No 2-device profile: the nearest count (1) is used, named in the note.
    chosen, note = profile_recommendation("auto", kind, profiles, device_count=2)
    assert chosen["num_envs"] == 64
    assert note.startswith(f"no hardware profile for 2 x {kind!r}")
    assert "measured on 1 device(s)" in note
    # A newer profile of the same count replaces the older one.
    write("cpu-x4-rerun.json", 4, 4096, 3_000_000_000)
    chosen, _ = profile_recommendation("auto", kind, profiles, device_count=4)
    assert chosen["num_envs"] == 4096

"""Hardware profiles: recommendation, file round trip, ``profile show``, ``train --profile auto``,
the plot and table, and one-line usage errors of ``jaxstress bench`` (no sweep runs here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jaxstress.bench.profile import (
    ProfileError,
    find_profile,
    profile_filename,
    read_profile,
    recommend,
    write_profile,
)
from jaxstress.cli import _train_settings, build_parser, main

GiB = 2**30


def point(n: int, mb: int, sps: float, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "num_envs": n,
        "num_minibatches": mb,
        "num_steps": 128,
        "outcome": "ok",
        "compile_s": 3.0,
        "steps_per_sec": {"median": sps, "min": sps * 0.9, "max": sps * 1.1, "spread": 0.2},
        "updates_per_sec": {"median": sps / (n * 128), "spread": 0.2},
        "utilisation": {"kind": "nvml", "mean": 75.0, "max": 99.0},
        "memory": {
            "limit_bytes": 10 * GiB,
            "limit_source": "device allocator bytes_limit",
            "predicted": {"peak_bytes": n * 2**20},
            "measured": {"bytes": n * 2**20, "source": "device memory_stats peak_bytes_in_use"},
        },
        "recompiles": 0,
    }
    base.update(extra)
    return base


def make_profile(points: list[dict[str, Any]], kind: str = "cpu") -> dict[str, Any]:
    return {
        "schema": "jaxstress-profile/1",
        "device_kind": kind,
        "device_count": 1,
        "platform": "cpu",
        "versions": {"jax": "0.10.2", "jaxlib": "0.10.2", "cuda": None},
        "date": "2026-01-01T00:00:00+00:00",
        "env": "phase1",
        "monitor": "nvml",
        "bandwidth": {"bytes_per_s": 2e9},
        "memory_limit_bytes": 10 * GiB,
        "memory_limit_source": "device allocator bytes_limit",
        "points": points,
        "recommended": recommend(points),
        "notes": ["a note"],
    }


def test_recommend_takes_fastest_point_within_memory_headroom() -> None:
    points = [
        point(1024, 4, 1e5),
        point(4096, 4, 3e5),
        # fastest, but its measured peak (9 GiB) is over 80% of the 10 GiB device
        point(
            9216,
            8,
            4e5,
            memory={
                "limit_bytes": 10 * GiB,
                "predicted": {"peak_bytes": 5 * GiB},
                "measured": {"bytes": 9 * GiB, "source": "device memory_stats peak_bytes_in_use"},
            },
        ),
        point(16384, 4, 9e9, outcome="oom", steps_per_sec=None),
        point(2048, 8, 5e9, outcome="error"),
    ]
    rec = recommend(points)
    assert rec is not None
    assert (rec["num_envs"], rec["num_minibatches"], rec["num_steps"]) == (4096, 4, 128)
    assert rec["steps_per_sec"] == 3e5 and rec["headroom"] == 0.8
    assert recommend(points, headroom=0.95)["num_envs"] == 9216  # type: ignore[index]
    assert recommend([point(8, 2, 1.0, outcome="skipped")]) is None


def test_cpu_rss_is_reported_but_not_judged_against_the_limit() -> None:
    rss = {"bytes": 600 * 2**20, "source": "process peak RSS (CPU: ...)"}
    p = point(8, 2, 1e4, memory={"limit_bytes": 2**20, "predicted": {"peak_bytes": 50_000}})
    p["memory"]["measured"] = rss
    assert recommend([p])["num_envs"] == 8  # type: ignore[index]


def test_profile_names() -> None:
    assert profile_filename("cpu") == "cpu.json"
    assert profile_filename("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3.json"
    assert profile_filename("TPU v5 lite", 4) == "tpu-v5-lite-x4.json"


def test_profile_round_trip_show_and_train_profile_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = make_profile([point(256, 4, 2e4), point(1024, 8, 5e4), point(4096, 8, 1e4)])
    profile["points"][0]["steps_per_sec"]["median"] = float("nan")  # written as null
    path = write_profile(profile, tmp_path / "profiles")
    assert path == tmp_path / "profiles" / "cpu.json"
    loaded = read_profile(path)
    assert loaded["recommended"]["num_envs"] == 1024
    assert loaded["points"][0]["steps_per_sec"]["median"] is None
    assert find_profile("cpu", tmp_path / "profiles") == path
    assert find_profile("NVIDIA H100", tmp_path / "profiles") is None

    # profile show PATH, and without PATH: this device's profile in profiles/
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "show", str(path)]) == 0
    shown = capsys.readouterr().out
    assert "recommended: num_envs=1024 num_minibatches=8 num_steps=128" in shown
    assert main(["profile", "show"]) == 0
    assert "num_envs=1024" in capsys.readouterr().out
    assert main(["profile", "show", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recommended"]["num_envs"] == 1024

    # train --profile auto picks the recommendation for this device (cpu) from ./profiles
    args = build_parser().parse_args(["train", "--profile", "auto", "--out", "run"])
    settings, _, _ = _train_settings(args)
    assert (settings.ppo.num_envs, settings.ppo.num_minibatches, settings.ppo.num_steps) == (
        1024,
        8,
        128,
    )
    assert "profiles/cpu.json" in capsys.readouterr().err


def test_sweep_without_recommendation_is_written_aside(tmp_path: Path) -> None:
    failed = make_profile([point(8, 2, 1.0, outcome="oom", steps_per_sec=None)])
    path = write_profile(failed, tmp_path)
    assert path.name == "cpu.json.failed"
    assert find_profile("cpu", tmp_path) is None  # train --profile auto never picks it
    assert read_profile(path)["recommended"] is None


def test_profile_show_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "show"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "no profile for device kind 'cpu'" in err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["profile", "show", "bad.json"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    (tmp_path / "other.json").write_text('{"a": 1}')
    assert main(["profile", "show", "other.json"]) == 2
    assert "not a jaxstress hardware profile" in capsys.readouterr().err
    assert main(["profile"]) == 2
    with pytest.raises(ProfileError):
        read_profile(tmp_path / "missing.json")


def test_plot_and_table(tmp_path: Path) -> None:
    from rich.console import Console

    from jaxstress.bench.plot import plot_profile
    from jaxstress.bench.table import print_profile

    points = [
        point(256, 4, 2e4),
        point(1024, 4, 5e4),
        point(4096, 4, 0, outcome="oom", message="RESOURCE_EXHAUSTED: Out of memory"),
        point(256, 8, 1e4),
        point(1024, 8, 3e4, recompiles=2),
    ]
    profile = make_profile(points)
    plot_profile(profile, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    console = Console(record=True, width=160)
    print_profile(profile, console, tmp_path / "cpu.json")
    text = console.export_text()
    assert "* 1024" in text and "oom" in text and "RESOURCE_EXHAUSTED" in text
    assert "2 recompiles in timed region" in text
    assert "recommended: num_envs=1024 num_minibatches=4" in text
    narrow = Console(record=True, width=80)  # compact table, notes below it
    print_profile(profile, narrow)
    text = narrow.export_text()
    assert "num_envs=4096 mb=4 T=128: RESOURCE_EXHAUSTED" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-envs", "0"], "--num-envs takes comma-separated positive integers"),
        (["--num-envs", "64,abc"], "--num-envs takes comma-separated positive integers"),
        (["--minibatches", ""], "--minibatches takes comma-separated positive integers"),
        (["--updates", "2,3"], "--updates takes one positive integer"),
        (["--mem-limit", "lots"], "--mem-limit takes a size in bytes"),
        (["--devices", "0"], "--devices takes 'all' or a positive integer"),
        (["--min-util", "150"], "--min-util takes a percentage"),
        (["--env-module", "missing.py"], "--env-module missing.py: no such file"),
        (["--data", "missing.csv"], "--data missing.csv: no such file"),
        (["--point-timeout", "-3"], "--point-timeout takes seconds > 0"),
        (["--config", "missing.toml"], "cannot read config file"),
        (["--coordinator", "h:1"], "--coordinator, --num-processes and --process-id go together"),
        (
            ["--coordinator", "h", "--num-processes", "2", "--process-id", "0"],
            "--coordinator takes HOST:PORT",
        ),
        (
            ["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
            "--process-id takes an integer in [0, 1]",
        ),
    ],
)
def test_bench_bad_input_is_one_line_exit_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith("jaxstress bench: error: ") and message in captured.err


def test_bench_size_parser() -> None:
    from jaxstress.bench.commands import parse_bytes

    assert parse_bytes("1000", "--x") == 1000
    assert parse_bytes("512M", "--x") == 512 * 10**6
    assert parse_bytes("2GiB", "--x") == 2 * 2**30
    assert parse_bytes("1.5k", "--x") == 1500


def test_recommendation_rule_noise_and_enough_points() -> None:
    """Highest slowest repeat wins; overlapping repeat ranges are called noise; a partial sweep
    recommends nothing before MIN_POINTS fitting points."""
    from jaxstress.bench.profile import MIN_POINTS
    from jaxstress.bench.table import recommendation_text

    steady = point(1024, 4, 1.00e5)  # repeats 0.90e5 .. 1.10e5
    lucky = point(2048, 4, 1.05e5, steps_per_sec={"median": 1.05e5, "min": 0.8e5, "max": 1.2e5})
    rec = recommend([lucky, steady])
    assert rec is not None and rec["num_envs"] == 1024  # lower median, higher lower bound
    assert rec["within_noise_of"] == [{"num_envs": 2048, "num_minibatches": 4, "num_steps": 128}]
    text = recommendation_text({"recommended": rec, "complete": True})
    assert text.count("\n") == 0 and "rule: highest slowest repeat" in text
    assert "within run-to-run noise (±10%) of num_envs=2048 mb=4 T=128" in text

    clear = recommend([steady, point(4096, 4, 3e5)])
    assert clear is not None and clear["num_envs"] == 4096 and clear["within_noise_of"] == []
    text = recommendation_text({"recommended": clear})
    assert "faster than every other point beyond run-to-run noise (±10%)" in text

    once = point(8, 2, 5e4, steps_per_sec={"median": 5e4, "min": 5e4, "max": 5e4, "values": [5e4]})
    text = recommendation_text({"recommended": recommend([once])})
    assert "run-to-run noise not measured (1 repeat" in text

    few = [point(n, 4, 1e4 * n) for n in (8, 16, 32)]
    assert recommend(few[: MIN_POINTS - 1], complete=False) is None
    assert recommend(few, complete=False)["num_envs"] == 32  # type: ignore[index]
    partial = {"points": few[:2], "complete": False, "recommended": None, "settings": {}}
    text = recommendation_text(partial)
    assert text.startswith("no recommendation: the sweep stopped after 2 point(s), 2 fitting")
    assert f"at least {MIN_POINTS} fitting points" in text


def test_partial_profile_is_kept_aside_and_auto_warns(tmp_path: Path) -> None:
    from jaxstress.training import profile_recommendation

    points = [point(n, 4, 1e4 * n) for n in (8, 16, 32)]
    partial = {**make_profile(points), "complete": False, "interrupted": True}
    partial["recommended"] = recommend(points, complete=False)
    path = write_profile(partial, tmp_path)
    assert path.name == "cpu.partial.json"
    assert find_profile("cpu", tmp_path) is None  # --profile auto does not take it
    chosen, note = profile_recommendation("auto", "cpu", tmp_path)
    assert chosen == {} and len(note.splitlines()) == 1
    assert f"warning: ignored the interrupted sweep {path}" in note
    chosen, note = profile_recommendation(str(path), "cpu", tmp_path)  # asked for by path
    assert chosen["num_envs"] == 32 and note.startswith("warning: partial profile")


def test_profile_show_finds_the_last_profile_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from jaxstress.bench.profile import record_last

    monkeypatch.chdir(tmp_path)
    path = write_profile(make_profile([point(256, 4, 2e4)]), tmp_path / "elsewhere")
    record_last(path)  # what 'jaxstress bench --out elsewhere' does
    assert main(["profile", "show"]) == 0
    assert f"profile {path}" in capsys.readouterr().out
    path.unlink()
    assert main(["profile", "show"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"the last profile written, {path}, no longer" in err
    assert "pass its path: 'jaxstress profile show DIR/<device>.json'" in err

"""jaxstress.monitor: the CPU path for real, the NVML path against a small pynvml stand-in.

The stand-in is a real module object with pynvml's own function names, handed to the monitor
through its ``nvml`` constructor parameter (nothing global is patched).
"""

from __future__ import annotations

import os
import time
import types
from collections.abc import Iterator

import pytest

from jaxstress.monitor import Monitor, MonitorReport, usable_cores


def _busy(seconds: float) -> int:
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def test_cpu_monitor_measures_this_process_for_real() -> None:
    monitor = Monitor(interval=0.02, backend="cpu")
    assert monitor.kind == "cpu"
    monitor.start()
    _busy(0.4)
    busy = monitor.stop()
    monitor.start()
    time.sleep(0.4)
    idle = monitor.stop()
    monitor.close()

    for report in (busy, idle):
        assert isinstance(report, MonitorReport) and report.kind == "cpu"
        assert report.samples >= 5
        assert report.duration_s >= 0.39
        assert report.max_memory_bytes is not None and report.max_memory_bytes > 10 * 2**20
        assert report.memory_total_bytes is not None and report.memory_total_bytes > 2**30
        assert report.mean_power_w is None and report.max_power_w is None
        assert 0.0 <= report.overhead_fraction < 0.25
        assert report.overhead_s > 0
    # One busy thread is at most one core's share (plus sampling noise) ...
    cap = 100.0 / usable_cores() + 15.0
    assert busy.mean_util is not None and 5.0 < busy.mean_util <= cap
    # ... and a sleeping process uses far less than a spinning one.
    assert idle.mean_util is not None and idle.mean_util < busy.mean_util
    assert set(busy.to_dict()) >= {"kind", "samples", "mean_util", "max_util", "overhead_fraction"}


def test_monitor_cannot_stop_before_start() -> None:
    monitor = Monitor(backend="cpu")
    with pytest.raises(RuntimeError):
        monitor.stop()
    with pytest.raises(ValueError):
        Monitor(interval=0)
    with pytest.raises(ValueError):
        Monitor(backend="tpu")


# --------------------------------------------------------------------------- NVML stand-in
class NVMLError(Exception):
    pass


def make_nvml(
    utils: list[int],
    *,
    devices: int = 1,
    used: int = 3 * 2**30,
    total: int = 80 * 2**30,
    power_mw: int | None = 250_000,
    init_error: Exception | None = None,
) -> types.ModuleType:
    """A module with the pynvml functions the monitor calls, replaying ``utils`` (percent)."""
    module = types.ModuleType("pynvml_standin")
    module.calls = {"init": 0, "shutdown": 0, "handles": []}  # type: ignore[attr-defined]
    readings: Iterator[int] = iter(utils)
    last = {"util": utils[0]}

    def nvmlInit() -> None:
        module.calls["init"] += 1  # type: ignore[attr-defined]
        if init_error is not None:
            raise init_error

    def nvmlShutdown() -> None:
        module.calls["shutdown"] += 1  # type: ignore[attr-defined]

    def nvmlDeviceGetHandleByIndex(index: int) -> tuple[str, int]:
        if index >= devices:
            raise NVMLError(f"invalid device index {index}")
        module.calls["handles"].append(index)  # type: ignore[attr-defined]
        return ("gpu", index)

    def nvmlDeviceGetUtilizationRates(handle: tuple[str, int]) -> types.SimpleNamespace:
        if handle[1] == 0:
            last["util"] = next(readings, last["util"])
        # device i reports util - 10 * i, so averaging over devices is visible
        return types.SimpleNamespace(gpu=max(0, last["util"] - 10 * handle[1]), memory=5)

    def nvmlDeviceGetMemoryInfo(handle: tuple[str, int]) -> types.SimpleNamespace:
        return types.SimpleNamespace(total=total, used=used, free=total - used)

    def nvmlDeviceGetPowerUsage(handle: tuple[str, int]) -> int:
        if power_mw is None:
            raise NVMLError("Not Supported")
        return power_mw

    for fn in (
        nvmlInit,
        nvmlShutdown,
        nvmlDeviceGetHandleByIndex,
        nvmlDeviceGetUtilizationRates,
        nvmlDeviceGetMemoryInfo,
        nvmlDeviceGetPowerUsage,
    ):
        setattr(module, fn.__name__, fn)
    return module


def test_nvml_path_samples_utilisation_memory_and_power() -> None:
    nvml = make_nvml([40, 80, 60, 100])
    monitor = Monitor(interval=0.01, nvml=nvml)
    assert monitor.kind == "nvml" and monitor.note == ""
    monitor.start()
    time.sleep(0.15)
    report = monitor.stop()
    monitor.close()

    assert report.kind == "nvml"
    assert report.samples >= 4
    assert report.max_util == 100.0
    assert report.mean_util is not None and 40.0 <= report.mean_util <= 100.0
    assert report.max_memory_bytes == 3 * 2**30 and report.memory_total_bytes == 80 * 2**30
    assert report.mean_power_w == pytest.approx(250.0) and report.max_power_w == 250.0
    assert report.devices == (0,)
    assert 0.0 <= report.overhead_fraction < 0.5
    assert nvml.calls["init"] == 1 and nvml.calls["shutdown"] == 1  # type: ignore[attr-defined]


def test_nvml_averages_over_watched_devices_and_survives_missing_power() -> None:
    nvml = make_nvml([90], devices=2, power_mw=None)
    monitor = Monitor(interval=0.01, nvml=nvml, devices=(0, 1))
    monitor.start()
    time.sleep(0.05)
    report = monitor.stop()
    assert report.devices == (0, 1)
    assert report.mean_util == pytest.approx(85.0)  # (90 + 80) / 2
    assert report.max_memory_bytes == 2 * 3 * 2**30  # memory in use summed over devices
    assert report.mean_power_w is None  # power not supported: reported as missing


def test_nvml_init_failure_falls_back_to_cpu() -> None:
    nvml = make_nvml([50], init_error=NVMLError("Driver Not Loaded"))
    monitor = Monitor(interval=0.01, nvml=nvml)
    assert monitor.kind == "cpu"
    assert "nvmlInit failed" in monitor.note and "Driver Not Loaded" in monitor.note
    monitor.start()
    report = monitor.stop()
    assert report.kind == "cpu" and report.note == monitor.note


def test_nvml_bad_device_index_falls_back_to_cpu() -> None:
    nvml = make_nvml([50], devices=1)
    monitor = Monitor(interval=0.01, nvml=nvml, devices=(3,))
    assert monitor.kind == "cpu" and "device query failed" in monitor.note
    assert nvml.calls["shutdown"] == 1  # type: ignore[attr-defined]


def test_nvml_indices_follow_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    nvml = make_nvml([70], devices=2)
    monitor = Monitor(interval=0.01, nvml=nvml, devices=(0,))
    assert nvml.calls["handles"] == [1]  # type: ignore[attr-defined]
    monitor.close()


def test_default_monitor_on_this_machine_is_usable() -> None:
    # No NVIDIA driver here (the normal case): whatever pynvml does, a monitor comes back.
    monitor = Monitor(interval=0.01)
    monitor.start()
    report = monitor.stop()
    monitor.close()
    assert report.kind in ("cpu", "nvml")
    if report.kind == "cpu" and not os.path.exists("/proc/driver/nvidia"):
        assert report.note  # says why NVML is not used

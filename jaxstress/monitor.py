"""Device monitoring for the stress sweep: one interface, an NVML and a CPU implementation.

``Monitor.start()`` starts a sampling thread; ``Monitor.stop()`` stops it and returns a
`MonitorReport`. The backend is chosen at construction:

* ``nvml``: NVIDIA GPUs through pynvml (``nvidia-ml-py``). A thread samples, every
  ``interval`` seconds, each watched GPU's utilisation (``nvmlDeviceGetUtilizationRates``, percent
  of the last sample period in which a kernel ran), memory in use (``nvmlDeviceGetMemoryInfo``)
  and power (``nvmlDeviceGetPowerUsage``, milliwatts). Utilisation is averaged over the watched
  GPUs per sample.
* ``cpu``: the fallback, used when pynvml is not installed or ``nvmlInit`` fails (no NVIDIA
  driver: the normal case on a CPU host). Utilisation is this *process's* CPU share: CPU time
  (user + system, all threads, from ``os.times``) over wall time times the cores the process may
  run on (``os.sched_getaffinity``), in percent; memory is the process's resident set (RSS).

The monitor measures its own cost: ``overhead_s`` is the CPU time spent inside the sampling
calls (``time.thread_time``) and ``overhead_fraction`` that over the monitored wall time (one
sampling thread at the default 50 ms interval costs well under 1% of one core).

pynvml is injected through the ``nvml`` constructor parameter (any object with pynvml's
functions), which is how the tests drive the NVML path without a GPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import statistics
import threading
import time
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["Monitor", "MonitorReport", "Sample", "process_rss_bytes", "usable_cores"]

DEFAULT_INTERVAL = 0.05


@dataclasses.dataclass(frozen=True)
class Sample:
    """One reading. ``util`` in percent; ``power_w`` is None on CPU."""

    t: float
    util: float
    memory_bytes: int
    power_w: float | None = None


@dataclasses.dataclass(frozen=True)
class MonitorReport:
    """What a monitored region looked like; ``mean_util``/``max_util`` in percent."""

    kind: str  # "nvml" or "cpu"
    samples: int
    duration_s: float
    mean_util: float | None
    max_util: float | None
    mean_memory_bytes: float | None
    max_memory_bytes: int | None
    memory_total_bytes: int | None
    mean_power_w: float | None
    max_power_w: float | None
    overhead_s: float
    overhead_fraction: float
    interval_s: float
    devices: tuple[int, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["devices"] = list(self.devices)
        return out


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def process_rss_bytes() -> int:
    """Current resident set size of this process (0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        try:
            import resource

            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        except (ImportError, OSError):
            return 0


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class _CpuBackend:
    kind = "cpu"

    def __init__(self) -> None:
        self.cores = usable_cores()
        self._first = self._last = (time.perf_counter(), _cpu_seconds())
        self.total_memory = _host_memory_bytes()

    def begin(self) -> None:
        self._first = self._last = (time.perf_counter(), _cpu_seconds())

    def sample(self) -> Sample:
        now, cpu = time.perf_counter(), _cpu_seconds()
        wall = now - self._last[0]
        util = 100.0 * (cpu - self._last[1]) / (wall * self.cores) if wall > 0 else 0.0
        self._last = (now, cpu)
        return Sample(now, max(0.0, util), process_rss_bytes())

    def overall_util(self) -> float | None:
        """CPU share over the whole region (more exact than the mean of the samples)."""
        now, cpu = time.perf_counter(), _cpu_seconds()
        wall = now - self._first[0]
        return max(0.0, 100.0 * (cpu - self._first[1]) / (wall * self.cores)) if wall > 0 else None

    def close(self) -> None:
        pass


def _host_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


class _NvmlBackend:
    kind = "nvml"

    def __init__(self, nvml: Any, indices: Sequence[int]) -> None:
        self.nvml = nvml
        self.indices = tuple(indices)
        self.handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in self.indices]
        self.total_memory = sum(int(nvml.nvmlDeviceGetMemoryInfo(h).total) for h in self.handles)
        self.power_ok = True

    def begin(self) -> None:
        pass

    def sample(self) -> Sample:
        nvml = self.nvml
        utils, used, power = [], 0, 0.0
        for handle in self.handles:
            utils.append(float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            used += int(nvml.nvmlDeviceGetMemoryInfo(handle).used)
            if self.power_ok:
                try:
                    power += nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0  # mW -> W
                except Exception:  # power readings are not supported on every board
                    self.power_ok = False
        return Sample(
            time.perf_counter(),
            sum(utils) / len(utils),
            used,
            power if self.power_ok else None,
        )

    def overall_util(self) -> float | None:
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # shutting down is best effort
            self.nvml.nvmlShutdown()


def _visible_indices(local_ids: Sequence[int]) -> list[int]:
    """NVML indices of CUDA devices ``local_ids`` (NVML ignores CUDA_VISIBLE_DEVICES)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if visible:
        parts = [p.strip() for p in visible.split(",") if p.strip()]
        if all(p.isdigit() for p in parts):
            return [int(parts[i]) if i < len(parts) else i for i in local_ids]
    return list(local_ids)


class Monitor:
    """Samples device utilisation, memory and power in a background thread.

    ``backend``: "auto" (NVML when available, else CPU), "nvml" (NVML or CPU with a note saying
    why not) or "cpu". ``nvml`` is the pynvml module to use (default: ``import pynvml``);
    ``devices`` the CUDA device ordinals to watch (default: GPU 0).
    """

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        backend: str = "auto",
        nvml: ModuleType | Any | None = None,
        devices: Sequence[int] = (0,),
    ) -> None:
        if interval <= 0:
            raise ValueError("monitor interval must be > 0")
        if backend not in ("auto", "nvml", "cpu"):
            raise ValueError(f"unknown monitor backend {backend!r}")
        self.interval = float(interval)
        self.note = ""
        self._backend: _CpuBackend | _NvmlBackend
        if backend == "cpu":
            self._backend = _CpuBackend()
        else:
            self._backend = self._try_nvml(nvml, devices) or _CpuBackend()
        self._samples: list[Sample] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._overhead = 0.0
        self._t0 = 0.0

    def _try_nvml(self, nvml: Any, devices: Sequence[int]) -> _NvmlBackend | None:
        if nvml is None:
            try:
                with warnings.catch_warnings():  # the old "pynvml" wrapper warns on import
                    warnings.simplefilter("ignore", FutureWarning)
                    import pynvml as nvml  # type: ignore[import-not-found, no-redef]
            except ImportError:
                self.note = "pynvml is not installed: CPU monitoring"
                return None
        try:
            nvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
            self.note = f"nvmlInit failed ({type(exc).__name__}: {exc}): CPU monitoring"
            return None
        try:
            return _NvmlBackend(nvml, _visible_indices(devices))
        except Exception as exc:
            self.note = f"NVML device query failed ({type(exc).__name__}: {exc}): CPU monitoring"
            with contextlib.suppress(Exception):
                nvml.nvmlShutdown()
            return None

    @property
    def kind(self) -> str:
        return self._backend.kind

    def _sample_once(self) -> None:
        # CPU time of the sampling thread, not wall time: waiting for the GIL while the
        # monitored code runs Python is not a cost the sampling adds.
        start = time.thread_time()
        try:
            self._samples.append(self._backend.sample())
        finally:
            self._overhead += time.thread_time() - start

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample_once()

    def start(self) -> Monitor:
        if self._thread is not None:
            raise RuntimeError("monitor already started")
        self._samples = []
        self._overhead = 0.0
        self._stop.clear()
        self._t0 = time.perf_counter()
        self._backend.begin()
        thread = threading.Thread(target=self._run, name="jaxstress-monitor", daemon=True)
        thread.start()  # RuntimeError when no thread can be created (address-space limit)
        self._thread = thread
        return self

    def stop(self) -> MonitorReport:
        if self._thread is None:
            raise RuntimeError("monitor not started")
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._sample_once()  # a final reading covers the tail of the region
        duration = time.perf_counter() - self._t0
        samples = self._samples
        utils = [s.util for s in samples]
        mems = [s.memory_bytes for s in samples]
        powers = [s.power_w for s in samples if s.power_w is not None]
        overall = self._backend.overall_util()
        return MonitorReport(
            kind=self.kind,
            samples=len(samples),
            duration_s=duration,
            mean_util=overall if overall is not None else _mean(utils),
            max_util=max(utils) if utils else None,
            mean_memory_bytes=_mean(mems),
            max_memory_bytes=max(mems) if mems else None,
            memory_total_bytes=self._backend.total_memory,
            mean_power_w=_mean(powers),
            max_power_w=max(powers) if powers else None,
            overhead_s=self._overhead,
            overhead_fraction=self._overhead / duration if duration > 0 else 0.0,
            interval_s=self.interval,
            devices=getattr(self._backend, "indices", ()),
            note=self.note,
        )

    def close(self) -> None:
        """Release the backend (NVML shutdown); the monitor is unusable afterwards."""
        if self._thread is not None:
            self.stop()
        self._backend.close()


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None

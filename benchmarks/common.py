"""Helpers shared by the benchmarks: timing and peak memory of a fresh process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

# Peak resident memory from /proc (VmHWM): unlike ru_maxrss it is not
# inherited from the parent across fork + exec.
PRINT_PEAK_KB = (
    "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]))"
)


def best_of(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Fastest of ``repeats`` calls: (seconds, the call's return value)."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def peak_mb(code: str, *args: str) -> float:
    """Peak memory (MB) of a fresh interpreter running ``code`` (it must end by
    printing ``PRINT_PEAK_KB``)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1]) / 1024

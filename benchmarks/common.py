"""Helpers shared by the benchmarks: timing and peak memory of a fresh process."""

from __future__ import annotations

import argparse
import atexit
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Peak resident memory from /proc (VmHWM): unlike ru_maxrss it is not
# inherited from the parent across fork + exec.
PRINT_PEAK_KB = (
    "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]))"
)


def best_of(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Fastest of ``repeats`` calls: (seconds, the call's return value)."""
    return best_interleaved({"": fn}, repeats)[""]


def last_line_of(code: str, *args: str) -> str:
    """The last line a fresh interpreter running ``code`` (with ``args``) prints."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def peak_mb(code: str, *args: str) -> float:
    """Peak memory (MB) of a fresh interpreter running ``code`` (it must end by
    printing ``PRINT_PEAK_KB``)."""
    return int(last_line_of(code, *args)) / 1024


def bench_parser(description: str | None) -> argparse.ArgumentParser:
    """The benchmarks' shared command line: the module docstring as help and
    ``--workdir`` (inputs are built there once and reused)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=None)
    return parser


def workdir(args: argparse.Namespace, prefix: str) -> Path:
    """``--workdir`` if given (kept, so its inputs are reused), else a fresh
    temporary folder removed when the process exits (a full run builds
    gigabytes of inputs)."""
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return args.workdir
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def traverse_with_zarr(group: Any) -> int:
    """The zarr-python baseline: visit every member of an open group, reading
    its attributes and, for arrays, shape, chunks and dtype. Returns the arrays."""
    import zarr

    arrays = 0
    for _path, member in group.members(max_depth=None):
        _ = member.attrs.asdict()
        if isinstance(member, zarr.Array):
            _ = member.shape, member.chunks, member.dtype
            arrays += 1
    return arrays


def make_big_array(root: Path) -> Path:
    """A metadata-only array of 2,401,000 chunks (40 x 245 x 245), by zarr-python."""
    import zarr

    path = root / "big.zarr"
    if not path.exists():
        zarr.create_array(str(path), shape=(40, 62500, 62500), chunks=(1, 256, 256), dtype="uint16")
    return path


def row(
    workload: str,
    ours: float,
    baseline: float | None,
    against: str,
    op: str,
    goal: float,
    gate: bool = True,
    unit: str = "s",
) -> dict[str, Any]:
    """One line of the benchmark table. With a ``baseline``, the figure is a
    ratio: ours / baseline for an "at most" goal (``op`` "<="), baseline / ours
    (times faster) for an "at least" one (">="). Without, ``ours`` itself is
    the figure, in the unit named by ``against``. ``alarm``: more than 3x worse
    than the goal (what CI fails on; timings on shared machines are noisy);
    never for a row that is not a ``gate`` (a goal shown unreachable, kept in
    the table beside the row measured against the true bound)."""
    figure = ours if baseline is None else (ours / baseline if op == "<=" else baseline / ours)
    met = figure <= goal if op == "<=" else figure >= goal
    alarm = gate and (figure > 3 * goal if op == "<=" else figure < goal / 3)
    return {
        "workload": workload,
        "ours": round(ours, 6),
        "baseline": None if baseline is None else round(baseline, 6),
        "against": against,
        "figure": round(figure, 3),
        "goal": f"{op} {goal:g}{'' if baseline is None else 'x'}",
        "met": met,
        "gate": gate,
        "alarm": alarm,
        "unit": unit if baseline is not None else against,
    }


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The table: workload, ours, baseline, figure, goal, met?"""
    header = f"{'workload':<58}{'ours':>10}{'baseline':>10}  {'against':<22}{'figure':>8}  {'goal':<9}met"
    print(header)
    for r in rows:
        baseline = "" if r["baseline"] is None else f"{r['baseline']:.4g}"
        print(
            f"{r['workload'][:57]:<58}{r['ours']:>10.4g}{baseline:>10}  {r['against'][:21]:<22}"
            f"{r['figure']:>8.3g}  {r['goal']:<9}{'yes' if r['met'] else 'NO'}"
            f"{'' if r['gate'] else ' (no alarm)'}"
        )


def best_interleaved(
    calls: dict[str, Callable[[], Any]], repeats: int = 3
) -> dict[str, tuple[float, Any]]:
    """Like :func:`best_of` for several calls, run in turns (a, b, a, b, ...)
    so that a slow spell of a shared machine falls on all of them alike."""
    best: dict[str, tuple[float, Any]] = {}
    for _ in range(repeats):
        for name, fn in calls.items():
            value = None  # the last result is released before the clock starts, not on it
            start = time.perf_counter()
            value = fn()
            seconds = time.perf_counter() - start
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, value)
    return best


def markdown_rows(rows: list[dict[str, Any]]) -> str:
    """The table as Markdown (for docs/performance.md)."""
    lines = ["| workload | ours | baseline | figure | goal | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        baseline = "" if r["baseline"] is None else f"{r['baseline']:.4g} ({r['against']})"
        ours = f"{r['ours']:.4g} {r['unit']}"
        met = ("yes" if r["met"] else "no") + ("" if r["gate"] else " (no alarm)")
        lines.append(
            f"| {r['workload']} | {ours} | {baseline} | {r['figure']:.3g} | {r['goal']} | {met} |"
        )
    return "\n".join(lines)

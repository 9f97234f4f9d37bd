"""The benchmark suite's regression alarm (what CI fails on): a figure more
than 3x worse than its goal, in either direction of goal."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_COMMON = Path(__file__).resolve().parents[1] / "benchmarks" / "common.py"
_spec = importlib.util.spec_from_file_location("benchmarks_common", _COMMON)
assert _spec is not None and _spec.loader is not None
_common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_common)
row = _common.row


def test_at_most_goals_alarm_only_beyond_three_times_the_goal() -> None:
    met = row("scan", 0.3, 0.25, "bound", "<=", 1.5)
    assert (met["figure"], met["met"], met["alarm"]) == (1.2, True, False)
    missed = row("scan", 1.0, 0.25, "bound", "<=", 1.5)
    assert (missed["figure"], missed["met"], missed["alarm"]) == (4.0, False, False)
    regressed = row("scan", 1.2, 0.25, "bound", "<=", 1.5)
    assert (regressed["figure"], regressed["alarm"]) == (4.8, True)


def test_at_least_goals_are_times_faster_than_the_baseline() -> None:
    faster = row("remote", 0.5, 8.0, "zarr-python", ">=", 10)
    assert (faster["figure"], faster["met"], faster["alarm"], faster["goal"]) == (
        16.0,
        True,
        False,
        ">= 10x",
    )
    slow = row("remote", 4.0, 8.0, "zarr-python", ">=", 10)
    assert (slow["figure"], slow["met"], slow["alarm"]) == (2.0, False, True)


def test_absolute_figures_compare_ours_to_the_goal() -> None:
    memory = row("peak", 91.0, None, "MB", "<=", 150)
    assert (memory["figure"], memory["goal"], memory["met"], memory["alarm"]) == (
        91.0,
        "<= 150",
        True,
        False,
    )
    assert row("heavy modules", 1, None, "modules", "<=", 0)["alarm"] is True


def test_a_row_that_is_not_a_gate_never_alarms() -> None:
    """A goal shown unreachable stays in the table, beside the gating row."""
    informational = row("start-up", 0.5, 0.1, "import pyarrow", "<=", 1.3, gate=False)
    assert (informational["met"], informational["alarm"]) == (False, False)
    assert row("start-up", 0.5, 0.1, "import pyarrow", "<=", 1.3)["alarm"] is True

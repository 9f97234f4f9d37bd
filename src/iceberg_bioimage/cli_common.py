"""What every CLI command shares: consoles, common options, output and exit codes.

Exit codes: 0 ok, 1 invalid (or warnings under ``--strict``), 2 usage or input
error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Console

EXIT_OK, EXIT_INVALID, EXIT_INPUT = 0, 1, 2
_SHOWN_WARNINGS = 20


class _State:
    quiet = False
    verbose = False


state = _State()
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Exit with code 1 when there are warnings.")
]
DatasetIdOption = Annotated[
    str | None,
    typer.Option("--dataset-id", help="Dataset id (default: store name without suffix)."),
]


def print_json(data: Any) -> None:
    out.print(json.dumps(data, indent=2, default=str), markup=False)


def note(message: str) -> None:
    """A progress or status line on stderr (silenced by --quiet)."""
    if not state.quiet:
        err.print(message, markup=False)


def finish(warnings: Sequence[object], strict: bool, *, failed: bool = False) -> None:
    """Show warnings on stderr and pick the exit code."""
    if not state.quiet:
        limit = None if state.verbose else _SHOWN_WARNINGS
        for warning in list(warnings)[:limit]:
            err.print(f"warning: {warning}", markup=False)
        if limit is not None and len(warnings) > limit:
            err.print(f"warning: ... {len(warnings) - limit} more (use --verbose)", markup=False)
    if failed:
        raise typer.Exit(EXIT_INPUT)
    if strict and warnings:
        raise typer.Exit(EXIT_INVALID)


class RichProgress:
    """A progress listener drawing rich bars on stderr (transient)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )

    def start(self, name: str, total: int | None) -> object:
        if not self.bars.live.is_started:
            self.bars.start()
        return self.bars.add_task(name, total=total)

    def advance(self, handle: object, amount: int) -> None:
        self.bars.advance(handle, amount)  # type: ignore[arg-type]

    def stop(self, handle: object) -> None:
        self.bars.remove_task(handle)  # type: ignore[arg-type]
        if not self.bars.tasks:
            self.bars.stop()


def progress_listener() -> RichProgress | None:
    """Bars only for a person at a terminal: never for pipes, files, CI or --quiet."""
    return RichProgress() if err.is_terminal and not state.quiet else None

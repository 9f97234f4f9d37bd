"""What the CLI shows: consoles, JSON, status lines, warnings, progress bars,
and the exit codes results map to.

Exit codes: 0 ok, 1 invalid (or warnings under ``--strict``), 2 usage or input
error, 3 internal error (a bug).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_INVALID, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3
_SHOWN_WARNINGS = 20


class _State:
    quiet = False
    verbose = False
    json_errors = False  # --json: errors as a JSON object on stderr


state = _State()


class _LazyConsole:
    """A rich Console made on first use: rich is a tenth of a small command's
    start-up, and a command printing TSV to a pipe never needs it."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)

    @property
    def is_terminal(self) -> bool:
        """rich's answer, asked only when it could be yes: a stream that is
        not a TTY, with neither TTY_COMPATIBLE=1 nor FORCE_COLOR set, is no
        terminal for rich either (and a pipe needs no rich at all)."""
        stream = sys.stderr if self._stderr else sys.stdout
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        forced = os.environ.get("TTY_COMPATIBLE") == "1" or "FORCE_COLOR" in os.environ
        return (tty or forced) and self.console.is_terminal


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)


def print_json(data: Any) -> None:
    """Strict JSON on stdout: NaN and infinities become null (strict parsers
    reject the bare words Python's encoder writes)."""
    out.print(strict_json(data), markup=False)


def strict_json(data: Any, indent: int | None = 2) -> str:
    return json.dumps(_finite(data), indent=indent, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def refuse(message: str) -> NoReturn:
    """Bad input given on the command line: one line and the input exit code."""
    from iceberg_bioimage.errors import InputError

    raise InputError(message)


def line(text: str) -> None:
    """A result line on stdout, printed as is (no markup)."""
    out.print(text, markup=False)


class _StderrLog(logging.Handler):
    """Log records as lines on whatever ``sys.stderr`` is when they come."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"{record.name}: {safe_text(record.getMessage())}\n")


def show_library_log(verbose: bool) -> None:
    """The library's log records (``iceberg_bioimage``) on stderr with
    --verbose; without it, only warnings and errors (none are logged today)."""
    logger = logging.getLogger("iceberg_bioimage")
    if not any(isinstance(h, _StderrLog) for h in logger.handlers):
        logger.addHandler(_StderrLog())
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def note(message: str) -> None:
    """A progress or status line on stderr (silenced by --quiet)."""
    if not state.quiet:
        err.print(message, markup=False)


def warn(message: object) -> None:
    err.print(f"warning: {safe_text(str(message))}", markup=False)


def safe_text(message: str) -> str:
    """A message for the terminal: bytes that came from input files (NUL,
    escape sequences, other control characters) are shown escaped."""
    return "".join(
        c if c == "\n" or (ord(c) >= 32 and ord(c) != 127) else c.encode("unicode_escape").decode()
        for c in message
    )


def finish(warnings: Sequence[object], strict: bool, *, failed: bool = False) -> None:
    """Show warnings on stderr and pick the exit code."""
    if not state.quiet:
        limit = None if state.verbose else _SHOWN_WARNINGS
        for warning in list(warnings)[:limit]:
            warn(warning)
        if limit is not None and len(warnings) > limit:
            warn(f"... {len(warnings) - limit} more (use --verbose)")
    if failed:
        raise typer.Exit(EXIT_INPUT)
    if strict and warnings:
        raise typer.Exit(EXIT_INVALID)


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else "(" + ", ".join(str(n) for n in shape) + ")"


FORMATS = ("table", "csv", "tsv", "json")
_MIN_COLUMN_WIDTH = 10  # narrower than this per column: one record per block instead


def choose_format(chosen: str | None, as_json: bool = False) -> str:
    """The output format: --json wins, then --format; by default a table for a
    person at a terminal and TSV for a pipe or a file."""
    if as_json:
        return "json"
    if chosen is None:
        return "table" if out.is_terminal else "tsv"
    if chosen not in FORMATS:
        refuse(f"--format must be one of {', '.join(FORMATS)}, not {chosen!r}")
    return chosen


def print_rows(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    """Rows in the chosen format: a table that fits the terminal (or one block
    per row when the columns cannot fit), CSV / TSV with a header line, or a
    JSON list of objects."""
    if fmt == "json":
        print_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif fmt in ("csv", "tsv"):
        import csv

        writer = csv.writer(
            sys.stdout, delimiter="," if fmt == "csv" else "\t", lineterminator="\n"
        )
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        sys.stdout.flush()
    elif out.width // max(len(columns), 1) < _MIN_COLUMN_WIDTH:
        out.print(title, markup=False, style="bold")
        for row in rows:
            for name, value in zip(columns, row, strict=True):
                out.print(f"  {name}: {_plain(value)}", markup=False)
            out.print("")
    else:
        from rich.table import Table

        view = Table(title=title, title_justify="left")
        for name in columns:
            view.add_column(name, overflow="fold")
        for row in rows:
            view.add_row(*[cell_text(v) for v in row])
        out.print(view)


def _plain(value: Any) -> str:
    """A cell as plain text: lists joined by commas, None empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return strict_json(value, indent=None)
    return str(value)


def cell_text(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


class RichProgress:
    """A progress listener drawing rich bars on stderr (transient)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err.console,
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


class LazyProgress:
    """Decides on bars when the first task starts (after --quiet is parsed)."""

    def __init__(self) -> None:
        self._bars: RichProgress | None = None
        self._decided = False

    def _target(self) -> RichProgress | None:
        if not self._decided:
            self._bars, self._decided = progress_listener(), True
        return self._bars

    def start(self, name: str, total: int | None) -> object:
        target = self._target()
        return target.start(name, total) if target else None

    def advance(self, handle: object, amount: int) -> None:
        if self._bars is not None and handle is not None:
            self._bars.advance(handle, amount)

    def stop(self, handle: object) -> None:
        if self._bars is not None and handle is not None:
            self._bars.stop(handle)

    def notice(self, message: str) -> None:
        note(message)

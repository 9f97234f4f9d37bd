"""Command-line interface: argument parsing and rendering only; the work is in
:mod:`iceberg_bioimage.api`.

Layout: ``output`` (consoles, JSON, warnings, progress, exit codes) <
``options`` (shared options; the catalog option group) < ``commands/`` (one
module per job, never importing another) < this module (the app, global
options, errors to exit codes).

Exit codes: 0 ok, 1 invalid (or warnings under ``--strict``), 2 usage or input
error, 3 internal error (a bug). Errors are one line on stderr; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from iceberg_bioimage import progress
from iceberg_bioimage._version import __version__
from iceberg_bioimage.cli.output import (
    EXIT_BUG,
    EXIT_INPUT,
    EXIT_OK,
    LazyProgress,
    err,
    line,
    safe_text,
    show_library_log,
    state,
    strict_json,
)
from iceberg_bioimage.errors import IcebergBioimageError

# The module under cli/commands/ that registers each command: a run imports,
# and typer builds, only the module of the command it calls (a test checks
# this table against the registrations).
COMMAND_MODULES = {
    "scan": "scan",
    "summarize": "scan",
    "chunk-index": "scan",
    "register": "catalog",
    "ingest": "catalog",
    "register-directory": "catalog",
    "publish-chunks": "catalog",
    "deregister": "catalog",
    "register-profiles": "catalog",
    "catalog": "catalog",
    "validate-contract": "profiles",
    "join-profiles": "profiles",
    "export-cytomining": "warehouse",
    "export-cytomining-catalog": "warehouse",
    "export-cytomining-profiles": "warehouse",
    "export-cytomining-table": "warehouse",
    "validate-warehouse": "warehouse",
    "export-crops": "pixels",
    "export-source-images": "pixels",
    "pixel-backends": "pixels",
    "report": "report",
    "demo": "demo",
}
# Listing order of the commands in --help.
_MODULE_ORDER = ("scan", "catalog", "profiles", "warehouse", "pixels", "report", "demo")


def build_app(modules: Iterable[str] = _MODULE_ORDER) -> typer.Typer:
    """The app with the commands of the given cli/commands modules (all by default)."""
    group = typer.Typer(
        name="iceberg-bioimage",
        help="Scan OME-Zarr / OME-TIFF stores into canonical tables, publish them, join profiles.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
    )
    group.callback(invoke_without_command=True)(_main_options)
    for name in modules:
        importlib.import_module(f"iceberg_bioimage.cli.commands.{name}").register_commands(group)
    return group


def _main_options(
    context: typer.Context,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print results.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")
    ] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="Unsigned requests to public buckets.")
    ] = False,
    allow_outside_root: Annotated[
        bool,
        typer.Option(
            "--allow-outside-root",
            help="Let OME-Zarr collections follow references out of their root (RFC-8 consent).",
        ),
    ] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.01, help="Seconds to wait for each remote request (default 30)."
        ),
    ] = None,
) -> None:
    state.quiet, state.verbose = quiet, verbose
    # Set when asked, or reset when scan/ was loaded by an earlier call; a
    # command that scans nothing does not load scan/ for this.
    if allow_outside_root or "iceberg_bioimage.scan" in sys.modules:
        from iceberg_bioimage.scan import allow_references_outside_root

        allow_references_outside_root(allow_outside_root)
    show_library_log(verbose)
    if anonymous or endpoint_url or timeout:
        from iceberg_bioimage.io.settings import configure_remote

        configure_remote(
            anonymous=anonymous or None, endpoint_url=endpoint_url, timeout_seconds=timeout
        )
    if version:
        line(__version__)
        raise typer.Exit(EXIT_OK)
    if context.invoked_subcommand is None:
        line(context.get_help())
        raise typer.Exit(EXIT_OK)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning errors into one line and an exit code."""
    args = _global_flags_first(sys.argv[1:] if argv is None else argv)
    state.json_errors = "--json" in args
    try:
        # Without standalone mode click returns the code of a typer.Exit.
        with progress.listening(LazyProgress()):
            command = _without_flag_metavars(typer.main.get_command(_app_for(args)))
            code = command.main(args=args, prog_name="iceberg-bioimage", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except IcebergBioimageError as error:
        _fail(str(error), error.exit_code)
        return error.exit_code
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return 130
    except Exception as error:  # click usage errors and anything unexpected
        return _handle_other(error)
    return code if isinstance(code, int) else EXIT_OK


def _without_flag_metavars(command: Any) -> Any:
    """Flags take no value: help shows none (typer would print ``<bool>``)."""
    for param in getattr(command, "params", ()):
        if getattr(param, "is_flag", False):
            param.metavar = ""
    make_help = command.get_help_option

    def help_option(context: Any) -> Any:  # --help is made when asked for
        option = make_help(context)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _without_flag_metavars(sub)
    return command


_GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose", "--anonymous", "--allow-outside-root")
_GLOBAL_OPTIONS = ("--endpoint-url", "--timeout")


def _app_for(args: list[str]) -> typer.Typer:
    """Only the module of the command called; the whole app for help, an
    unknown command or shell completion (which passes its words in the
    environment, no arguments). Global options come first."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in _GLOBAL_OPTIONS else 1
    module = COMMAND_MODULES.get(args[index]) if index < len(args) else None
    return build_app() if module is None else build_app([module])


def _global_flags_first(args: list[str]) -> list[str]:
    """Accept the global flags (``--quiet``, ``--allow-outside-root``, ...)
    after the command name too."""
    if "--" in args:
        return args
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _GLOBAL_FLAGS or ("=" in arg and arg.split("=", 1)[0] in _GLOBAL_OPTIONS):
            front.append(arg)
        elif arg in _GLOBAL_OPTIONS and index + 1 < len(args):
            front += [arg, args[index + 1]]
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def _handle_other(error: Exception) -> int:
    # Typer ships its own copy of click, so usage errors are recognised by
    # their interface (``show`` and ``exit_code``) rather than by class.
    if callable(getattr(error, "show", None)) and hasattr(error, "exit_code"):
        if state.json_errors:
            _fail(str(getattr(error, "format_message", lambda: error)()), EXIT_INPUT)
        else:
            error.show(file=sys.stderr)  # type: ignore[attr-defined]
        return EXIT_INPUT
    if type(error).__name__ == "Abort":
        err.print("aborted", markup=False)
        return EXIT_INPUT
    _fail(
        f"internal error, a bug in iceberg-bioimage {__version__} "
        f"({type(error).__name__}: {_first_line(error)}); please report it with the "
        "output of --verbose",
        EXIT_BUG,
    )
    return EXIT_BUG


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else "no message"


def _fail(message: str, code: int) -> None:
    """One line on stderr; under ``--json`` a JSON object with the same facts."""
    if state.verbose:
        traceback.print_exc()
    if state.json_errors:
        err.print(strict_json({"error": message, "exit_code": code}, indent=None), markup=False)
    else:
        err.print(f"error: {safe_text(message)}", markup=False)


def run() -> None:
    """Console-script entry point.

    After object-store requests the process ends without interpreter
    finalisation (output flushed first): obstore's Rust runtime can abort a
    finalising interpreter, turning a finished, successful run into a crash."""
    code = main()
    remote = sys.modules.get("iceberg_bioimage.io.remote")  # not loaded: no requests made
    if remote is not None and remote.remote_runtime_started():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def __getattr__(name: str) -> Any:
    """``app``: the whole app (every command), built on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()["app"] = whole = build_app()
    return whole


__all__ = ["COMMAND_MODULES", "app", "build_app", "main", "run"]

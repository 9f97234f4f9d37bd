"""Issue 21: start-up. Whole-process wall time, best of N fresh processes run
in turns:
  pyarrow      python -c "import pyarrow" (the floor of any command that returns Arrow)
  typer floor  a two-command Typer app that imports pyarrow and prints its
               argument: the floor of a Typer CLI that returns Arrow
  scan         iceberg-bioimage scan of a tiny one-image store
  --help       iceberg-bioimage --help (every command's options), against
               the Typer floor app's --help (typer's rich help loads markdown)
and checks that ``scan`` loads none of pyiceberg, duckdb, tifffile, obstore.
Goal (the issue's): scan within 1.3x of the pyarrow floor.

Every process runs with compiled bytecode, as an installed package has it
(pip compiles at install): PYTHONDONTWRITEBYTECODE is dropped and bytecode is
cached under the work folder, and each command runs once before timing.

Run: python benchmarks/bench_startup.py [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import bench_parser, best_interleaved, last_line_of, print_rows, row, workdir
from iceberg_bioimage.samples import write_metadata_image

CLI = [sys.executable, "-m", "iceberg_bioimage"]
HEAVY = ("pyiceberg", "duckdb", "tifffile", "obstore")

TYPER_FLOOR = """
import sys
from pathlib import Path
import pyarrow
import typer

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)

@app.command()
def scan(path: Path, format: str = "table") -> None:
    print(pyarrow.__version__, path)

@app.command()
def other(count: int = 1) -> None:
    print(count)

app()
"""


def compiled_env(folder: Path) -> dict[str, str]:
    """The environment of an installed package: bytecode read from (and, on
    the warm-up run, written to) a cache of its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def process(command: list[str], env: dict[str, str]):
    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)

    return run


def heavy_modules_loaded(store: Path) -> list[str]:
    """Which of the heavy optional libraries ``scan`` imports (none, we hope)."""
    code = (
        "import sys\nfrom iceberg_bioimage.cli import main\n"
        f"main(['scan', {str(store)!r}])\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    return [name for name in last_line_of(code).split(",") if name in HEAVY]


def suite(folder: Path, quick: bool = False) -> list[dict[str, Any]]:
    repeats = 5 if quick else 11
    store = folder / "tiny.ome.zarr"
    if not store.exists():
        write_metadata_image(store)
    floor_app = folder / "typer_floor.py"
    floor_app.write_text(TYPER_FLOOR)
    env = compiled_env(folder)
    commands = {
        "pyarrow": process([sys.executable, "-c", "import pyarrow"], env),
        "typer": process([sys.executable, str(floor_app), "scan", str(store)], env),
        "scan": process([*CLI, "scan", str(store)], env),
        "help": process([*CLI, "--help"], env),
        "typer help": process([sys.executable, str(floor_app), "--help"], env),
    }
    for run in commands.values():
        run()  # warm-up: bytecode compiled and cached
    best = {name: seconds for name, (seconds, _) in best_interleaved(commands, repeats).items()}
    heavy = heavy_modules_loaded(store)
    print(f"scan loads: {', '.join(heavy) or 'none of ' + ', '.join(HEAVY)}")
    return [
        row(
            "start-up: scan of a tiny store",
            best["scan"],
            best["pyarrow"],
            "import pyarrow",
            "<=",
            1.3,
        ),
        row(
            "start-up: scan of a tiny store",
            best["scan"],
            best["typer"],
            "Typer + pyarrow app",
            "<=",
            1.3,
        ),
        row("start-up: --help", best["help"], best["typer help"], "Typer app --help", "<=", 1.3),
        row("start-up: heavy libraries scan loads", len(heavy), None, "modules", "<=", 0),
    ]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print_rows(suite(workdir(args, "ib-bench-startup-"), args.quick))


if __name__ == "__main__":
    main()

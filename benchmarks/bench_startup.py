"""Issue 21: start-up. Whole-process wall time, best of N fresh processes:
  pyarrow      python -c "import pyarrow" (the floor of any command that returns Arrow)
  typer floor  a one-command Typer app that imports pyarrow and prints its
               argument: the floor of a Typer CLI (typer 0.2x loads pydantic
               to convert arguments)
  --help       iceberg-bioimage --help
  scan         iceberg-bioimage scan of a tiny one-image store
and checks that ``scan`` loads none of pyiceberg, duckdb, tifffile, obstore.
Goal (the issue's): scan within 1.3x of the pyarrow floor.

Run: python benchmarks/bench_startup.py [--repeats 7]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bench_parser, print_rows, row
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


def best_wall(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def heavy_modules_loaded(store: Path) -> list[str]:
    """Which of the heavy optional libraries ``scan`` imports (none, we hope)."""
    code = (
        "import sys\nfrom iceberg_bioimage.cli import main\n"
        f"main(['scan', {str(store)!r}])\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    return [name for name in last.split(",") if name in HEAVY]


def suite(folder: Path, quick: bool = False) -> list[dict[str, Any]]:
    repeats = 5 if quick else 9
    store = folder / "tiny.ome.zarr"
    if not store.exists():
        write_metadata_image(store)
    floor_app = folder / "typer_floor.py"
    floor_app.write_text(TYPER_FLOOR)
    pyarrow_s = best_wall([sys.executable, "-c", "import pyarrow"], repeats)
    typer_s = best_wall([sys.executable, str(floor_app), "scan", str(store)], repeats)
    help_s = best_wall([*CLI, "--help"], repeats)
    scan_s = best_wall([*CLI, "scan", str(store)], repeats)
    heavy = heavy_modules_loaded(store)
    print(f"scan loads: {', '.join(heavy) or 'none of ' + ', '.join(HEAVY)}")
    return [
        # The floor; a Typer CLI alone is about 2x it, so the gate is the next row.
        row(
            "start-up: scan of a tiny store",
            scan_s,
            pyarrow_s,
            "import pyarrow",
            "<=",
            1.3,
            gate=False,
        ),
        row("start-up: scan of a tiny store", scan_s, typer_s, "Typer + pyarrow app", "<=", 1.3),
        row("start-up: --help", help_s, typer_s, "Typer + pyarrow app", "<=", 1.3),
        row("start-up: heavy libraries scan loads", len(heavy), None, "modules", "<=", 0),
    ]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="ib-bench-startup-"))
    folder.mkdir(parents=True, exist_ok=True)
    print_rows(suite(folder, args.quick))


if __name__ == "__main__":
    main()

"""Every benchmark with a goal, as one table: ``python -m benchmarks``.

Each benchmark module builds its own input, runs its baseline in the same run
and returns rows (workload, ours, baseline, figure, goal, met?). This runs
them all, prints one table and writes it as JSON.

  python -m benchmarks               full sizes (by hand; tens of minutes)
  python -m benchmarks --quick       small sizes (CI; a few minutes)
  python -m benchmarks --only plate,startup --markdown
  python -m benchmarks --check       exit 1 when a figure is more than 3x
                                     worse than its goal: a regression alarm
                                     that tolerates noisy machines, never a
                                     timed test

Single benchmarks keep their own command lines (``python benchmarks/bench_*.py``)
for the detail and the peers that take long.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the benchmarks import their helpers by plain name

# short name: the module whose suite(folder, quick=...) returns its rows
SUITES: dict[str, str] = {
    "plate": "bench_scan_plate",
    "tiff": "bench_scan_tiff",
    "startup": "bench_startup",
    "latency": "bench_remote_latency",
    "collection": "bench_collection",
    "chunks": "bench_chunk_index",
    "publish": "bench_publish",
    "join": "bench_join",
    "pixels": "bench_pixels",
    "catalogue": "bench_catalogue",
}


# Each suite runs in a process of its own: what one loads (a pixel backend
# that makes forking unsafe, say) or leaves in memory must not change another's
# figures.
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
module, folder, quick, out = sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
from pathlib import Path
rows = __import__(module).suite(Path(folder), quick=quick)
Path(out).write_text(json.dumps(rows))
"""


def run(names: list[str], folder: Path, quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in names:
        start = time.perf_counter()
        print(f"== {name} ({SUITES[name]}.py)", flush=True)
        part = folder / name
        part.mkdir(parents=True, exist_ok=True)
        out = part / "rows.json"
        out.unlink(missing_ok=True)
        arguments = [str(HERE), SUITES[name], str(part), "1" if quick else "0", str(out)]
        subprocess.run([sys.executable, "-c", CHILD, *arguments], check=True)
        found = json.loads(out.read_text())
        for entry in found:
            entry["suite"] = name
        rows += found
        print(f"   {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small inputs (CI)")
    parser.add_argument("--only", default="", help=f"some of: {', '.join(SUITES)}")
    parser.add_argument("--workdir", type=Path, default=None, help="inputs are built here")
    parser.add_argument("--json", type=Path, default=Path("benchmark-results.json"))
    parser.add_argument("--check", action="store_true", help="exit 1 on a >3x regression")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SUITES)
    unknown = sorted(set(names) - set(SUITES))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    from common import markdown_rows, print_rows, workdir

    rows = run(names, workdir(args, "ib-benchmarks-"), args.quick)

    print()
    print_rows(rows)
    if args.markdown:
        print()
        print(markdown_rows(rows))
    args.json.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"\nwritten: {args.json}")
    alarms = [r for r in rows if r["alarm"]]
    for r in alarms:
        print(f"REGRESSION: {r['workload']}: {r['figure']} against goal {r['goal']}")
    return 1 if args.check and alarms else 0


if __name__ == "__main__":
    sys.exit(main())

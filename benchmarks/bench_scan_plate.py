"""Issues 2 and 21: scan a metadata-only HCS plate (384 wells x 9 fields x 4
levels by default; schema-valid: yaozarrs, ngio and ome-zarr-models read it).

Compares, in one run, for Zarr v2 / NGFF 0.4 and Zarr v3 / NGFF 0.5, each with
and without consolidated metadata:
  bound    the tight bound: read exactly the metadata files the plate's
           metadata names (plate, wells, images, arrays; no listing, no
           probes) and parse each with orjson, the garbage collector paused
           (a consolidated plate has those files too, as zarr-python writes it)
  one doc  consolidated plates only: read and parse the one consolidated
           document (a stricter floor than the issue's; reported, no alarm)
  ours     iceberg_bioimage.scan_store (identical documents are parsed once,
           which the issue counts toward us)
  zarr     zarr-python: open the plate group and traverse every member
           (--peers; slow)
Then the scaling sweep (96 to 1,536 wells, v3): seconds per image must stay
flat. Goals: ours <= 1.5x bound; peak memory of the scan < 150 MB.

Run: python benchmarks/bench_scan_plate.py [--workdir DIR] [--peers] [--quick]
"""

from __future__ import annotations

import gc
import string
from pathlib import Path
from typing import Any

import orjson

from common import (
    PRINT_PEAK_KB,
    bench_parser,
    best_interleaved,
    best_of,
    peak_mb,
    print_rows,
    row,
    traverse_with_zarr,
    workdir,
)
from iceberg_bioimage.samples import write_metadata_plate

ROWS_384 = tuple(string.ascii_uppercase[:16])
COLUMNS_384 = tuple(str(c) for c in range(1, 25))


def plate_shape(wells: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Rows and columns of a standard plate of ``wells`` wells (96, 384, 1536)."""
    rows = {24: 4, 96: 8, 384: 16, 1536: 32}[wells]
    names = [*string.ascii_uppercase, *(f"A{c}" for c in string.ascii_uppercase)]
    return tuple(names[:rows]), tuple(str(c) for c in range(1, wells // rows + 1))


def plate(folder: Path, zarr_format: int, consolidated: bool, wells: int = 384) -> Path:
    suffix = "_consolidated" if consolidated else ""
    root = folder / f"plate_{wells}_v{zarr_format}{suffix}.ome.zarr"
    if not root.exists():
        rows, columns = plate_shape(wells)
        write_metadata_plate(
            root, zarr_format, rows=rows, columns=columns, consolidated=consolidated
        )
    return root


def _read(path: str) -> Any:
    with open(path, "rb") as handle:
        return orjson.loads(handle.read())


def tight_bound(root: Path, zarr_format: int, consolidated: bool) -> int:
    """Read and parse exactly the documents the plate names; returns how many."""
    gc.disable()
    try:
        if consolidated:
            _read(f"{root}/{'.zmetadata' if zarr_format == 2 else 'zarr.json'}")
            return 1
        group, array = (".zattrs", ".zarray") if zarr_format == 2 else ("zarr.json", "zarr.json")

        def ome(path: str) -> dict[str, Any]:
            document = _read(path)
            return document if zarr_format == 2 else document["attributes"]["ome"]

        count = 1
        for well in ome(f"{root}/{group}")["plate"]["wells"]:
            well_path = f"{root}/{well['path']}"
            count += 1
            for image in ome(f"{well_path}/{group}")["well"]["images"]:
                image_path = f"{well_path}/{image['path']}"
                count += 1
                for dataset in ome(f"{image_path}/{group}")["multiscales"][0]["datasets"]:
                    _read(f"{image_path}/{dataset['path']}/{array}")
                    count += 1
        return count
    finally:
        gc.enable()


def ours(root: Path) -> int:
    from iceberg_bioimage import scan_store

    return len(scan_store(root).image_assets)


def zarr_python(root: Path) -> int:
    import zarr

    return traverse_with_zarr(zarr.open_group(str(root), mode="r"))


def peak_rss_mb(root: Path) -> float:
    """Peak resident memory of a fresh process that imports the package and scans."""
    code = (
        "import sys; from iceberg_bioimage import scan_store; scan_store(sys.argv[1]); "
        + PRINT_PEAK_KB
    )
    return peak_mb(code, str(root))


def suite(folder: Path, quick: bool = False, peers: bool = False) -> list[dict[str, Any]]:
    """The plate rows of the benchmark table (``quick``: fewer repeats, no sweep)."""
    wells = 384  # quick too: fixed costs would dominate a smaller plate's ratios
    repeats = 3 if quick else 5
    results = []
    for zarr_format in (2, 3):
        for consolidated in (False, True):
            root = plate(folder, zarr_format, consolidated, wells)
            name = f"{wells}-well plate, v{zarr_format}{', consolidated' if consolidated else ''}"
            calls = {
                "bound": lambda r=root, z=zarr_format: tight_bound(r, z, False),
                "ours": lambda r=root: ours(r),
            }
            if consolidated:
                calls["one doc"] = lambda r=root, z=zarr_format: tight_bound(r, z, True)
            timed = best_interleaved(calls, repeats)
            (bound_s, _), (ours_s, images) = timed["bound"], timed["ours"]
            assert images == wells * 9, images
            results.append(row(f"scan {name}", ours_s, bound_s, "tight bound", "<=", 1.5))
            if consolidated:
                one_doc_s = timed["one doc"][0]
                results.append(row(f"scan {name}", ours_s, one_doc_s, "its one document", "<=",
                                   1.5, gate=False))  # fmt: skip
            if peers and not consolidated:
                zarr_s, _ = best_of(lambda r=root: zarr_python(r), 1)
                results.append(row(f"scan {name}", ours_s, zarr_s, "zarr-python", ">=", 5))
    root = plate(folder, 3, False, wells)
    results.append(
        row(f"scan {wells}-well plate, peak memory", peak_rss_mb(root), None, "MB", "<=", 150)
    )
    if not quick:
        print("scaling sweep (v3, no consolidated metadata):")
        results += sweep(folder, (96, 384, 1536))
    return results


def sweep(folder: Path, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Seconds per image from the smallest plate to the largest (v3)."""
    per_image = {}
    for wells in sizes:
        root = plate(folder, 3, False, wells)
        timed = best_interleaved(
            {"ours": lambda r=root: ours(r), "bound": lambda r=root: tight_bound(r, 3, False)}, 3
        )
        (seconds, images), (bound_s, _) = timed["ours"], timed["bound"]
        per_image[wells] = seconds / images
        print(
            f"  {wells:>5} wells: {images:>6} images, ours {seconds:.3f} s "
            f"({1e6 * seconds / images:.1f} us/image), bound {bound_s:.3f} s, "
            f"ratio {seconds / bound_s:.2f}"
        )
    first, last = per_image[sizes[0]], per_image[sizes[-1]]
    return [
        row(
            f"scan sweep {sizes[0]}->{sizes[-1]} wells, time per image",
            last * 1e6,
            first * 1e6,
            f"per image at {sizes[0]} wells",
            "<=",
            1.3,
            unit="us",
        )
    ]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--peers", action="store_true", help="also zarr-python (slow)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no sweep")
    args = parser.parse_args()
    folder = workdir(args, "ib-bench-plate-")
    print_rows(suite(folder, args.quick, args.peers))


if __name__ == "__main__":
    main()

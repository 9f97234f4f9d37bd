"""Issue 2: scan a 384-well x 9-field x 4-level metadata-only plate.

Compares, in one run, for Zarr v2 / NGFF 0.4 and Zarr v3 / NGFF 0.5:
  raw      walk the store, read and json-parse every metadata file (stdlib)
  ours     iceberg_bioimage.scan_store
  zarr     zarr-python: open the plate group and traverse every member
Goal: ours <= 1.5x raw, zarr / ours >= 5, peak memory of the scan < 300 MB.

Run: python benchmarks/bench_scan_plate.py [--workdir DIR] [--skip-zarr]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from common import PRINT_PEAK_KB, bench_parser, best_of, peak_mb, traverse_with_zarr, workdir
from iceberg_bioimage.samples import write_metadata_plate

METADATA = {".zattrs", ".zgroup", ".zarray", "zarr.json"}


def raw_lower_bound(root: Path) -> int:
    parsed = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name in METADATA:
                with open(os.path.join(folder, name), "rb") as handle:
                    json.loads(handle.read())
                parsed += 1
    return parsed


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


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--skip-zarr", action="store_true", help="skip the slow zarr-python baseline"
    )
    args = parser.parse_args()
    folder = workdir(args, "ib-bench-plate-")
    header = ("raw s", 8), ("ours s", 8), ("zarr s", 8), ("ours/raw", 10), ("zarr/ours", 11)
    print(f"{'variant':<16}" + "".join(f"{name:>{width}}" for name, width in header) + "  peak MB")
    for zarr_format, label in ((2, "v2 / NGFF 0.4"), (3, "v3 / NGFF 0.5")):
        root = folder / f"plate_v{zarr_format}.ome.zarr"
        if not root.exists():
            write_metadata_plate(root, zarr_format)
        raw_s, files = best_of(lambda root=root: raw_lower_bound(root), args.repeats)
        ours_s, images = best_of(lambda root=root: ours(root), args.repeats)
        assert images == 384 * 9, images
        zarr_s = float("nan")
        if not args.skip_zarr:
            zarr_s, arrays = best_of(lambda root=root: zarr_python(root), 1)
            assert arrays == 384 * 9 * 4, arrays
        peak = peak_rss_mb(root)
        print(
            f"{label:<16}{raw_s:>8.3f}{ours_s:>8.3f}{zarr_s:>8.2f}"
            f"{ours_s / raw_s:>10.2f}{zarr_s / ours_s:>11.1f}{peak:>9.0f}"
        )
        print(f"{'':<16}({files} metadata files, {images} images)")


if __name__ == "__main__":
    main()

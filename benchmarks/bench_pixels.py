"""Issue 18: pixels. Builds its own inputs (zarr-python and ome-zarr-py write
them) and measures, in one run:

1. 500 crops of 64x64 in one 2048x2048 field (3 channels, uint16, 256x256
   chunks): ``ib.image_crops`` (OME-Arrow rows included) against the baseline
   of reading the field once with the fastest backend and slicing in numpy.
   Goal: within 1.5x.
2. Sharded Zarr v3 region reads, 2048x2048 uint16 out of 8192x8192 (1024 shards
   of 256 chunks): each backend's time and its ratio to zarr-python's default
   pipeline.
3. Crop Parquet size over the raw pixel bytes, on a microscopy-like field and
   on incompressible noise. Goal: within 1.1x.
4. 10,000 crops across a 96-well plate written to a warehouse root, in a fresh
   process: crops/s and peak memory. Goal: under 1 GB.

Run: python benchmarks/bench_pixels.py [--workdir DIR]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import zarr

import iceberg_bioimage as ib
from common import PRINT_PEAK_KB, bench_parser, best_interleaved, best_of, print_rows, row, workdir
from iceberg_bioimage.pixels import array_source, available_backends, open_array

RNG = np.random.default_rng(18)


def microscopy_field(height: int, width: int, channels: int) -> np.ndarray:
    """Smooth structure plus shot noise: compresses like real fluorescence."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = 900 + 700 * np.sin(yy / 37.0) * np.cos(xx / 53.0)
    return np.stack([RNG.poisson(base * (1 + c / 3)) for c in range(channels)]).astype("uint16")


def write_field(path: Path, data: np.ndarray) -> Path:
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_image

    if not path.exists():
        group = zarr.open_group(str(path), mode="w", zarr_format=3)
        write_image(data, group, axes=list("cyx"), fmt=FormatV05(), scale_factors=[],
                    storage_options={"chunks": (1, 256, 256)})  # fmt: skip
    return path


def crop_profiles(image_id: str, dataset_id: str, count: int, height: int, width: int) -> pa.Table:
    return pa.table(
        {
            "dataset_id": [dataset_id] * count,
            "image_id": [image_id] * count,
            "Cells_Number_Object_Number": np.arange(1, count + 1),
            "Cells_AreaShape_Center_X": RNG.uniform(32, width - 32, count),
            "Cells_AreaShape_Center_Y": RNG.uniform(32, height - 32, count),
        }
    )


def bench_field_crops(root: Path) -> list[dict[str, Any]]:
    data = microscopy_field(2048, 2048, 3)
    path = write_field(root / "field.ome.zarr", data)
    images = ib.scan_as_arrow_table(path)
    image = images.to_pylist()[0]
    profiles = crop_profiles(image["image_id"], image["dataset_id"], 500, 2048, 2048)
    fastest = available_backends()[0]
    cx = profiles.column("Cells_AreaShape_Center_X").to_numpy()
    cy = profiles.column("Cells_AreaShape_Center_Y").to_numpy()

    def baseline() -> int:
        array = open_array(array_source(image), fastest)
        field = array.read((slice(None), slice(None), slice(None)))
        crops = [
            field[:, int(y) - 32 : int(y) + 32, int(x) - 32 : int(x) + 32]
            for x, y in zip(cx, cy, strict=True)
        ]
        return len(crops)

    def ours() -> int:
        batches = ib.image_crops(profiles, images, size=64, backend=fastest)
        return sum(b.num_rows for b in batches)

    timed = best_interleaved({"baseline": baseline, "ours": ours}, repeats=7)
    base, (mine, count) = timed["baseline"][0], timed["ours"]
    print(f"[1] {count} crops 64x64x3 from one 2048x2048 field, backend {fastest}")
    print(f"    read once + numpy slicing: {base:.3f} s   ib.image_crops: {mine:.3f} s")
    print(f"    ratio {mine / base:.2f}x (goal <= 1.5x)")
    name = f"{count} crops 64x64x3 from one 2048x2048 field ({fastest})"
    return [row(name, mine, base, "read once + numpy slices", "<=", 1.5)]


def bench_sharded_backends(root: Path) -> list[dict[str, Any]]:
    path = root / "sharded.zarr"
    if not path.exists():
        array = zarr.create_array(str(path), shape=(8192, 8192), chunks=(256, 256),
                                  shards=(1024, 1024), dtype="uint16", dimension_names=["y", "x"])  # fmt: skip
        for y in range(0, 8192, 1024):
            array[y : y + 1024] = microscopy_field(1024, 8192, 1)[0]
    image = ib.scan_as_arrow_table(path).to_pylist()[0]
    region = (slice(3000, 5048), slice(2000, 4048))
    times = {}
    for backend in [b for b in available_backends() if b != "tifffile"]:
        array = open_array(array_source(image), backend)
        times[backend], got = best_of(lambda a=array: a.read(region))
        assert got.shape == (2048, 2048)
    print("[2] sharded v3: 2048x2048 uint16 out of 8192x8192")
    for backend, seconds in sorted(times.items(), key=lambda kv: kv[1]):
        print(f"    {backend:<12} {seconds:.3f} s   {times['zarr'] / seconds:.2f}x zarr-python")
    fastest = min(times, key=times.__getitem__)
    return [
        row(f"sharded 2048x2048 region, fastest backend ({fastest})", times[fastest],
            times["zarr"], "zarr-python", ">=", 1),
    ]  # fmt: skip


def bench_parquet_size(root: Path) -> list[dict[str, Any]]:
    print("[3] crop Parquet size / raw pixel bytes (goal <= 1.1x)")
    rows = []
    for name, data in (
        ("microscopy-like", microscopy_field(2048, 2048, 3)),
        ("uniform noise", RNG.integers(0, 65535, (3, 2048, 2048), dtype="uint16")),
    ):
        path = write_field(root / f"size_{name.split()[0]}.ome.zarr", data)
        image = ib.scan_as_arrow_table(path).to_pylist()[0]
        profiles = crop_profiles(image["image_id"], image["dataset_id"], 500, 2048, 2048)
        out = root / f"size_root_{name.split()[0]}"
        shutil.rmtree(out, ignore_errors=True)  # a fresh root: no retired parts counted
        ib.export_crops_to_cytomining_warehouse(profiles, path, out, size=64)
        size = sum(p.stat().st_size for p in (out / "images" / "image_crops").glob("*.parquet"))
        raw = 500 * 3 * 64 * 64 * 2
        print(
            f"    {name:<16} {size / raw:.3f}x  ({size / 2**20:.1f} MiB for {raw / 2**20:.1f} MiB)"
        )
        rows.append(row(f"crop Parquet size, {name}", size, raw, "raw pixel bytes", "<=", 1.1,
                        unit="bytes"))  # fmt: skip
    return rows


PLATE_JOB = (
    """
import sys, time, json
import pyarrow.parquet as pq
import iceberg_bioimage as ib
profiles = pq.read_table(sys.argv[1])
start = time.perf_counter()
result = ib.export_crops_to_cytomining_warehouse(profiles, sys.argv[2], sys.argv[3], size=64)
seconds = time.perf_counter() - start
print(json.dumps({"rows": result.tables["images.image_crops"], "seconds": seconds}))
"""
    + PRINT_PEAK_KB
)


def bench_plate(root: Path, crops: int = 10_000) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

    path = root / "plate96.ome.zarr"
    rows, cols = "ABCDEFGH", [str(c) for c in range(1, 13)]
    if not path.exists():
        plate = zarr.open_group(str(path), mode="w", zarr_format=3)
        wells = [f"{r}/{c}" for r in rows for c in cols]
        write_plate_metadata(plate, list(rows), cols, wells, fmt=FormatV05(), name="P96")
        field = microscopy_field(1080, 1080, 3)
        for well in wells:
            group = plate.require_group(well)
            write_well_metadata(group, ["0"], fmt=FormatV05())
            write_image(field, group.require_group("0"), axes=list("cyx"), fmt=FormatV05(),
                        scale_factors=[], storage_options={"chunks": (1, 256, 256)})  # fmt: skip
    per_well = crops // 96 + 1
    wells = [f"{r}{int(c):02d}" for r in rows for c in cols]
    profiles = pa.table(
        {
            "Metadata_Plate": ["P96"] * per_well * 96,
            "Metadata_Well": np.repeat(wells, per_well),
            "Metadata_Site": [0] * per_well * 96,
            "Cells_AreaShape_Center_X": RNG.uniform(32, 1048, per_well * 96),
            "Cells_AreaShape_Center_Y": RNG.uniform(32, 1048, per_well * 96),
        }
    ).slice(0, crops)
    pq.write_table(profiles, root / "plate_profiles.parquet")
    out = root / "plate_root"
    done = subprocess.run(
        [sys.executable, "-c", PLATE_JOB, str(root / "plate_profiles.parquet"), str(path), str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-2])
    peak = int(lines[-1]) / 1024
    print(
        f"[4] {crops:,} crops 64x64x3 across a 96-well plate into a warehouse root (fresh process)"
    )
    print(f"    {figures['rows']} crops in {figures['seconds']:.2f} s: "
          f"{figures['rows'] / figures['seconds']:.0f} crops/s; peak memory {peak:.0f} MB (goal < 1024)")  # fmt: skip
    return [row(f"{crops:,} crops across a 96-well plate: peak memory", peak, None, "MB",
                "<=", 1024)]  # fmt: skip


def suite(folder: Path, quick: bool = False) -> list[dict[str, Any]]:
    """The pixel rows (``quick``: 2,000 crops across the plate)."""
    return (
        bench_field_crops(folder)
        + bench_sharded_backends(folder)
        + bench_parquet_size(folder)
        + bench_plate(folder, 2_000 if quick else 10_000)
    )


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    print_rows(suite(workdir(args, "bench_pixels_")))


if __name__ == "__main__":
    main()

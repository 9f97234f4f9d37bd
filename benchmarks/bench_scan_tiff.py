"""Issues 3 and 21: scan a folder of small OME-TIFFs (2,000 by default).

The benchmark writes the folder itself with tifffile: every file has OME-XML,
every third is tiled, every other one carries Plate/Well/WellSample metadata.
In one run it measures
  bound    open each file with tifffile, read the first page's tags and the
           OME-XML string, nothing else (sequential, stdlib + tifffile)
  ours     iceberg_bioimage.scan_store(folder), with its worker processes
  ours/1   the same scan in this one process (workers=1)
Goal: ours <= 1.5x bound, both ways.

Run: python benchmarks/bench_scan_tiff.py [--files 2000] [--workdir DIR] [--quick]
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from common import bench_parser, best_interleaved, print_rows, row, workdir


def plate_xml(name: str, file_uuid: str, file_index: int) -> str:
    ns = 'xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"'
    site = 0  # one field per file: every plate file holds its own well
    row, column = divmod(file_index, 24)
    pixels = (
        '<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeT="1" SizeC="1" '
        'SizeZ="1" SizeY="64" SizeX="64" PhysicalSizeX="0.65" PhysicalSizeY="0.65">'
        '<Channel ID="Channel:0:0" Name="DNA" SamplesPerPixel="1"/>'
        f'<TiffData IFD="0" PlaneCount="1"><UUID FileName="{name}">{file_uuid}</UUID></TiffData>'
        "</Pixels>"
    )
    plate = (
        f'<Plate ID="Plate:0" Name="bench-plate-{row // 16}"><Well ID="Well:0" Row="{row % 16}" '
        f'Column="{column}"><WellSample ID="WellSample:0" Index="{site}">'
        '<ImageRef ID="Image:0"/></WellSample></Well></Plate>'
    )
    image = f'<Image ID="Image:0">{pixels}</Image>'
    return f'<?xml version="1.0"?><OME {ns} UUID="{file_uuid}">{plate}{image}</OME>'


def write_folder(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = np.zeros((64, 64), "uint16")
    for index in range(count):
        name = f"img_{index:05d}.ome.tif"
        tile = (32, 32) if index % 3 == 0 else None
        if index % 2 == 0:
            xml = plate_xml(name, f"urn:uuid:{uuid.uuid4()}", index // 2)
            tifffile.imwrite(folder / name, data, description=xml, metadata=None, tile=tile)
        else:
            tifffile.imwrite(folder / name, data, ome=True, metadata={"axes": "YX"}, tile=tile)


def lower_bound(folder: Path) -> int:
    count = 0
    for path in sorted(folder.iterdir()):
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            _ = {tag.name: tag.value for tag in page.tags}
            _ = page.description
            count += 1
    return count


def ours(folder: Path, workers: int | None = None) -> int:
    from iceberg_bioimage import scan_store
    from iceberg_bioimage.scan.tiff_dataset import scan_tiff_folder

    if workers is None:
        result = scan_store(folder)
    else:
        result = scan_tiff_folder(str(folder), folder.name, workers=workers)
    assert not result.warnings, result.warnings[:3]
    return len(result.image_assets)


def suite(workdir: Path, quick: bool = False, files: int = 2000) -> list[dict[str, Any]]:
    files = 300 if quick else files
    folder = workdir / f"tiffs_{files}"
    if not folder.exists():
        write_folder(folder, files)
    timed = best_interleaved(
        {
            "bound": lambda: lower_bound(folder),
            "one process": lambda: ours(folder, workers=1),
            "workers": lambda: ours(folder),
        },
        repeats=5,
    )
    (bound_s, read), (single_s, images) = timed["bound"], timed["one process"]
    workers_s, images_w = timed["workers"]
    assert read == images == images_w == files, (read, images, images_w)
    name = f"scan {files} OME-TIFF headers"
    return [
        row(f"{name}, one process", single_s, bound_s, "tifffile open+tags+XML", "<=", 1.5),
        row(f"{name}, worker processes", workers_s, bound_s, "tifffile open+tags+XML", "<=", 1.5),
    ]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print_rows(suite(workdir(args, "ib-bench-tiff-"), args.quick, args.files))


if __name__ == "__main__":
    main()

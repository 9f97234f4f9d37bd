"""Issue 3: scan a folder of 5,000 small OME-TIFFs.

The benchmark writes the folder itself with tifffile: every file has OME-XML,
every third is tiled, every other one carries Plate/Well/WellSample metadata.
In one run it measures
  bound    open each file with tifffile, read the first page's tags and the
           OME-XML string, nothing else (sequential, stdlib + tifffile)
  ours     iceberg_bioimage.scan_store(folder), using the machine's threads
Goal: ours <= 1.5x bound.

Run: python benchmarks/bench_scan_tiff.py [--files 5000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path

import numpy as np
import tifffile

from common import best_of


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


def ours(folder: Path) -> int:
    from iceberg_bioimage import scan_store

    result = scan_store(folder)
    assert not result.warnings, result.warnings[:3]
    return len(result.image_assets)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = (
        args.workdir or Path(tempfile.mkdtemp(prefix="ib-bench-tiff-"))
    ) / f"tiffs_{args.files}"
    if not folder.exists():
        write_folder(folder, args.files)
    bound_s, files = best_of(lambda: lower_bound(folder), args.repeats)
    ours_s, images = best_of(lambda: ours(folder), args.repeats)
    assert files == images == args.files, (files, images)
    ratio = ours_s / bound_s
    print(f"{files} OME-TIFFs: bound {bound_s:.3f} s, ours {ours_s:.3f} s, ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()

"""TIFF / OME-TIFF fixtures written with tifffile (OME-XML built where tifffile has none)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import tifffile

NS = 'xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"'


def _pixels(
    index: int, size: tuple[int, int, int, int, int], tiffdata: str, extra: str = ""
) -> str:
    t, c, z, y, x = size
    channels = "".join(
        f'<Channel ID="Channel:{index}:{k}" Name="ch{k}" SamplesPerPixel="1" '
        f'EmissionWavelength="{500 + 50 * k}"/>'
        for k in range(c)
    )
    return (
        f'<Pixels ID="Pixels:{index}" DimensionOrder="XYZCT" Type="uint16" '
        f'SizeT="{t}" SizeC="{c}" SizeZ="{z}" SizeY="{y}" SizeX="{x}" '
        f'PhysicalSizeX="0.325" PhysicalSizeXUnit="µm" PhysicalSizeY="0.325" {extra}>'
        f"{channels}{tiffdata}</Pixels>"
    )


def plate_ome_xml(
    name: str, wells: list[tuple[int, int]], fields: int, size: tuple[int, ...], file_uuid: str
) -> str:
    """Images in well-major order; a Plate with Wells and WellSamples referencing them."""
    images, well_xml, planes = [], [], int(np.prod(size[:3]))
    image_index = 0
    for well_index, (row, column) in enumerate(wells):
        samples = []
        for field in range(fields):
            tiffdata = (
                f'<TiffData IFD="{image_index * planes}" PlaneCount="{planes}">'
                f'<UUID FileName="plate.ome.tiff">{file_uuid}</UUID></TiffData>'
            )
            images.append(
                f'<Image ID="Image:{image_index}" Name="field{field}">'
                f"{_pixels(image_index, size, tiffdata)}</Image>"  # type: ignore[arg-type]
            )
            samples.append(
                f'<WellSample ID="WellSample:{well_index}:{field}" Index="{image_index}">'
                f'<ImageRef ID="Image:{image_index}"/></WellSample>'
            )
            image_index += 1
        well_xml.append(
            f'<Well ID="Well:{well_index}" Row="{row}" Column="{column}">{"".join(samples)}</Well>'
        )
    acquisition = "".join(
        f'<WellSampleRef ID="WellSample:{w}:{f}"/>'
        for w in range(len(wells))
        for f in range(fields)
    )
    plate = (
        f'<Plate ID="Plate:0" Name="{name}" RowNamingConvention="letter" '
        f'ColumnNamingConvention="number">{"".join(well_xml)}'
        f'<PlateAcquisition ID="PlateAcquisition:0" Name="run1">{acquisition}</PlateAcquisition>'
        "</Plate>"
    )
    head = f'<?xml version="1.0" encoding="UTF-8"?><OME {NS} UUID="{file_uuid}">'
    return f"{head}{plate}{''.join(images)}</OME>"


def write_plate_ome_tiff(
    path: Path,
    *,
    name: str = "test-plate",
    wells=((0, 0), (0, 1)),
    fields: int = 2,
    size=(1, 2, 1, 32, 32),
    tile: tuple[int, int] | None = None,
) -> Path:
    file_uuid = f"urn:uuid:{uuid.uuid4()}"
    xml = plate_ome_xml(name, list(wells), fields, size, file_uuid)
    planes = int(np.prod(size[:3])) * len(wells) * fields
    with tifffile.TiffWriter(path) as tif:
        for index in range(planes):
            tif.write(
                np.full(size[-2:], index, dtype="uint16"),
                description=xml.encode() if index == 0 else None,
                metadata=None,
                tile=tile,
                contiguous=False,
            )
    return path


def write_pyramid_ome_tiff(path: Path, *, tile=(16, 16), levels: int = 3) -> Path:
    """A tiled OME-TIFF with SubIFD pyramid levels (tifffile writes the OME-XML)."""
    data = np.arange(2 * 64 * 64, dtype="uint16").reshape(2, 64, 64)
    with tifffile.TiffWriter(path, ome=True) as tif:
        metadata = {
            "axes": "CYX",
            "PhysicalSizeX": 0.5,
            "PhysicalSizeY": 0.5,
            "Channel": {"Name": ["DAPI", "GFP"]},
        }
        tif.write(data, subifds=levels - 1, tile=tile, metadata=metadata)
        for level in range(1, levels):
            step = 2**level
            tif.write(data[:, ::step, ::step], subfiletype=1, tile=tile, metadata=None)
    return path


def write_multi_series_ome_tiff(path: Path) -> Path:
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(np.zeros((3, 16, 16), "uint8"), metadata={"axes": "ZYX", "Name": "first"})
        tif.write(np.zeros((2, 8, 24), "float32"), metadata={"axes": "CYX", "Name": "second"})
    return path


def write_ome_tiff(path: Path, data: np.ndarray, axes: str, **kwargs) -> Path:  # type: ignore[no-untyped-def]
    tifffile.imwrite(path, data, ome=True, metadata={"axes": axes}, **kwargs)
    return path


def _tiffdata(axis: str, index: int, file_name: str, file_uuid: str) -> str:
    return (
        f'<TiffData First{axis}="{index}" IFD="0" PlaneCount="1">'
        f'<UUID FileName="{file_name}">{file_uuid}</UUID></TiffData>'
    )


def write_multifile_ome_tiff(folder: Path) -> list[Path]:
    """One image (C=2) whose two planes are in two files, each carrying the OME-XML."""
    uuids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(2)]
    names = ["set_C0.ome.tif", "set_C1.ome.tif"]
    tiffdata = "".join(_tiffdata("C", c, names[c], uuids[c]) for c in range(2))
    paths = []
    for c in range(2):
        xml = (
            f'<?xml version="1.0"?><OME {NS} UUID="{uuids[c]}"><Image ID="Image:0" Name="set">'
            f"{_pixels(0, (1, 2, 1, 16, 16), tiffdata)}</Image></OME>"
        )
        path = folder / names[c]
        tifffile.imwrite(
            path, np.full((16, 16), c, "uint16"), description=xml.encode(), metadata=None
        )
        paths.append(path)
    return paths


def write_companion_fileset(folder: Path) -> Path:
    """BinaryOnly TIFFs plus a .companion.ome holding the OME-XML."""
    uuids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(2)]
    names = ["part_0.ome.tif", "part_1.ome.tif"]
    for index, name in enumerate(names):
        binary_only = (
            f'<?xml version="1.0"?><OME {NS} UUID="{uuids[index]}">'
            '<BinaryOnly MetadataFile="fileset.companion.ome" UUID="urn:uuid:0"/></OME>'
        )
        tifffile.imwrite(
            folder / name,
            np.zeros((16, 16), "uint16"),
            description=binary_only,
            metadata=None,
            tile=(16, 16),
        )
    tiffdata = "".join(_tiffdata("Z", z, names[z], uuids[z]) for z in range(2))
    companion = folder / "fileset.companion.ome"
    companion.write_text(
        f'<?xml version="1.0"?><OME {NS}><Image ID="Image:0" Name="fs">'
        f"{_pixels(0, (1, 1, 2, 16, 16), tiffdata)}</Image></OME>"
    )
    return companion

"""OME-XML (the OME data model) parsed into small records. No I/O.

Only what the canonical model needs: every ``Image`` with its ``Pixels`` sizes,
type, physical sizes, channels and ``TiffData`` blocks, and the HCS model
(``Plate`` / ``Well`` / ``WellSample`` / ``PlateAcquisition``) mapped to the
images it references. Element names are matched without their namespace, so
every schema year (2008 to 2016-06 and later) reads the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iceberg_bioimage import identity
from iceberg_bioimage.errors import OmeXmlError
from iceberg_bioimage.units import ngff_unit

if TYPE_CHECKING:  # the parser is loaded on first use (start-up of other commands)
    import xml.etree.ElementTree as ET

_TRAILING_INT = re.compile(r"(\d+)$")


@dataclass(frozen=True, slots=True)
class OmeChannel:
    name: str | None
    emission_wavelength: float | None
    excitation_wavelength: float | None
    color: int | None
    samples_per_pixel: int


@dataclass(frozen=True, slots=True)
class OmeTiffData:
    ifd: int
    plane_count: int | None
    file_name: str | None
    uuid: str | None
    first_z: int = 0
    first_c: int = 0
    first_t: int = 0


@dataclass(frozen=True, slots=True)
class OmePlatePosition:
    plate_id: str | None  # the Plate's Name (None when unnamed)
    row: str
    column: str
    site: int
    acquisition_id: str | None
    acquisition_name: str | None


@dataclass(frozen=True, slots=True)
class OmeImage:
    index: int
    id: str
    name: str | None
    size_t: int
    size_c: int
    size_z: int
    size_y: int
    size_x: int
    dimension_order: str
    pixel_type: str
    physical_sizes: dict[str, tuple[float, str]]  # axis -> (size, unit)
    time_increment: tuple[float, str] | None
    channels: tuple[OmeChannel, ...]
    tiff_data: tuple[OmeTiffData, ...]
    plate: OmePlatePosition | None

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """TCZYX, the order OME-Zarr copies (bioformats2raw) use."""
        return (self.size_t, self.size_c, self.size_z, self.size_y, self.size_x)

    @property
    def samples_per_pixel(self) -> int:
        return max((c.samples_per_pixel for c in self.channels), default=1)


@dataclass(frozen=True, slots=True)
class OmeDocument:
    uuid: str | None
    images: tuple[OmeImage, ...]
    metadata_file: str | None  # set in BinaryOnly files: the companion holding the XML


def parse_ome_xml(text: str | bytes) -> OmeDocument:
    """Parse an OME-XML document; raises :class:`OmeXmlError` with the reason."""
    root = _tree(text)
    if root.tag != "OME":
        raise OmeXmlError(f"XML root is <{root.tag}>, not <OME>")
    binary_only = _child(root, "BinaryOnly")
    metadata_file = binary_only.get("MetadataFile") if binary_only is not None else None
    positions = _plate_positions(root)
    images = tuple(
        _image(index, element, positions) for index, element in enumerate(_children(root, "Image"))
    )
    return OmeDocument(root.get("UUID"), images, metadata_file)


def _tree(text: str | bytes) -> ET.Element:
    """The document as elements named without namespace or prefix, built from
    expat's events (half the time of ElementTree's own parser, which also
    resolves namespaces that every OME schema year then has to strip)."""
    import xml.etree.ElementTree as ET
    from xml.parsers import expat

    found: list[ET.Element] = []
    open_elements: list[ET.Element] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        element = ET.Element(name.rpartition(":")[2], attributes)
        if open_elements:
            open_elements[-1].append(element)
        else:
            found.append(element)
        open_elements.append(element)

    def end(_name: str) -> None:
        open_elements.pop()

    def characters(data: str) -> None:
        element = open_elements[-1]
        element.text = data if element.text is None else element.text + data

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        raise OmeXmlError(f"invalid OME-XML ({error})") from None
    return found[0]


def _image(index: int, element: ET.Element, positions: dict[str, OmePlatePosition]) -> OmeImage:
    pixels = _child(element, "Pixels")
    image_id = element.get("ID") or f"Image:{index}"
    if pixels is None:
        raise OmeXmlError(f"{image_id} has no Pixels element")
    sizes = {axis: _int(pixels, f"Size{axis.upper()}", image_id) for axis in "tczyx"}
    physical = {}
    for axis in "xyz":
        value = _float(pixels.get(f"PhysicalSize{axis.upper()}"))
        if value is not None and value > 0:
            unit = pixels.get(f"PhysicalSize{axis.upper()}Unit") or "µm"  # the schema's default
            physical[axis] = (value, ngff_unit(unit))
    increment = _float(pixels.get("TimeIncrement"))
    return OmeImage(
        index=index,
        id=image_id,
        name=element.get("Name"),
        size_t=sizes["t"],
        size_c=sizes["c"],
        size_z=sizes["z"],
        size_y=sizes["y"],
        size_x=sizes["x"],
        dimension_order=pixels.get("DimensionOrder") or "XYZCT",
        pixel_type=_pixel_type(pixels.get("Type"), image_id),
        physical_sizes=physical,
        time_increment=(increment, ngff_unit(pixels.get("TimeIncrementUnit") or "s"))
        if increment
        else None,
        channels=tuple(_channel(c) for c in _children(pixels, "Channel")),
        tiff_data=tuple(_tiff_data(t) for t in _children(pixels, "TiffData")),
        plate=positions.get(image_id),
    )


def _channel(element: ET.Element) -> OmeChannel:
    color = element.get("Color")
    return OmeChannel(
        name=element.get("Name") or element.get("Fluor"),
        emission_wavelength=_float(element.get("EmissionWavelength")),
        excitation_wavelength=_float(element.get("ExcitationWavelength")),
        color=int(color) if color and color.lstrip("-").isdigit() else None,
        samples_per_pixel=int(element.get("SamplesPerPixel") or 1),
    )


def _tiff_data(element: ET.Element) -> OmeTiffData:
    uuid = _child(element, "UUID")
    file_name = uuid_text = None
    if uuid is not None:
        file_name = uuid.get("FileName")
        uuid_text = (uuid.text or "").strip() or None
    plane_count = element.get("PlaneCount")
    return OmeTiffData(
        ifd=int(element.get("IFD") or 0),
        plane_count=int(plane_count) if plane_count else None,
        file_name=file_name,
        uuid=uuid_text,
        first_z=int(element.get("FirstZ") or 0),
        first_c=int(element.get("FirstC") or 0),
        first_t=int(element.get("FirstT") or 0),
    )


def _plate_positions(root: ET.Element) -> dict[str, OmePlatePosition]:
    """Image ID -> its plate, well and site (the sample's rank in its well)."""
    positions: dict[str, OmePlatePosition] = {}
    for plate in _children(root, "Plate"):
        acquisitions = _acquisitions(plate)
        row_letters = (plate.get("RowNamingConvention") or "letter").lower() == "letter"
        column_letters = (plate.get("ColumnNamingConvention") or "number").lower() == "letter"
        for well in _children(plate, "Well"):
            row_index, column_index = int(well.get("Row") or 0), int(well.get("Column") or 0)
            row = identity.row_letters(row_index) if row_letters else str(row_index + 1)
            column = identity.row_letters(column_index) if column_letters else str(column_index + 1)
            samples = sorted(_children(well, "WellSample"), key=lambda s: int(s.get("Index") or 0))
            for site, sample in enumerate(samples):
                ref = _child(sample, "ImageRef")
                if ref is None or not ref.get("ID"):
                    continue
                acquisition = acquisitions.get(sample.get("ID") or "")
                positions[ref.get("ID") or ""] = OmePlatePosition(
                    plate_id=plate.get("Name"),
                    row=row,
                    column=column,
                    site=site,
                    acquisition_id=acquisition[0] if acquisition else None,
                    acquisition_name=acquisition[1] if acquisition else None,
                )
    return positions


def _acquisitions(plate: ET.Element) -> dict[str, tuple[str, str | None]]:
    """WellSample ID -> (acquisition id, name); ids lose their ``PlateAcquisition:`` prefix
    so they equal the integer ids OME-Zarr plates use."""
    found = {}
    for acquisition in _children(plate, "PlateAcquisition"):
        raw_id = acquisition.get("ID") or ""
        match = _TRAILING_INT.search(raw_id)
        acquisition_id = match.group(1) if match else raw_id
        for ref in _children(acquisition, "WellSampleRef"):
            found[ref.get("ID") or ""] = (acquisition_id, acquisition.get("Name"))
    return found


_PIXEL_TYPES = {
    "int8",
    "int16",
    "int32",
    "uint8",
    "uint16",
    "uint32",
    "float",
    "double",
    "complex",
    "double-complex",
    "bit",
}
_NUMPY_NAMES = {
    "float": "float32",
    "double": "float64",
    "complex": "complex64",
    "double-complex": "complex128",
    "bit": "bool",
}


def _pixel_type(value: str | None, image_id: str) -> str:
    if value not in _PIXEL_TYPES:
        raise OmeXmlError(f"{image_id} has unknown pixel Type {value!r}")
    return _NUMPY_NAMES.get(value, value)


def _int(element: ET.Element, name: str, image_id: str) -> int:
    value = element.get(name)
    if value is None or not value.isdigit() or int(value) < 1:
        raise OmeXmlError(f"{image_id} Pixels {name} is {value!r}, not a positive integer")
    return int(value)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return element.findall(name)


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return element.find(name)


@dataclass(frozen=True, slots=True)
class PlaneLocation:
    """Where one (t, c, z) plane of an image is stored."""

    block: OmeTiffData | None  # None: no TiffData, planes are IFDs 0.. of this file
    ifd: int
    t: int
    c: int
    z: int


def plane_locations(image: OmeImage) -> list[PlaneLocation]:
    """Every stored plane of ``image`` with its TiffData block and IFD.

    Planes are numbered in ``DimensionOrder`` (its first letter after ``XY``
    varies fastest); a block covers ``PlaneCount`` consecutive planes from its
    ``First*`` plane and IFD (all planes when it is the only block).
    """
    channel_planes = max(1, image.size_c // image.samples_per_pixel)
    sizes = {"Z": image.size_z, "C": channel_planes, "T": image.size_t}
    order = [letter for letter in image.dimension_order[2:] if letter in sizes]
    total = image.size_z * channel_planes * image.size_t

    def coordinates(plane: int) -> dict[str, int]:
        found = {}
        for letter in order:
            plane, found[letter] = divmod(plane, sizes[letter])
        return found

    def index(block: OmeTiffData) -> int:
        first = {"Z": block.first_z, "C": block.first_c, "T": block.first_t}
        value, stride = 0, 1
        for letter in order:
            value += first[letter] * stride
            stride *= sizes[letter]
        return value

    where: dict[int, tuple[OmeTiffData | None, int]] = {}
    if not image.tiff_data:
        where = {plane: (None, plane) for plane in range(total)}
    for block in image.tiff_data:
        start = index(block)
        count = block.plane_count or (total - start if len(image.tiff_data) == 1 else 1)
        for offset in range(min(count, total - start)):
            where[start + offset] = (block, block.ifd + offset)
    located = []
    for plane in sorted(where):
        block, ifd = where[plane]
        found = coordinates(plane)
        located.append(PlaneLocation(block, ifd, found["T"], found["C"], found["Z"]))
    return located

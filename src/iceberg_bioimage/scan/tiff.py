"""TIFF and OME-TIFF: headers and OME-XML only, never pixel data.

An OME-TIFF image is described by its OME-XML (every ``Image`` is an asset, in
TCZYX order like its OME-Zarr copy); the TIFF container adds what only it
knows: tile shape, compression, byte order, SubIFD pyramid levels. A plain
TIFF is read through tifffile's series (ImageJ hyperstacks give their axes).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from iceberg_bioimage import identity
from iceberg_bioimage.errors import RemoteStoreError, TiffReadError
from iceberg_bioimage.io.paths import is_safe_key, printable
from iceberg_bioimage.io.uri import file_uri, has_scheme
from iceberg_bioimage.models import Axis, ImageAsset, ImageLevel, PhysicalSize, ScanWarning
from iceberg_bioimage.scan.ome_xml import (
    OmeDocument,
    OmeImage,
    OmeTiffData,
    OmeXmlError,
    parse_ome_xml,
)
from iceberg_bioimage.scan.tiff_ifd import IfdPage, IfdReader, NeedsTifffile
from iceberg_bioimage.scan.tiff_log import tifffile_messages
from iceberg_bioimage.units import ngff_unit

TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf2", ".tf8")
COMPANION_SUFFIX = ".companion.ome"

_OME_AXES = "tczyx"
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
_MICROMETRES_PER_CM = 1e4
# tifffile's names of the common compression codes (others are asked of tifffile)
_COMPRESSION_NAMES = {
    1: "none", 5: "lzw", 7: "jpeg", 8: "adobe_deflate", 32773: "packbits",
    32946: "deflate", 34925: "lzma", 50000: "zstd", 50001: "webp",
}  # fmt: skip


def is_tiff_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(TIFF_SUFFIXES) or lowered.endswith(COMPANION_SUFFIX)


@dataclass
class TiffFileScan:
    """The assets one file describes and the files its images span."""

    path: str
    assets: list[ImageAsset] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)
    covers: frozenset[str] = frozenset()
    binary_only_of: str | None = None  # companion file holding this file's OME-XML


@dataclass(frozen=True, slots=True)
class _Context:
    """Identity inputs shared by every image of one scan."""

    dataset_id: str
    root: str  # the dataset's folder (a single-file dataset: the file's folder)
    in_folder: bool  # image ids of non-HCS images carry the file's relative path


def scan_tiff_file(path: str, context: _Context) -> TiffFileScan:
    """Read one TIFF / OME-TIFF / companion file; raises TiffReadError if unreadable."""
    path = absolute(path)  # every helper below may rely on an absolute path (or a URI)
    if path.lower().endswith(COMPANION_SUFFIX):
        return _scan_companion(path, context)
    if not has_scheme(path):
        scan = _scan_ome_tiff_directly(path, context)
        if scan is not None:
            return scan
    return _read_tiff(path, path, context)


def _scan_ome_tiff_directly(path: str, context: _Context) -> TiffFileScan | None:
    """An OME-TIFF read through its IFDs without tifffile (:mod:`tiff_ifd`,
    half the time); None for any file that is not plainly one, which tifffile
    then reads (and warns about)."""
    try:
        with open(path, "rb") as handle:
            reader = IfdReader(handle)
            if not _is_ome(reader.description):
                return None
            document = parse_ome_xml(reader.description)

            def container_at(ifd: int) -> _Container | None:
                return _container(reader.image(ifd), ifd, reader.bigtiff)

            return _scan_ome(TiffFileScan(path), container_at, document, path, context)
    except (NeedsTifffile, OmeXmlError, OSError):
        return None


def make_context(dataset_id: str, root: str, in_folder: bool) -> _Context:
    return _Context(dataset_id, absolute(root), in_folder)


def absolute(path: str) -> str:
    """An absolute local path; URIs (remote files) are left as they are."""
    return path if has_scheme(path) else os.path.abspath(path)


def _exists(path: str) -> bool:
    """A remote object, or a regular local file (a named pipe or a device is
    never opened: reading one waits, or reads, forever)."""
    return has_scheme(path) or os.path.isfile(path)


def scan_tiff_handle(handle: Any, path: str, context: _Context) -> TiffFileScan:
    """Read an already-open file (a remote object read by byte ranges)."""
    return _read_tiff(handle, path, context)


def _read_tiff(source: Any, path: str, context: _Context) -> TiffFileScan:
    import tifffile

    with tifffile_messages() as logged:
        try:
            with tifffile.TiffFile(source, name=os.path.basename(path)) as tif:
                scan = _scan_open_tiff(tif, path, context)
        except RemoteStoreError:  # the store failed, not the file: the user must know
            raise
        except (IndexError, KeyError) as error:  # tifffile's way of saying "no pages"
            raise TiffReadError(_unreadable(path, "no image pages", logged)) from error
        except (tifffile.TiffFileError, OSError, ValueError, EOFError) as error:
            raise TiffReadError(_unreadable(path, str(error), logged)) from None
    scan.warnings += [ScanWarning(_rel(path, context), message) for message in logged]
    return scan


def _unreadable(path: str, reason: str, logged: list[str]) -> str:
    return f"{path}: not a readable TIFF file ({'; '.join([reason, *logged])})"


def _scan_open_tiff(tif: Any, path: str, context: _Context) -> TiffFileScan:
    scan = TiffFileScan(path)
    description = tif.pages.first.description or ""
    if _is_ome(description):
        try:
            document = parse_ome_xml(description)
        except OmeXmlError as error:
            scan.warnings.append(ScanWarning(_rel(path, context), f"{error}; read as plain TIFF"))
        else:

            def container_at(ifd: int) -> _Container | None:
                return _container(_tifffile_image(tif, ifd), ifd, tif.is_bigtiff)

            return _scan_ome(scan, container_at, document, path, context)
    _add_plain_series(scan, tif, path, context)
    return scan


def _is_ome(description: str) -> bool:
    """OME-XML in the first page's description: tifffile's test (it ends with
    ``OME>``) or an XML document holding an OME element."""
    return description[-10:].strip().endswith("OME>") or (
        description.lstrip().startswith("<?xml") and "<OME" in description
    )


def _scan_ome(
    scan: TiffFileScan,
    container_at: ContainerAt,
    document: OmeDocument,
    path: str,
    context: _Context,
) -> TiffFileScan:
    if document.metadata_file and not document.images:
        return _binary_only(scan, path, document.metadata_file, context)
    _add_ome_images(scan, container_at, document, path, context)
    return scan


def _binary_only(
    scan: TiffFileScan, path: str, metadata_file: str, context: _Context
) -> TiffFileScan:
    companion = os.path.join(os.path.dirname(path), metadata_file)
    scan.binary_only_of = companion
    if context.in_folder:
        return scan  # the folder scan reads the companion itself
    if not _exists(companion):
        scan.warnings.append(
            ScanWarning(_rel(path, context), f"OME-XML is in {metadata_file}, which is missing")
        )
        return scan
    return _scan_companion(companion, context)


def _scan_companion(path: str, context: _Context) -> TiffFileScan:
    scan = TiffFileScan(path)
    try:
        document = parse_ome_xml(Path(path).read_bytes())
    except OmeXmlError as error:
        raise TiffReadError(f"{path}: {error}") from None
    _add_ome_images(scan, None, document, path, context)
    return scan


def _add_ome_images(
    scan: TiffFileScan,
    container_at: ContainerAt | None,
    document: OmeDocument,
    path: str,
    context: _Context,
) -> None:
    here = path
    covered: set[str] = {here}
    for image in document.images:
        refused = [b.file_name for b in image.tiff_data if b.file_name and _outside(b.file_name)]
        for name in refused:
            scan.warnings.append(
                ScanWarning(
                    _rel(path, context),
                    f"{image.id} refers to {printable(name or '')}, outside its folder; refused",
                )
            )
        files = _image_files(image, document, here)
        missing = [f for f in files if f != here and not _exists(f)]  # here: open
        for name in missing:
            scan.warnings.append(
                ScanWarning(_rel(path, context), f"{image.id} refers to missing file {name}")
            )
        covered.update(files)
        opened = container_at if files[0] == here else None
        container = _first_page(opened, image, files, missing)
        if container is not None:
            image = _sizes_from_file(image, container, scan, _rel(path, context))
        scan.assets.append(_ome_asset(image, container, path, files, context, document))
    scan.covers = frozenset(covered)


def _sizes_from_file(
    image: OmeImage, container: _Container, scan: TiffFileScan, where: str
) -> OmeImage:
    """The plane size the file holds wins over what the OME-XML claims (an
    untrusted number): a disagreement is a warning and the file's size is used."""
    y, x = container.level_yx[0][:2]
    if (image.size_y, image.size_x) == (y, x):
        return image
    scan.warnings.append(
        ScanWarning(
            where,
            f"{image.id}: OME-XML says {image.size_x}x{image.size_y} pixels but the file's "
            f"planes are {x}x{y}; the file's size is used",
        )
    )
    return dataclasses.replace(image, size_y=y, size_x=x)


def _image_files(image: OmeImage, document: OmeDocument, here: str) -> list[str]:
    """Absolute paths of the files holding an image's planes, in order of first use.

    A ``TiffData`` block whose UUID is this document's own refers to this file,
    whatever ``FileName`` says (files get renamed after they are written).
    """
    found = (block_file(block, document, here) for block in image.tiff_data)
    files = dict.fromkeys(file for file in found if file is not None)
    return list(files) or [here]


def block_file(block: OmeTiffData | None, document: OmeDocument, here: str) -> str | None:
    """The file a TiffData block's planes are in (``here``: the file holding the
    XML); None when its ``FileName`` would leave that file's folder."""
    if block is None or not block.file_name or (block.uuid and block.uuid == document.uuid):
        return here
    if _outside(block.file_name):
        return None
    return os.path.join(os.path.dirname(here), block.file_name)


def _outside(file_name: str) -> bool:
    return not is_safe_key(file_name)


@dataclass(frozen=True, slots=True)
class _Container:
    """What the TIFF container says about an image's first plane."""

    tile: tuple[int, int, int] | None  # depth, length, width
    compressor: str | None
    variant: str
    contiguous_samples: bool
    level_yx: tuple[tuple[int, int, tuple[int, int] | None, str], ...]  # (y, x, tile, path)


ContainerAt = Callable[[int], "_Container | None"]  # the container facts of an IFD of an open file


def _first_page(
    container_at: ContainerAt | None, image: OmeImage, files: list[str], missing: list[str]
) -> _Container | None:
    """The container facts of the image's first plane (``container_at``: the
    file holding the XML, open)."""
    first = image.tiff_data[0] if image.tiff_data else None
    if container_at is not None:
        return container_at(first.ifd if first else image.index)
    source = files[0]
    if source in missing or source.lower().endswith(COMPANION_SUFFIX) or has_scheme(source):
        return None
    return _container_in_file(source, first.ifd if first else 0)


def _container_in_file(source: str, ifd: int) -> _Container | None:
    """The container facts of an IFD of another file of the image."""
    try:
        with open(source, "rb") as handle:
            reader = IfdReader(handle)
            return _container(reader.image(ifd), ifd, reader.bigtiff)
    except NeedsTifffile:
        pass
    except OSError:
        return None
    import tifffile

    try:
        with tifffile.TiffFile(source) as other:
            return _container(_tifffile_image(other, ifd), ifd, other.is_bigtiff)
    except (tifffile.TiffFileError, OSError, ValueError):
        return None


def _tifffile_image(tif: Any, ifd: int) -> tuple[IfdPage, list[IfdPage]] | None:
    """An IFD read by tifffile, as :meth:`IfdReader.image` gives it."""
    try:
        page = tif.pages[ifd]
    except (IndexError, ValueError, KeyError):
        return None
    return _page_facts(page), [_page_facts(sub) for sub in page.pages or ()]


def _page_facts(page: Any) -> IfdPage:
    tile = (page.tiledepth or 1, page.tilelength, page.tilewidth) if page.is_tiled else None
    return IfdPage(
        page.imagelength, page.imagewidth, tile, int(page.compression), page.planarconfig == 1
    )


def _container(
    image: tuple[IfdPage, list[IfdPage]] | None, ifd: int, bigtiff: bool
) -> _Container | None:
    if image is None:
        return None
    page, reduced = image
    levels = [(page.length, page.width, _tile_yx(page), f"ifd/{ifd}")]
    for index, sub in enumerate(reduced):
        levels.append((sub.length, sub.width, _tile_yx(sub), f"ifd/{ifd}/subifd/{index}"))
    compression = compression_name(page.compression)
    return _Container(
        tile=page.tile,
        compressor=None if compression == "none" else compression,
        variant="bigtiff" if bigtiff else "tiff",
        contiguous_samples=page.contiguous_samples,
        level_yx=tuple(levels),
    )


def _tile_yx(page: IfdPage) -> tuple[int, int] | None:
    return None if page.tile is None else (page.tile[1], page.tile[2])


def compression_name(code: int) -> str:
    """tifffile's name of a TIFF compression code, lower case (the code itself
    when tifffile has no name for it)."""
    name = _COMPRESSION_NAMES.get(code)
    if name is None:
        import tifffile

        try:
            name = tifffile.COMPRESSION(code).name.lower()
        except ValueError:
            name = str(code)
    return name


def _ome_asset(
    image: OmeImage,
    container: _Container | None,
    path: str,
    files: list[str],
    context: _Context,
    document: OmeDocument,
) -> ImageAsset:
    shape = image.shape
    axes = _ome_axes(tuple(_axis_unit(image, name) for name in _OME_AXES))
    levels, chunk_shape = _ome_levels(image, container)
    position = image.plate
    hcs: dict[str, Any] = {}
    if position is not None:
        plate_id = position.plate_id or context.dataset_id
        well = identity.well_id(position.row, position.column)
        image_id = identity.hcs_image_id(plate_id, well, position.site)
        hcs = {
            "plate_id": plate_id,
            "well_id": well,
            "site_id": position.site,
            "well_row": position.row,
            "well_column": position.column,
            "acquisition_id": position.acquisition_id,
            "acquisition_name": position.acquisition_name,
        }
    else:
        image_id = _series_image_id(path, image.index, len(document.images), context)
    named = [c.name for c in image.channels]
    return ImageAsset(
        dataset_id=context.dataset_id,
        image_id=image_id,
        format_family="ome-tiff",
        uri=file_uri(path),
        image_path=_rel(path, context),
        array_path=_rel(files[0], context),
        shape=shape,
        dtype=image.pixel_type,
        storage_variant=container.variant if container else "tiff",
        chunk_shape=chunk_shape,
        axes=axes,
        levels=levels,
        image_name=image.name,
        physical_sizes=_physical_sizes(tuple(image.physical_sizes.items())),
        channel_names=tuple(n or f"channel_{i}" for i, n in enumerate(named)) if any(named) else (),
        codecs=(container.compressor,) if container and container.compressor else (),
        compressor=container.compressor if container else None,
        source_files=tuple(files),
        metadata={"ome": _ome_metadata(image)},
        **hcs,
    )


def _ome_levels(
    image: OmeImage, container: _Container | None
) -> tuple[tuple[ImageLevel, ...], tuple[int, ...] | None]:
    t, c, z, _, _ = image.shape
    if container is None:
        return (ImageLevel(path="ifd/0", shape=image.shape),), None
    samples = image.samples_per_pixel if container.contiguous_samples else 1
    levels = []
    for level_y, level_x, tile, level_path in container.level_yx:
        chunk = None
        if tile is not None:
            depth = container.tile[0] if container.tile else 1
            chunk = (1, samples, depth, *tile)
        levels.append(
            ImageLevel(path=level_path, shape=(t, c, z, level_y, level_x), chunk_shape=chunk)
        )
    return tuple(levels), levels[0].chunk_shape


# Images of one acquisition share axes and pixel sizes: shared objects keep
# memory small and let pickle (process workers) send each one once.
@lru_cache(maxsize=512)
def _ome_axes(units: tuple[str | None, ...]) -> tuple[Axis, ...]:
    return tuple(
        Axis(name, _AXIS_TYPES[name], unit) for name, unit in zip(_OME_AXES, units, strict=True)
    )


@lru_cache(maxsize=512)
def _physical_sizes(sizes: tuple[tuple[str, tuple[float, str]], ...]) -> tuple[PhysicalSize, ...]:
    return tuple(PhysicalSize(axis, size, unit) for axis, (size, unit) in sizes)


def _axis_unit(image: OmeImage, axis: str) -> str | None:
    if axis in image.physical_sizes:
        return image.physical_sizes[axis][1]
    if axis == "t" and image.time_increment:
        return image.time_increment[1]
    return None


def _ome_metadata(image: OmeImage) -> dict[str, Any]:
    return {
        "id": image.id,
        "dimension_order": image.dimension_order,
        "channels": [
            {
                "name": channel.name,
                "emission_wavelength": channel.emission_wavelength,
                "excitation_wavelength": channel.excitation_wavelength,
                "color": channel.color,
                "samples_per_pixel": channel.samples_per_pixel,
            }
            for channel in image.channels
        ],
    }


# -- plain TIFF --------------------------------------------------------------
def _add_plain_series(scan: TiffFileScan, tif: Any, path: str, context: _Context) -> None:
    series_list = list(tif.series)
    imagej = tif.imagej_metadata if tif.is_imagej else None
    for index, series in enumerate(series_list):
        page = series.keyframe
        names = _plain_axes(series.axes)
        sizes = _plain_physical_sizes(page, imagej)
        axes = tuple(Axis(name, _AXIS_TYPES.get(name), _unit_of(name, sizes)) for name in names)
        tile = _tile_yx(_page_facts(page))
        chunk = (*([1] * (len(series.shape) - 2)), *tile) if tile and _ends_yx(names) else None
        levels = tuple(
            ImageLevel(
                path=f"series/{index}/level/{k}",
                shape=tuple(level.shape),
                chunk_shape=(
                    (*([1] * (len(level.shape) - 2)), *level_tile)
                    if chunk and (level_tile := _tile_yx(_page_facts(level.keyframe)))
                    else None
                ),
            )
            for k, level in enumerate(series.levels)
        )
        compression = compression_name(int(page.compression))
        scan.assets.append(
            ImageAsset(
                dataset_id=context.dataset_id,
                image_id=_series_image_id(path, index, len(series_list), context),
                format_family="tiff",
                uri=file_uri(path),
                image_path=_rel(path, context),
                array_path=_rel(path, context),
                shape=tuple(series.shape),
                dtype=series.dtype.name,
                storage_variant="bigtiff" if tif.is_bigtiff else "tiff",
                chunk_shape=chunk,
                axes=axes,
                levels=levels,
                physical_sizes=sizes,
                codecs=() if compression == "none" else (compression,),
                compressor=None if compression == "none" else compression,
                source_files=(path,),
                metadata={"tiff": {"imagej": bool(imagej), "byteorder": tif.byteorder}},
            )
        )
    scan.covers = frozenset({path})


def _plain_axes(letters: str) -> tuple[str, ...]:
    names = []
    for letter in letters.lower():
        if letter == "s":
            names.append("c" if "c" not in letters.lower() else "s")
        else:
            names.append(letter)
    return tuple(names)


def _ends_yx(names: tuple[str, ...]) -> bool:
    return names[-2:] == ("y", "x")


def _plain_physical_sizes(page: Any, imagej: dict[str, Any] | None) -> tuple[PhysicalSize, ...]:
    """Physical pixel sizes only where a unit says what the numbers mean.

    ImageJ files name their unit; otherwise only a centimetre resolution unit is
    trusted: inch resolutions are what image editors write by default (72 dpi),
    not a microscope's pixel size.
    """
    x_res, y_res = (_ratio(page.tags, "XResolution"), _ratio(page.tags, "YResolution"))
    sizes = []
    if imagej is not None:
        unit = ngff_unit(str(imagej.get("unit", "")))
        if unit is None or not unit.endswith("meter"):  # "pixel", "inch": not a size
            return ()
        for axis, res in (("x", x_res), ("y", y_res)):
            if res:
                sizes.append(PhysicalSize(axis, 1.0 / res, unit))
        spacing = imagej.get("spacing")
        if isinstance(spacing, (int, float)) and spacing > 0:
            sizes.append(PhysicalSize("z", float(spacing), unit))
        return tuple(sizes)
    if int(page.resolutionunit) != 3:  # RESUNIT.CENTIMETER
        return ()
    for axis, res in (("x", x_res), ("y", y_res)):
        if res:
            sizes.append(PhysicalSize(axis, _MICROMETRES_PER_CM / res, "micrometer"))
    return tuple(sizes)


def _ratio(tags: Any, name: str) -> float | None:
    tag = tags.get(name)
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, tuple) and len(value) == 2:
        numerator, denominator = value
        return numerator / denominator if numerator > 0 and denominator > 0 else None
    return float(value) if value and value > 0 else None


def _unit_of(axis: str, sizes: tuple[PhysicalSize, ...]) -> str | None:
    return next((s.unit for s in sizes if s.axis == axis), None)


# -- identity helpers -------------------------------------------------------
def _series_image_id(path: str, index: int, count: int, context: _Context) -> str:
    """Non-HCS image ids: the series index in a single-file dataset (as
    bioformats2raw numbers series); the file's relative path in a folder."""
    if not context.in_folder:
        return identity.path_image_id(str(index))
    relative = _rel(path, context)
    return relative if count == 1 else f"{relative}/{index}"


def _rel(path: str, context: _Context) -> str:
    """``path`` (absolute) relative to the dataset root, ``/``-separated."""
    prefix = context.root.rstrip(os.sep) + os.sep
    if path.startswith(prefix):
        return path[len(prefix) :].replace(os.sep, "/")
    return os.path.relpath(path, context.root).replace(os.sep, "/")

"""OME-NGFF metadata (0.1 to 0.5), parsed from group attributes. No I/O.

0.5 keeps everything under ``attributes["ome"]`` with one ``version``; earlier
versions put ``multiscales`` / ``plate`` / ``well`` at the top of ``.zattrs``
and version each object separately. :func:`ome_attributes` hides that
difference so the rest of this module reads one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iceberg_bioimage.errors import NgffError
from iceberg_bioimage.models import Axis
from iceberg_bioimage.units import ngff_unit

# Before 0.3 axes were implicit: always five dimensions in this order.
_LEGACY_AXES = "tczyx"
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


@dataclass(frozen=True, slots=True)
class Dataset:
    path: str
    scale: tuple[float, ...] | None
    translation: tuple[float, ...] | None


@dataclass(frozen=True, slots=True)
class Multiscale:
    version: str | None
    name: str | None
    axes: tuple[Axis, ...] | None  # None: unknown until the array rank is known
    datasets: tuple[Dataset, ...]


@dataclass(frozen=True, slots=True)
class PlateWell:
    path: str
    row: str
    column: str
    row_index: int | None
    column_index: int | None


@dataclass(frozen=True, slots=True)
class Plate:
    version: str | None
    name: str | None
    wells: tuple[PlateWell, ...]
    acquisitions: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class WellImage:
    path: str
    acquisition: str | None


def ome_attributes(attributes: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The OME part of a group's attributes and its declared version, if any."""
    ome = attributes.get("ome")
    if isinstance(ome, dict):
        return ome, _text(ome.get("version"))
    return attributes, None


def is_bioformats2raw(ome: dict[str, Any]) -> bool:
    return "bioformats2raw.layout" in ome


def parse_multiscales(ome: dict[str, Any], version: str | None) -> list[Multiscale]:
    """Every multiscale in a group's attributes (normally exactly one)."""
    entries = ome.get("multiscales")
    if not isinstance(entries, list) or not entries:
        raise NgffError("'multiscales' must be a non-empty list")
    return [_multiscale(entry, version) for entry in entries]


def _multiscale(entry: Any, version: str | None) -> Multiscale:
    if not isinstance(entry, dict):
        raise NgffError("a 'multiscales' entry is not an object")
    version = version or _text(entry.get("version"))
    datasets = entry.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise NgffError("multiscales 'datasets' must be a non-empty list")
    shared_scale, shared_translation = _transforms(entry.get("coordinateTransformations"))
    parsed = []
    for dataset in datasets:
        if not isinstance(dataset, dict) or not isinstance(dataset.get("path"), str):
            raise NgffError("a multiscales dataset has no 'path'")
        scale, translation = _transforms(dataset.get("coordinateTransformations"))
        parsed.append(
            Dataset(
                dataset["path"],
                _combine(scale, shared_scale, lambda a, b: a * b),
                _combine(translation, shared_translation, lambda a, b: a + b),
            )
        )
    return Multiscale(version, _text(entry.get("name")), _axes(entry.get("axes")), tuple(parsed))


def _axes(value: Any) -> tuple[Axis, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise NgffError("multiscales 'axes' must be a list")
    axes = []
    for item in value:
        if isinstance(item, str):  # 0.3: names only
            axes.append(Axis(item, _AXIS_TYPES.get(item.lower())))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            axes.append(
                Axis(item["name"], _text(item.get("type")), ngff_unit(_text(item.get("unit"))))
            )
        else:
            raise NgffError(f"invalid axis {item!r}")
    return tuple(axes)


def spec_breaches(multiscale: Multiscale) -> list[str]:
    """What a multiscale breaks of the specification while still being readable:
    each a warning with the rule, never a reason to drop the image."""
    found = []
    axes = multiscale.axes
    versioned = multiscale.version in ("0.4", "0.5")
    if axes is None and versioned:
        found.append(f"multiscales must declare 'axes' (OME-NGFF {multiscale.version})")
    if axes is not None:
        names = [a.name for a in axes]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            found.append(f"axis names must be unique (repeated: {', '.join(repeated)})")
        for dataset in multiscale.datasets:
            for kind, values in (("scale", dataset.scale), ("translation", dataset.translation)):
                if values is not None and len(values) != len(axes):
                    found.append(
                        f"dataset '{dataset.path}' {kind} has {len(values)} values "
                        f"for {len(axes)} axes"
                    )
    return found


def default_axes(ndim: int) -> tuple[Axis, ...]:
    """Axes of a pre-0.3 image (implicitly the last ``ndim`` of TCZYX)."""
    names = _LEGACY_AXES[-ndim:] if 0 < ndim <= len(_LEGACY_AXES) else ""
    return tuple(Axis(name, _AXIS_TYPES[name]) for name in names)


def _transforms(
    value: Any,
) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    scale = translation = None
    if not isinstance(value, list):
        return None, None
    for transform in value:
        if not isinstance(transform, dict):
            continue
        kind = transform.get("type")
        if kind == "scale" and isinstance(transform.get("scale"), list):
            scale = _floats(transform["scale"])
        elif kind == "translation" and isinstance(transform.get("translation"), list):
            translation = _floats(transform["translation"])
    return scale, translation


def _floats(values: list[Any]) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise NgffError(f"coordinate transformation values are not numbers: {values!r}") from None


def _combine(level, shared, op):  # type: ignore[no-untyped-def]
    if level is None or shared is None or len(level) != len(shared):
        return level if level is not None else shared
    return tuple(op(a, b) for a, b in zip(level, shared, strict=True))


def parse_omero_channels(ome: dict[str, Any]) -> tuple[str, ...]:
    """Channel names from ``omero.channels[].label`` (empty when absent)."""
    omero = ome.get("omero")
    channels = omero.get("channels") if isinstance(omero, dict) else None
    if not isinstance(channels, list):
        return ()
    names = []
    for index, channel in enumerate(channels):
        label = channel.get("label") if isinstance(channel, dict) else None
        names.append(str(label) if label not in (None, "") else f"channel_{index}")
    return tuple(names)


def parse_plate(ome: dict[str, Any], version: str | None) -> Plate:
    plate = ome.get("plate")
    if not isinstance(plate, dict):
        raise NgffError("'plate' is not an object")
    rows = _names(plate.get("rows"))
    columns = _names(plate.get("columns"))
    wells_field = plate.get("wells")
    if not isinstance(wells_field, list):
        raise NgffError("plate 'wells' must be a list")
    wells = []
    for well in wells_field:
        if not isinstance(well, dict) or not isinstance(well.get("path"), str):
            raise NgffError(f"plate well {well!r} has no 'path'")
        path = well["path"].rstrip("/")
        row_index, column_index = well.get("rowIndex"), well.get("columnIndex")
        row, column = _well_position(path, rows, columns, row_index, column_index)
        wells.append(
            PlateWell(path, row, column, _int_or_none(row_index), _int_or_none(column_index))
        )
    acquisitions = {}
    for acquisition in plate.get("acquisitions") or []:
        if isinstance(acquisition, dict) and "id" in acquisition:
            acquisitions[str(acquisition["id"])] = _text(acquisition.get("name"))
    return Plate(
        version or _text(plate.get("version")),
        _text(plate.get("name")),
        tuple(wells),
        acquisitions,
    )


def _well_position(
    path: str, rows: list[str], columns: list[str], row_index: Any, column_index: Any
) -> tuple[str, str]:
    if (
        isinstance(row_index, int)
        and isinstance(column_index, int)
        and 0 <= row_index < len(rows)
        and 0 <= column_index < len(columns)
    ):
        return rows[row_index], columns[column_index]
    parts = path.split("/")
    if len(parts) == 2:
        return parts[0], parts[1]
    raise NgffError(f"well path {path!r} is not '<row>/<column>'")


def parse_well(ome: dict[str, Any]) -> tuple[WellImage, ...]:
    well = ome.get("well")
    images = well.get("images") if isinstance(well, dict) else None
    if not isinstance(images, list):
        raise NgffError("well 'images' must be a list")
    parsed = []
    for image in images:
        if not isinstance(image, dict) or not isinstance(image.get("path"), str):
            raise NgffError(f"well image {image!r} has no 'path'")
        acquisition = image.get("acquisition")
        parsed.append(
            WellImage(
                image["path"].rstrip("/"),
                None if acquisition is None else str(acquisition),
            )
        )
    return tuple(parsed)


def parse_labels(ome: dict[str, Any]) -> tuple[str, ...]:
    labels = ome.get("labels")
    if not isinstance(labels, list) or not all(isinstance(n, str) for n in labels):
        raise NgffError("'labels' must be a list of names")
    return tuple(labels)


def _names(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(item.get("name")) for item in value if isinstance(item, dict)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

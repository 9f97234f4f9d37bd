"""Public pixel functions: per-object crops and source images as OME-Arrow
rows, read through a pluggable array backend, written to a Cytomining
warehouse root (``images.image_crops``, ``images.source_images``) or an
Iceberg catalog, and read back as numpy arrays.

``images`` is an ``image_assets`` table (Arrow, or a Parquet file), scan
results, stores / folders / URIs to scan (one or several), or a pyiceberg
``Catalog`` whose ``images.image_assets`` is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.pixels import available_backends
from iceberg_bioimage.pixels.crops import CropOptions, CropReport, iter_image_crops
from iceberg_bioimage.pixels.ome_struct import (
    from_iceberg_safe,
    ome_arrow_to_arrays,
    struct_type_for,
    to_iceberg_safe,
)
from iceberg_bioimage.pixels.source_images import iter_source_images
from iceberg_bioimage.profiles.io import Aliases, TableLike, as_table, resolve_aliases
from iceberg_bioimage.scan import scan_stores_for
from iceberg_bioimage.tables import scan_result_as_arrow_table
from iceberg_bioimage.warehouse import exports
from iceberg_bioimage.warehouse.exports import ExportResult

PathLike = str | os.PathLike[str]
ImagesLike = pa.Table | ScanResult | Iterable[ScanResult] | PathLike | Any
OME_COLUMN = "ome_arrow_image"
CROP_KEYS = ("dataset_id", "image_id")

__all__ = [
    "CropArrays",
    "CropReport",
    "available_backends",
    "export_crops_to_cytomining_warehouse",
    "export_source_images_to_cytomining_warehouse",
    "image_crops",
    "publish_crops_to_catalog",
    "publish_source_images_to_catalog",
    "read_crops",
    "source_images",
]


def image_crops(
    profiles: TableLike,
    images: ImagesLike,
    *,
    size: int | tuple[int, int] | None = None,
    channels: Sequence[str | int] | None = None,
    level: int = 0,
    backend: str = "auto",
    edge: str = "pad",
    fill_value: int = 0,
    compartment: str | None = None,
    center_columns: tuple[str, str] | None = None,
    bbox_columns: tuple[str, str, str, str] | None = None,
    alias_map: Aliases = None,
    profile_dataset_id: str | None = None,
    batch_rows: int = 1024,
    report: CropReport | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of per-object crops, one row per profile object.

    Each crop is centred on the object's centre columns with ``size`` (an int
    or (height, width)), or cut to its bounding-box columns when ``size`` is
    None and the profiles have them (else 64x64). Coordinates are level-0
    pixels; ``level`` reads a downsampled level and scales them. ``edge``:
    "pad" fills what lies outside the image with ``fill_value`` so every crop
    has the same size; "clip" keeps only the inside. Rows that match no image
    or have no position are counted in ``report.skipped_rows``."""
    options = CropOptions(
        size=(size, size) if isinstance(size, int) else (tuple(size) if size else None),
        channels=tuple(channels) if channels else None,
        level=level,
        backend=backend,
        edge=edge,
        fill_value=fill_value,
        compartment=compartment,
        center_columns=center_columns,
        bbox_columns=bbox_columns,
        batch_rows=batch_rows,
    )
    return iter_image_crops(
        as_table(profiles),
        image_assets_of(images),
        options,
        report if report is not None else CropReport(),
        alias_map=resolve_aliases(alias_map),
        profile_dataset_id=profile_dataset_id,
    )


def source_images(
    images: ImagesLike,
    *,
    level: int = 0,
    channels: Sequence[str | int] | None = None,
    backend: str = "auto",
    report: CropReport | None = None,
) -> Iterator[pa.RecordBatch]:
    """One row per image with its pixels at ``level`` (the last level when an
    image has fewer), so a plate need not be copied whole."""
    return iter_source_images(
        image_assets_of(images), level=level, channels=channels, backend=backend, report=report
    )


def export_crops_to_cytomining_warehouse(
    profiles: TableLike,
    images: ImagesLike,
    warehouse_root: PathLike,
    *,
    mode: str = "overwrite",
    **options: Any,
) -> ExportResult:
    """Stream crops into ``images.image_crops`` of a warehouse root (role
    ``image_crops``); ``options`` are :func:`image_crops`'s."""
    report = options.pop("report", None) or CropReport()
    batches = image_crops(profiles, images, report=report, **options)
    return _export(batches, "image_crops", warehouse_root, mode, report)


def export_source_images_to_cytomining_warehouse(
    images: ImagesLike,
    warehouse_root: PathLike,
    *,
    mode: str = "overwrite",
    **options: Any,
) -> ExportResult:
    """Stream source images into ``images.source_images`` of a warehouse root."""
    report = options.pop("report", None) or CropReport()
    batches = source_images(images, report=report, **options)
    return _export(batches, "source_images", warehouse_root, mode, report)


def _export(
    batches: Iterator[pa.RecordBatch], role: str, root: PathLike, mode: str, report: CropReport
) -> ExportResult:
    write = exports.table_write(
        _non_empty(batches, role),
        table_name=role,
        role=role,
        namespace="images",
        mode=mode,
        join_keys=CROP_KEYS,
        source_type="iceberg-bioimage",
        source_ref="pixels",
    )
    return exports.commit(root, [write], warnings=report.warnings)


def _non_empty(batches: Iterator[pa.RecordBatch], role: str) -> Iterator[pa.RecordBatch]:
    count = 0
    for batch in batches:
        count += batch.num_rows
        yield batch
    if not count:
        raise InputError(
            f"no {role.replace('_', ' ')} to write: no row had an image and a position"
        )


def publish_crops_to_catalog(
    profiles: TableLike,
    images: ImagesLike,
    catalog: Any = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    **options: Any,
) -> dict[str, int]:
    """Crops into ``<namespace>.image_crops`` of an Iceberg catalog, replacing
    the rows of the datasets written. The OME-Arrow column is stored in its
    Iceberg-safe form; :func:`read_crops` gives the exact struct back."""
    batches = image_crops(profiles, images, **options)
    return _publish(batches, catalog, namespace, "image_crops")


def publish_source_images_to_catalog(
    images: ImagesLike,
    catalog: Any = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    **options: Any,
) -> dict[str, int]:
    """Source images into ``<namespace>.source_images`` of an Iceberg catalog."""
    return _publish(source_images(images, **options), catalog, namespace, "source_images")


def _publish(
    batches: Iterator[pa.RecordBatch], catalog: Any, namespace: str, name: str
) -> dict[str, int]:
    from iceberg_bioimage.catalog.publish import publish_dataset_rows

    table = pa.Table.from_batches([_safe_batch(b) for b in _non_empty(batches, name)])
    with cat.opened_catalog(catalog, create=True) as resolved:
        publish_dataset_rows(resolved.catalog, table, namespace=namespace, table_name=name)
    return {f"{namespace}.{name}": table.num_rows}


def _safe_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    index = batch.schema.get_field_index(OME_COLUMN)
    safe = to_iceberg_safe(batch.column(index))
    return batch.set_column(index, pa.field(OME_COLUMN, safe.type), safe)


@dataclass
class CropArrays:
    """Rows of a crop (or source image) table with their pixels decoded: one
    TCZYX numpy array per row, in the stored dtype, and the exact OME-Arrow struct."""

    table: pa.Table
    arrays: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.arrays)


def read_crops(
    source: TableLike | Any,
    *,
    crop_ids: Sequence[str] | None = None,
    where: str | None = None,
    table_name: str = "images.image_crops",
    column: str = OME_COLUMN,
) -> CropArrays:
    """Crops (or source images) back as numpy arrays: from an Arrow table, a
    Parquet file, a Cytomining warehouse root, or a pyiceberg ``Catalog``
    (``where`` is then an Iceberg row filter). ``crop_ids`` selects rows."""
    table = _crop_table(source, table_name, where)
    if crop_ids is not None:
        import pyarrow.compute as pc

        key = "crop_id" if "crop_id" in table.column_names else "Metadata_ImageID"
        table = table.filter(pc.is_in(table.column(key), pa.array(list(crop_ids), pa.string())))
    if column not in table.column_names:
        raise InputError(f"no {column} column in the table")
    payload = table.column(column)
    if not _is_exact_ome_arrow(payload.type):
        payload = from_iceberg_safe(payload, _exact_type(payload.type))
        table = table.set_column(table.column_names.index(column), column, payload)
    return CropArrays(table, ome_arrow_to_arrays(payload))


def _crop_table(source: Any, table_name: str, where: str | None) -> pa.Table:
    if _is_catalog(source):
        return cat.catalog_table_to_arrow(source, table_name, where=where)
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        from iceberg_bioimage.warehouse.reader import open_warehouse

        return open_warehouse(source).table(table_name)
    return as_table(source)


def _is_exact_ome_arrow(type_: pa.DataType) -> bool:
    return pa.types.is_struct(type_) and type_.get_field_index("masks") >= 0


def _exact_type(type_: pa.DataType) -> pa.DataType:
    chunk = type_.field("chunks").type.value_type
    return struct_type_for("uint16" if chunk.get_field_index("pixels") >= 0 else "float32")


def image_assets_of(images: ImagesLike) -> pa.Table:
    """The ``image_assets`` rows ``images`` stands for."""
    if isinstance(images, pa.Table):
        return images
    if isinstance(images, ScanResult):
        return scan_result_as_arrow_table(images)
    if _is_catalog(images):
        return cat.catalog_table_to_arrow(images, f"{DEFAULT_IMAGE_NAMESPACE}.image_assets")
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    if isinstance(images, Iterable):
        items = list(images)
        if items and all(isinstance(i, ScanResult) for i in items):
            return scan_result_as_arrow_table(items)
        if len(items) == 1 and str(items[0]).endswith(".parquet") and os.path.isfile(items[0]):
            return as_table(items[0])  # image_assets rows written before
        if items and all(isinstance(i, (str, os.PathLike)) for i in items):
            return scan_result_as_arrow_table(scan_stores_for(items, "read pixels from").results)
    raise InputError(
        "images must be an image_assets table, scan results, a store or a pyiceberg Catalog"
    )


def _is_catalog(value: Any) -> bool:
    return type(value).__module__.startswith("pyiceberg.catalog")

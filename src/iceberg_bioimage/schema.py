"""Arrow schemas of the canonical tables, declared once, with their version.

Every sink (Parquet, Iceberg, Cytomining warehouses) derives its schema from
the ones here, so a column's name, type and nullability are decided in one
place. The ``*_json`` columns are a compatibility view for tools that read the
earlier string-typed layout; the typed columns are the source of truth.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "2"  # 2: collection columns
SCHEMA_VERSION_KEY = b"iceberg_bioimage.schema_version"
TABLE_KEY = b"iceberg_bioimage.table"

IMAGE_ASSETS = "image_assets"
CHUNK_INDEX = "chunk_index"

_int_list = pa.list_(pa.int64())
_float_list = pa.list_(pa.float64())
_string_list = pa.list_(pa.string())

AXIS_TYPE = pa.struct(
    [
        pa.field("name", pa.string()),
        pa.field("type", pa.string()),
        pa.field("unit", pa.string()),
    ]
)

LEVEL_TYPE = pa.struct(
    [
        pa.field("path", pa.string()),
        pa.field("shape", _int_list),
        pa.field("chunk_shape", _int_list),
        pa.field("shard_shape", _int_list),
        pa.field("scale", _float_list),
        pa.field("translation", _float_list),
        pa.field("chunk_key_encoding", pa.string()),
        pa.field("chunk_key_separator", pa.string()),
        pa.field("zarr_format", pa.int32()),
    ]
)


def _required(name: str, type_: pa.DataType, doc: str) -> pa.Field:
    return pa.field(name, type_, nullable=False, metadata={"doc": doc})


def _optional(name: str, type_: pa.DataType, doc: str) -> pa.Field:
    return pa.field(name, type_, nullable=True, metadata={"doc": doc})


def _physical_size_fields() -> list[pa.Field]:
    fields = []
    for axis in ("x", "y", "z"):
        fields.append(_optional(f"physical_size_{axis}", pa.float64(), f"pixel size along {axis}"))
        fields.append(
            _optional(f"physical_size_{axis}_unit", pa.string(), f"unit of the {axis} size")
        )
    return fields


IMAGE_ASSETS_SCHEMA = pa.schema(
    [
        _required("dataset_id", pa.string(), "dataset (store) identifier"),
        _required("image_id", pa.string(), "image identifier, unique within the dataset"),
        _required("format_family", pa.string(), "ome-zarr, zarr, ome-tiff or tiff"),
        _required("storage_variant", pa.string(), "zarr-v2, zarr-v3, tiff, bigtiff"),
        _required("uri", pa.string(), "absolute URI of the store or file"),
        _required("dataset_uri", pa.string(), "URI the dataset was scanned from"),
        _optional("image_path", pa.string(), "path of the image node within the store"),
        _optional("array_path", pa.string(), "path of the full-resolution array"),
        _required("image_kind", pa.string(), "image, label or array"),
        _optional("parent_image_id", pa.string(), "for labels: the image they annotate"),
        _optional("label_name", pa.string(), "for labels: the label's name"),
        _optional("image_name", pa.string(), "name given by the image metadata"),
        _optional("ome_ngff_version", pa.string(), "OME-NGFF version, e.g. 0.4"),
        _optional("plate_id", pa.string(), "HCS plate"),
        _optional("well_id", pa.string(), "HCS well, normalised (B03)"),
        _optional("site_id", pa.int64(), "HCS field of view index within the well"),
        _optional("well_row", pa.string(), "HCS row name as stored"),
        _optional("well_column", pa.string(), "HCS column name as stored"),
        _optional("row_index", pa.int32(), "HCS row index"),
        _optional("column_index", pa.int32(), "HCS column index"),
        _optional("acquisition_id", pa.string(), "HCS acquisition id"),
        _optional("acquisition_name", pa.string(), "HCS acquisition name"),
        _required("dtype", pa.string(), "numpy data type name"),
        _required("ndim", pa.int32(), "number of dimensions"),
        _required("shape", _int_list, "full-resolution shape"),
        _optional("chunk_shape", _int_list, "read chunk (inner chunk or tile) shape"),
        _optional("shard_shape", _int_list, "stored object (shard) shape when sharded"),
        _optional("axes", pa.list_(AXIS_TYPE), "axes: name, type, unit"),
        _optional("axes_order", pa.string(), "axis names in order, e.g. tczyx"),
        _required("level_count", pa.int32(), "number of pyramid levels"),
        _optional("levels", pa.list_(LEVEL_TYPE), "pyramid levels, full resolution first"),
        *_physical_size_fields(),
        _optional("channel_count", pa.int32(), "number of channels"),
        _optional("channel_names", _string_list, "channel names"),
        _optional("codecs", _string_list, "codec chain, outermost first"),
        _optional("compressor", pa.string(), "compression codec, e.g. blosc:lz4"),
        _optional("fill_value", pa.string(), "fill value as JSON"),
        _optional("source_files", _string_list, "files holding the pixels (TIFF)"),
        _optional("shape_json", pa.string(), "shape as JSON (compatibility view)"),
        _optional("chunk_shape_json", pa.string(), "chunk shape as JSON (compatibility view)"),
        _optional("metadata_json", pa.string(), "format metadata as JSON"),
        _optional("collection_uri", pa.string(), "OME-Zarr collection (RFC-8) the image is in"),
        _optional("collection_node_id", pa.string(), "the image node's id in the collection"),
        _optional("collection_node_path", pa.string(), "node names from the collection root"),
        _optional("collection_parent_id", pa.string(), "id of the nearest ancestor with one"),
        _optional("collection_depth", pa.int32(), "depth of the node below the root"),
    ],
    metadata={
        SCHEMA_VERSION_KEY: SCHEMA_VERSION.encode(),
        TABLE_KEY: IMAGE_ASSETS.encode(),
    },
)


CHUNK_INDEX_SCHEMA = pa.schema(
    [
        _required("dataset_id", pa.string(), "dataset (store) identifier"),
        _required("image_id", pa.string(), "image the chunk belongs to"),
        _required("uri", pa.string(), "URI of the store (TIFF: of the file)"),
        _required("array_path", pa.string(), "array (TIFF: file) path within the dataset"),
        _required("level", pa.int32(), "pyramid level, 0 = full resolution"),
        _required("chunk_kind", pa.string(), "chunk, shard, inner (chunk in a shard) or tile"),
        _required("chunk_coords", _int_list, "chunk grid coordinates"),
        _required("chunk_coords_json", pa.string(), "chunk coordinates as JSON"),
        _required("storage_key", pa.string(), "key of the stored object, relative to the store"),
        _optional("byte_offset", pa.int64(), "offset within the object (inner chunks, tiles)"),
        _optional("byte_length", pa.int64(), "bytes as stored (compressed); null if unknown"),
        _optional("exists", pa.bool_(), "whether the object exists; null when not checked"),
    ],
    metadata={SCHEMA_VERSION_KEY: SCHEMA_VERSION.encode(), TABLE_KEY: CHUNK_INDEX.encode()},
)


# Columns of chunk_index that hold one value per array: a Parquet sink writes
# them dictionary-encoded (readers still see plain strings).
CHUNK_INDEX_CONSTANT_COLUMNS = ("dataset_id", "image_id", "uri", "array_path", "chunk_kind")


def dictionary_encoded(schema: pa.Schema, columns: tuple[str, ...]) -> pa.Schema:
    """``schema`` with ``columns`` as dictionary<int32, string>: the same logical
    type, stored as one value plus indices."""
    for name in columns:
        index = schema.get_field_index(name)
        field = schema.field(index)
        schema = schema.set(index, field.with_type(pa.dictionary(pa.int32(), field.type)))
    return schema

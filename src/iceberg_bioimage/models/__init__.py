"""The canonical image model: frozen, typed, and free of I/O.

Every scanner (OME-Zarr, plain Zarr, TIFF) produces these objects and every sink
(Arrow tables, Iceberg, Cytomining warehouses) consumes them, so a fact about an
image is decided once, in the reader that understands its format.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from iceberg_bioimage.compat.results import DatasetSummary010, ScanResult010
from iceberg_bioimage.display import html_table, plate_grid, well_name


@dataclass(frozen=True, slots=True)
class Axis:
    """One named dimension of an image, as OME-NGFF describes it."""

    name: str
    type: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class ImageLevel:
    """One stored array of an image: a pyramid level, or the only array.

    ``chunk_shape`` is the shape of the smallest independently decodable unit
    (the inner chunk of a sharded array, the tile of a tiled TIFF); ``shard_shape``
    is the shape of one stored object when the array is sharded.
    """

    path: str
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...] | None = None
    shard_shape: tuple[int, ...] | None = None
    scale: tuple[float, ...] | None = None
    translation: tuple[float, ...] | None = None
    chunk_key_encoding: str | None = None
    chunk_key_separator: str | None = None
    zarr_format: int | None = None


@dataclass(frozen=True, slots=True)
class PhysicalSize:
    """The physical size of one pixel along a spatial axis."""

    axis: str
    size: float
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class ScanWarning:
    """A problem found while scanning: where it is and why it matters."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '.'}: {self.message}"


HCS_FIELDS = (
    "plate_id",
    "well_id",
    "site_id",
    "well_row",
    "well_column",
    "row_index",
    "column_index",
    "acquisition_id",
    "acquisition_name",
)


@dataclass(frozen=True, slots=True)
class ImageAsset:
    """One image (or label image, or plain array) found in a store.

    A multiscale image is a single asset whose pyramid levels are listed in
    ``levels``; level 0 is the full-resolution array and gives ``shape``,
    ``chunk_shape`` and ``array_path``.
    """

    dataset_id: str
    image_id: str
    format_family: str
    uri: str
    image_path: str
    array_path: str
    shape: tuple[int, ...]
    dtype: str
    storage_variant: str
    image_kind: str = "image"
    chunk_shape: tuple[int, ...] | None = None
    shard_shape: tuple[int, ...] | None = None
    axes: tuple[Axis, ...] = ()
    levels: tuple[ImageLevel, ...] = ()
    ome_ngff_version: str | None = None
    image_name: str | None = None
    parent_image_id: str | None = None
    label_name: str | None = None
    plate_id: str | None = None
    well_id: str | None = None
    site_id: int | None = None
    well_row: str | None = None
    well_column: str | None = None
    row_index: int | None = None
    column_index: int | None = None
    acquisition_id: str | None = None
    acquisition_name: str | None = None
    physical_sizes: tuple[PhysicalSize, ...] = ()
    channel_names: tuple[str, ...] = ()
    codecs: tuple[str, ...] = ()
    compressor: str | None = None
    fill_value: Any = None
    source_files: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def axes_order(self) -> str | None:
        """The axis names joined in order, e.g. ``"tczyx"``; None when unknown."""
        return "".join(axis.name for axis in self.axes) if self.axes else None

    @property
    def channel_count(self) -> int | None:
        """Number of channels: from the channel axis, else the channel names."""
        for index, axis in enumerate(self.axes):
            if axis.type == "channel" or axis.name.lower() == "c":
                return self.shape[index]
        return len(self.channel_names) or None

    def hcs_fields(self) -> dict[str, Any]:
        """The plate position of this image (all None outside a plate)."""
        return {name: getattr(self, name) for name in HCS_FIELDS}

    def physical_size(self, axis: str) -> PhysicalSize | None:
        """The physical pixel size along ``axis`` (``"x"``, ``"y"``, ``"z"``)."""
        return next((p for p in self.physical_sizes if p.axis == axis), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScanResult(ScanResult010):
    """Everything a metadata-only scan of one store found.

    Problems inside the store do not stop a scan: each one is a ``ScanWarning``
    with the path it concerns, so nothing is dropped silently.
    """

    dataset_id: str
    uri: str
    format_family: str
    image_assets: tuple[ImageAsset, ...]
    warnings: tuple[ScanWarning, ...] = ()

    @property
    def storage_variants(self) -> tuple[str, ...]:
        return tuple(sorted({a.storage_variant for a in self.image_assets}))

    def __repr__(self) -> str:
        labels = sum(a.image_kind == "label" for a in self.image_assets)
        return (
            f"ScanResult(dataset_id={self.dataset_id!r}, format={self.format_family!r}, "
            f"images={len(self.image_assets) - labels}, labels={labels}, "
            f"warnings={len(self.warnings)}, uri={self.uri!r})"
        )

    def _repr_html_(self) -> str:
        summary = DatasetSummary.from_scan_result(self)._repr_html_()
        return summary + "".join(_plate_maps(self.image_assets))

    def to_dict(self) -> dict[str, Any]:
        return self.with_010_keys(
            {
                "dataset_id": self.dataset_id,
                "uri": self.uri,
                "format_family": self.format_family,
                "image_assets": [asset.to_dict() for asset in self.image_assets],
                "warnings": [str(w) for w in self.warnings],
            }
        )


@dataclass(frozen=True, slots=True)
class DatasetSummary(DatasetSummary010):
    """A compact, human-sized description of one scanned store."""

    dataset_id: str
    uri: str
    format_family: str
    storage_variants: tuple[str, ...]
    ome_ngff_versions: tuple[str, ...]
    image_count: int
    label_count: int
    array_count: int
    level_count: int
    plate_ids: tuple[str, ...]
    well_count: int
    field_count: int
    dtypes: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    axes: tuple[str, ...]
    channel_names: tuple[str, ...]
    warnings: tuple[str, ...]
    # A collection's tree: (depth, images, labels) for each depth below the root.
    collection_levels: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def from_scan_result(cls, result: ScanResult) -> DatasetSummary:
        assets = result.image_assets
        images = [a for a in assets if a.image_kind == "image"]
        wells = {(a.plate_id, a.well_id) for a in images if a.well_id}
        fields = {(a.plate_id, a.well_id, a.site_id) for a in images if a.well_id}
        return cls(
            dataset_id=result.dataset_id,
            uri=result.uri,
            format_family=result.format_family,
            storage_variants=result.storage_variants,
            ome_ngff_versions=_distinct(a.ome_ngff_version for a in assets),
            image_count=len(images),
            label_count=sum(a.image_kind == "label" for a in assets),
            array_count=sum(max(len(a.levels), 1) for a in assets),
            level_count=max((len(a.levels) for a in assets), default=0),
            plate_ids=_distinct(a.plate_id for a in assets),
            well_count=len(wells),
            field_count=len(fields),
            dtypes=_distinct(a.dtype for a in assets),
            shapes=tuple(shape for shape, _ in Counter(a.shape for a in assets).most_common()),
            axes=_distinct(a.axes_order for a in assets),
            channel_names=tuple(dict.fromkeys(n for a in images for n in a.channel_names)),
            warnings=tuple(str(w) for w in result.warnings),
            collection_levels=_collection_levels(assets),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["shapes"] = [list(shape) for shape in self.shapes]
        return self.with_010_keys(data)

    def __repr__(self) -> str:
        return (
            f"DatasetSummary(dataset_id={self.dataset_id!r}, format={self.format_family!r}, "
            f"images={self.image_count}, labels={self.label_count}, plates={len(self.plate_ids)}, "
            f"wells={self.well_count}, warnings={len(self.warnings)})"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("dataset", self.dataset_id),
            ("uri", self.uri),
            ("format", f"{self.format_family} ({', '.join(self.storage_variants)})"),
            ("OME-NGFF", self.ome_ngff_versions),
            ("images / labels", f"{self.image_count} / {self.label_count}"),
            ("plates", self.plate_ids),
            ("wells / fields", f"{self.well_count} / {self.field_count}"),
            ("levels", self.level_count),
            ("dtypes", self.dtypes),
            ("shapes", [str(s) for s in self.shapes[:5]]),
            ("axes", self.axes),
            ("channels", self.channel_names),
            ("warnings", len(self.warnings)),
        ]
        return html_table(rows, caption=f"Dataset {self.dataset_id}")


def _plate_maps(assets: Iterable[ImageAsset]) -> list[str]:
    """A small plate map per plate: the wells present, with their field counts."""
    fields: dict[str, Counter[tuple[int, int]]] = {}
    for asset in assets:
        if asset.image_kind == "image" and asset.plate_id and asset.row_index is not None:
            position = (asset.row_index, asset.column_index or 0)
            fields.setdefault(asset.plate_id, Counter())[position] += 1
    maps = []
    for plate, counts in sorted(fields.items()):
        rows = max(r for r, _ in counts) + 1
        columns = max(c for _, c in counts) + 1
        cells = {
            (r, c): f"<td class='well present' title='{well_name(r, c)}'>{n}</td>"
            for (r, c), n in counts.items()
        }
        maps.append(f"<p>Plate {html.escape(plate)}: fields per well</p>")
        maps.append(plate_grid(rows, columns, cells))
    return maps


def _collection_levels(assets: Iterable[ImageAsset]) -> tuple[tuple[int, int, int], ...]:
    """Images and labels per depth of a collection's tree (empty outside one)."""
    counts: Counter[tuple[int, str]] = Counter()
    for asset in assets:
        placement = (asset.metadata or {}).get("collection")
        if isinstance(placement, dict) and isinstance(placement.get("depth"), int):
            counts[(placement["depth"], asset.image_kind)] += 1
    depths = sorted({depth for depth, _ in counts})
    return tuple((d, counts[(d, "image")], counts[(d, "label")]) for d in depths)


def _distinct(values: Any) -> tuple[Any, ...]:
    return tuple(sorted({v for v in values if v is not None}))


@dataclass(frozen=True, slots=True)
class DirectoryScan:
    """The scans of every store found under a folder, and the stores that failed."""

    root: str
    results: tuple[ScanResult, ...]
    errors: tuple[ScanWarning, ...] = ()

    @property
    def warnings(self) -> tuple[ScanWarning, ...]:
        return self.errors + tuple(w for r in self.results for w in r.warnings)

    @property
    def store_warnings(self) -> tuple[str, ...]:
        """The warnings as text, each naming its store when several were scanned."""
        several = len(self.results) > 1
        return tuple(str(e) for e in self.errors) + tuple(
            f"{r.dataset_id}: {w}" if several else str(w) for r in self.results for w in r.warnings
        )


_LEGACY_RESULTS = ("ContractValidationResult", "RegistrationResult")


def __getattr__(name: str) -> Any:
    """0.1.0 exported two result classes from here; they live elsewhere now."""
    if name in _LEGACY_RESULTS:
        import iceberg_bioimage

        return getattr(iceberg_bioimage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

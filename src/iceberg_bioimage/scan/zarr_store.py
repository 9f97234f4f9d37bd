"""Scan one Zarr store (plain or OME-NGFF) into a :class:`ScanResult`.

Navigation follows metadata (``plate.wells[].path``, ``well.images[].path``,
``multiscales[].datasets[].path``, ``labels``); a directory is listed only where
no metadata names the children. Every level of the hierarchy is read as one
batch, so a plate costs a handful of rounds however many wells it has; on a
remote store an image's arrays are asked for as soon as its document arrives,
so the requests in flight stay at the store's concurrency between levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from iceberg_bioimage import identity
from iceberg_bioimage.errors import EmptyStoreError, UnsafePathError, UnsupportedStoreError
from iceberg_bioimage.io import Store, join_key
from iceberg_bioimage.io.paths import safe_key
from iceberg_bioimage.models import (
    Axis,
    ImageAsset,
    ImageLevel,
    PhysicalSize,
    ScanResult,
    ScanWarning,
)
from iceberg_bioimage.scan import collection, collector, ngff
from iceberg_bioimage.scan.zarr_meta import ArrayMeta, Node, ZarrReader

_MAX_PLAIN_DEPTH = 16


@dataclass(frozen=True, slots=True)
class _ImageRequest:
    """An image to read, with the identity its parents already decided."""

    path: str
    image_id: str
    kind: str = "image"
    parent_image_id: str | None = None
    label_name: str | None = None
    hcs: dict[str, Any] | None = None
    version: str | None = None
    placement: dict[str, Any] | None = None  # where a collection puts the image


_Parsed = tuple[_ImageRequest, ngff.Multiscale, dict[str, Any]]


def _label_placement(parent: ImageAsset, name: str) -> dict[str, Any] | None:
    """A collection image's label images sit one level below it in the tree."""
    placed = parent.metadata.get("collection")
    if not isinstance(placed, dict):
        return None
    return {
        "node_id": None,
        "node_path": f"{placed['node_path']}/labels/{name}",
        "parent_id": placed["node_id"] or placed["parent_id"],
        "depth": placed["depth"] + 1,
    }


def _metadata(ome: dict[str, Any], request: _ImageRequest) -> dict[str, Any]:
    """An asset's metadata: its OME attributes, and its place in a collection."""
    return {"ome": ome} | ({"collection": request.placement} if request.placement else {})


_Read = tuple[list[str], tuple[ngff.Multiscale, dict[str, Any]] | None]


def _read_multiscale(attributes: dict[str, Any], version: str | None, what: str) -> _Read:
    """An image group's first multiscale and the warnings it deserves."""
    ome, declared = ngff.ome_attributes(attributes)
    try:
        multiscales = ngff.parse_multiscales(ome, declared or version)
    except ngff.NgffError as error:
        return [f"invalid {what} metadata: {error}"], None
    messages = []
    if len(multiscales) > 1:
        messages.append(f"{len(multiscales)} multiscales found; only the first is used")
    for dataset in multiscales[0].datasets:
        try:
            safe_key(dataset.path)
        except UnsafePathError as error:
            return [*messages, f"path refused: {error}"], None
    messages += [f"OME-NGFF rule broken: {b}" for b in ngff.spec_breaches(multiscales[0])]
    return messages, (multiscales[0], ome)


def _what(request: _ImageRequest) -> str:
    return "label image" if request.kind == "label" else "image"


def _parse_multiscale(
    request: _ImageRequest, node: Node, documents: dict[tuple[Any, ...], _Read]
) -> _Read:
    """What an image's group document says (see :func:`_read_multiscale`).
    Images whose documents are identical (every field of a plate) share one
    parse, remembered in ``documents``."""
    what = _what(request)
    key = (id(node.attributes), request.version, what)
    read = documents.get(key)
    if read is None:
        read = documents[key] = _read_multiscale(node.attributes, request.version, what)
    return read


def _level_keys(multiscale: ngff.Multiscale) -> tuple[str, ...]:
    """The keys of a multiscale's levels under its image (checked by :func:`_read_multiscale`)."""
    return tuple(safe_key(d.path) for d in multiscale.datasets)


@dataclass(slots=True)
class _Parts:
    """What one distinct set of image documents decides, for every image sharing it."""

    messages: list[tuple[int | None, str]]  # (level index, or None: the image; message)
    fields: dict[str, Any] | None  # ImageAsset fields; None: no asset
    base: int  # index of the first readable level


def _asset_parts(
    multiscale: ngff.Multiscale, ome: dict[str, Any], request: _ImageRequest, nodes: list[Node]
) -> _Parts:
    messages: list[tuple[int | None, str]] = []
    levels: list[ImageLevel] = []
    base, first = 0, None
    for index, (dataset, node) in enumerate(zip(multiscale.datasets, nodes, strict=True)):
        if node.kind != "array" or node.array is None:
            reason = node.problem or ("is a group" if node.kind == "group" else "is absent")
            messages.append((index, f"multiscale level {dataset.path!r} {reason}"))
            continue
        if first is None:
            base, first = index, node.array
        levels.append(_level(dataset.path, node.array, dataset.scale, dataset.translation))
    if first is None:
        messages.append((None, "image has no readable level; skipped"))
        return _Parts(messages, None, 0)
    axes, problem = _axes_for(multiscale.axes, first, multiscale.version)
    if problem:
        messages.append((None, problem))
    fields = {
        "shape": first.shape,
        "dtype": first.dtype,
        "storage_variant": f"zarr-v{first.zarr_format}",
        "chunk_shape": first.chunk_shape,
        "shard_shape": first.shard_shape,
        "axes": axes,
        "levels": tuple(levels),
        "ome_ngff_version": multiscale.version or request.version,
        "image_name": multiscale.name,
        "physical_sizes": _physical_sizes(axes, levels[0].scale),
        "channel_names": ngff.parse_omero_channels(ome) if request.kind == "image" else (),
        "codecs": first.codecs,
        "compressor": first.compressor,
        "fill_value": first.fill_value,
    }
    return _Parts(messages, fields, base)


def _axes_for(
    axes: tuple[Axis, ...] | None, array: ArrayMeta, version: str | None
) -> tuple[tuple[Axis, ...], str | None]:
    """The image's axes, and a warning when the declared ones do not fit the array."""
    ndim = len(array.shape)
    if axes is None:
        if array.dimension_names and all(array.dimension_names):
            return tuple(Axis(str(n)) for n in array.dimension_names), None
        return (ngff.default_axes(ndim) if version in (None, "0.1", "0.2") else ()), None
    if len(axes) != ndim:
        return (), f"{len(axes)} axes declared but the array has {ndim} dimensions"
    return axes, None


def _under(folder: str, key: str) -> str:
    """``key`` (an already checked key) inside ``folder``."""
    return f"{folder}/{key}" if folder else key


class _ZarrScan:
    def __init__(self, store: Store, dataset_id: str) -> None:
        self.store = store
        self.reader = ZarrReader(store)
        self.dataset_id = dataset_id
        self.assets: list[ImageAsset] = []
        self.warnings: list[ScanWarning] = []
        self.is_ome = False
        self.widened = False  # a collection scanned from the top of its filesystem

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(ScanWarning(path, message))

    def safe(self, where: str, *parts: str) -> bool:
        """Whether metadata's path parts stay inside the store; a warning if not."""
        try:
            join_key(*parts)
        except UnsafePathError as error:
            self.warn(where, f"path refused: {error}")
            return False
        return True

    def run(self) -> ScanResult:
        root = self.reader.open_root()
        if root.kind == "invalid":
            raise UnsupportedStoreError(f"{self.store.uri}: {root.problem}")
        if not root.exists:
            diagnose = getattr(self.store, "diagnose_missing", None)
            if diagnose is not None:
                diagnose()  # remote: name a missing bucket or prefix precisely
            raise UnsupportedStoreError(
                f"{self.store.uri}: not a Zarr store (no zarr.json, .zgroup or .zarray)"
            )
        self.visit_root(root)
        for refused in getattr(self.store, "refused", ()):
            self.warn("", f"read refused: {refused}")
        if not self.assets:
            detail = (
                f" ({len(self.warnings)} warnings: {self.warnings[0]})" if self.warnings else ""
            )
            raise EmptyStoreError(f"{self.store.uri}: the store holds no image or array{detail}")
        self.assets.sort(key=lambda a: _natural_key(a.image_id))
        return ScanResult(
            dataset_id=self.dataset_id,
            uri=self.store.uri,
            format_family="ome-zarr" if self.is_ome else "zarr",
            image_assets=tuple(self.assets),
            warnings=tuple(self.warnings),
        )

    def visit_root(self, root: Node) -> None:
        if root.kind == "array":
            self.add_plain_arrays({"": root})
            return
        ome, version = ngff.ome_attributes(root.attributes)
        if collection.is_collection(ome):
            self.is_ome = True
            collection.walk(self, "zarr.json", ome)
        elif "plate" in ome:
            self.visit_plate(ome, version)
        elif "multiscales" in ome:
            self.visit_images(
                [_ImageRequest("", identity.path_image_id(""), version=version)],
                {"": root},
            )
        elif ngff.is_bioformats2raw(ome):
            self.visit_bioformats2raw(version)
        else:
            self.visit_plain_group("", 0)

    # -- HCS plates -------------------------------------------------------
    def visit_plate(self, ome: dict[str, Any], version: str | None) -> None:
        self.is_ome = True
        try:
            plate = ngff.parse_plate(ome, version)
        except ngff.NgffError as error:
            self.warn("", f"invalid plate metadata: {error}")
            return
        plate_id = plate.name or self.dataset_id
        wells = [w for w in plate.wells if self.safe("", w.path)]
        rows = sorted({w.path.split("/")[0] for w in wells if "/" in w.path})
        nodes = self.reader.read([*rows, *(w.path for w in wells)])
        for row in rows:
            if not nodes[row].exists:
                self.warn(
                    row,
                    "row group has no Zarr metadata (wells are read from the plate's list)",
                )
        requests: list[_ImageRequest] = []
        for well in wells:
            for site, image in enumerate(self.well_images(well.path, nodes[well.path])):
                if not self.safe(well.path, image.path):
                    continue
                well_name = identity.well_id(well.row, well.column)
                acquisition = image.acquisition
                requests.append(
                    _ImageRequest(
                        path=join_key(well.path, image.path),
                        image_id=identity.hcs_image_id(plate_id, well_name, site),
                        version=plate.version,
                        hcs={
                            "plate_id": plate_id,
                            "well_id": well_name,
                            "site_id": site,
                            "well_row": well.row,
                            "well_column": well.column,
                            "row_index": well.row_index,
                            "column_index": well.column_index,
                            "acquisition_id": acquisition,
                            "acquisition_name": plate.acquisitions.get(acquisition or ""),
                        },
                    )
                )
        self.visit_images(requests)

    def well_images(self, path: str, node: Node) -> tuple[ngff.WellImage, ...]:
        if node.kind == "missing":  # no well metadata: its fields may still be there
            fields = self.children(path)
            if not fields:
                self.warn(path, "well is listed in the plate but absent from the store")
                return ()
            self.warn(path, f"well metadata is missing; found {len(fields)} fields by listing")
            return tuple(ngff.WellImage(name, None) for name in fields)
        if node.kind == "invalid":
            self.warn(path, f"well metadata unreadable: {node.problem}")
            return ()
        try:
            return ngff.parse_well(ngff.ome_attributes(node.attributes)[0])
        except ngff.NgffError as error:
            fields = self.children(path)
            self.warn(
                path,
                f"invalid well metadata ({error}); found {len(fields)} fields by listing",
            )
            return tuple(ngff.WellImage(name, None) for name in fields)

    # -- bioformats2raw ---------------------------------------------------
    def visit_bioformats2raw(self, version: str | None) -> None:
        self.is_ome = True
        ome_node = self.reader.read(["OME"])["OME"]
        series = (
            ngff.ome_attributes(ome_node.attributes)[0].get("series") if ome_node.exists else None
        )
        if not isinstance(series, list) or not all(isinstance(s, str) for s in series):
            series = [name for name in self.children("") if name.isdigit()]
            series.sort(key=int)
        series = [s for s in series if self.safe("OME", s)]
        self.visit_images(
            [_ImageRequest(s, identity.path_image_id(s), version=version) for s in series]
        )

    # -- images, levels and labels ---------------------------------------
    def visit_images(
        self, requests: list[_ImageRequest], known: dict[str, Node] | None = None
    ) -> None:
        if not requests:
            return
        nodes = dict(known or {})
        documents: dict[tuple[Any, ...], _Read] = {}
        unread = {r.path: r for r in requests if r.path not in nodes}
        for path, node in self.reader.read_each(list(unread)):
            nodes[path] = node
            self.read_ahead(unread[path], node, documents)
        parsed: list[_Parsed] = []
        for request in requests:
            found = self.multiscale_of(request, nodes[request.path], documents)
            if found is not None:
                parsed.append((request, *found))
        self.build_parsed(parsed)

    def build_parsed(self, parsed: list[_Parsed]) -> None:
        """Assets of images whose multiscale is known: one array read per level
        of the hierarchy, then their labels."""
        if not parsed:
            return
        level_keys: dict[int, tuple[str, ...]] = {}
        for _, multiscale, _ in parsed:
            if id(multiscale) not in level_keys:
                level_keys[id(multiscale)] = _level_keys(multiscale)
        array_paths = [_under(r.path, key) for r, ms, _ in parsed for key in level_keys[id(ms)]]
        label_groups = [_under(r.path, "labels") for r, _, _ in parsed if r.kind == "image"]
        arrays, label_nodes = self.reader.read_together(
            [(array_paths, "array"), (label_groups, "group")]
        )
        label_requests: list[_ImageRequest] = []
        # keyed by object ids: ``parsed`` and ``arrays`` keep the objects alive
        shared: dict[tuple[Any, ...], _Parts] = {}
        for request, multiscale, ome in parsed:
            keys = level_keys[id(multiscale)]
            nodes = [arrays[_under(request.path, key)] for key in keys]
            asset = self.build_asset(request, multiscale, ome, keys, nodes, shared)
            if asset is None:
                continue
            self.assets.append(asset)
            if request.kind == "image":
                labels = _under(request.path, "labels")
                label_requests += self.label_requests(asset, labels, label_nodes[labels])
        self.visit_images(label_requests)

    def read_ahead(
        self, request: _ImageRequest, node: Node, documents: dict[tuple[Any, ...], _Read]
    ) -> None:
        """Where the store reads ahead (remote), ask for an image's levels and
        labels as soon as its document arrives, while other images' documents
        are still in flight."""
        if not self.reader.reads_ahead or node.kind in ("missing", "invalid"):
            return
        found = _parse_multiscale(request, node, documents)[1]
        if found is None:
            return
        keys = _level_keys(found[0])
        self.reader.read_ahead([_under(request.path, key) for key in keys], "array")
        if request.kind == "image":
            self.reader.read_ahead([_under(request.path, "labels")], "group")

    def multiscale_of(
        self, request: _ImageRequest, node: Node, documents: dict[tuple[Any, ...], _Read]
    ) -> tuple[ngff.Multiscale, dict[str, Any]] | None:
        """The image's first multiscale, warnings said at its path."""
        what = _what(request)
        if node.kind == "missing":
            self.warn(request.path, f"{what} is listed but absent from the store")
            return None
        if node.kind == "invalid":
            self.warn(request.path, f"{what} metadata unreadable: {node.problem}")
            return None
        messages, found = _parse_multiscale(request, node, documents)
        for message in messages:
            self.warn(request.path, message)
        if found is not None:
            self.is_ome = True
        return found

    def label_requests(self, parent: ImageAsset, path: str, node: Node) -> list[_ImageRequest]:
        if node.kind == "missing":
            return []
        if node.kind == "invalid":
            self.warn(path, f"labels metadata unreadable: {node.problem}")
            return []
        try:
            names = ngff.parse_labels(ngff.ome_attributes(node.attributes)[0])
        except ngff.NgffError as error:
            self.warn(path, f"invalid labels metadata: {error}")
            return []
        return [
            _ImageRequest(
                path=join_key(path, name),
                image_id=identity.label_image_id(parent.image_id, name),
                kind="label",
                parent_image_id=parent.image_id,
                label_name=name,
                hcs=parent.hcs_fields() if parent.plate_id else None,
                version=parent.ome_ngff_version,
                placement=_label_placement(parent, name),
            )
            for name in names
            if self.safe(path, name)
        ]

    def build_asset(
        self,
        request: _ImageRequest,
        multiscale: ngff.Multiscale,
        ome: dict[str, Any],
        keys: tuple[str, ...],
        nodes: list[Node],
        shared: dict[tuple[Any, ...], _Parts],
    ) -> ImageAsset | None:
        """One image's asset, its levels at ``keys`` under the image, read as
        ``nodes``. What the documents decide (levels, axes, sizes, channels) is
        worked out once per distinct set of them (identical documents give one
        shared node), in ``shared``."""
        key = (id(multiscale), id(ome), request.kind, request.version, *map(id, nodes))
        parts = shared.get(key)
        if parts is None:
            parts = shared[key] = _asset_parts(multiscale, ome, request, nodes)
        for level, message in parts.messages:
            where = request.path if level is None else _under(request.path, keys[level])
            self.warn(where, message)
        if parts.fields is None:
            return None
        return ImageAsset(
            dataset_id=self.dataset_id,
            image_id=request.image_id,
            format_family="ome-zarr",
            uri=self.store.uri,
            image_path=request.path,
            array_path=_under(request.path, keys[parts.base]),
            image_kind=request.kind,
            parent_image_id=request.parent_image_id,
            label_name=request.label_name,
            metadata=_metadata(ome, request),
            **parts.fields,
            **(request.hcs or {}),
        )

    # -- plain Zarr -------------------------------------------------------
    def visit_plain_group(self, path: str, depth: int) -> None:
        if depth > _MAX_PLAIN_DEPTH:
            self.warn(path, f"nesting deeper than {_MAX_PLAIN_DEPTH} levels; not descended")
            return
        children = [join_key(path, name) for name in self.children(path)]
        nodes = self.reader.read(children, expect="any") if children else {}
        arrays = {p: n for p, n in nodes.items() if n.kind == "array"}
        self.add_plain_arrays(arrays)
        images = []
        for child, node in nodes.items():
            if node.kind == "invalid":
                self.warn(child, f"metadata unreadable: {node.problem}")
            elif node.kind == "group":
                ome, version = ngff.ome_attributes(node.attributes)
                if "multiscales" in ome:
                    images.append(
                        _ImageRequest(child, identity.path_image_id(child), version=version)
                    )
                elif "plate" in ome:
                    self.warn(child, "nested plate found; scan it as its own store")
                else:
                    self.visit_plain_group(child, depth + 1)
        self.visit_images(images, {r.path: nodes[r.path] for r in images})

    def add_plain_arrays(self, nodes: dict[str, Node]) -> None:
        for path, node in nodes.items():
            array = node.array
            assert array is not None
            names = array.dimension_names or node.attributes.get("_ARRAY_DIMENSIONS")
            axes = tuple(Axis(str(n)) for n in names) if _valid_names(names, array) else ()
            level = _level("", array, None, None)  # the array is its own only level
            self.assets.append(
                ImageAsset(
                    dataset_id=self.dataset_id,
                    image_id=identity.path_image_id(path),
                    format_family="zarr",
                    uri=self.store.uri,
                    image_path=path,
                    array_path=path,
                    shape=array.shape,
                    dtype=array.dtype,
                    storage_variant=f"zarr-v{array.zarr_format}",
                    image_kind="array",
                    chunk_shape=array.chunk_shape,
                    shard_shape=array.shard_shape,
                    axes=axes,
                    levels=(level,),
                    codecs=array.codecs,
                    compressor=array.compressor,
                    fill_value=array.fill_value,
                    metadata={"attributes": node.attributes} if node.attributes else {},
                )
            )

    def children(self, path: str) -> list[str]:
        """Child node names: from consolidated metadata when present, else a listing."""
        consolidated = self.reader.consolidated
        if consolidated is not None:
            prefix = f"{path}/" if path else ""
            return sorted(
                {
                    key[len(prefix) :].split("/", 1)[0]
                    for key in consolidated
                    if key.startswith(prefix) and key != path
                }
            )
        return [name for name in self.store.list_dir(path).dirs if not name.startswith(".")]


def scan_zarr_store(store: Store, dataset_id: str) -> ScanResult:
    """Scan a Zarr store (v2, v3, consolidated; plain or OME-NGFF 0.1-0.5)."""
    with collector.paused():
        scan = _ZarrScan(store, dataset_id)
        result = scan.run()
        # Its parsed documents go while the collector is still paused: the
        # first collection after it resumes would otherwise walk them all.
        del scan
    return result


def _level(
    path: str,
    array: ArrayMeta,
    scale: tuple[float, ...] | None,
    translation: tuple[float, ...] | None,
) -> ImageLevel:
    return ImageLevel(
        path=path,
        shape=array.shape,
        chunk_shape=array.chunk_shape,
        shard_shape=array.shard_shape,
        scale=scale,
        translation=translation,
        chunk_key_encoding=array.chunk_key_encoding,
        chunk_key_separator=array.chunk_key_separator,
        zarr_format=array.zarr_format,
    )


@lru_cache(maxsize=256)
def _physical_sizes(
    axes: tuple[Axis, ...], scale: tuple[float, ...] | None
) -> tuple[PhysicalSize, ...]:
    if scale is None or len(scale) != len(axes):
        return ()
    return tuple(
        PhysicalSize(axis.name.lower(), value, axis.unit)
        for axis, value in zip(axes, scale, strict=True)
        if axis.name.lower() in ("x", "y", "z") and axis.type in (None, "space")
    )


def _valid_names(names: Any, array: ArrayMeta) -> bool:
    return (
        isinstance(names, (list, tuple))
        and len(names) == len(array.shape)
        and all(isinstance(n, str) and n for n in names)
    )


_DIGITS = re.compile(r"(\d+)")


def _natural_key(text: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text))

"""Zarr v2 and v3 metadata, read as JSON straight from the store.

Nodes are read in batches (every well of a plate at once, every image at once)
so that a remote store can keep many requests in flight. Consolidated metadata
(v2 ``.zmetadata``, v3 inline ``consolidated_metadata``) answers every read
without touching the store again.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from iceberg_bioimage import progress
from iceberg_bioimage.errors import MetadataError
from iceberg_bioimage.io import Store
from iceberg_bioimage.io.paths import printable

INT64_MAX = 2**63 - 1
# Limits on untrusted metadata documents (documented in docs/tables.md): a
# document is parsed only up to this size, and nesting deeper than Python's
# recursion limit is refused rather than followed.
MAX_METADATA_BYTES = 64 << 20
_PROGRESS_BATCH = 256  # keys per read when a progress bar counts them

V2_GROUP, V2_ARRAY, V2_ATTRS, V2_CONSOLIDATED = (
    ".zgroup",
    ".zarray",
    ".zattrs",
    ".zmetadata",
)
V3_NODE = "zarr.json"
# numpy's names of the plain numeric types, by typestr kind; named here so that
# a scan needs no numpy (a fifth of a small command's start-up).
_NUMERIC_KINDS = {"i": "int", "u": "uint", "f": "float", "c": "complex"}
_NUMERIC_NAMES = frozenset(
    ["bool"]
    + [f"{kind}{bits}" for kind in ("int", "uint") for bits in (8, 16, 32, 64)]
    + ["float16", "float32", "float64", "complex64", "complex128"]
)
ROOT_KEYS = (V3_NODE, V2_CONSOLIDATED, V2_GROUP, V2_ARRAY, V2_ATTRS)

_COMPRESSORS = ("blosc", "zstd", "gzip", "zlib", "lz4", "bz2", "lzma", "lzf", "jpeg2k")


@dataclass(frozen=True, slots=True)
class ArrayMeta:
    """What a Zarr array's metadata says, normalised across v2 and v3."""

    zarr_format: int
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    shard_shape: tuple[int, ...] | None
    dtype: str
    fill_value: Any
    codecs: tuple[str, ...]
    compressor: str | None
    chunk_key_encoding: str
    chunk_key_separator: str
    dimension_names: tuple[str | None, ...] | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """One Zarr node: a group, an array, or nothing at that path. Nodes read
    from identical documents are one shared object (a node knows no path)."""

    kind: str  # "group" | "array" | "missing" | "invalid"
    zarr_format: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    array: ArrayMeta | None = None
    problem: str | None = None

    @property
    def exists(self) -> bool:
        return self.kind in ("group", "array")


MISSING = Node("missing")


class ZarrReader:
    """Reads Zarr nodes of one store, batched, using consolidated metadata if any."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.consolidated: dict[str, dict[str, Any]] | None = None
        self.root_format: int | None = None
        self.root: Node = MISSING
        self._parsed: dict[tuple[str | bytes, ...], Node] = {}
        self._shareable = False  # whether consolidated entries may share nodes

    def open_root(self) -> Node:
        """Read the root once: its format, its node, consolidated metadata."""
        fetched = zip(ROOT_KEYS, self.store.get_many(ROOT_KEYS), strict=True)
        raw = {key: value for key, value in fetched if value is not None}
        if V3_NODE in raw:
            self.root_format = 3
            try:  # parsed once: a consolidated root can be tens of megabytes
                document = _load_json(raw[V3_NODE], V3_NODE)
                self.root = _v3_node(document)
            except MetadataError as error:
                self.root = Node("invalid", problem=str(error))
            if self.root.exists:
                self._load_v3_consolidated(document, _finite(raw[V3_NODE]))
        elif any(key in raw for key in (V2_GROUP, V2_ARRAY, V2_ATTRS)):
            self.root_format = 2
            consolidated = raw.pop(V2_CONSOLIDATED, None)
            self.root = _node_from_documents(raw)
            if consolidated is not None:
                self._load_v2_consolidated(consolidated)
        return self.root

    def read(
        self, paths: Sequence[str], expect: str = "group", *, probe: bool = True
    ) -> dict[str, Node]:
        """Nodes at ``paths``; ``expect`` ("group", "array", "any") picks the keys.

        A v2 group need not have ``.zattrs``: with ``probe``, groups that come
        back empty get one more round asking for ``.zgroup`` / ``.zarray``, so
        "exists without attributes" is told apart from "absent". Callers that
        only care about groups with attributes (``labels``) skip that round.
        """
        paths = list(dict.fromkeys(paths))
        if self.consolidated is not None:
            return {path: self._from_consolidated(path) for path in paths}
        nodes = self._fetch(paths, _keys_for(self.root_format, expect))
        if probe:
            self._probe_missing(nodes, expect)
        return nodes

    def _probe_missing(self, nodes: dict[str, Node], expect: str) -> None:
        """v2 groups that came back missing, asked for ``.zgroup`` / ``.zarray``."""
        if self.root_format == 2 and expect == "group":
            missing = [path for path, node in nodes.items() if node is MISSING]
            if missing:
                nodes.update(self._fetch(missing, (V2_GROUP, V2_ARRAY)))

    @property
    def reads_ahead(self) -> bool:
        """Whether reads can be started before they are needed (a store with
        ``read_ahead``, remote ones, and no consolidated metadata)."""
        return self.consolidated is None and hasattr(self.store, "read_ahead")

    def read_ahead(self, paths: Sequence[str], expect: str) -> None:
        """Start reading the nodes at ``paths`` that a later read will ask for,
        where the store can (:attr:`reads_ahead`); elsewhere nothing."""
        if self.reads_ahead:
            self.store.read_ahead(_keys(paths, _keys_for(self.root_format, expect)))  # type: ignore[attr-defined]

    def read_each(self, paths: Sequence[str], expect: str = "group") -> Iterator[tuple[str, Node]]:
        """The nodes :meth:`read` gives, handed over one by one. Where the
        store reads ahead, all are requested first and each is handed over
        as it arrives, so the caller can ask for what a node names while the
        rest are still in flight (v2 groups that come back missing are
        probed together, last)."""
        if not self.reads_ahead:
            yield from self.read(paths, expect).items()
            return
        paths = list(dict.fromkeys(paths))
        self.read_ahead(paths, expect)
        missing: dict[str, Node] = {}
        with _documents_task(len(paths)) as advance:
            for path in paths:
                node = self.read([path], expect, probe=False)[path]
                advance(1)
                if node is MISSING:
                    missing[path] = node
                else:
                    yield path, node
        self._probe_missing(missing, expect)
        yield from missing.items()

    def _node(self, docs: tuple[str | bytes, ...]) -> Node:
        """The node of a path's documents (name, content, name, content...);
        identical documents (the same level of every field in a plate, say)
        are parsed once and give one shared node."""
        node = self._parsed.get(docs)
        if node is None:
            pairs = zip(docs[::2], docs[1::2], strict=True)
            node = self._parsed[docs] = _node_from_documents(dict(pairs))  # type: ignore[arg-type]
        return node

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        """One batch of reads; a large one is read in parts so that a progress
        bar (when one listens) counts the metadata documents as they arrive."""
        if len(keys) < _PROGRESS_BATCH or not progress.listening_now():
            return self.store.get_many(keys)
        if self.reads_ahead:  # every part in flight while the first is counted
            self.store.read_ahead(keys)  # type: ignore[attr-defined]
        values: list[bytes | None] = []
        with _documents_task(len(keys)) as advance:
            for start in range(0, len(keys), _PROGRESS_BATCH):
                part = keys[start : start + _PROGRESS_BATCH]
                values += self.store.get_many(part)
                advance(len(part))
        return values

    def read_together(self, batches: Sequence[tuple[Sequence[str], str]]) -> list[dict[str, Node]]:
        """Several reads, each ``(paths, expect)``, in one round of requests (a
        remote store keeps them all in flight); v2 groups are not probed."""
        if self.consolidated is not None:
            return [self.read(paths, expect) for paths, expect in batches]
        wanted = [(list(dict.fromkeys(paths)), expect) for paths, expect in batches]
        return self._fetch_many(
            [(paths, _keys_for(self.root_format, expect)) for paths, expect in wanted]
        )

    def _fetch(self, paths: Sequence[str], names: tuple[str, ...]) -> dict[str, Node]:
        return self._fetch_many([(paths, names)])[0]

    def _fetch_many(
        self, batches: Sequence[tuple[Sequence[str], tuple[str, ...]]]
    ) -> list[dict[str, Node]]:
        keys = [key for paths, names in batches for key in _keys(paths, names)]
        values = iter(self._get_many(keys))
        found: list[dict[str, Node]] = []
        for paths, names in batches:
            if len(names) == 1:  # v3, and v2 arrays: one document a node
                (name,) = names
                found.append(
                    {
                        path: MISSING if value is None else self._node((name, value))
                        for path, value in zip(paths, values)  # noqa: B905 (values runs on)
                    }
                )
                continue
            nodes: dict[str, Node] = {}
            for path in paths:
                docs: tuple[str | bytes, ...] = ()
                for name in names:
                    value = next(values)
                    if value is not None:
                        docs += (name, value)
                nodes[path] = self._node(docs) if docs else MISSING
            found.append(nodes)
        return found

    def _from_consolidated(self, path: str) -> Node:
        """A node from consolidated metadata; identical entries give one shared
        node, as identical files do (their canonical bytes are the key, which
        is exact when the document held no NaN or Infinity)."""
        assert self.consolidated is not None
        entry = self.consolidated.get(path)
        if entry is None:
            return MISSING
        if not self._shareable:
            return self._consolidated_node(entry)
        key = ("", orjson.dumps(entry))
        node = self._parsed.get(key)
        if node is None:
            node = self._parsed[key] = self._consolidated_node(entry)
        return node

    def _consolidated_node(self, entry: dict[str, Any]) -> Node:
        try:
            if self.root_format == 3:
                return _v3_node(entry)
            return _v2_node(entry.get(V2_ARRAY), entry.get(V2_GROUP), entry.get(V2_ATTRS))
        except MetadataError as error:
            return Node("invalid", problem=str(error))

    def _load_v3_consolidated(self, document: dict[str, Any], finite: bool) -> None:
        consolidated = document.get("consolidated_metadata") if isinstance(document, dict) else None
        documents = consolidated.get("metadata") if isinstance(consolidated, dict) else None
        if isinstance(documents, dict):
            self._shareable = finite
            root = {"zarr_format": 3, "node_type": self.root.kind}
            self.consolidated = {"": root | {"attributes": self.root.attributes}} | {
                key.strip("/"): value for key, value in documents.items()
            }

    def _load_v2_consolidated(self, raw: bytes) -> None:
        try:
            metadata = _load_json(raw, ".zmetadata")["metadata"]
        except (MetadataError, KeyError, TypeError):
            return  # a broken .zmetadata is ignored: the store is read node by node
        grouped: dict[str, dict[str, Any]] = {}
        for key, value in metadata.items():
            path, _, name = key.rpartition("/")
            grouped.setdefault(path, {})[name] = value
        self.consolidated = grouped
        self._shareable = _finite(raw)


def _documents_task(total: int) -> contextlib.AbstractContextManager[Callable[[int], None]]:
    """Progress of a read of ``total`` documents; small reads are not shown."""
    if total < _PROGRESS_BATCH:
        return contextlib.nullcontext(_uncounted)
    return progress.task("reading metadata documents", total=total)


def _uncounted(amount: int) -> None:
    return None


def _keys(paths: Sequence[str], names: tuple[str, ...]) -> list[str]:
    """The store keys of the documents ``names`` of every node at ``paths``."""
    return [f"{path}/{name}" if path else name for path in paths for name in names]


def _keys_for(root_format: int | None, expect: str) -> tuple[str, ...]:
    if root_format == 3:
        return (V3_NODE,)
    if expect == "group":
        return (V2_ATTRS,)
    if expect == "array":
        return (V2_ARRAY,)
    return (V2_ARRAY, V2_GROUP, V2_ATTRS)


def _node_from_documents(docs: dict[str, bytes]) -> Node:
    try:
        if V3_NODE in docs:
            return _v3_node(_load_json(docs[V3_NODE], V3_NODE))
        if not docs:
            return MISSING
        return _v2_node(
            _load_json(docs[V2_ARRAY], V2_ARRAY) if V2_ARRAY in docs else None,
            _load_json(docs[V2_GROUP], V2_GROUP) if V2_GROUP in docs else None,
            _load_json(docs[V2_ATTRS], V2_ATTRS) if V2_ATTRS in docs else None,
        )
    except MetadataError as error:
        return Node("invalid", problem=str(error))


def _finite(raw: bytes) -> bool:
    """Whether a document holds no NaN or Infinity (which strict JSON writes
    as null, so two entries could not be told apart by their bytes)."""
    return b"NaN" not in raw and b"Infinity" not in raw


def _load_json(raw: bytes, name: str) -> Any:
    """A metadata document, within the documented limits (size, nesting)."""
    if len(raw) > MAX_METADATA_BYTES:
        raise MetadataError(
            f"{name} is {len(raw)} bytes, over the {MAX_METADATA_BYTES >> 20} MiB metadata limit"
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # orjson is strict JSON: NaN / Infinity (older v2 writers) and deep nesting
    try:
        return json.loads(raw)
    except RecursionError:
        raise MetadataError(f"{name} is nested too deeply to be metadata") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise MetadataError(f"{name} is not valid JSON ({printable(str(error), 120)})") from None


def _v2_node(zarray: Any, zgroup: Any, zattrs: Any) -> Node:
    attributes = zattrs if isinstance(zattrs, dict) else {}
    if zattrs is not None and not isinstance(zattrs, dict):
        raise MetadataError(".zattrs is not a JSON object")
    if zarray is not None:
        return Node("array", 2, attributes, parse_v2_array(zarray))
    return Node("group", 2, attributes)


def _v3_node(document: Any) -> Node:
    if not isinstance(document, dict):
        raise MetadataError("zarr.json is not a JSON object")
    attributes = document.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise MetadataError("zarr.json 'attributes' is not an object")
    node_type = document.get("node_type")
    if node_type == "array":
        return Node("array", 3, attributes, parse_v3_array(document))
    if node_type != "group":
        raise MetadataError(f"zarr.json has unknown node_type {node_type!r}")
    return Node("group", 3, attributes)


def parse_v2_array(meta: Any) -> ArrayMeta:
    """Normalise a v2 ``.zarray`` document."""
    if not isinstance(meta, dict):
        raise MetadataError(".zarray is not a JSON object")
    shape = _int_tuple(meta.get("shape"), ".zarray shape")
    chunks = _int_tuple(meta.get("chunks"), ".zarray chunks")
    _check_rank(shape, chunks, ".zarray chunks")
    compressor = meta.get("compressor")
    filters = meta.get("filters") or []
    codecs = tuple(_codec_id(c) for c in [*filters, compressor] if c)
    return ArrayMeta(
        zarr_format=2,
        shape=shape,
        chunk_shape=chunks,
        shard_shape=None,
        dtype=_dtype_name(meta.get("dtype")),
        fill_value=meta.get("fill_value"),
        codecs=codecs,
        compressor=_codec_label(compressor) if compressor else None,
        chunk_key_encoding="v2",
        chunk_key_separator=meta.get("dimension_separator") or ".",
    )


def parse_v3_array(meta: dict[str, Any]) -> ArrayMeta:
    """Normalise a v3 array ``zarr.json`` document, sharding included."""
    shape = _int_tuple(meta.get("shape"), "zarr.json shape")
    grid = meta.get("chunk_grid") or {}
    if not isinstance(grid, dict) or grid.get("name") != "regular":
        raise MetadataError(f"unsupported chunk_grid {grid!r}")
    outer = _int_tuple((grid.get("configuration") or {}).get("chunk_shape"), "chunk_shape")
    _check_rank(shape, outer, "chunk_shape")
    codecs = meta.get("codecs") or []
    if not isinstance(codecs, list):
        raise MetadataError("zarr.json 'codecs' is not a list")
    shard_shape: tuple[int, ...] | None = None
    chunk_shape = outer
    names = [_codec_id(c) for c in codecs]
    compressor = next((_codec_label(c) for c in codecs if _is_compressor(c)), None)
    sharding = next((c for c in codecs if _codec_id(c) == "sharding_indexed"), None)
    if sharding is not None:
        config = sharding.get("configuration") or {}
        chunk_shape = _int_tuple(config.get("chunk_shape"), "sharding chunk_shape")
        _check_rank(shape, chunk_shape, "sharding chunk_shape")
        shard_shape = outer
        inner = config.get("codecs") or []
        names += [_codec_id(c) for c in inner]
        compressor = next((_codec_label(c) for c in inner if _is_compressor(c)), compressor)
    encoding = meta.get("chunk_key_encoding") or {"name": "default"}
    encoding_name = encoding.get("name", "default")
    default_separator = "/" if encoding_name == "default" else "."
    separator = (encoding.get("configuration") or {}).get("separator", default_separator)
    names_field = meta.get("dimension_names")
    return ArrayMeta(
        zarr_format=3,
        shape=shape,
        chunk_shape=chunk_shape,
        shard_shape=shard_shape,
        dtype=_dtype_name(meta.get("data_type")),
        fill_value=meta.get("fill_value"),
        codecs=tuple(names),
        compressor=compressor,
        chunk_key_encoding=encoding_name,
        chunk_key_separator=separator,
        dimension_names=tuple(names_field) if isinstance(names_field, list) else None,
    )


def _int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= INT64_MAX for v in value
    ):
        shown = printable(repr(value), 80)
        raise MetadataError(f"{what} must be a list of non-negative 64-bit integers, got {shown}")
    return tuple(value)


def _check_grid(shape: tuple[int, ...], chunks: tuple[int, ...], what: str) -> None:
    """A chunk grid whose chunk count does not fit 64-bit integers cannot be indexed."""
    count = math.prod(-(-s // c) if c else 0 for s, c in zip(shape, chunks, strict=True))
    if count > INT64_MAX:
        raise MetadataError(f"{what}: the chunk grid holds {count:.3g} chunks, beyond 2**63 - 1")


def _check_rank(shape: tuple[int, ...], chunks: tuple[int, ...], what: str) -> None:
    if len(shape) != len(chunks):
        raise MetadataError(f"{what} has {len(chunks)} dimensions but shape has {len(shape)}")
    _check_grid(shape, chunks, what)


def _dtype_name(value: Any) -> str:
    if isinstance(value, str):
        return _numeric_dtype_name(value) or _numpy_dtype_name(value)
    if isinstance(value, dict) and "name" in value:  # v3 extension data types
        return str(value["name"])
    if isinstance(value, list):  # v2 structured dtype
        return json.dumps(value)
    raise MetadataError(f"unknown data type {value!r}")


def _numeric_dtype_name(text: str) -> str | None:
    """numpy's name of a plain numeric type ("<u2", "uint16", "|b1"), or None."""
    if text in _NUMERIC_NAMES:
        return text
    body = text[1:] if text[:1] in ("<", ">", "|", "=") else text
    kind, size = body[:1], body[1:]
    if kind == "b" and size == "1":
        return "bool"
    prefix = _NUMERIC_KINDS.get(kind)
    if prefix is None or not size.isdigit():
        return None
    name = f"{prefix}{8 * int(size)}"
    return name if name in _NUMERIC_NAMES else None


def _numpy_dtype_name(text: str) -> str:
    import numpy as np

    try:
        return np.dtype(text).name
    except TypeError:
        return text


def _codec_id(codec: Any) -> str:
    if isinstance(codec, str):
        return codec
    if isinstance(codec, dict):
        return str(codec.get("name") or codec.get("id") or "unknown")
    return "unknown"


def _codec_label(codec: Any) -> str:
    """``blosc:lz4`` for Blosc (the inner compressor matters), else the codec id."""
    name = _codec_id(codec)
    if name == "blosc" and isinstance(codec, dict):
        cname = codec.get("cname") or (codec.get("configuration") or {}).get("cname")
        if cname:
            return f"blosc:{cname}"
    return name


def _is_compressor(codec: Any) -> bool:
    return _codec_id(codec) in _COMPRESSORS

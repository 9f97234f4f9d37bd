"""OME-Zarr collections (RFC-8): a tree of nodes across documents, walked
breadth-first into image assets.

Every node has a ``type`` (``collection``, ``multiscale``, ``singlescale`` or a
prefixed extension type, which is counted and skipped), a ``name`` and
optionally an ``id`` and ``attributes``. A collection or multiscale holds its
children inline (``nodes``) or refers to another document (``path``:
``{"type": "zarr" | "json", "path": ...}``). Each level of the tree is one
batch of document reads through the store; every document is read once, and
a reference back to a document on its own ancestry is a cycle (a warning).

Paths stay inside the collection's root: relative paths are resolved against
the referring document's folder, and ``..`` past the root, absolute paths,
``file://`` elsewhere and other hosts are refused with a warning before
anything is read. Image identity is the node's ``id`` when it has one, else
the chain of names from the root, the same whether a branch is inline or
referenced. HCS attributes (``plate``, ``well``, ``acquisition``) are
inherited from the nearest ancestor that declares them; a multiscale with a
``labels`` attribute is a label image of its ``source``.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson

from iceberg_bioimage import identity
from iceberg_bioimage.errors import UnsafePathError
from iceberg_bioimage.io.paths import is_plain_key, printable, safe_key
from iceberg_bioimage.models import Axis
from iceberg_bioimage.scan import collector, ngff

if TYPE_CHECKING:
    from iceberg_bioimage.scan.zarr_store import _ZarrScan

RFC_VERSIONS = ("0.x", "0.6", "0.6.dev0")  # versions the RFC's drafts use
_HCS_KEYS = frozenset({"plate", "well", "acquisition"})
_KNOWN = ("collection", "multiscale", "singlescale")


def is_collection(ome: dict[str, Any]) -> bool:
    """Whether an ``ome`` object is the root node of a collection (drafts too)."""
    return ome.get("type", ome.get("node_type")) == "collection"


class _Place:
    """A node where the tree puts it (a plain slotted class: a million of
    them are made per walk)."""

    __slots__ = ("documents", "folder", "hcs", "names", "node", "parent_id", "ref")

    def __init__(
        self,
        node: dict[str, Any],
        folder: str,  # key of the folder its document is in ("" = the root)
        names: tuple[str, ...],  # from the root, the root's own name excluded
        parent_id: str | None,
        hcs: dict[str, Any],
        documents: tuple[str, ...],  # the documents above it: a repeat is a cycle
    ) -> None:
        self.node = node
        self.folder = folder
        self.names = names
        self.parent_id = parent_id
        self.hcs = hcs
        self.documents = documents
        self.ref: str | None = None  # the image group a multiscale refers to


def walk(scan: _ZarrScan, root_key: str, root: dict[str, Any]) -> None:
    """Every image of the collection whose root node is ``root`` (read from
    ``root_key``) becomes an asset of ``scan``."""
    _check_version(scan, root)
    _Walk(scan).run(_root_place(root_key, root))


def _root_place(key: str, root: dict[str, Any]) -> _Place:
    return _Place(root, posixpath.dirname(key), (), None, {}, (key,))


class _Walk:
    def __init__(self, scan: _ZarrScan) -> None:
        self.scan = scan
        # rooted at the top of its filesystem or bucket (references out of the
        # collection's folder were allowed): absolute paths are keys there
        self.widened = scan.widened
        self.documents: dict[str, Any] = {}
        self.skipped: Counter[str] = Counter()
        self.drafts: Counter[str] = Counter()  # older draft shapes read, counted
        self.images: list[tuple[_Place, str]] = []  # (place, image id)
        self.leaves: list[tuple[Any, _Place, str, str, str]] = []  # see place_leaves
        self.leaf_ids: list[str] = []  # node ids of the placed leaves (their image ids)
        self.node_ids: dict[str, str] = {}  # node id -> image id, the other images
        self._ids: dict[str, str] | None = None

    def run(self, root: _Place) -> None:
        self.walk_tree(root)
        self.build_images()

    def walk_tree(self, root: _Place) -> None:
        """Every node, level by level; image nodes are kept in ``images`` and
        ``leaves`` (callers pause the collector: :mod:`.collector`)."""
        level = [root]
        while level:
            references: list[tuple[_Place, str, str]] = []
            following: list[_Place] = []
            for place in level:
                following += self.visit(place, references)
            following += self.resolve(references)
            level = following
        for kind, count in sorted(self.skipped.items()):
            self.scan.warn("", f"{count} node(s) of type {printable(kind)!r} skipped")
        for what, count in sorted(self.drafts.items()):
            self.scan.warn("", f"{count} {what}")

    # -- one node -----------------------------------------------------------
    def visit(self, place: _Place, references: list[tuple[_Place, str, str]]) -> list[_Place]:
        node = place.node
        kind = node.get("type")
        if kind is None and "node_type" in node:
            kind = _DRAFT_KINDS.get(node["node_type"], node["node_type"])
            self.drafts["node(s) in a draft shape ('node_type'), read as 'type'"] += 1
        if kind != "collection" and kind != "multiscale":
            self.skipped[str(kind)] += 1
            return []
        attributes = node.get("attributes")
        if attributes and _HCS_KEYS & attributes.keys():
            place.hcs = _inherit(place.hcs, node, self.scan, "/".join(place.names))
        nodes = node.get("nodes")
        if (
            kind == "multiscale"
            and "path" not in node
            and isinstance(node.get("multiscales"), list)
        ):
            # an experiment of the RFC's examples: OME-NGFF multiscales inline
            self.images.append((place, self.image_id(place)))
            return []
        if isinstance(nodes, list):
            if kind == "multiscale":
                self.images.append((place, self.image_id(place)))
                return []
            return self.children(place, nodes)
        target = self.reference(place, node.get("path"))
        if target is None:
            return []
        key, path_type = target
        if kind == "multiscale" and path_type == "zarr":
            place.ref = key
            self.images.append((place, self.image_id(place)))
            return []
        if key in place.documents:
            where = "/".join(place.names)
            self.scan.warn(where, f"reference to {key} makes a cycle; not followed")
            return []
        references.append((place, key, path_type))
        return []

    def children(self, place: _Place, nodes: list[Any]) -> list[_Place]:
        node = place.node
        node_id = node.get("id")
        parent_id = node_id if isinstance(node_id, str) else place.parent_id
        folder, names, hcs, documents = place.folder, place.names, place.hcs, place.documents
        found: list[_Place] = []
        leaves: list[tuple[dict[str, Any], str, str]] = []  # (node, name, "./<key>")
        seen: set[str] = set()
        others: list[Any] = []  # kinds of leaves we do not read: counted, never placed
        for child in nodes:
            kind = child.get("type") if child.__class__ is dict else None
            if (
                kind != "multiscale"
                and kind != "collection"
                and (kind is not None or not _draft(child, kind))
            ):
                other = kind if kind is not None else _draft_kind(child)
                others.append(other if other.__class__ is str else str(other))
                continue
            name = child.get("name")
            if name is None and child.get("id").__class__ is str and child["id"]:
                name = child["id"]  # ngio writes nodes with an id and no name
                self.drafts["node(s) without a name, named by their id"] += 1
            if name.__class__ is not str or not name or name in seen:
                where = "/".join(names)
                self.scan.warn(where, f"child node without a unique name: {printable(str(name))}")
                continue
            seen.add(name)
            if kind == "multiscale" and (path := _leaf_path(child)) is not None:
                leaves.append((child, name, path))
                continue
            found.append(_Place(child, folder, (*names, name), parent_id, hcs, documents))
        if leaves:
            found += self.place_leaves(leaves, place, parent_id)
        if others:
            self.skipped.update(others)
        return found

    def place_leaves(
        self, leaves: list[tuple[dict[str, Any], str, str]], place: _Place, parent_id: str | None
    ) -> list[_Place]:
        """Image nodes that refer to their group with ``./<key>``: one path check
        for all of them (a screen's millions of nodes), each an image at once,
        kept as (node, context, name, "./<key>", image id) until its row is
        built. Returns the ones that need the full resolution."""
        folder, names, hcs, documents = place.folder, place.names, place.hcs, place.documents
        if not _all_plain([path for _, _, path in leaves]):
            return [_Place(n, folder, (*names, name), parent_id, hcs, documents)
                    for n, name, _ in leaves]  # fmt: skip
        context = _Place(place.node, folder, names, parent_id, hcs, documents)
        placed, leaf_ids = self.leaves, self.leaf_ids
        for child, name, path in leaves:
            node_id = child.get("id")
            if node_id.__class__ is str and node_id:
                leaf_ids.append(node_id)
                placed.append((child, context, name, path, node_id))
            else:
                placed.append((child, context, name, path, "/".join((*names, name))))
        return []

    def leaf_places(self) -> Iterator[tuple[_Place, str]]:
        """The placed leaves as (place, image id), like ``images``."""
        for child, context, name, path, image_id in self.leaves:
            folder = context.folder
            leaf = _Place(child, folder, (*context.names, name), context.parent_id,
                          context.hcs, context.documents)  # fmt: skip
            leaf.ref = f"{folder}/{path[2:]}" if folder else path[2:]
            yield leaf, image_id

    def image_id(self, place: _Place) -> str:
        node_id = place.node.get("id")
        image_id = node_id if isinstance(node_id, str) and node_id else "/".join(place.names)
        if isinstance(node_id, str):
            self.node_ids[node_id] = image_id or "0"
        return image_id or "0"

    @property
    def ids(self) -> dict[str, str]:
        """Node id -> image id, for labels naming their source: built once,
        after the walk, and only when a label asks (a screen has a million)."""
        if self._ids is None:
            self._ids = dict(zip(self.leaf_ids, self.leaf_ids, strict=True))
            self._ids.update(self.node_ids)
        return self._ids

    # -- references ---------------------------------------------------------
    def reference(self, place: _Place, path: Any) -> tuple[str, str] | None:
        """The key a ``path`` object names inside the root, or None (warned)."""
        if isinstance(path, str):  # an older draft: a bare string
            self.drafts["draft path(s) given as a bare string, read as Zarr groups"] += 1
            path = {"type": "zarr", "path": path}
        if not isinstance(path, dict) or not isinstance(path.get("path"), str):
            self.scan.warn("/".join(place.names), "node has neither 'nodes' nor a valid 'path'")
            return None
        kind = path.get("type")
        if kind != "zarr" and kind != "json":
            self.skipped[f"path type {kind}"] += 1
            return None
        try:
            return self.inside_root(place.folder, path["path"]), kind
        except UnsafePathError as error:
            self.scan.warn("/".join(place.names), f"path refused: {error}")
            return None

    def inside_root(self, folder: str, text: str) -> str:
        """Resolve ``text`` against ``folder``; refuse what leaves the root."""
        plain = _plain_relative(folder, text)
        if plain is not None:
            return plain
        if "://" in text:
            store_uri = self.scan.store.uri.rstrip("/")
            if text.startswith("file://") and self.widened:
                text = unquote(text[len("file://") :])
            elif not text.startswith(store_uri + "/"):
                raise UnsafePathError(f"{printable(text)}: outside the collection's root")
            else:
                text, folder = text[len(store_uri) + 1 :], ""
        if self.widened and text.startswith("/"):  # the top of the filesystem is the root
            text, folder = text.lstrip("/"), ""
        relative = unquote(text)
        joined = posixpath.normpath(posixpath.join(folder, relative)) if relative else folder
        if joined.startswith("/") or joined == ".." or joined.startswith("../"):
            raise UnsafePathError(f"{printable(text)}: outside the collection's root")
        return safe_key("" if joined == "." else joined)

    def resolve(self, references: list[tuple[_Place, str, str]]) -> list[_Place]:
        """Read the referenced documents of one level in one batch."""
        keys = {
            (key if kind == "json" else f"{key}/zarr.json".lstrip("/"))
            for _, key, kind in references
        }
        wanted = sorted(k for k in keys if k not in self.documents)
        found = self.scan.store.get_many(wanted) if wanted else []
        for key, raw in zip(wanted, found, strict=True):
            self.documents[key] = _document(raw)
        following = []
        for place, key, kind in references:
            document_key = key if kind == "json" else f"{key}/zarr.json".lstrip("/")
            document = self.documents.get(document_key)
            root = _root_node(document, kind)
            where = "/".join(place.names)
            if root is None:
                self.scan.warn(where, f"{key}: no collection node there")
                continue
            folder = posixpath.dirname(key) if kind == "json" else key
            merged = {**root, "name": place.node.get("name", root.get("name"))}
            if isinstance(place.node.get("id"), str):
                merged["id"] = place.node["id"]
            documents = (*place.documents, key)
            following.append(_Place(merged, folder, place.names, place.parent_id, place.hcs,
                                    documents))  # fmt: skip
        return following

    # -- images -------------------------------------------------------------
    def build_images(self) -> None:
        from iceberg_bioimage.scan.zarr_store import _ImageRequest

        by_reference, inline = [], []
        sites: Counter[tuple[Any, ...]] = Counter()
        for place, image_id in (*self.images, *self.leaf_places()):
            attributes = place.node.get("attributes") or {}
            labels = attributes.get("labels") if isinstance(attributes, dict) else None
            kind = "label" if isinstance(labels, dict) else "image"
            hcs = dict(place.hcs.get("fields") or {})
            if hcs.get("well_id") is not None:
                key = (hcs.get("plate_id"), hcs.get("well_id"), kind)
                hcs["site_id"] = sites[key]
                sites[key] += 1
            parent = _source(labels, self.ids) if kind == "label" else None
            placement = {
                "node_id": place.node.get("id"),
                "node_path": "/".join(place.names),
                "parent_id": place.parent_id,
                "depth": len(place.names),
            }
            request = _ImageRequest(
                path=place.ref if place.ref is not None else place.folder,
                image_id=image_id,
                kind=kind,
                parent_image_id=parent,
                label_name=place.names[-1] if kind == "label" and place.names else None,
                hcs=hcs or None,
                placement=placement,
            )
            if place.ref is not None:
                by_reference.append((request, place))
            else:
                inline.append((request, place))
        legacy, groups, read = self.referenced_groups(by_reference)
        inline += groups
        self.scan.visit_images(legacy, {r.path: read[r.path] for r in legacy})
        self.scan.build_parsed([p for p in (self.inline(r, pl) for r, pl in inline) if p])

    def referenced_groups(
        self, referenced: list[tuple[Any, _Place]]
    ) -> tuple[list[Any], list[Any], dict[str, Any]]:
        """Referenced image groups, read in one batch: those holding an RFC-8
        ``multiscale`` node (its singlescale nodes are read like an inline one)
        and those holding OME-NGFF ``multiscales`` (read as any OME-Zarr image;
        groups without ``zarr.json`` as Zarr v2, see :meth:`zarr_v2_images`),
        and the nodes read."""
        if not referenced:
            return [], [], {}
        nodes = self.scan.reader.read([request.path for request, _ in referenced])
        legacy, groups, absent = [], [], []
        for request, place in referenced:
            node = nodes[request.path]
            ome = (node.attributes or {}).get("ome")
            if isinstance(ome, dict) and ome.get("type") == "multiscale":
                group = _Place(ome, request.path, place.names, place.parent_id, place.hcs,
                               place.documents)  # fmt: skip
                groups.append((self.as_label_if_declared(request, ome), group))
            else:
                (legacy if node.exists else absent).append(request)
        legacy += self.zarr_v2_images(absent)
        return legacy, groups, nodes

    def zarr_v2_images(self, requests: list[Any]) -> list[Any]:
        """Scan the referenced images that have no ``zarr.json`` as Zarr v2
        (OME-NGFF 0.4 and older, as labs have them), with one more batch of
        reads (their ``.zattrs``, where such an image keeps its metadata);
        the requests that are not Zarr v2 images either come back."""
        from iceberg_bioimage.scan.zarr_store import _ZarrScan

        if not requests:
            return []
        v2 = _ZarrScan(self.scan.store, self.scan.dataset_id)
        v2.reader.root_format = 2
        nodes = v2.reader.read([request.path for request in requests], probe=False)
        found, absent = [], []
        for request in requests:
            (found if nodes[request.path].exists else absent).append(request)
        v2.visit_images(found, nodes)
        self.scan.assets += v2.assets
        self.scan.warnings += v2.warnings
        return absent

    def inline_ngff(self, request: Any, place: _Place) -> tuple[Any, ngff.Multiscale, dict] | None:  # type: ignore[type-arg]
        """OME-NGFF ``multiscales`` written into the node itself: dataset paths
        are resolved against the document's folder and kept inside the root."""
        try:
            multiscale = ngff.parse_multiscales(place.node, None)[0]
        except ngff.NgffError as error:
            self.scan.warn(request.image_id, f"inline multiscales unreadable: {error}")
            return None
        datasets = []
        for dataset in multiscale.datasets:
            try:
                key = self.inside_root(place.folder, dataset.path)
            except UnsafePathError as error:
                self.scan.warn(request.image_id, f"dataset path refused: {error}")
                return None
            relative = key[len(place.folder) + 1 :] if place.folder else key
            datasets.append(replace(dataset, path=relative))
        node = {"name": place.node.get("name")}
        return request, replace(multiscale, datasets=tuple(datasets)), {"collection_node": node}

    def as_label_if_declared(self, request: Any, group: dict[str, Any]) -> Any:
        """A referenced group whose own multiscale node declares ``labels`` is a
        label image of its source, whatever the referring node said."""
        attributes = group.get("attributes")
        labels = attributes.get("labels") if isinstance(attributes, dict) else None
        if request.kind == "label" or not isinstance(labels, dict):
            return request
        node_path = (request.placement or {}).get("node_path") or ""
        return replace(
            request,
            kind="label",
            parent_image_id=_source(labels, self.ids),
            label_name=node_path.rsplit("/", 1)[-1] or None,
        )

    def inline(self, request: Any, place: _Place) -> tuple[Any, ngff.Multiscale, dict] | None:  # type: ignore[type-arg]
        """An inline multiscale: its singlescale nodes are the levels (or, in
        an experiment of the RFC's examples, OME-NGFF ``multiscales`` inline)."""
        node = place.node
        if isinstance(node.get("multiscales"), list):
            return self.inline_ngff(request, place)
        datasets = []
        for level in node.get("nodes") or []:
            if not isinstance(level, dict) or level.get("type") != "singlescale":
                continue
            target = self.reference(place, level.get("path"))
            if target is None:
                continue
            key = target[0]
            relative = key[len(place.folder) + 1 :] if place.folder else key
            datasets.append(ngff.Dataset(relative, _scale(level, "scale"), None))
        if not datasets:
            self.scan.warn(request.image_id, "multiscale has no readable singlescale node")
            return None
        axes = _axes(node)
        multiscale = ngff.Multiscale(None, node.get("name"), axes, tuple(datasets))
        return request, multiscale, {"collection_node": {"name": node.get("name")}}


def image_nodes(location: str) -> list[str]:
    """The image ids of a collection document's image nodes, without reading
    the arrays they reference (for timing the walk alone)."""
    from iceberg_bioimage.io import open_store

    folder, _, key = location.rstrip("/").rpartition("/")
    with collector.paused():
        scan, root = _document_scan(open_store(folder), key, "collection")
        walker = _Walk(scan)
        walker.walk_tree(_root_place(key, root))
        return [image_id for _, image_id in walker.images] + [leaf[4] for leaf in walker.leaves]


def collection_key(location: str) -> tuple[str, str] | None:
    """(the top of ``location``'s filesystem or bucket, the key of its collection
    document under it) when ``location`` is an OME-Zarr collection: a
    standalone ``*.json`` document or a group whose ``zarr.json`` is one."""
    import os

    from iceberg_bioimage.io import open_store
    from iceberg_bioimage.io.uri import has_scheme, local_path

    text = location.rstrip("/")
    document = text if text.lower().endswith(".json") else f"{text}/zarr.json"
    if has_scheme(text) and not text.startswith("file:"):
        scheme, _, rest = document.partition("://")
        bucket, _, key = rest.partition("/")
        top = f"{scheme}://{bucket}"
    else:
        path = os.path.abspath(local_path(document))
        top, key = "/", path.lstrip("/")
    folder, _, name = document.rpartition("/")
    kind = "zarr" if name == "zarr.json" else "json"
    try:
        raw = open_store(folder).get_many([name])[0]
    except Exception:  # not readable here: the ordinary scan says why
        return None
    root = _root_node(_document(raw), kind)
    return (top, key) if root is not None and is_collection(root) else None


def scan_collection_document(
    store: Any, key: str, dataset_id: str, *, widened: bool = False
) -> Any:
    """A collection document (a standalone ``*.json`` or a group's
    ``zarr.json``) under ``store`` as a :class:`ScanResult`."""
    from iceberg_bioimage.errors import EmptyStoreError
    from iceberg_bioimage.models import ScanResult

    with collector.paused():
        scan, root = _document_scan(store, key, dataset_id, widened)
        walk(scan, key, root)
        del root  # freed while paused: the next collection would walk it all
    if not scan.assets:
        raise EmptyStoreError(f"{store.uri}/{key}: the collection holds no readable image")
    return ScanResult(
        dataset_id, _document_uri(store, key), "ome-zarr", tuple(scan.assets), tuple(scan.warnings)
    )


def _document_uri(store: Any, key: str) -> str:
    from iceberg_bioimage.io.uri import file_uri, has_scheme, local_path

    if not has_scheme(store.uri) or store.uri.startswith("file:"):
        return file_uri(posixpath.join(local_path(store.uri), key))
    return f"{store.uri.rstrip('/')}/{key}"


def _document_scan(
    store: Any, key: str, dataset_id: str, widened: bool = False
) -> tuple[_ZarrScan, dict[str, Any]]:
    """A scan of the images a standalone collection document names, and its root node."""
    from iceberg_bioimage.errors import UnsupportedStoreError
    from iceberg_bioimage.scan.zarr_store import _ZarrScan

    kind = "zarr" if key.rsplit("/", 1)[-1] == "zarr.json" else "json"
    root = _root_node(_document(store.get_many([key])[0]), kind)
    if root is None or not is_collection(root):
        raise UnsupportedStoreError(f"{store.uri}/{key}: not an OME-Zarr collection document")
    scan = _ZarrScan(store, dataset_id)
    scan.widened = widened
    scan.reader.root_format = 3  # collections are Zarr v3 (zarr.json); v2 images: zarr_v2_images
    scan.is_ome = True
    return scan, root


# -- helpers ----------------------------------------------------------------------


def _leaf_path(node: dict[str, Any]) -> str | None:
    """The path ``./<key>`` of a multiscale node that refers to its image group
    that way and adds no HCS context (most nodes of a screen), else None."""
    path = node.get("path")
    if path.__class__ is not dict or path.get("type") != "zarr" or "nodes" in node:
        return None
    attributes = node.get("attributes")
    if attributes and not _HCS_KEYS.isdisjoint(attributes):
        return None
    text = path.get("path")
    if text.__class__ is not str or not text.startswith("./") or len(text) <= 2:
        return None
    return text


def _all_plain(paths: list[str]) -> bool:
    """Paths ``./<key>`` checked many at a time, joined by a backslash (never
    valid in a key): one test for control characters and a substring search
    for each pattern that needs a closer look (a trailing or doubled slash,
    which a key starting with one gives too, a segment starting with ".", a
    drive or scheme, percent-encoding). Anything flagged (hidden names too)
    takes the full resolution path."""
    joined = "\\".join(paths) + "\\"
    if joined.count("\\") != len(paths) or not joined.isprintable():
        return False
    return not (  # spelled out: twice as fast as a loop or a regular expression
        "/\\" in joined or "//" in joined or "/." in joined or ":" in joined or "%" in joined
    )


def _plain_relative(folder: str, text: str) -> str | None:
    """The key of ``./<plain key>`` under ``folder`` (most references of a
    collection), else None: anything else takes the full resolution."""
    if not text.startswith("./") or "%" in text:
        return None
    relative = text[2:]
    if not is_plain_key(relative):
        return None
    return f"{folder}/{relative}" if folder else relative


# Older drafts named image nodes "image" (and used ``node_type``).
_DRAFT_KINDS = {"image": "multiscale"}


def _draft_kind(child: Any) -> Any:
    return child.get("node_type") if isinstance(child, dict) else None


def _draft(child: Any, kind: Any) -> bool:
    """A node in an older draft's shape (``node_type`` instead of ``type``) of a
    kind we read; extension kinds are counted and skipped."""
    if kind is not None or not isinstance(child, dict) or "node_type" not in child:
        return False
    return _DRAFT_KINDS.get(child["node_type"], child["node_type"]) in _KNOWN


def _document(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except (ValueError, RecursionError):
        return None


def _root_node(document: Any, kind: str) -> dict[str, Any] | None:
    if not isinstance(document, dict):
        return None
    if kind == "zarr":
        document = document.get("attributes")
        if not isinstance(document, dict):
            return None
    ome = document.get("ome")
    return ome if isinstance(ome, dict) else None


def _check_version(scan: _ZarrScan, root: dict[str, Any]) -> None:
    version = root.get("version")
    if version is not None and str(version) not in RFC_VERSIONS:
        scan.warn("", f"collection version {printable(str(version))} is not RFC-8's; read anyway")


def _inherit(hcs: dict[str, Any], node: dict[str, Any], scan: Any, where: str) -> dict[str, Any]:
    """The HCS context below ``node``: its plate, well and acquisition, else its parent's."""
    attributes = node.get("attributes")
    if not isinstance(attributes, dict):
        return hcs
    context = dict(hcs)
    fields = dict(hcs.get("fields") or {})
    plate = attributes.get("plate")
    if isinstance(plate, dict):
        context["rows"] = _named(plate.get("rows"))
        context["columns"] = _named(plate.get("columns"))
        context["acquisitions"] = _named(plate.get("acquisitions"))
        fields["plate_id"] = node.get("name")
    well = attributes.get("well")
    if isinstance(well, dict):
        row = context.get("rows", {}).get(_ref(well.get("row")))
        column = context.get("columns", {}).get(_ref(well.get("column")))
        if row is None or column is None:
            scan.warn(where, "well refers to a row or column the plate does not list")
        else:
            fields.update(well_row=row, well_column=column, well_id=identity.well_id(row, column))
    acquisition = _ref(attributes.get("acquisition"))
    if acquisition is not None:
        fields["acquisition_id"] = acquisition
        fields["acquisition_name"] = context.get("acquisitions", {}).get(acquisition)
    context["fields"] = fields
    return context


def _named(items: Any) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {
        str(i.get("id")): str(i.get("name", i.get("id")))
        for i in items
        if isinstance(i, dict) and i.get("id") is not None
    }


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])
    return str(value) if isinstance(value, str) else None


def _source(labels: dict[str, Any], ids: dict[str, str]) -> str | None:
    sources = labels.get("source")
    if isinstance(sources, list) and sources:
        return ids.get(_ref(sources[0]) or "")
    return None


def _scale(level: dict[str, Any], kind: str) -> tuple[float, ...] | None:
    attributes = level.get("attributes") or {}
    for transform in attributes.get("coordinateTransformations") or []:
        if isinstance(transform, dict) and transform.get("type") == kind:
            values = transform.get(kind)
            if isinstance(values, list) and all(isinstance(v, (int, float)) for v in values):
                return tuple(float(v) for v in values)
    return None


def _axes(node: dict[str, Any]) -> tuple[Axis, ...] | None:
    attributes = node.get("attributes") or {}
    systems = attributes.get("coordinateSystems") if isinstance(attributes, dict) else None
    if not isinstance(systems, list) or not systems or not isinstance(systems[0], dict):
        return None
    axes = systems[0].get("axes")
    if not isinstance(axes, list):
        return None
    parsed = []
    for axis in axes:
        if isinstance(axis, dict) and isinstance(axis.get("name"), str):
            parsed.append(Axis(axis["name"], axis.get("type"), axis.get("unit")))
        elif isinstance(axis, str):
            parsed.append(Axis(axis))
    return tuple(parsed) or None

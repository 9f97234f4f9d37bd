"""zarr-python as a pixel backend, with its own codec pipeline ("zarr", always
installed) or the zarrs Rust pipeline ("zarrs", extra ``zarrs``).

zarrs runs in strict mode: an array its pipeline cannot decode is an error,
never a silent fall back to the Python pipeline. Local stores are opened by
path; remote ones through the same obstore client (endpoints, credentials,
retries) our scans use.
"""

from __future__ import annotations

import importlib.util
import posixpath
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from iceberg_bioimage.errors import InputError, MissingDependencyError, StoreNotFoundError
from iceberg_bioimage.io.uri import is_remote
from iceberg_bioimage.pixels.base import Region, builtin, check_region, thread_map
from iceberg_bioimage.pixels.source import ArraySource, array_key, local_array_folder

ZARRS_PIPELINE = "zarrs.ZarrsCodecPipeline"
_DEFAULT_PIPELINE = "zarr.core.codec_pipeline.BatchedCodecPipeline"
# zarr-python reads its codec pipeline from a process-wide config when an array
# is opened: opening under a lock keeps two backends from mixing their settings.
_OPEN_LOCK = threading.Lock()


class ZarrArray:
    """A zarr-python array; regions read on a thread pool."""

    def __init__(self, source: ArraySource, array: Any) -> None:
        self.source = source
        self.array = array

    def read(self, region: Region) -> np.ndarray:
        return np.asarray(self.array[check_region(self.source, region)])

    def read_many(self, regions: Sequence[Region]) -> list[np.ndarray]:
        return thread_map(self.read, list(regions))

    def close(self) -> None:
        self.array = None


class ZarrPythonBackend:
    """zarr-python; ``pipeline`` None is its default codec pipeline."""

    def __init__(self, name: str, rank: int, pipeline: str | None = None) -> None:
        self.name = name
        self.rank = rank
        self.pipeline = pipeline

    def available(self) -> bool:
        return self.pipeline is None or importlib.util.find_spec("zarrs") is not None

    def supports(self, source: ArraySource) -> bool:
        # zarrs rebuilds an object store from its settings and loses our client
        # options (plain-HTTP endpoints, retries): remote arrays stay with zarr-python.
        return source.kind == "zarr" and (self.pipeline is None or not is_remote(source.uri))

    def open(self, source: ArraySource) -> ZarrArray:
        import zarr

        if not self.available():
            raise MissingDependencyError("zarrs", "zarrs", "the zarrs pixel backend")
        store, path = zarr_store_and_path(source)
        settings = {"codec_pipeline.path": self.pipeline or _DEFAULT_PIPELINE}
        if self.pipeline is not None:
            settings["codec_pipeline.strict"] = True
        with _OPEN_LOCK, zarr.config.set(settings):
            try:
                array = zarr.open_array(
                    store=store, path=path, mode="r", zarr_format=source.zarr_format
                )
            except FileNotFoundError:
                raise StoreNotFoundError(f"{source.uri}: no array at {path!r}") from None
            except Exception as error:  # zarrs strict mode refuses what it cannot decode
                if type(error).__name__ == "UnsupportedMetadataError":
                    raise InputError(
                        f"{source.image_id}: zarrs cannot decode this array's codecs "
                        f"(use backend='zarr')"
                    ) from None
                raise
        return ZarrArray(source, array)


def zarr_store_and_path(source: ArraySource) -> tuple[Any, str]:
    """A read-only zarr store for the source's store and the array's path in it;
    the path is refused when it leaves the store."""
    import zarr.storage

    if is_remote(source.uri):
        from iceberg_bioimage.io.remote import ObjectStoreStore

        key = array_key(source)
        remote = ObjectStoreStore(source.uri)
        path = posixpath.join(remote.prefix, key) if remote.prefix else key
        return zarr.storage.ObjectStore(remote._store, read_only=True), path
    root, key = local_array_folder(source)
    return zarr.storage.LocalStore(root, read_only=True), key


@builtin("zarr")
def _zarr_python() -> ZarrPythonBackend:
    return ZarrPythonBackend("zarr", rank=30)


@builtin("zarrs")
def _zarrs() -> ZarrPythonBackend:
    return ZarrPythonBackend("zarrs", rank=10, pipeline=ZARRS_PIPELINE)

"""TensorStore as a pixel backend (extra ``tensorstore``): the ``zarr`` driver
for Zarr v2 arrays, ``zarr3`` for v3 (sharding included). Local files, S3
(endpoint and region from the same settings as our scans), GCS and HTTP."""

from __future__ import annotations

import importlib.util
import os
import posixpath
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np

from iceberg_bioimage.errors import InputError, MissingDependencyError, StoreNotFoundError
from iceberg_bioimage.io.settings import gcs_emulator, remote_options, s3_settings
from iceberg_bioimage.io.uri import scheme_of
from iceberg_bioimage.pixels.base import Region, builtin, check_region
from iceberg_bioimage.pixels.source import ArraySource, array_key, local_array_folder

_SCHEMES = (None, "file", "s3", "gs", "gcs", "http", "https")


class TensorStoreArray:
    """A TensorStore handle; many regions are issued at once and awaited together."""

    def __init__(self, source: ArraySource, handle: Any) -> None:
        self.source = source
        self.handle = handle

    def read(self, region: Region) -> np.ndarray:
        return self.read_many([region])[0]

    def read_many(self, regions: Sequence[Region]) -> list[np.ndarray]:
        futures = [self.handle[check_region(self.source, r)].read() for r in regions]
        return [np.asarray(f.result()) for f in futures]

    def close(self) -> None:
        self.handle = None


class TensorStoreBackend:
    name = "tensorstore"
    rank = 5

    def available(self) -> bool:
        return importlib.util.find_spec("tensorstore") is not None

    def supports(self, source: ArraySource) -> bool:
        return source.kind == "zarr" and scheme_of(source.uri) in _SCHEMES

    def open(self, source: ArraySource) -> TensorStoreArray:
        if not self.available():
            raise MissingDependencyError("tensorstore", "tensorstore", "the tensorstore backend")
        import tensorstore as ts

        spec = {
            "driver": "zarr3" if source.zarr_format == 3 else "zarr",
            "kvstore": kvstore_spec(source),
        }
        try:
            handle = ts.open(spec, read=True, open=True).result()
        except ValueError as error:
            if "NOT_FOUND" in str(error):
                missing = f"{source.uri}: no array at {source.array_path!r}"
                raise StoreNotFoundError(missing) from None
            raise InputError(f"{source.image_id}: tensorstore cannot open the array") from error
        return TensorStoreArray(source, handle)


def kvstore_spec(source: ArraySource) -> dict[str, Any]:
    """TensorStore's key-value store for the array's folder."""
    scheme = scheme_of(source.uri)
    if scheme in (None, "file"):
        root, key = local_array_folder(source)
        return {"driver": "file", "path": os.path.join(root, key).rstrip("/") + "/"}
    key = array_key(source)
    parsed = urlparse(source.uri)
    path = posixpath.join(parsed.path.strip("/"), key).strip("/") + "/"
    if scheme in ("http", "https"):
        return {"driver": "http", "base_url": source.uri.rstrip("/") + "/" + key}
    if scheme == "s3":
        settings = s3_settings(remote_options())
        spec: dict[str, Any] = {"driver": "s3", "bucket": parsed.netloc, "path": path}
        if settings.endpoint_url:
            spec["endpoint"] = settings.endpoint_url
        spec["aws_region"] = settings.region or "us-east-1"
        if settings.anonymous:
            spec["aws_credentials"] = {"type": "anonymous"}
        elif os.environ.get("AWS_ACCESS_KEY_ID"):
            spec["aws_credentials"] = {"type": "environment"}
        return spec
    emulator = gcs_emulator()
    if emulator:  # TensorStore takes the GCS endpoint from its own variable only
        os.environ["TENSORSTORE_GCS_HTTP_URL"] = emulator
    return {"driver": "gcs", "bucket": parsed.netloc, "path": path}


@builtin("tensorstore")
def _tensorstore() -> TensorStoreBackend:
    return TensorStoreBackend()

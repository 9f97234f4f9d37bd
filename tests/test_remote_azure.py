"""Azure Blob Storage through Azurite, the Azure SDK team's emulator, on 127.0.0.1.

Azurite is an npm package: ``.ci/run`` installs it; elsewhere set ``AZURITE_BLOB``
to its ``azurite-blob`` executable (or put it on PATH), or these tests skip.
Fixtures are uploaded with the Azure SDK (azure-storage-blob).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import iceberg_bioimage as ib
import writers
from iceberg_bioimage.cli import main
from servers import free_port, running
from test_remote import check_plate_and_tiff_copies

# Azurite's well-known development account (public, documented for the emulator).
_ACCOUNT = "devstoreaccount1"
_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite() -> str | None:
    candidates = [
        os.environ.get("AZURITE_BLOB"),
        shutil.which("azurite-blob"),
        str(Path(__file__).parents[1] / ".ci-tools" / "node_modules" / ".bin" / "azurite-blob"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    executable = _azurite()
    if executable is None:
        pytest.skip("azurite is not installed (npm install azurite, or set AZURITE_BLOB)")
    from azure.storage.blob import BlobServiceClient

    port = free_port()
    folder = tmp_path_factory.mktemp("azurite")
    options = ["--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder)]
    command = [executable, *options, "--silent", "--skipApiVersionCheck", "--loose"]
    endpoint = f"http://127.0.0.1:{port}"
    emulator = {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": endpoint}
    with running(command, port, "azurite", emulator):
        service = BlobServiceClient.from_connection_string(
            f"DefaultEndpointsProtocol=http;AccountName={_ACCOUNT};AccountKey={_KEY};"
            f"BlobEndpoint={endpoint}/{_ACCOUNT};"
        )
        yield service.create_container("lab")


def _upload(container: object, local: Path, prefix: str) -> str:
    files = [local] if local.is_file() else [p for p in local.rglob("*") if p.is_file()]
    for path in files:
        name = f"{prefix}/{path.relative_to(local.parent).as_posix()}"
        container.upload_blob(name, path.read_bytes(), overwrite=True)  # type: ignore[attr-defined]
    return f"az://lab/{prefix}/{local.name}"


def test_azure_plate_and_ome_tiff_scan_like_local_copies(azure: object, tmp_path: Path) -> None:
    check_plate_and_tiff_copies(tmp_path, lambda local: _upload(azure, local, "screens"))


def test_azure_warehouse_root_from_the_cli(azure: object, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.4", columns=("1",))
    root = "az://lab/warehouses/cli"
    assert main(["export-cytomining", "-w", root, str(plate), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["manifest"] == f"{root}/warehouse_manifest.json"
    assert main(["validate-warehouse", root, "-q"]) == 0
    images = ib.open_warehouse(root).table("images.image_assets")
    assert images.num_rows == len(ib.scan_store(plate).image_assets)
    counts = ib.query_metadata_table(root, "SELECT count(*) AS n FROM images.image_assets")
    assert counts.column("n")[0].as_py() == images.num_rows


def test_azure_missing_container_is_one_line(azure: object, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["summarize", "az://nocontainer/plate.zarr"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: az://nocontainer/plate.zarr: no such bucket"
    ]

"""Azure Blob Storage through Azurite, the Azure SDK team's emulator, on 127.0.0.1.

Azurite is an npm package: ``.ci/run`` installs it; elsewhere set ``AZURITE_BLOB``
to its ``azurite-blob`` executable (or put it on PATH), or these tests skip.
Fixtures are uploaded with the Azure SDK (azure-storage-blob).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tifffile

import iceberg_bioimage as ib
import writers
from iceberg_bioimage.cli import main
from test_remote import _comparable

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"azurite exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail("azurite did not start listening in time")


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    executable = _azurite()
    if executable is None:
        pytest.skip("azurite is not installed (npm install azurite, or set AZURITE_BLOB)")
    from azure.storage.blob import BlobServiceClient

    port = _free_port()
    folder = tmp_path_factory.mktemp("azurite")
    options = ["--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder)]
    process = subprocess.Popen(
        [executable, *options, "--silent", "--skipApiVersionCheck", "--loose"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    patch = pytest.MonkeyPatch()
    try:
        _wait_for(port, process)
        patch.setenv("AZURE_STORAGE_USE_EMULATOR", "true")
        patch.setenv("AZURITE_BLOB_STORAGE_URL", endpoint)
        service = BlobServiceClient.from_connection_string(
            f"DefaultEndpointsProtocol=http;AccountName={_ACCOUNT};AccountKey={_KEY};"
            f"BlobEndpoint={endpoint}/{_ACCOUNT};"
        )
        yield service.create_container("lab")
    finally:
        patch.undo()
        process.kill()  # the npm launcher does not pass SIGTERM on to the server
        process.wait(timeout=10)


def _upload(container: object, local: Path, prefix: str) -> str:
    files = [local] if local.is_file() else [p for p in local.rglob("*") if p.is_file()]
    for path in files:
        name = f"{prefix}/{path.relative_to(local.parent).as_posix()}"
        container.upload_blob(name, path.read_bytes(), overwrite=True)  # type: ignore[attr-defined]
    return f"az://lab/{prefix}/{local.name}"


def test_azure_plate_and_ome_tiff_scan_like_local_copies(azure: object, tmp_path: Path) -> None:
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5")
    tiff = tmp_path / "cells.ome.tif"
    data = np.arange(2 * 64 * 64, dtype="uint16").reshape(2, 64, 64)
    tifffile.imwrite(tiff, data, ome=True, tile=(32, 32), metadata={"axes": "CYX"})
    for local in (plate, tiff):
        remote = ib.scan_store(_upload(azure, local, "screens"))
        assert _comparable(remote) == _comparable(ib.scan_store(local))
    columns = ["storage_key", "byte_length", "exists"]
    remote_rows = ib.chunk_index_table(ib.scan_store("az://lab/screens/p.ome.zarr"))
    local_rows = ib.chunk_index_table(ib.scan_store(plate))
    assert remote_rows.num_rows > 0
    assert remote_rows.select(columns).to_pylist() == local_rows.select(columns).to_pylist()


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

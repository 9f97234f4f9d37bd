"""Azure Blob Storage through Azurite, the Azure SDK team's emulator, on 127.0.0.1.

Azurite is an npm package: ``.ci/run`` installs it; elsewhere set ``AZURITE_BLOB``
to its ``azurite-blob`` executable (or put it on PATH), or these tests skip.
Fixtures are uploaded with the Azure SDK (azure-storage-blob).
"""

from __future__ import annotations

import json
from pathlib import Path

import iceberg_bioimage as ib
from fixtures import writers
from fixtures.stores import check_plate_and_tiff_copies, upload_azure
from iceberg_bioimage.cli import main


def test_azure_plate_and_ome_tiff_scan_like_local_copies(azure: object, tmp_path: Path) -> None:
    check_plate_and_tiff_copies(tmp_path, lambda local: upload_azure(azure, local, "screens"))


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
